// Opening the state database: the one way commands open a state (SPEC 3).
//
// The config names the state (config.h, StateConfig): a file path is a
// SQLite state database (state/sqlite_state_db.h); a table naming a
// conninfo variable or a service is a PostgreSQL schema a fleet shares
// (state/postgres_state_db.h, issue 15). Both implement StateDb, and
// nothing that calls OpenStateDb knows which it has.
//
// The locks of a state (state/state_locks.h) are opened here too: lock
// files beside a SQLite state (derived from its location only here), or
// session advisory locks on the PostgreSQL server.
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

enum class StateOpenMode {
  kRead,    // read only; never creates or changes anything
  kWrite,   // read and write; the state must exist (it held the legal holds);
            // an older PostgreSQL schema is upgraded in one transaction
  kCreate,  // a new, empty state; refused when a state is already there
};

// Opens the state the config names (`config.state`). A missing or empty
// state is Unavailable, never a new one, unless `mode` is kCreate. `clock`
// stamps ledger entries, run ends and crash marks (empty: the system clock).
// A PostgreSQL state whose conninfo variable is unset, or whose server
// cannot be reached, is Unavailable naming the variable, never the conninfo.
Result<std::unique_ptr<StateDb>> OpenStateDb(const Config& config, StateOpenMode mode,
                                             const std::function<Timestamp()>& clock = {});

// The same for a state named alone (the purge log store, whose config
// names the state it reads; the demo's new state).
Result<std::unique_ptr<StateDb>> OpenStateDbAt(const StateConfig& state, StateOpenMode mode,
                                               const std::function<Timestamp()>& clock = {});

// The locks of the state the config names: lock files beside a SQLite
// state (state/file_state_locks.h), opening nothing until a lock is taken;
// or advisory locks on a connection of their own to a PostgreSQL state
// (state/postgres_state_locks.h), connected at once.
Result<std::unique_ptr<StateLocks>> OpenStateLocks(const Config& config);

// Whether a state exists: the commands that only read run without a SQLite
// state, as if it were empty, and warn. A PostgreSQL state is a server:
// opening it says whether it can be reached and was created.
bool StateExistsAt(const StateConfig& state);

// This host's name in the state: the config's `host` of a PostgreSQL
// state, else the machine's host name. Runs, their claims and locks, and
// the run entries of the ledger carry it.
std::string HostNameInState(const StateConfig& state);

// The conninfo of a PostgreSQL state: "service=NAME", or the value of its
// conninfo variable (Unavailable when unset or empty, naming the variable).
Result<std::string> StateConninfo(const StateConfig& state);

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
