// End-to-end: `retention report` on a fixture where every verdict occurs
// (issue 17): a compliant line of two categories sharing one policy quote,
// an overdue target (old rows written after the last purge), a held line
// (a hold placed before the purge) and a category never purged. Checked
// field by field in the JSON form; Markdown and HTML from the same data
// say the same verdicts; bad options and a tampered ledger.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

using Json = nlohmann::json;

const char* kRules = R"(
[web_table]
policy = "Web logs | 30 days"
policy_source = "Privacy Policy, section 4"
delete_after = "30 days"
[[web_table.target]]
store = "app"
table = "web"
clock = { column = "created_at", encoding = "text" }

[web_archive]
policy = "Web logs | 30 days"
policy_source = "Privacy Policy, section 4"
delete_after = "30 days"
[[web_archive.target]]
store = "app"
table = "web2"
clock = { column = "created_at", encoding = "text" }

[tickets]
policy = "Tickets | 60 days"
delete_after = "60 days"
[[tickets.target]]
store = "app"
table = "tickets"
clock = { column = "created_at", encoding = "text" }

[invoices]
policy = "Invoices | 90 days"
delete_after = "90 days"
[[invoices.target]]
store = "app"
table = "invoices"
clock = { column = "created_at", encoding = "text" }

[events]
policy = "Events | 14 days"
delete_after = "14 days"
[[events.target]]
store = "app"
table = "events"
clock = { column = "created_at", encoding = "text" }
)";

// Rows aged `days` days (and a few minutes, off any boundary).
void Insert(Db& db, const std::string& table, int rows, int days) {
  for (int i = 0; i < rows; ++i)
    db.Exec("INSERT INTO " + table + "(created_at) VALUES ('" +
            FormatUtc(NowUnixSeconds() - int64_t{days} * 86400 - 600 - i) + "')");
}

struct Fixture {
  TempDir dir;
  fs::path config = dir / "retention.toml";
  fs::path state = dir / "state.db";

  Fixture() {
    WriteFile(dir / "rules" / "fixture.toml", kRules);
    WriteFile(config,
              "rules = \"rules\"\nstate = \"state.db\"\n[limits]\nmax_delete_fraction = 1.0\n"
              "[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n");
    {
      Db db(dir / "app.db");
      for (const char* t : {"web", "web2", "tickets", "invoices", "events"})
        db.Exec(std::string("CREATE TABLE ") + t + "(id INTEGER PRIMARY KEY, created_at TEXT);" + "CREATE INDEX " +
                t + "_clock ON " + t + "(created_at);");
      Insert(db, "web", 5, 1);
      Insert(db, "web", 3, 40);
      Insert(db, "web2", 2, 10);
      Insert(db, "web2", 2, 100);
      Insert(db, "tickets", 4, 10);
      Insert(db, "invoices", 3, 10);
      Insert(db, "invoices", 4, 400);
      Insert(db, "events", 6, 1);
    }
    InitState(config);
    Expect({"hold", "add", "--category", "invoices", "--matter", "M-7", "--reason", "tax audit 2026"});
    for (const char* c : {"web_table", "web_archive", "tickets", "invoices"}) Expect({"purge", "--category", c});
    // Written after the last purge with an old clock: a backfill the
    // schedule has not caught up with.
    Db db(dir / "app.db");
    Insert(db, "tickets", 2, 200);
  }

  RunResult Expect(std::vector<std::string> args, int code = 0) {
    RunResult r = RunWith(config, std::move(args));
    INFO(Describe(r));
    REQUIRE(r.exit_code == code);
    return r;
  }
};

const Json& LineOf(const Json& report, const std::string& policy) {
  for (const Json& l : report.at("lines"))
    if (l.at("policy") == policy) return l;
  FAIL("no line " << policy);
  throw std::logic_error("unreachable");
}

// No key of the document is null: absent values are left out.
void RequireNoNull(const Json& j, const std::string& where) {
  INFO(where);
  REQUIRE_FALSE(j.is_null());
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) RequireNoNull(it.value(), where + "." + it.key());
  if (j.is_array())
    for (size_t i = 0; i < j.size(); ++i) RequireNoNull(j[i], where + "[" + std::to_string(i) + "]");
}

std::map<std::string, int64_t> Rows(const fs::path& app_db) {
  Db db(app_db, /*read_only=*/true);
  std::map<std::string, int64_t> out;
  for (const char* t : {"web", "web2", "tickets", "invoices", "events"}) out[t] = db.Count(t);
  return out;
}

int64_t Sum(const Json& bins) {
  int64_t n = 0;
  for (const Json& b : bins) n += b.at("records").get<int64_t>();
  return n;
}

TEST_CASE("report verdicts on a fixture where each occurs, in JSON field by field", "[report][e2e]") {
  Fixture f;
  RunResult r = f.Expect({"report", "--format", "json"});
  const Json j = Json::parse(r.out);
  RequireNoNull(j, "report");
  CHECK(j.at("format") == "retention-report/1");
  CHECK(j.at("as_of").get<std::string>().back() == 'Z');
  CHECK(j.at("summary") == Json{{"lines", 4}, {"complies", 1}, {"overdue", 1}, {"not_applied", 1}, {"held", 1}});
  const Json& ledger = j.at("ledger");
  CHECK(ledger.at("state") == true);
  CHECK(ledger.at("verified") == true);
  CHECK(ledger.at("head_seq").get<int64_t>() > 0);
  CHECK(ledger.at("head_hash").get<std::string>().size() == 64);
  CHECK_FALSE(ledger.contains("checkpoint"));
  CHECK_FALSE(ledger.contains("problem"));

  SECTION("two categories under one quote are one compliant line") {
    const Json& web = LineOf(j, "Web logs | 30 days");
    CHECK(web.at("verdict") == "complies");
    CHECK(web.at("categories") == Json{"web_archive", "web_table"});  // the rules' order: by name
    CHECK(web.at("source") == "Privacy Policy, section 4");
    CHECK(web.at("schedules") == Json{"delete after 30 days"});
    CHECK(web.at("records") == 7);
    CHECK(web.at("overdue") == 0);
    CHECK(web.at("held") == 0);
    CHECK(web.at("deleted_in_period") == 5);
    CHECK(web.at("runs_in_period") == 2);
    CHECK(web.at("last_success").at("deleted") == 2);  // web_archive's run came last
    CHECK_FALSE(web.contains("not_applied"));
    REQUIRE(web.at("targets").size() == 2);
    const Json& table = web.at("targets")[1];
    CHECK(table.at("category") == "web_table");
    CHECK(table.at("target") == "web");
    CHECK(table.at("store") == "app");
    CHECK(table.at("records") == 5);
    CHECK(table.at("due") == 0);
    CHECK(table.at("overdue") == 0);
    CHECK_FALSE(table.contains("oldest_overdue"));
    CHECK(table.contains("oldest_record"));
    CHECK(table.contains("cutoff"));
    const Json& bins = table.at("ages").at("bins");
    CHECK(table.at("ages").at("scale") == "delete after 30 days");
    REQUIRE(bins.size() == 8);
    CHECK(bins[0].at("records") == 5);  // 1 day old: under a quarter of 30 days
    CHECK(bins[0].at("past_cutoff") == false);
    CHECK(bins[4].at("past_cutoff") == true);
    CHECK(bins[4].at("from") == 1.0);
    CHECK(Sum(bins) == 5);
    const Json& archive = web.at("targets")[0];
    CHECK(archive.at("records") == 2);
    CHECK(archive.at("ages").at("bins")[1].at("records") == 2);  // 10 days: 1/4 to 1/2 of 30
  }
  SECTION("rows older than the schedule written after the purge are overdue") {
    const Json& tickets = LineOf(j, "Tickets | 60 days");
    CHECK(tickets.at("verdict") == "overdue");
    CHECK(tickets.at("overdue") == 2);
    CHECK(tickets.at("records") == 6);
    CHECK(tickets.at("deleted_in_period") == 0);
    CHECK(tickets.contains("last_success"));
    const Json& t = tickets.at("targets")[0];
    CHECK(t.at("overdue") == 2);
    CHECK(t.at("due") == 2);
    CHECK(t.contains("oldest_overdue"));
    CHECK(t.at("oldest_record") == t.at("oldest_overdue"));
    CHECK(t.at("ages").at("bins")[6].at("records") == 2);  // 200 days: 2 to 4 times 60
    CHECK(e2e::Contains(tickets.at("verdict_reason").get<std::string>(), "tickets/tickets 2"));
  }
  SECTION("a hold keeping old rows makes the line held, with the hold named") {
    const Json& invoices = LineOf(j, "Invoices | 90 days");
    CHECK(invoices.at("verdict") == "held");
    CHECK(invoices.at("held") == 4);
    CHECK(invoices.at("overdue") == 0);
    CHECK(invoices.at("records") == 7);
    CHECK(invoices.at("deleted_in_period") == 0);
    REQUIRE(invoices.at("holds").size() == 1);
    const Json& h = invoices.at("holds")[0];
    CHECK(h.at("matter") == "M-7");
    CHECK(h.at("reason") == "tax audit 2026");
    CHECK(h.at("records") == 4);
    CHECK(h.at("id") == 1);
    CHECK(h.at("placed_at").get<std::string>().back() == 'Z');
    CHECK_FALSE(h.contains("expires_at"));
    const Json& t = invoices.at("targets")[0];
    CHECK(t.at("held") == 4);
    CHECK(t.at("ages").at("bins")[7].at("records") == 4);  // 400 days: over 4 times 90
    CHECK(t.at("ages").at("bins")[7].at("past_cutoff") == true);
  }
  SECTION("a category no purge went through is not applied") {
    const Json& events = LineOf(j, "Events | 14 days");
    CHECK(events.at("verdict") == "not applied");
    CHECK(events.at("not_applied") == Json{"events"});
    CHECK_FALSE(events.contains("last_success"));
    CHECK(events.at("records") == 6);
    CHECK(events.at("overdue") == 0);
    CHECK(events.at("holds").empty());
  }
  SECTION("Markdown and HTML from the same data say the same verdicts") {
    const std::string md = f.Expect({"report"}).out;
    const std::string html = f.Expect({"report", "--format", "html"}).out;
    for (const Json& line : j.at("lines")) {
      const std::string verdict = line.at("verdict");
      INFO(line.at("policy"));
      CHECK(e2e::Contains(md, "**Verdict: " + verdict + "**"));
      CHECK(e2e::Contains(html, "<strong>Verdict: " + verdict + "</strong>"));
    }
    CHECK(e2e::Contains(md, "| Web logs \\| 30 days |"));
    CHECK(e2e::Contains(md, "cutoff: delete after 30 days"));
    CHECK(e2e::Contains(html, "<table id=\"summary\""));
    CHECK(e2e::Contains(html, "<svg class=\"ages\""));
    CHECK(e2e::Contains(html, "class=\"cutoff\""));
    CHECK(e2e::Contains(html, "M-7"));
  }
  SECTION("--as-of a year ahead: every dated row is past its schedule") {
    const std::string year_ahead = FormatUtc(NowUnixSeconds() + 366 * 86400, "%Y-%m-%dT%H:%M:%SZ");
    const Json later = Json::parse(f.Expect({"report", "--format", "json", "--as-of", year_ahead}).out);
    // Overdue comes before "not applied": the runs are stale by then too.
    // The hold covers the whole invoices category: held, not overdue, and
    // no run within two days of then: not applied.
    CHECK(later.at("summary").at("overdue") == 3);
    CHECK(LineOf(later, "Events | 14 days").at("overdue") == 6);
    const Json& invoices = LineOf(later, "Invoices | 90 days");
    CHECK(invoices.at("verdict") == "not applied");
    CHECK(invoices.at("held") == 7);
    CHECK(invoices.at("overdue") == 0);
  }
}

TEST_CASE("report on the demo after a hold and a purge: one line per policy quote", "[report][e2e]") {
  DemoFixture demo(2000);
  auto run = [&](std::vector<std::string> args) {
    RunResult r = demo.Retention(std::move(args));
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    return r;
  };
  run({"hold", "add", "--category", "support", "--matter", "LIT-9", "--reason", "litigation"});
  run({"purge"});
  run({"erase", "--subject", "account:3", "--request", "DSR-1"});
  const Json j = Json::parse(run({"report", "--format", "json"}).out);
  RequireNoNull(j, "report");
  // Nine categories, eight quotes: request logs and log files share one.
  CHECK(j.at("lines").size() == 8);
  const Json& logs = LineOf(j, "Server logs | 30-90 days");
  CHECK(logs.at("categories") == Json{"request_logs", "server_log_files"});
  CHECK(logs.at("schedules") == Json{"delete after 90 days, keep at least 30 days"});
  CHECK(logs.at("targets").size() >= 2);
  const Json& support = LineOf(j, "Support tickets + email | 24 months from last activity");
  CHECK(support.at("verdict") == "held");
  REQUIRE(support.at("holds").size() == 1);
  CHECK(support.at("holds")[0].at("matter") == "LIT-9");
  CHECK(support.at("holds")[0].at("records") == support.at("held"));
  CHECK(support.at("held").get<int64_t>() > 0);
  CHECK(j.at("summary").at("held") == 1);
  CHECK(j.at("summary").at("complies") == 7);
  // Deletions by the purge and the erasure alike.
  int64_t deleted = 0;
  for (const Json& line : j.at("lines")) deleted += line.at("deleted_in_period").get<int64_t>();
  CHECK(deleted == LedgerCount(demo.state_db, "delete"));
  CHECK(j.at("ledger").at("verified") == true);
  const Json& executed = j.at("erasure_requests").at("executed");
  REQUIRE(executed.size() == 1);
  CHECK(executed[0].at("reference") == "DSR-1");
  CHECK(executed[0].at("subject") == "account:3");
  CHECK(executed[0].at("erased").get<int64_t>() > 0);
  CHECK(executed[0].at("past_deadline") == false);
  CHECK(j.at("erasure_requests").at("pending").empty());
  CHECK(e2e::Contains(run({"report"}).out, "| LIT-9 |"));
  CHECK(e2e::Contains(run({"report", "--format", "html"}).out, "<span class=\"verdict held\">held</span>"));
}

TEST_CASE("report --out writes the file whole and names it, stdout stays empty", "[report][e2e]") {
  Fixture f;
  const fs::path out = f.dir / "report.html";
  RunResult r = f.Expect({"report", "--format", "html", "--out", out.string()});
  CHECK(r.out.empty());
  CHECK(e2e::Contains(r.err, out.string()));
  const std::string html = ReadFile(out);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(e2e::Contains(html, "</html>"));
}

TEST_CASE("report refuses bad options: nothing written, the option named", "[report][e2e]") {
  Fixture f;
  const auto rows = Rows(f.dir / "app.db");
  SECTION("--format bogus") {
    RunResult r = f.Expect({"report", "--format", "bogus"}, 64);
    CHECK(e2e::Contains(r.err, "--format"));
    CHECK(r.out.empty());
  }
  SECTION("--as-of garbage") {
    RunResult r = f.Expect({"report", "--as-of", "next tuesdayish"}, 64);
    CHECK(e2e::Contains(r.err, "--as-of"));
    CHECK(r.out.empty());
  }
  SECTION("--period garbage") { CHECK(e2e::Contains(f.Expect({"report", "--period", "soon"}, 64).err, "--period")); }
  SECTION("--verify-key without --against") { f.Expect({"report", "--verify-key", "k.pem"}, 64); }
  SECTION("--out in a directory that does not exist") {
    const fs::path out = f.dir / "missing" / "report.md";
    RunResult r = f.Expect({"report", "--out", out.string()}, 74);
    CHECK(e2e::Contains(r.err, out.string()));
    CHECK_FALSE(fs::exists(f.dir / "missing"));
  }
  SECTION("--out in a directory it may not write") {
    if (::geteuid() == 0) return;  // root writes anywhere
    fs::create_directory(f.dir / "ro");
    fs::permissions(f.dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    RunResult r = f.Expect({"report", "--out", (f.dir / "ro" / "report.md").string()}, 74);
    CHECK(fs::is_empty(f.dir / "ro"));
    fs::permissions(f.dir / "ro", fs::perms::owner_all);
  }
  CHECK(Rows(f.dir / "app.db") == rows);
}

TEST_CASE("report --against a checkpoint names it, and one the ledger does not match fails with 78", "[report][e2e]") {
  Fixture f;
  const fs::path checkpoint = f.dir / "checkpoint.json";
  f.Expect({"audit", "checkpoint", "--out", checkpoint.string()});
  const Json j = Json::parse(f.Expect({"report", "--format", "json", "--against", checkpoint.string()}).out);
  const Json& cp = j.at("ledger").at("checkpoint");
  CHECK(cp.at("file") == checkpoint.string());
  CHECK(cp.at("seq") == j.at("ledger").at("head_seq"));
  CHECK(cp.at("hash") == j.at("ledger").at("head_hash"));
  CHECK(cp.at("signed") == false);
  CHECK(cp.at("signature_checked") == false);
  CHECK(j.at("ledger").at("verified") == true);
  // The same head with another hash: the chain was rewritten since.
  std::string text = ReadFile(checkpoint);
  const std::string hash = j.at("ledger").at("head_hash");
  text.replace(text.find(hash), 1, hash[0] == '0' ? "1" : "0");
  WriteFile(checkpoint, text);
  RunResult r = f.Expect({"report", "--against", checkpoint.string()}, 78);
  CHECK(e2e::Contains(r.out, "**LEDGER VERIFICATION FAILED at entry"));
  CHECK(e2e::Contains(r.out, "Checked against checkpoint `" + checkpoint.string() + "`"));
}

TEST_CASE("report on a tampered ledger is written, says so at the top and exits 78", "[report][e2e]") {
  Fixture f;
  {
    Db state(f.state);
    state.Exec("DROP TRIGGER ledger_no_update");
    state.Exec("UPDATE ledger SET cutoff = cutoff || 'x' WHERE seq = 3");
  }
  RunResult md = f.Expect({"report"}, 78);
  CHECK(e2e::Contains(md.out, "**LEDGER VERIFICATION FAILED at entry 3"));
  CHECK(md.out.find("LEDGER VERIFICATION FAILED") < md.out.find("## Summary"));
  CHECK(e2e::Contains(md.err, "entry 3"));
  const Json j = Json::parse(f.Expect({"report", "--format", "json"}, 78).out);
  CHECK(j.at("ledger").at("verified") == false);
  CHECK(j.at("ledger").at("first_bad_seq") == 3);
  CHECK(f.Expect({"report", "--format", "html"}, 78).out.find("class=\"ledger bad\"") != std::string::npos);
}

}  // namespace
}  // namespace retention::e2e
