// SQL functions the sqlite store registers on its connection, so that the
// exact decision — clock parsing and hold matching — runs inside SQLite's
// statements (and inside the deleting transaction) with the same C++ code
// the planner and `explain` use:
//
//   retention_clock(value, encoding, zone) -> unix microseconds, or NULL
//       when the value is NULL or does not parse under `encoding` (the
//       integer value of ClockEncoding); `zone` names the zone for naive text.
//   retention_held(i, key, subject, clock_us) -> 1 when a hold in force
//       covers the record as a record of the i-th overlapping target of the
//       current decision (see HeldContext), else 0.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "holds/hold_set.h"
#include "util/status.h"

namespace retention {

// Which target the rows of the running statement belong to, and the holds
// in force. The store points it at the current decision before each query.
struct HeldContext {
  struct Scope {
    std::string category;
    std::string target;
    std::string subject_kind;  // "" when the target maps no subject
  };
  const HoldSet* holds = nullptr;
  std::vector<Scope> scopes;  // indexed by retention_held's first argument
};

Status RegisterRetentionFunctions(sqlite3* db, HeldContext* context);

}  // namespace retention
