// OpenStateDb, the one way to open a state, and the lock paths derived in
// one place.
#include "state/state_open.h"

#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"

namespace retention {
namespace {

TEST_CASE("a PostgreSQL state whose conninfo variable is unset is refused, naming the variable",
          "[state][state-open]") {
  StateConfig state;
  state.conninfo_env = "RETENTION_TEST_STATE_URL_NEVER_SET";
  REQUIRE(state.IsPostgres());
  CHECK(state.Name() == "the PostgreSQL state (RETENTION_TEST_STATE_URL_NEVER_SET), schema retention");
  for (auto mode : {StateOpenMode::kRead, StateOpenMode::kWrite, StateOpenMode::kCreate}) {
    auto pg = OpenStateDbAt(state, mode);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.status().code() == StatusCode::kUnavailable);
    CHECK(pg.status().message().find("RETENTION_TEST_STATE_URL_NEVER_SET is not set") != std::string::npos);
  }
  Config config;
  config.state = state;
  auto locks = OpenStateLocks(config);
  REQUIRE_FALSE(locks.ok());
  CHECK(locks.status().code() == StatusCode::kUnavailable);
}

TEST_CASE("OpenStateDb creates only in kCreate and opens what it created", "[state][state-open]") {
  e2e::TempDir dir;
  Config config;
  config.state.path = (dir / "state.db").string();
  CHECK_FALSE(StateExistsAt(config.state));
  for (auto mode : {StateOpenMode::kRead, StateOpenMode::kWrite}) {
    auto missing = OpenStateDb(config, mode);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == StatusCode::kUnavailable);
    CHECK_FALSE(StateExistsAt(config.state));  // never created by opening
  }
  REQUIRE(OpenStateDb(config, StateOpenMode::kCreate).ok());
  CHECK(StateExistsAt(config.state));
  auto again = OpenStateDb(config, StateOpenMode::kCreate);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == StatusCode::kInvalid);  // never replaced
  CHECK(OpenStateDb(config, StateOpenMode::kRead).ok());
  CHECK(OpenStateDb(config, StateOpenMode::kWrite).ok());
}

TEST_CASE("the lock files sit beside the state, named once", "[state][state-open][lock]") {
  const StateLockPaths p = LockPathsFor("/var/lib/retention/state.db");
  CHECK(p.run_lock == "/var/lib/retention/state.db.lock");
  CHECK(p.hold_barrier == "/var/lib/retention/state.db.holds-lock");
}

}  // namespace
}  // namespace retention
