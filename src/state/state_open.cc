#include "state/state_open.h"

#include <cstdlib>

#include "state/file_state_locks.h"
#include "state/lock_file.h"
#include "state/postgres_state_db.h"
#include "state/postgres_state_locks.h"
#include "state/sqlite_state_db.h"
#include "util/identity.h"

namespace retention {

namespace {

// A PostgreSQL state names this host in its run claims and locks: the
// config's host, else the machine's (the defaults of the options).
PostgresStateDbOptions PostgresOptions(const StateConfig& state, const std::string& conninfo) {
  PostgresStateDbOptions options;
  options.conninfo = conninfo;
  options.who = state.ServerName();
  options.schema = state.schema;
  options.host = HostNameInState(state);
  return options;
}

}  // namespace

std::string HostNameInState(const StateConfig& state) { return state.host.empty() ? HostName() : state.host; }

Result<std::string> StateConninfo(const StateConfig& state) {
  if (!state.service.empty()) return "service=" + state.service;
  const char* value = std::getenv(state.conninfo_env.c_str());
  if (value == nullptr || *value == '\0') {
    return Status::Unavailable(state.Name() + ": environment variable " + state.conninfo_env +
                               " is not set (it should hold the libpq conninfo or URI of the state database)");
  }
  return std::string(value);
}

Result<std::unique_ptr<StateDb>> OpenStateDbAt(const StateConfig& state, StateOpenMode mode,
                                               const std::function<Timestamp()>& clock) {
  if (!state.IsPostgres()) {
    SqliteStateDbOptions options;
    options.read_only = mode == StateOpenMode::kRead;
    options.create = mode == StateOpenMode::kCreate;
    options.clock = clock;
    return OpenSqliteStateDb(state.path, options);
  }
  auto conninfo = StateConninfo(state);
  if (!conninfo.ok()) return conninfo.status();
  PostgresStateDbOptions options = PostgresOptions(state, *conninfo);
  options.read_only = mode == StateOpenMode::kRead;
  options.create_if_missing = mode == StateOpenMode::kCreate;
  options.refuse_existing = mode == StateOpenMode::kCreate;
  if (clock) options.clock = clock;
  return OpenPostgresStateDb(options);
}

Result<std::unique_ptr<StateDb>> OpenStateDb(const Config& config, StateOpenMode mode,
                                             const std::function<Timestamp()>& clock) {
  return OpenStateDbAt(config.state, mode, clock);
}

Result<std::unique_ptr<StateLocks>> OpenStateLocks(const Config& config) {
  if (!config.state.IsPostgres()) return MakeFileStateLocks(LockPathsFor(config.state.path));
  auto conninfo = StateConninfo(config.state);
  if (!conninfo.ok()) return conninfo.status();
  const PostgresStateDbOptions db = PostgresOptions(config.state, *conninfo);
  PostgresStateLocksOptions options;
  options.conninfo = db.conninfo;
  options.who = db.who;
  options.schema = db.schema;
  options.host = db.host;
  return OpenPostgresStateLocks(options);
}

bool StateExistsAt(const StateConfig& state) {
  if (state.IsPostgres()) return true;
  return StateDbExists(state.path);
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
