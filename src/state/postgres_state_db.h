// The PostgreSQL state database (issue 15): the StateDb of a fleet, one
// schema that every host's `retention` shares.
//
// The schema is written out at the top of postgres_state_db.cc. One object
// is one connection (stores/postgres_connection.h): use it from one thread,
// and never across fork(). Append transactions lock the schema's head row
// (SELECT ... FOR UPDATE), so appenders on any number of hosts write one
// chain in seq order; the head read after the lock is the one their entries
// must follow.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "calendar/timestamp.h"
#include "state/state_db.h"
#include "util/status.h"

namespace retention {

struct PostgresStateDbOptions {
  // The libpq conninfo or URI. Never shown: errors name `who`, and what
  // libpq says passes through MaskConninfoSecrets.
  std::string conninfo;
  // How errors name this state: "state (RETENTION_STATE_URL)".
  std::string who = "the PostgreSQL state";
  // The schema holding the tables (created on the first read-write open).
  std::string schema = "retention";
  // Never creates or changes anything; a schema not created yet is
  // Unavailable.
  bool read_only = false;
  // A read-write open of a schema holding no state yet creates it when
  // true; when false it is Unavailable: a state that held legal holds is
  // never re-created silently (SPEC 3), so commands open with false and
  // only `retention state init` creates.
  bool create_if_missing = true;
  // Refuses a schema that already holds a state (`retention state init`).
  bool refuse_existing = false;
  // This host's name in the fleet: the run claim (ClaimForRun) is per host
  // and state. Default: the host name.
  std::string host;
  // The state's clock (StateDb::Now). Default: the system clock.
  std::function<Timestamp()> clock;
  // How long a statement may wait for a lock another host holds (an append
  // in progress) before the command fails Busy.
  int lock_timeout_ms = 30000;
};

// Opens the state in `options.schema`. A read-write open creates the schema
// when it is missing (create_if_missing) and migrates an older one, in one
// transaction; a schema
// newer than this binary, or one that is not a retention state, is refused
// naming `who` and the schema, never the conninfo.
Result<std::unique_ptr<StateDb>> OpenPostgresStateDb(const PostgresStateDbOptions& options);

// The schema version this code writes and reads (meta.schema_version). Its
// own sequence: the PostgreSQL layout started with everything SQLite's
// version 6 has.
inline constexpr int kPgStateSchemaVersion = 1;

}  // namespace retention
