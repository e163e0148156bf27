// The SQLite state database (SPEC section 3): the default StateDb.
//
// The schema is written out at the top of sqlite_state_db.cc. One object is
// one connection: use it from one thread, and never across fork() (open a
// new one in the child). Several processes may open the same file; append
// transactions (BEGIN IMMEDIATE) serialize on SQLite's write lock, so their
// entries still form one chain.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "calendar/timestamp.h"
#include "state/state_db.h"
#include "util/status.h"

namespace retention {

struct SqliteStateDbOptions {
  // Opens with SQLITE_OPEN_READONLY and never creates or changes anything;
  // a missing file is an Unavailable status.
  bool read_only = false;
  // Creates a new state database, mode 0640. Refused (Invalid) when any
  // file exists at the path, even an empty one: an existing state database
  // holds legal holds and must never be replaced by an empty one. Only
  // `retention state init` and `retention demo` create.
  bool create = false;
  // The state's clock (StateDb::Now): what the operations of
  // state/state_ops.h stamp on ledger entries whose `at` is unset, run
  // starts and ends, crash marks and hold placements, and the database's
  // created_at. Default: the system clock.
  std::function<Timestamp()> clock;
  // How long to wait for another process's write transaction.
  int busy_timeout_ms = 10000;
};

// Opens the state database at `path` (creates it only with
// `options.create`). A missing or empty file (0 bytes, or no schema) is
// Unavailable, never a new database: it held the legal holds. A file that is
// not a SQLite database, is truncated or corrupt, lacks a table its schema
// version requires, or carries a schema this version does not know is
// refused with a Status naming the file.
//
// The file is only ever opened through SQLite: a second descriptor on it
// closed by hand would drop this process's POSIX locks and let another
// connection delete the -wal and -shm files under this one.
Result<std::unique_ptr<StateDb>> OpenSqliteStateDb(const std::filesystem::path& path,
                                                   bool read_only);
Result<std::unique_ptr<StateDb>> OpenSqliteStateDb(const std::filesystem::path& path,
                                                   const SqliteStateDbOptions& options);

// Creates a new, empty state database at `path` (see `create` above).
Result<std::unique_ptr<StateDb>> CreateSqliteStateDb(const std::filesystem::path& path);

// Whether a state database file exists at `path`: commands that only read
// (plan, explain, status) run without one, as if it were empty, and warn.
bool StateDbExists(const std::filesystem::path& path);

// A SQLite state that `retention state migrate` moved into a PostgreSQL
// state (copied, or joined to a fleet's) keeps a note of where it went
// (meta key "moved_to"). From then on every open for writing refuses it
// (Invalid, exit 65, naming where it went): a hold placed or a run started
// here would not bind the fleet, and the holds placed there would not bind
// a run here. Opens for reading (the purge log, for the auditor) go on,
// with a warning that its holds and runs are no longer in force.
//
// Written in one write transaction, and only while the ledger's head is
// still `copied` (nothing written here since the state was read for the
// move): Busy otherwise, with nothing marked. `to` says, for people, where
// the state went and how the config names it.
Status MarkSqliteStateMoved(const std::filesystem::path& path, const LedgerHead& copied, const std::string& to);

// Where the state at `path` was moved (its note, as MarkSqliteStateMoved
// wrote `to`), nullopt when it was not. Opens it read-only.
Result<std::optional<std::string>> SqliteStateMovedTo(const std::filesystem::path& path);

// The refusal for a missing state database, naming it and what to do.
Status MissingStateDbStatus(const std::filesystem::path& path);

// The schema version this code writes and reads (meta.schema_version).
inline constexpr int kStateSchemaVersion = 10;

}  // namespace retention
