// OpenStateDb, the one way to open a state, and the lock paths derived in
// one place.
#include "state/state_open.h"

#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"

namespace retention {
namespace {

TEST_CASE("OpenStateDb picks the backend from the location", "[state][state-open]") {
  CHECK(StateKindOf("/var/lib/retention/state.db") == StateKind::kSqlite);
  CHECK(StateKindOf("state.db") == StateKind::kSqlite);
  CHECK(StateKindOf("postgresql://db.example/retention") == StateKind::kPostgres);
  CHECK(StateKindOf("postgres://db.example/retention") == StateKind::kPostgres);

  // Not supported yet (issue 15): a clear refusal, never a file of that name.
  for (auto mode : {StateOpenMode::kRead, StateOpenMode::kWrite, StateOpenMode::kCreate}) {
    auto pg = OpenStateDbAt("postgresql://db.example/retention", mode);
    REQUIRE_FALSE(pg.ok());
    CHECK(pg.status().code() == StatusCode::kInvalid);
    CHECK(pg.status().message().find("PostgreSQL") != std::string::npos);
  }
}

TEST_CASE("OpenStateDb creates only in kCreate and opens what it created", "[state][state-open]") {
  e2e::TempDir dir;
  Config config;
  config.state = (dir / "state.db").string();
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
