// The sqlite store: rows of tables in a SQLite database file.
#pragma once

#include <memory>

#include "stores/store.h"

namespace retention {

// Opens the database the store names (never creates it). Read-only opens
// use SQLITE_OPEN_READONLY, so check/plan/explain cannot change anything.
Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreConfig& config, bool read_only);

}  // namespace retention
