// `purge --plan FILE` (SPEC 5, 6.3): deletes only what a saved plan listed
// and is still due; what changed since (a new hold, a moved clock) is kept,
// and the ledger says which and why.
#include <catch2/catch.hpp>

#include <set>

#include "e2e/e2e_util.h"
#include "purge/ledger_outcomes.h"
#include "purge/purge_fixture.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;
using e2e::WriteFile;

TEST_CASE("purge --plan deletes what the plan listed, less what changed, and logs what it kept", "[purge][e2e]") {
  TempDir dir;
  WriteFiveEventsFixture(dir);
  RunResult plan = RunWith(dir / "retention.toml", {"plan", "--out", (dir / "plan.jsonl").string()});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);

  {
    Db db(dir / "app.db");
    // Since the plan: row 2's clock moved forward, row 6 became due (not in
    // the plan), and customer 3 is put under a hold.
    db.Exec("UPDATE events SET at = '2099-06-01 00:00:00' WHERE id = 2;"
            "INSERT INTO events VALUES (6, '2020-02-01 00:00:00', 6);");
  }
  RunResult hold = RunWith(dir / "retention.toml",
                           {"hold", "add", "--subject", "customer:3", "--matter", "M-9", "--reason", "subpoena"});
  INFO(Describe(hold));
  REQUIRE(hold.exit_code == 0);

  RunResult purge = RunWith(dir / "retention.toml", {"purge", "--plan", (dir / "plan.jsonl").string()});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);

  Db db(dir / "app.db", true);
  auto ids = db.Column("SELECT id FROM events ORDER BY id");
  CHECK(ids == std::vector<std::string>{"2", "3", "5", "6"});

  const LedgerOutcomes ledger = ReadLedgerOutcomes(dir / "state.db");
  CHECK(ledger.deleted == std::multiset<std::string>{"1", "4"});
  REQUIRE(ledger.kept.size() == 2);
  REQUIRE(ledger.kept.count("2") == 1);
  CHECK(ledger.kept.at("2")["reason"].get<std::string>().find("not before the cutoff") != std::string::npos);
  REQUIRE(ledger.kept.count("3") == 1);
  CHECK(ledger.kept.at("3")["reason"].get<std::string>().find("held by hold 1 (M-9)") != std::string::npos);

  RunResult verify = RunWith(dir / "retention.toml", {"audit", "verify"});
  CHECK(verify.exit_code == 0);
}

TEST_CASE("purge --plan deletes only the records planned, not others under their keys", "[purge][reconcile][e2e]") {
  TempDir dir;
  WriteFiveEventsFixture(dir);
  const auto plan_file = dir / "plan.jsonl";
  RunResult plan = RunWith(dir / "retention.toml", {"plan", "--out", plan_file.string()});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);
  CHECK(e2e::ReadFile(plan_file).find(R"("identity":"","key":"1","subject":"1")") != std::string::npos);

  {
    // Since the plan: row 1 belongs to another customer now, and row 3's
    // rowid was taken by another row (same clock, another customer). Both
    // are still due, but neither is the record planned.
    Db db(dir / "app.db");
    db.Exec("UPDATE events SET who = 7 WHERE id = 1;"
            "DELETE FROM events WHERE id = 3; INSERT INTO events VALUES (3, '2020-01-03 00:00:00', 8);");
  }
  RunResult purge = RunWith(dir / "retention.toml", {"purge", "--plan", plan_file.string()});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  Db db(dir / "app.db", true);
  CHECK(db.Column("SELECT id FROM events ORDER BY id") == std::vector<std::string>{"1", "3", "5"});
  const LedgerOutcomes ledger = ReadLedgerOutcomes(dir / "state.db");
  REQUIRE(ledger.kept.size() == 2);
  for (const auto& [key, detail] : ledger.kept)
    CHECK(detail["reason"].get<std::string>().find("changed since selection") != std::string::npos);
}

TEST_CASE("a saved plan is refused once the rules changed", "[purge][e2e]") {
  TempDir dir;
  WriteFiveEventsFixture(dir);
  REQUIRE(RunWith(dir / "retention.toml", {"plan", "--out", (dir / "plan.jsonl").string()}).exit_code == 0);
  WriteFile(dir / "rules" / "more.toml", R"(
[more]
delete_after = "1 day"
[[more.target]]
store = "app"
table = "events"
clock = { column = "at", encoding = "text" }
)");
  RunResult purge = RunWith(dir / "retention.toml", {"purge", "--plan", (dir / "plan.jsonl").string()});
  INFO(Describe(purge));
  CHECK(purge.exit_code == 65);
  CHECK(purge.err.find("rules changed") != std::string::npos);
  Db db(dir / "app.db", true);
  CHECK(db.Int("SELECT count(*) FROM events") == 5);
}

TEST_CASE("a saved plan with a malformed line is refused with exit 65, not a crash", "[purge][e2e]") {
  TempDir dir;
  WriteFiveEventsFixture(dir);
  const auto plan_file = dir / "plan.jsonl";
  REQUIRE(RunWith(dir / "retention.toml", {"plan", "--out", plan_file.string()}).exit_code == 0);
  // The first record's clock as a JSON number (found by the saved_plan
  // fuzzer: the reader threw, and the purge died of std::terminate).
  std::string text = e2e::ReadFile(plan_file);
  const auto line2 = text.find('\n') + 1;
  const auto clock = text.find("\"clock\":\"", line2);
  REQUIRE(clock != std::string::npos);
  const auto value = clock + 8;  // the opening quote
  text.replace(value, text.find('"', value + 1) + 1 - value, "20200101");
  REQUIRE(text.find("\"clock\":20200101,") != std::string::npos);
  WriteFile(plan_file, text);
  RunResult purge = RunWith(dir / "retention.toml", {"purge", "--plan", plan_file.string()});
  INFO(Describe(purge));
  CHECK(purge.exit_code == 65);
  CHECK(purge.err.find(plan_file.string() + ":2: malformed plan line") != std::string::npos);
  Db db(dir / "app.db", true);
  CHECK(db.Int("SELECT count(*) FROM events") == 5);
}

}  // namespace
}  // namespace retention
