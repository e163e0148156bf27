// `retention explain` as an operator uses it on the demo (issue 18 item 6):
// the record named as check and plan print targets, or by a file path; the
// sample keys of plan pasted in; one verdict line first, at --as-of; exit 1
// for a record that never existed; and the verdict checked against what
// purge --as-of then does to the record.
#include <time.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

using Json = nlohmann::json;

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// "2026-11-22T15:12:25.123Z" as unix seconds, the sub-seconds dropped.
int64_t ParseUtc(const std::string& text) {
  struct tm tm {};
  REQUIRE(::strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
  return static_cast<int64_t>(::timegm(&tm));
}

std::string Iso(int64_t unix_seconds) { return FormatUtc(unix_seconds, "%Y-%m-%dT%H:%M:%SZ"); }

bool RowExists(const fs::path& app_db, const std::string& table, const std::string& id) {
  return Db(app_db, true).Query("SELECT 1 FROM \"" + table + "\" WHERE id = ?", {id}).size() == 1;
}

TEST_CASE("explain takes the target as check and plan print it", "[e2e][explain]") {
  DemoFixture f(3000);
  // check prints app:audit_events and backups:db-*.sqlite.gz.
  RunResult check = f.Retention({"check"});
  INFO(Describe(check));
  REQUIRE(Contains(check.out, "app:audit_events"));
  REQUIRE(Contains(check.out, "backups:db-*.sqlite.gz"));

  for (const std::string& record : {"app/audit_events/1", "app:audit_events/1"}) {
    RunResult r = f.Retention({"explain", record});
    INFO(Describe(r));
    CHECK(r.exit_code == 0);
    CHECK(StartsWith(r.out, "DELETE at next purge"));
  }
  // The oldest backup, by its glob (as check prints it) and by the
  // target's name (as plan prints it).
  const Json plan = Json::parse(f.Retention({"plan", "--format", "json"}).out);
  std::string backup;
  for (const Json& t : plan.at("targets"))
    if (t.at("target") == "db-backups") backup = t.at("sample_keys").at(0).get<std::string>();
  REQUIRE(!backup.empty());
  for (const std::string& record : {"backups/db-*.sqlite.gz/" + backup, "backups:db-*.sqlite.gz/" + backup,
                                    "backups/db-backups/" + backup}) {
    RunResult r = f.Retention({"explain", record});
    INFO(Describe(r));
    CHECK(r.exit_code == 0);
    CHECK(StartsWith(r.out, "DELETE at next purge"));
    CHECK(Contains(r.out, "Record backups/"));
  }
  // A target that is not there names the ones that are.
  RunResult wrong = f.Retention({"explain", "app/audit/1"});
  CHECK(wrong.exit_code == 64);
  CHECK(Contains(wrong.err, "audit_events"));
}

TEST_CASE("plan prints its sample keys whole and each pastes into explain", "[e2e][explain]") {
  DemoFixture f(3000);
  RunResult table = f.Retention({"plan"});
  INFO(Describe(table));
  REQUIRE(table.exit_code == 0);
  CHECK(!Contains(table.out, "~"));
  const Json plan = Json::parse(f.Retention({"plan", "--format", "json"}).out);
  int pasted = 0;
  bool long_key = false;
  for (const Json& t : plan.at("targets")) {
    if (t.at("sample_keys").empty()) continue;
    const std::string store_target = t.at("store").get<std::string>() + "/" + t.at("target").get<std::string>();
    const std::string key = t.at("sample_keys").at(0).get<std::string>();
    long_key |= key.size() > 24;  // what plan used to cut
    // The table's line for the target shows STORE/TARGET and the key whole.
    bool shown = false;
    std::istringstream lines(table.out);
    for (std::string line; std::getline(lines, line);)
      if (Contains(line, " " + store_target + " ") && Contains(line, " " + key)) shown = true;
    INFO(store_target << " " << key);
    CHECK(shown);
    RunResult r = f.Retention({"explain", store_target + "/" + key});
    INFO(Describe(r));
    CHECK(r.exit_code == 0);
    CHECK(StartsWith(r.out, "DELETE at next purge"));
    ++pasted;
  }
  CHECK(pasted >= 10);
  CHECK(long_key);  // the session ids are longer than 24 characters
}

TEST_CASE("explain takes the path of a file under a files store's root", "[e2e][explain]") {
  DemoFixture f(3000);
  const Json plan = Json::parse(f.Retention({"plan", "--format", "json"}).out);
  std::string due;
  for (const Json& t : plan.at("targets"))
    if (t.at("target") == "rotated-logs") due = t.at("sample_keys").at(0).get<std::string>();
  REQUIRE(!due.empty());
  const fs::path file = f.root / "logs" / due;
  REQUIRE(fs::exists(file));

  RunResult absolute = f.Retention({"explain", file.string()});
  INFO(Describe(absolute));
  CHECK(absolute.exit_code == 0);
  CHECK(StartsWith(absolute.out, "DELETE at next purge"));
  CHECK(Contains(absolute.out, "Record logs/rotated-logs/" + due));
  // Relative to the working directory, from the root and from above it
  // ("logs/..." is a path here: no target of store logs is named so).
  for (const auto& [cwd, path] : std::vector<std::pair<fs::path, std::string>>{
           {f.root / "logs", due}, {f.root, "logs/" + due}, {f.root / "backups", "../logs/" + due}}) {
    RunResult r = Run({"--config", f.config.string(), "explain", path}, cwd);
    INFO(cwd << " " << path << "\n" << Describe(r));
    CHECK(r.exit_code == 0);
    CHECK(StartsWith(r.out, "DELETE at next purge: server_log_files/rotated-logs due: "));
    CHECK(Contains(r.out, "Record logs/rotated-logs/" + due + " "));
  }
  // The newest rotated log file: younger than the 30-day floor.
  std::string newest;
  fs::file_time_type newest_time{};
  for (const auto& e : fs::directory_iterator(f.root / "logs")) {
    const std::string name = e.path().filename().string();
    if (!StartsWith(name, "access.log-") && !StartsWith(name, "app.log-")) continue;
    if (newest.empty() || e.last_write_time() > newest_time) {
      newest = name;
      newest_time = e.last_write_time();
    }
  }
  REQUIRE(!newest.empty());
  RunResult young = f.Retention({"explain", (f.root / "logs" / newest).string()});
  INFO(Describe(young));
  CHECK(young.exit_code == 0);
  CHECK(StartsWith(young.out, "NOT DUE until "));

  // A file outside every files store's root is refused.
  RunResult outside = f.Retention({"explain", f.config.string()});
  CHECK(outside.exit_code == 64);

  // After the purge: the due file is gone and explain says which run
  // deleted it; the young one stays.
  RunResult purge = f.Retention({"purge", "--allow-mass-delete"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  CHECK(!fs::exists(file));
  CHECK(fs::exists(f.root / "logs" / newest));
  RunResult gone = f.Retention({"explain", file.string()});
  INFO(Describe(gone));
  CHECK(gone.exit_code == 0);
  CHECK(StartsWith(gone.out, "GONE: deleted by run "));
}

TEST_CASE("explain of a record that never existed exits 1", "[e2e][explain]") {
  DemoFixture f(3000);
  RunResult r = f.Retention({"explain", "app/audit_events/999999"});
  INFO(Describe(r));
  CHECK(r.exit_code == 1);
  CHECK(FirstLine(r.out) == "no record 999999 in app/audit_events");
  RunResult j = f.Retention({"explain", "app/audit_events/999999", "--format", "json"});
  INFO(Describe(j));
  CHECK(j.exit_code == 1);
  CHECK(Json::parse(j.out).at("outcome") == "absent");
  // A file path under a root, of a file that is not there.
  RunResult file = f.Retention({"explain", (f.root / "logs" / "app.log-19990101.gz").string()});
  INFO(Describe(file));
  CHECK(file.exit_code == 1);
  CHECK(StartsWith(file.out, "no record app.log-19990101.gz in logs/"));
  // A record that exists is still 0, a bad record still 64.
  CHECK(f.Retention({"explain", "app/audit_events/1"}).exit_code == 0);
  CHECK(f.Retention({"explain", "nowhere/audit_events/1"}).exit_code == 64);
}

TEST_CASE("explain of an open account's customer says the closing has not happened", "[e2e][explain]") {
  DemoFixture f(3000);
  const auto rows = Db(f.app_db, true)
                        .Query("SELECT c.id FROM customers c JOIN accounts a ON a.id = c.account_id "
                               "WHERE a.status = 'active' AND a.closed_at IS NULL ORDER BY c.id LIMIT 1");
  REQUIRE(rows.size() == 1);
  const std::string id = *rows[0][0];
  RunResult r = f.Retention({"explain", "app/customers/" + id});
  INFO(Describe(r));
  CHECK(r.exit_code == 0);
  CHECK(FirstLine(r.out) == "NOT DUE: accounts.closed_at has not happened (account open)");
  CHECK(Contains(r.out, "KEPT: not due: accounts.closed_at has not happened (account open)"));
  CHECK(!Contains(r.out, "clock '' is empty"));
  const Json j = Json::parse(f.Retention({"explain", "app/customers/" + id, "--format", "json"}).out);
  CHECK(j.at("outcome") == "not_due");
  // And the purge keeps it.
  REQUIRE(f.Retention({"purge", "--allow-mass-delete"}).exit_code == 0);
  CHECK(RowExists(f.app_db, "customers", id));
}

TEST_CASE("explain's verdict line and --as-of agree with what purge --as-of does", "[e2e][explain]") {
  DemoFixture f(3000);
  // Due now: audit events 1 and 5 (the oldest, plan's sample keys).
  RunResult held = f.Retention({"hold", "add", "--matter", "M-7", "--reason", "subpoena", "--target",
                                "audit_events", "--key", "2"});
  INFO(Describe(held));
  REQUIRE(held.exit_code == 0);
  // A sale of an account closed long ago, younger than the 7-year floor.
  const auto sales = Db(f.app_db, true)
                         .Query("SELECT s.id FROM sales s JOIN accounts a ON a.id = s.account_id "
                                "WHERE a.closed_at < datetime('now', '-100 days') "
                                "AND s.sold_at > datetime('now', '-6 years') ORDER BY s.id LIMIT 1");
  REQUIRE(sales.size() == 1);
  const std::string sale = *sales[0][0];

  RunResult due = f.Retention({"explain", "app/audit_events/1"});
  INFO(Describe(due));
  CHECK(StartsWith(due.out, "DELETE at next purge: audit_security/audit_events due: clock "));
  RunResult hold = f.Retention({"explain", "app/audit_events/2"});
  INFO(Describe(hold));
  CHECK(FirstLine(hold.out) == "KEEP: held by hold 1 (matter M-7: subpoena)");
  RunResult floor = f.Retention({"explain", "app/sales/" + sale});
  INFO(Describe(floor));
  CHECK(StartsWith(floor.out, "KEEP until "));
  CHECK(Contains(FirstLine(floor.out), "protected by the floor of transactions/sales (keep at least 7 years"));

  // Event 5 becomes due just after `until`: explain --as-of says so on
  // either side, and purge --as-of does it.
  const Json j = Json::parse(f.Retention({"explain", "app/audit_events/5", "--format", "json"}).out);
  REQUIRE(j.at("outcome") == "delete");
  const std::string due_after = j.at("rules").at(0).at("due_after").get<std::string>();
  const int64_t t = ParseUtc(due_after);
  RunResult before = f.Retention({"explain", "app/audit_events/5", "--as-of", Iso(t)});
  INFO(Describe(before));
  CHECK(StartsWith(before.out, "NOT DUE until " + due_after + ": audit_security/audit_events clock "));
  const Json before_json =
      Json::parse(f.Retention({"explain", "app/audit_events/5", "--as-of", Iso(t), "--format", "json"}).out);
  CHECK(before_json.at("outcome") == "not_due");
  CHECK(before_json.at("until") == due_after);
  CHECK(before_json.at("as_of") == Iso(t));
  RunResult after = f.Retention({"explain", "app/audit_events/5", "--as-of", Iso(t + 1)});
  INFO(Describe(after));
  CHECK(StartsWith(after.out, "DELETE by a purge as of " + Iso(t + 1)));

  RunResult purge_before = f.Retention({"purge", "--allow-mass-delete", "--as-of", Iso(t)});
  INFO(Describe(purge_before));
  REQUIRE(purge_before.exit_code == 0);
  CHECK(RowExists(f.app_db, "audit_events", "5"));
  RunResult purge_after = f.Retention({"purge", "--allow-mass-delete", "--as-of", Iso(t + 1)});
  INFO(Describe(purge_after));
  REQUIRE(purge_after.exit_code == 0);
  CHECK(!RowExists(f.app_db, "audit_events", "5"));

  RunResult purge_now = f.Retention({"purge", "--allow-mass-delete"});
  INFO(Describe(purge_now));
  REQUIRE(purge_now.exit_code == 0);
  CHECK(!RowExists(f.app_db, "audit_events", "1"));
  CHECK(RowExists(f.app_db, "audit_events", "2"));
  CHECK(RowExists(f.app_db, "sales", sale));
  RunResult gone = f.Retention({"explain", "app/audit_events/1"});
  INFO(Describe(gone));
  CHECK(gone.exit_code == 0);
  CHECK(StartsWith(gone.out, "GONE: deleted by run "));
  // A moment explain cannot read is a usage error.
  CHECK(f.Retention({"explain", "app/audit_events/1", "--as-of", "someday"}).exit_code == 64);
}

}  // namespace
}  // namespace retention::e2e
