// End-to-end: `audit log` shows unix clocks as RFC 3339 UTC in its table,
// keeps the stored value in JSON and CSV, and decodes only what the rules
// of the entry's run say (issue 18, item 9; man/retention.8, audit log).
#include <regex>

#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

TEST_CASE("audit log prints unix_millis clocks as RFC 3339 in the table and raw in JSON and CSV",
          "[e2e][audit][clock]") {
  DemoFixture demo(2000);
  // The rules in a copy of their own, to change them below.
  const fs::path rules = demo.dir / "rules";
  const std::string config = ReadFile(demo.config);
  std::smatch shipped;
  REQUIRE(std::regex_search(config, shipped, std::regex(R"(\nrules = "([^"]+)\")")));
  fs::copy(shipped[1].str(), rules, fs::copy_options::recursive);
  demo.EditConfig(shipped[0].str(), "\nrules = \"" + rules.string() + "\"");
  RunResult purge = demo.Retention({"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);

  const std::vector<std::string> filter = {"audit", "log", "--kind", "delete", "--target", "audit_events"};
  const std::regex rfc3339(R"( clock=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z )");
  const std::regex raw_millis(R"( clock=\d{13} )");
  RunResult table = demo.Retention(filter);
  INFO(Describe(table));
  REQUIRE(table.exit_code == 0);
  REQUIRE(e2e::Contains(table.out, "app/audit_events/"));
  CHECK(std::regex_search(table.out, rfc3339));
  CHECK_FALSE(std::regex_search(table.out, raw_millis));

  // The same entry's stored value, in JSON: the digits as written.
  std::vector<std::string> json_args = filter;
  json_args.insert(json_args.end(), {"--format", "json"});
  RunResult json = demo.Retention(json_args);
  INFO(Describe(json));
  REQUIRE(json.exit_code == 0);
  CHECK(std::regex_search(json.out, std::regex(R"("clock":"\d{13}")")));
  std::vector<std::string> csv_args = filter;
  csv_args.insert(csv_args.end(), {"--format", "csv"});
  RunResult csv = demo.Retention(csv_args);
  REQUIRE(csv.exit_code == 0);
  CHECK(std::regex_search(csv.out, std::regex(R"(,\d{13},)")));

  // The first line's decoded clock is the stored millis', to the millisecond.
  std::smatch m;
  REQUIRE(std::regex_search(json.out, m, std::regex(R"re("clock":"(\d{13})")re")));
  const int64_t millis = std::stoll(m[1].str());
  char want[64];
  const std::string seconds = FormatUtc(millis / 1000, "%Y-%m-%dT%H:%M:%S");
  std::snprintf(want, sizeof want, " clock=%s.%03dZ ", seconds.c_str(), static_cast<int>(millis % 1000));
  CHECK(e2e::Contains(table.out, millis % 1000 ? want : " clock=" + seconds + "Z "));

  // Rules changed since the run: the run's encoding is no longer known for
  // sure, so the table shows the clock as stored.
  const fs::path file = rules / "audit_security.toml";
  WriteFile(file, ReadFile(file) + "\n# edited\n");
  RunResult after = demo.Retention(filter);
  INFO(Describe(after));
  REQUIRE(after.exit_code == 0);
  CHECK(std::regex_search(after.out, raw_millis));
  CHECK_FALSE(std::regex_search(after.out, rfc3339));
}

}  // namespace
}  // namespace retention::e2e
