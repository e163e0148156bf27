// A store over the tables of one PostgreSQL database, reached with libpq
// (SPEC section 3; stores/store.h for what every store promises).
//
// The connection string never appears in a config or rule file: the store
// reads it from the environment variable its conninfo_env names, or names a
// pg_service.conf entry (service). It is never written to a log line, an
// error or the ledger either: a store that cannot be reached is named by
// the store's name, and libpq's message has any password masked.
// application_name is "retention", so a DBA sees who is deleting.
//
// Targets name "schema.table" (schema "public" when omitted). Every
// identifier is resolved in pg_catalog and quoted; every value is bound.
#pragma once

#include <memory>

#include "config/config.h"
#include "stores/store.h"
#include "util/status.h"

namespace retention {

// An unreachable server is Unavailable naming the store (exit 69), never
// the conninfo.
Result<std::unique_ptr<Store>> OpenPostgresStore(const StoreConfig& config, bool read_only);

}  // namespace retention
