// End-to-end: the rules overlay (SPEC 3) on the demo, as an operator uses
// it. The demo's config is switched to `rules = [SHIPPED, "rules.d"]`; a
// local support.toml replaces the shipped one (kept 10 years instead of
// 24 months), a symlink to /dev/null masks usage_events.toml. Then
// `cat-rules` must show each file's origin, and `purge` must delete by the
// local rule, not by the shipped one it replaced or masked.
#include <regex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

using Json = nlohmann::json;

struct OverlayDemo : DemoFixture {
  fs::path shipped;
  fs::path local = root / "rules.d";

  OverlayDemo() : DemoFixture(1000) {
    const std::string text = ReadFile(config);
    std::smatch m;
    if (!std::regex_search(text, m, std::regex("(^|\n)rules = \"([^\"]+)\"\n")))
      throw std::runtime_error("the demo config has no rules line");
    shipped = m[2].str();
  }

  // The config names the shipped rules, then the local directory.
  void UseOverlay() {
    EditConfig("rules = \"" + shipped.string() + "\"",
               "rules = [\"" + shipped.string() + "\", \"rules.d\"]");
  }

  // support.toml kept ten years; usage_events.toml masked.
  void OverrideAndMask() {
    std::string support = ReadFile(shipped / "support.toml");
    const std::string from = "delete_after = \"24 months\"";
    REQUIRE(support.find(from) != std::string::npos);
    support.replace(support.find(from), from.size(), "delete_after = \"10 years\"");
    WriteFile(local / "support.toml", support);
    fs::create_symlink("/dev/null", local / "usage_events.toml");
  }

  std::string CatRulesHash() {
    RunResult r = Retention({"cat-rules", "--format", "json"});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    return Json::parse(r.out).at("rules_hash").get<std::string>();
  }
};

std::vector<std::string> HeaderLines(const std::string& out) {
  std::vector<std::string> headers;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("# /", 0) == 0 || line.rfind("# rules hash ", 0) == 0) headers.push_back(line);
  return headers;
}

TEST_CASE("e2e cat-rules prints the rules in effect, each with its origin", "[e2e][overlay]") {
  OverlayDemo demo;
  const std::string shipped_hash = demo.CatRulesHash();
  demo.UseOverlay();
  // No local directory yet: the shipped rules, the same hash.
  CHECK(demo.CatRulesHash() == shipped_hash);

  demo.OverrideAndMask();
  RunResult r = demo.Retention({"cat-rules"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  const std::string s = demo.shipped.string() + "/", l = demo.local.string() + "/";
  const std::vector<std::string> headers = HeaderLines(r.out);
  REQUIRE(headers.size() == 10);
  CHECK(headers[0] == "# " + s + "audit_security.toml");
  CHECK(headers[5] == "# " + s + "sessions.toml");
  CHECK(headers[6] == "# " + l + "support.toml (overrides " + s + "support.toml)");
  CHECK(headers[7] == "# " + s + "transactions.toml");
  CHECK(headers[8] == "# " + s + "usage_events.toml (masked by " + l + "usage_events.toml)");
  // The local file's content under its header, the masked one's nowhere.
  const size_t at = r.out.find(headers[6]);
  CHECK(r.out.find("delete_after = \"10 years\"", at) < r.out.find(headers[7]));
  CHECK(r.out.find("delete_after = \"24 months\"") == std::string::npos);
  CHECK(r.out.find("[usage_events]") == std::string::npos);
  CHECK(r.out.find("[sessions]") != std::string::npos);

  // The hash is of the rules in effect, and what `check` reports.
  const std::string hash = demo.CatRulesHash();
  CHECK(hash != shipped_hash);
  CHECK(headers[9].rfind("# rules hash " + hash + " ", 0) == 0);
  RunResult check = demo.Retention({"check", "--format", "json"});
  INFO(Describe(check));
  REQUIRE(check.exit_code == 0);
  const Json checked = Json::parse(check.out);
  CHECK(checked.at("rules_hash") == hash);
  CHECK(checked.at("rules_dirs") == Json::array({demo.shipped.string(), demo.local.string()}));

  RunResult json = demo.Retention({"cat-rules", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const Json doc = Json::parse(json.out);
  CHECK(doc.at("format") == "retention-rules/1");
  REQUIRE(doc.at("files").size() == 9);
  const Json& support = doc.at("files")[6];
  CHECK(support.at("path") == l + "support.toml");
  CHECK(support.at("overrides") == Json::array({s + "support.toml"}));
  CHECK(support.at("content") == ReadFile(demo.local / "support.toml"));
  const Json& usage = doc.at("files")[8];
  CHECK(usage.at("masked_by") == l + "usage_events.toml");
  CHECK_FALSE(usage.contains("path"));

  RunResult names = demo.Retention({"cat-rules", "--categories"});
  REQUIRE(names.exit_code == 0);
  CHECK(names.out.find("\nsupport\n") != std::string::npos);
  CHECK(names.out.find("usage_events") == std::string::npos);

  // A broken local symlink: refused naming it, for cat-rules and check.
  fs::create_symlink("/nowhere", demo.local / "sessions.toml");
  for (const char* command : {"cat-rules", "check"}) {
    RunResult broken = demo.Retention({command});
    INFO(Describe(broken));
    CHECK(broken.exit_code == 65);
    CHECK(broken.err.find((demo.local / "sessions.toml").string() + ": a broken symlink (to /nowhere)") !=
          std::string::npos);
  }
}

TEST_CASE("e2e purge deletes by the local rule that replaced the shipped one, and not by a masked one",
          "[e2e][overlay]") {
  OverlayDemo demo;
  // Under the shipped rules, support tickets and usage events are due.
  RunResult plan = demo.Retention({"plan", "--format", "json"});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);
  const Json planned = Json::parse(plan.out);
  std::map<std::string, int64_t> deletable;  // per category
  for (const auto& t : planned.at("targets"))
    deletable[t.at("category").get<std::string>()] += t.at("deletable").get<int64_t>();
  REQUIRE(deletable["support"] > 0);
  REQUIRE(deletable["usage_events"] > 0);
  REQUIRE(deletable["request_logs"] > 0);

  demo.UseOverlay();
  demo.OverrideAndMask();
  const std::string hash = demo.CatRulesHash();
  const auto before = RowCounts(demo.app_db);
  RunResult purge = demo.Retention({"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  const auto after = RowCounts(demo.app_db);
  CHECK(after.at("support_tickets") == before.at("support_tickets"));
  CHECK(after.at("support_emails") == before.at("support_emails"));
  CHECK(after.at("usage_events") == before.at("usage_events"));
  CHECK(after.at("request_logs") < before.at("request_logs"));
  const auto deleted = LedgerCounts(demo.state_db, "delete");
  for (const auto& [where, count] : deleted) {
    INFO(where);
    CHECK(where.find("support") == std::string::npos);
    CHECK(where.find("usage_events") == std::string::npos);
  }
  CHECK(deleted.at("app/request_logs") == before.at("request_logs") - after.at("request_logs"));
  // The run is recorded under the rules in effect.
  CHECK(Db(demo.state_db, true).Column("SELECT rules_hash FROM runs") == std::vector<std::string>{hash});
}

}  // namespace
}  // namespace retention::e2e
