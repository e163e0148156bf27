// The append transaction (state/state_db.h, StateAppend): appenders are
// serialized, and entries chained on a head other than the one read inside
// the transaction are never stored.
#include <catch2/catch.hpp>

#include "state/sqlite_state_db.h"
#include "state/state_contract.h"
#include "state/state_test_support.h"
#include "state/test_util.h"

namespace retention {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

Timestamp At(int64_t seconds) { return FromUnixMicros(seconds * 1'000'000); }

std::unique_ptr<StateDb> MustOpen(const fs::path& path) {
  SqliteStateDbOptions o;
  o.clock = [] { return At(1'750'000'000); };
  o.busy_timeout_ms = 30'000;
  auto db = OpenOrCreateStateDb(path, o);
  INFO(db.status().message());
  REQUIRE(db.ok());
  return std::move(db.value());
}

TEST_CASE("an append transaction makes a second appender wait until it ends", "[state][ledger]") {
  TempDir dir;
  const fs::path path = dir.path() / "state.db";
  const contract::StateOpener open = [&] { return MustOpen(path); };
  contract::AppenderWaitsContract(open);
}

TEST_CASE("entries chained on a stale head are never inserted", "[state][ledger]") {
  TempDir dir;
  const fs::path path = dir.path() / "state.db";
  const contract::StateOpener open = [&] { return MustOpen(path); };
  contract::StaleHeadContract(open);
}

TEST_CASE("an append transaction not committed leaves nothing behind", "[state][ledger]") {
  TempDir dir;
  const fs::path path = dir.path() / "state.db";
  const contract::StateOpener open = [&] { return MustOpen(path); };
  contract::UncommittedContract(open);
}

}  // namespace
}  // namespace retention
