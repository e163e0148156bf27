// retention status (--check) and retention explain on a small fixture with
// two overlapping rules: a 30-day deletion and a 1-year floor over the
// "tx" rows of the same table.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "audit/audit_util.h"

namespace retention::audit_test {
namespace {

using Json = nlohmann::json;

struct Fixture {
  TempDir dir;
  fs::path config = dir / "retention.toml";
  fs::path app_db = dir / "app.db";
  fs::path state_db = dir / "state.db";

  Fixture() {
    WriteFile(config,
              "rules = \"rules\"\nstate = \"state.db\"\ntime_zone = \"UTC\"\n"
              "[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n");
    WriteFile(dir / "rules" / "events.toml",
              "[short_events]\n"
              "description = \"Events\"\npolicy = \"Events | 30 days\"\npolicy_source = \"test\"\n"
              "delete_after = \"30 days\"\n"
              "[[short_events.target]]\nname = \"events\"\nstore = \"app\"\ntable = \"events\"\n"
              "clock = { column = \"created_at\", encoding = \"text\" }\n"
              "subject = { kind = \"customer\", column = \"customer_id\" }\n"
              "\n[tx_floor]\n"
              "description = \"Transactions\"\npolicy = \"Transactions | 1 year minimum\"\npolicy_source = \"test\"\n"
              "keep_at_least = \"1 year\"\n"
              "[[tx_floor.target]]\nname = \"tx\"\nstore = \"app\"\ntable = \"events\"\n"
              "clock = { column = \"created_at\", encoding = \"text\" }\nwhere = { kind = \"tx\" }\n");
    Db db(app_db);
    db.Exec(
        "CREATE TABLE events(id INTEGER PRIMARY KEY, created_at TEXT, kind TEXT, customer_id INTEGER);"
        "CREATE INDEX events_created ON events(created_at);");
    const int64_t now = NowUnixSeconds();
    const std::string old = FormatUtc(now - 60 * 86400), young = FormatUtc(now - 86400);
    // 1: due. 2: a "tx" row, floor-protected. 3: due but held. 4: due.
    db.Exec("INSERT INTO events VALUES(1, '" + old + "', 'log', 42), (2, '" + old + "', 'tx', 42), (3, '" + old +
            "', 'log', 43), (4, '" + old + "', 'log', 44);");
    for (int i = 5; i <= 20; ++i)
      db.Exec("INSERT INTO events VALUES(" + std::to_string(i) + ", '" + young + "', 'log', 1);");
    e2e::InitState(config);
  }

  RunResult Retention(std::vector<std::string> args) { return RunWith(config, std::move(args)); }
};

TEST_CASE("status --check fails with overdue records and passes after a purge", "[audit]") {
  Fixture f;
  auto held = f.Retention({"hold", "add", "--matter", "M-1", "--reason", "litigation", "--target", "events", "--key", "3"});
  INFO(Describe(held));
  REQUIRE(held.exit_code == 0);

  auto before = f.Retention({"status", "--check", "--format", "json"});
  INFO(Describe(before));
  CHECK(before.exit_code == 75);
  const Json j = Json::parse(before.out);
  CHECK(j.at("overdue") == 2);
  CHECK(j.at("compliant") == false);
  CHECK_FALSE(j.contains("last_success"));
  // Without --check, status reports and succeeds.
  CHECK(f.Retention({"status"}).exit_code == 0);

  auto purge = f.Retention({"purge", "--allow-mass-delete"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);

  auto after = f.Retention({"status", "--check", "--format", "json"});
  INFO(Describe(after));
  CHECK(after.exit_code == 0);
  const Json a = Json::parse(after.out);
  CHECK(a.at("overdue") == 0);
  CHECK(a.at("compliant") == true);
  CHECK(a.at("last_success").at("outcome") == "ok");
  for (const Json& c : a.at("categories"))
    if (c.at("category") == "short_events") {
      CHECK(c.at("held") == 1);
      CHECK(c.at("floor_protected") == 1);
    }
  auto table = f.Retention({"status"});
  CHECK(Contains(table.out, "Compliant."));

  // A last success older than --max-age fails the check: a policy
  // configured but not applied. (`1 hour` after a run a moment ago passes.)
  CHECK(f.Retention({"status", "--check", "--max-age", "1 hour"}).exit_code == 0);
  CHECK(f.Retention({"status", "--max-age", "soon"}).exit_code == 64);

  // status changed nothing.
  CHECK(Db(f.app_db, true).Count("events") == 18);
}

TEST_CASE("explain: a due, a held, a floor-protected and a deleted record", "[audit]") {
  Fixture f;
  REQUIRE(f.Retention({"hold", "add", "--matter", "M-1", "--reason", "litigation", "--target", "events", "--key", "3"}).exit_code == 0);

  auto due = f.Retention({"explain", "app/events/1"});
  INFO(Describe(due));
  REQUIRE(due.exit_code == 0);
  CHECK(Contains(due.out, "DELETABLE"));
  CHECK(Contains(due.out, "subject    customer:42"));
  auto due_json = f.Retention({"explain", "app/events/1", "--format", "json"});
  REQUIRE(due_json.exit_code == 0);
  const Json d = Json::parse(due_json.out);
  REQUIRE(d.at("rules").size() == 1);
  CHECK(d.at("rules")[0].at("deletable") == true);
  CHECK(!d.at("rules")[0].at("due_after").is_null());

  auto held = f.Retention({"explain", "app/events/3"});
  INFO(Describe(held));
  REQUIRE(held.exit_code == 0);
  CHECK(Contains(held.out, "KEPT: held by hold 1 (M-1)"));
  CHECK(Contains(held.out, "litigation"));

  auto floor = f.Retention({"explain", "app/events/2"});
  INFO(Describe(floor));
  REQUIRE(floor.exit_code == 0);
  CHECK(Contains(floor.out, "protected by the floor of tx_floor/tx"));
  CHECK(Contains(floor.out, "PROTECTS it until"));
  // The floor's own target explains the row too.
  auto tx = f.Retention({"explain", "app/tx/2", "--format", "json"});
  REQUIRE(tx.exit_code == 0);
  CHECK(Json::parse(tx.out).at("rules")[0].at("deletable") == false);

  auto young = f.Retention({"explain", "app/events/5"});
  CHECK(Contains(young.out, "is not before the cutoff"));

  REQUIRE(f.Retention({"purge", "--allow-mass-delete"}).exit_code == 0);
  auto gone = f.Retention({"explain", "app/events/1"});
  INFO(Describe(gone));
  REQUIRE(gone.exit_code == 0);
  CHECK(Contains(gone.out, "does not exist"));
  CHECK(Contains(gone.out, "Deleted by ledger entry"));
  CHECK(Contains(gone.out, "category short_events"));
  auto gone_json = Json::parse(f.Retention({"explain", "app/events/1", "--format", "json"}).out);
  REQUIRE(gone_json.at("deleted_by").size() == 1);
  CHECK(gone_json.at("deleted_by")[0].at("kind") == "delete");
  CHECK(gone_json.at("deleted_by")[0].at("subject") == "customer:42");

  CHECK(f.Retention({"explain", "app/nothing/1"}).exit_code == 64);
  CHECK(f.Retention({"explain", "app-events-1"}).exit_code == 64);
  // audit log --subject finds the deletion.
  auto log = f.Retention({"audit", "log", "--subject", "customer:42", "--format", "jsonl"});
  REQUIRE(log.exit_code == 0);
  CHECK(LineCount(log.out) == 1);
}

}  // namespace
}  // namespace retention::audit_test
