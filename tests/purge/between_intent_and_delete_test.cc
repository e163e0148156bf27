// Between a batch's intent (its batch entry, committed) and its delete, the
// application keeps writing and holds keep arriving; the pipeline widens
// that window by a whole batch. The delete judges each candidate on its
// facts then, under holds re-read under the barrier:
//   - a candidate whose clock moved younger is kept, with its reason
//     (changed: the clock is part of a row's identity; and now not due);
//   - a row whose clock moved older, into the batch's range, is not a
//     candidate: the by-key delete never touches it;
//   - a hold placed in between keeps what it covers.
// Run on the built binary, paused (RETENTION_PAUSE) right after batch 1's
// intent.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "e2e/e2e_util.h"
#include "purge/ledger_outcomes.h"
#include "purge/events_checker.h"
#include "purge/purge_fixture.h"

namespace retention {
namespace {

namespace fs = std::filesystem;

using e2e::Db;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::Spawn;
using e2e::Spawned;
using e2e::TempDir;
using e2e::WaitForFile;
using e2e::WriteFile;

TEST_CASE("rows changed and a hold placed between a batch's intent and its delete", "[purge][pipeline][e2e]") {
  TempDir dir;
  WriteDueEventsFixture(dir);  // 60 due rows, batches of at most 7
  const std::set<std::string> before = EventIds(dir);
  const fs::path go = dir / "go";
  Spawned purge = Spawn({"--config", (dir / "retention.toml").string(), "purge"},
                        {"RETENTION_PAUSE=after_intent:1:" + go.string()});
  fs::path reached = go;
  reached += ".reached";
  WaitForFile(reached);

  // Batch 1 is recorded, open, and nothing is deleted yet.
  const LedgerOutcomes paused = ReadLedgerOutcomes(dir / "state.db");
  REQUIRE(paused.open.size() == 1);
  REQUIRE(paused.candidates.size() == 7);
  REQUIRE(EventIds(dir) == before);
  std::vector<std::string> candidates(paused.candidates.begin(), paused.candidates.end());
  const std::string younger = candidates[0];  // its clock moves past the cutoff
  const std::string held = candidates[1];     // a hold on its key arrives
  std::string older;                           // not a candidate; its clock moves into the batch's range
  for (const std::string& id : before)
    if (!paused.candidates.count(id)) older = id;
  REQUIRE(!older.empty());
  {
    Db db(dir / "app.db");
    db.Exec("UPDATE events SET at = '2099-01-01 00:00:00' WHERE id = " + younger + ";"
            "UPDATE events SET at = '2019-01-01 00:00:00' WHERE id = " + older + ";");
  }
  // The barrier is not held between intent and delete: the hold returns.
  RunResult hold = RunWith(dir / "retention.toml",
                           {"hold", "add", "--target", "events", "--key", held, "--matter", "M-1", "--reason", "r", "--by", "test"});
  INFO(Describe(hold));
  REQUIRE(hold.exit_code == 0);

  WriteFile(go, "");
  RunResult r = purge.Finish();
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);

  const LedgerOutcomes done = ReadLedgerOutcomes(dir / "state.db");
  CHECK(done.open.empty());
  REQUIRE(done.kept.count(younger) == 1);
  // Its clock is part of its identity: another record now, and not due.
  CHECK(done.kept.at(younger)["why"] == "changed");
  CHECK(done.kept.at(younger)["reason"].get<std::string>().find("not before the cutoff") != std::string::npos);
  REQUIRE(done.kept.count(held) == 1);
  CHECK(done.kept.at(held)["why"] == "held");
  const std::set<std::string> now = EventIds(dir);
  CHECK(now.count(younger) == 1);
  CHECK(now.count(held) == 1);
  // The row that moved older was never selected by this run (its cursor
  // had passed it), so nothing deleted it.
  CHECK(done.candidates.count(older) == 0);
  CHECK(now.count(older) == 1);
  // Exact: a row is gone if and only if the ledger claims it, once.
  for (const std::string& id : before) {
    INFO("row " << id);
    CHECK(done.deleted.count(id) == (now.count(id) ? 0u : 1u));
  }
  CHECK(now.size() == 3);
}

}  // namespace
}  // namespace retention
