// End-to-end (issue 18, items 7-9): one grammar for every duration and
// moment option, `hold add --key` needs `--target`, `hold add --dry-run`
// counts records once, and `hold list` lines its columns up.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

using Json = nlohmann::json;

struct Demo : DemoFixture {
  Demo() : DemoFixture(1000) {}
};

TEST_CASE("e2e grammar: status --max-age takes the durations --max-runtime takes", "[e2e][grammar]") {
  Demo demo;
  for (const char* age : {"1h", "90m", "36h", "1d", "2 weeks", "1 year", "2 days"}) {
    auto r = demo.Retention({"status", "--max-age", age, "--format", "json"});
    INFO(age << ": " << Describe(r));
    CHECK(r.exit_code == 0);
  }
  // Refusals name the option and the accepted forms (64).
  for (const char* age : {"soon", "1M", "90", "-1h", "1.5h"}) {
    auto r = demo.Retention({"status", "--max-age", age});
    INFO(age << ": " << Describe(r));
    CHECK(r.exit_code == 64);
    CHECK(Contains(r.err, "--max-age"));
  }
  CHECK(Contains(demo.Retention({"status", "--max-age", "soon"}).err, "30m"));
  // --max-runtime reads the same words as before and as rule files do.
  for (const char* runtime : {"30m", "2 hours", "1 day"}) {
    auto r = demo.Retention({"purge", "--max-runtime", runtime, "--category", "sessions", "--format", "json"});
    INFO(runtime << ": " << Describe(r));
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("e2e grammar: every moment option takes yesterday, today and -7d", "[e2e][grammar]") {
  Demo demo;
  // A plan 400 days back has less due than one now.
  auto now_plan = demo.Retention({"plan", "--format", "json"});
  auto past_plan = demo.Retention({"plan", "--as-of", "-400d", "--format", "json"});
  INFO(Describe(past_plan));
  REQUIRE(now_plan.exit_code == 0);
  REQUIRE(past_plan.exit_code == 0);
  CHECK(past_plan.out != now_plan.out);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"plan", "--as-of", "yesterday"}, {"plan", "--as-of", "today"},
        {"plan", "--as-of", "+1 month"}, {"plan", "--as-of", "2026-11-22"},
        {"plan", "--as-of", "2026-11-22T03:00:00+01:00"}, {"audit", "log", "--since", "-7d"},
        {"audit", "log", "--since", "yesterday", "--until", "now"},
        {"purge", "--as-of", "-1 week", "--category", "sessions"}}) {
    auto r = demo.Retention(args);
    INFO(args[0] << " " << args[2] << ": " << Describe(r));
    CHECK(r.exit_code == 0);
  }
  // A hold that expires in 30 days.
  const int64_t before = NowUnixSeconds();
  auto placed = demo.Retention({"hold", "add", "--matter", "M-9", "--reason", "r", "--subject", "customer:3",
                                "--from", "-2y", "--expires", "+30d", "--format", "json"});
  INFO(Describe(placed));
  REQUIRE(placed.exit_code == 0);
  const std::string expires = Json::parse(placed.out).at("expires_at");
  CHECK(expires >= FormatUtc(before + 30 * 86400 - 5, "%Y-%m-%dT%H:%M:%SZ"));
  CHECK(expires <= FormatUtc(NowUnixSeconds() + 30 * 86400 + 5, "%Y-%m-%dT%H:%M:%SZ"));
  // Refused: 64, naming the option and the forms.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"plan", "--as-of", "next tuesday"}, {"audit", "log", "--since", "7d"},
        {"hold", "add", "--matter", "M", "--reason", "r", "--subject", "customer:3", "--expires", "+1M"}}) {
    auto r = demo.Retention(args);
    INFO(Describe(r));
    CHECK(r.exit_code == 64);
    CHECK(Contains(r.err, args[args.size() - 2]));
    CHECK(Contains(r.err, "yesterday"));
  }
}

TEST_CASE("e2e hold add: --key without --target is refused and places nothing", "[e2e][holds]") {
  Demo demo;
  auto r = demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "r", "--key", "5"});
  INFO(Describe(r));
  CHECK(r.exit_code == 64);
  CHECK(Contains(r.err, "--key needs --target"));
  auto dry = demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "r", "--key", "5", "--dry-run"});
  CHECK(dry.exit_code == 64);
  auto listed = demo.Retention({"hold", "list", "--all", "--format", "json"});
  REQUIRE(listed.exit_code == 0);
  CHECK(Json::parse(listed.out).at("holds").empty());
  CHECK(LedgerCount(demo.state_db, "hold_placed") == 0);
  // With a target it is one record.
  auto one = demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "r", "--target", "usage_events", "--key",
                             "5", "--dry-run", "--format", "json"});
  INFO(Describe(one));
  REQUIRE(one.exit_code == 0);
  CHECK(Json::parse(one.out).at("records") == 1);
}

TEST_CASE("e2e hold add --dry-run: a row two categories reach is one record", "[e2e][holds]") {
  Demo demo;
  const std::string sale = Db(demo.app_db, true).Column("SELECT id FROM sales ORDER BY id LIMIT 1").at(0);
  // sales is a target of closed_accounts and of transactions.
  auto r = demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "r", "--target", "sales", "--key", sale,
                           "--dry-run", "--format", "json"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  const Json j = Json::parse(r.out);
  CHECK(j.at("records") == 1);
  REQUIRE(j.at("targets").size() == 1);
  CHECK(j.at("targets")[0].at("records") == 1);
  CHECK(j.at("targets")[0].at("also").size() == 1);
  auto table = demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "r", "--target", "sales", "--key", sale,
                               "--dry-run"});
  CHECK(Contains(table.out, "would cover 1 records"));
  CHECK(Contains(table.out, "(the same records as transactions/sales): 1"));
}

TEST_CASE("e2e hold list: columns line up with long texts, EXPIRES and the whole REASON", "[e2e][holds]") {
  Demo demo;
  const std::string reason = "preserve everything about this customer pending the outcome of " + std::string(80, 'x');
  REQUIRE(demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "short", "--by", "al", "--subject",
                          "customer:1"}).exit_code == 0);
  REQUIRE(demo.Retention({"hold", "add", "--matter", "Litigation 2026-114 (Example v. Example Holdings)", "--reason",
                          reason, "--by", "someone.with.a.long.name@example.com", "--category", "transactions",
                          "--expires", "2099-01-01"}).exit_code == 0);
  auto r = demo.Retention({"hold", "list"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == 3);
  for (const char* column : {"STATE", "PLACED", "EXPIRES", "BY", "MATTER", "SCOPE", "REASON"}) {
    const size_t at = lines[0].find(column);
    REQUIRE(at != std::string::npos);
    for (size_t i = 1; i < lines.size(); ++i) {
      INFO(column << " in\n" << r.out);
      REQUIRE(lines[i].size() > at);
      CHECK(lines[i].substr(at - 2, 2) == "  ");
      CHECK(lines[i][at] != ' ');
    }
  }
  CHECK(Contains(lines[1], "never"));
  CHECK(Contains(lines[2], "2099-01-01T00:00:00Z"));
  CHECK(Contains(lines[2], reason));  // not a terminal: whole
  auto json = demo.Retention({"hold", "list", "--format", "json"});
  CHECK(Json::parse(json.out).at("holds")[1].at("reason") == reason);
}

}  // namespace
}  // namespace retention::e2e
