// The SQL function the sqlite store registers on its connection, so that
// clocks are read inside SQLite's statements (and inside the deleting
// transaction) with the same C++ code the files store and `explain` use:
//
//   retention_clock(value, encoding, zone) -> unix microseconds, or NULL
//       when the value is NULL or does not parse under `encoding` (the
//       integer value of ClockEncoding); `zone` names the zone for naive text.
//
// It is pure and deterministic: it reads no state, so a selection renders
// the same everywhere (sqlite_selection_sql.h). Text clocks with offsets and
// naive zones cannot be compared exactly in SQL; that is why it exists.
#pragma once

#include <sqlite3.h>

#include "util/status.h"

namespace retention {

Status RegisterRetentionFunctions(sqlite3* db);

}  // namespace retention
