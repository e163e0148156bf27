// SPEC 4: "A hold is effective from the moment `hold add` returns: no
// deletion committed after that moment touches a record it covers" — even
// while a purge or an erasure runs. One scenario for both, on the built
// binary: the run works through many small batches of a 4000-row table;
// once the ledger shows it deleting, a hold is placed over records it has
// not reached yet; every covered record that still existed when `hold add`
// returned must survive the run, and everything else goes.
#pragma once

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "e2e/e2e_util.h"
#include "purge/ledger_outcomes.h"
#include "purge/purge_fixture.h"

namespace retention {

// `command`: the run's arguments after `--config FILE` ("purge", or "erase
// --subject customer:1 --request R"); every row belongs to customer 1.
inline void CheckHoldPlacedDuringRun(const std::vector<std::string>& command) {
  using e2e::Db;
  constexpr int kRows = 4000;
  e2e::TempDir dir;
  {
    Db db(dir / "app.db");
    db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER, subj INTEGER);"
            "CREATE INDEX events_at ON events(at);");
    std::string sql = "BEGIN;";
    // Row i is i hours after 2020-01-01: the run deletes in id order.
    for (int i = 1; i <= kRows; ++i)
      sql += "INSERT INTO events VALUES (" + std::to_string(i) + ", " + std::to_string(1577836800 + 3600 * i) + ", 1);";
    db.Exec(sql + "COMMIT;");
  }
  e2e::WriteFile(dir / "rules" / "events.toml", R"(
[events]
delete_after = "30 days"
[[events.target]]
store = "app"
table = "events"
clock = { column = "at", encoding = "unix_seconds" }
subject = { kind = "customer", column = "subj" }
)");
  WritePurgeTestConfig(dir, 5);

  std::vector<std::string> args{"--config", (dir / "retention.toml").string()};
  args.insert(args.end(), command.begin(), command.end());
  e2e::Spawned run = e2e::Spawn(args);
  // Wait until the run is deleting (found through the ledger).
  for (int i = 0; i < 20000 && !run.Exited(); ++i) {
    if (std::filesystem::exists(dir / "state.db")) {
      try {
        Db state(dir / "state.db", true);
        // A settled batch: one carried in a later entry's "settles".
        if (state.Int("SELECT count(*) FROM ledger WHERE detail LIKE '%\"settles\"%'") > 0) break;
      } catch (const std::exception&) {
        // The schema may not exist yet.
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The hold covers the younger half of the table: clocks from row 2000 on.
  e2e::RunResult hold = e2e::RunWith(dir / "retention.toml",
                                     {"hold", "add", "--matter", "M-7", "--reason", "litigation", "--by", "test",
                                      "--from", "2020-03-24T08:00:00Z"});  // 1577836800 + 3600 * 2000
  INFO(e2e::Describe(hold));
  REQUIRE(hold.exit_code == 0);
  std::set<std::string> covered_at_return;
  {
    Db db(dir / "app.db", true);
    for (const auto& id : db.Column("SELECT id FROM events WHERE id >= 2000")) covered_at_return.insert(id);
  }
  e2e::RunResult finished = run.Finish();
  INFO(e2e::Describe(finished));
  REQUIRE(finished.exit_code == 0);

  // The run was still going when the hold was placed, or the test proves
  // nothing: it had not reached the covered rows yet.
  REQUIRE(covered_at_return.size() > 100);
  Db db(dir / "app.db", true);
  std::set<std::string> remaining;
  for (const auto& id : db.Column("SELECT id FROM events")) remaining.insert(id);
  for (const auto& id : covered_at_return) REQUIRE(remaining.count(id) == 1);
  // Everything the hold does not cover went.
  CHECK(db.Int("SELECT count(*) FROM events WHERE id < 2000") == 0);
  const LedgerOutcomes ledger = ReadLedgerOutcomes(dir / "state.db");
  int64_t young_deleted = 0;
  for (const std::string& key : ledger.deleted)
    if (std::stoll(key) >= 2000) ++young_deleted;
  CHECK(young_deleted == static_cast<int64_t>(kRows - 2000 + 1 - covered_at_return.size()));
}

}  // namespace retention
