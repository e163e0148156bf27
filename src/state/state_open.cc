#include "state/state_open.h"

#include "state/file_state_locks.h"
#include "state/lock_file.h"
#include "state/sqlite_state_db.h"

namespace retention {

namespace {

Status UnsupportedKind(const std::string& location) {
  return Status::Invalid("state '" + location +
                         "': a PostgreSQL state database is not supported by this version; use a SQLite file path");
}

}  // namespace

StateKind StateKindOf(const std::string& location) {
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0) return StateKind::kPostgres;
  return StateKind::kSqlite;
}

Result<std::unique_ptr<StateDb>> OpenStateDbAt(const std::string& location, StateOpenMode mode,
                                               const std::function<Timestamp()>& clock) {
  switch (StateKindOf(location)) {
    case StateKind::kSqlite: {
      SqliteStateDbOptions options;
      options.read_only = mode == StateOpenMode::kRead;
      options.create = mode == StateOpenMode::kCreate;
      options.clock = clock;
      return OpenSqliteStateDb(location, options);
    }
    case StateKind::kPostgres: break;  // issue 15
  }
  return UnsupportedKind(location);
}

Result<std::unique_ptr<StateDb>> OpenStateDb(const Config& config, StateOpenMode mode,
                                             const std::function<Timestamp()>& clock) {
  return OpenStateDbAt(config.state, mode, clock);
}

Result<std::unique_ptr<StateLocks>> OpenStateLocks(const Config& config) {
  switch (StateKindOf(config.state)) {
    case StateKind::kSqlite: return MakeFileStateLocks(LockPathsFor(config.state));
    case StateKind::kPostgres: break;  // issue 15
  }
  return UnsupportedKind(config.state);
}

bool StateExistsAt(const std::string& location) {
  switch (StateKindOf(location)) {
    case StateKind::kSqlite: return StateDbExists(location);
    case StateKind::kPostgres: return true;  // a server: OpenStateDb says whether it can be reached
  }
  return true;
}

StateLockPaths LockPathsFor(const std::filesystem::path& state_path) {
  const std::filesystem::path resolved = ResolvedStatePath(state_path);
  StateLockPaths paths;
  paths.run_lock = resolved;
  paths.run_lock += ".lock";
  paths.hold_barrier = resolved;
  paths.hold_barrier += ".holds-lock";
  return paths;
}

}  // namespace retention
