// Opening the state database: the one way commands open a state (SPEC 3).
//
// The config names the state by location: a file path is a SQLite state
// database, today the only backend. A PostgreSQL state (a "postgresql://"
// URI, issue 15) is the branch point in StateKindOf/OpenStateDb: it will
// implement the StateDb interface (state/state_db.h) and be opened here,
// and nothing that calls OpenStateDb changes.
//
// The locks of a state (state/state_locks.h) are opened here too, and the
// lock files beside a SQLite state derived from its location only here.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "calendar/timestamp.h"
#include "config/config.h"
#include "state/state_db.h"
#include "state/state_locks.h"
#include "util/status.h"

namespace retention {

// What kind of state a location names.
enum class StateKind {
  kSqlite,    // a file path
  kPostgres,  // "postgresql://..." or "postgres://..." (not supported yet)
};
StateKind StateKindOf(const std::string& location);

enum class StateOpenMode {
  kRead,    // read only; never creates or changes anything
  kWrite,   // read and write; the state must exist (it held the legal holds)
  kCreate,  // a new, empty state; refused when anything is at the location
};

// Opens the state the config names (`config.state`). A missing or empty
// state is Unavailable, never a new one, unless `mode` is kCreate. `clock`
// stamps ledger entries, run ends and crash marks (empty: the system clock).
// A kind of state this version cannot open is Invalid, naming it.
Result<std::unique_ptr<StateDb>> OpenStateDb(const Config& config, StateOpenMode mode,
                                             const std::function<Timestamp()>& clock = {});

// The same for a state named by location alone (the purge log store, whose
// config names the state it reads).
Result<std::unique_ptr<StateDb>> OpenStateDbAt(const std::string& location, StateOpenMode mode,
                                               const std::function<Timestamp()>& clock = {});

// The locks of the state the config names: lock files beside a SQLite
// state (state/file_state_locks.h). Opens nothing until a lock is taken.
Result<std::unique_ptr<StateLocks>> OpenStateLocks(const Config& config);

// Whether a state exists at `location`: the commands that only read run
// without one, as if it were empty, and warn.
bool StateExistsAt(const std::string& location);

// The lock files of the SQLite state at `state_path` (lock_file.h: symlinks in the
// path resolved, so two names of one state share the locks):
//   run lock      "<state path>.lock"        (state/run_lock.h)
//   hold barrier  "<state path>.holds-lock"  (state/hold_barrier.h)
struct StateLockPaths {
  std::filesystem::path run_lock;
  std::filesystem::path hold_barrier;
};
StateLockPaths LockPathsFor(const std::filesystem::path& state_path);

}  // namespace retention
