// End-to-end: `audit log` shows unix clocks in its table as stored and as a
// time in the config's zone (issue 17, item 5), keeps the stored value
// alone in JSON and CSV, and decodes only what the rules of the entry's run
// say (issue 18, item 9; man/retention.8, audit log).
#include <regex>

#include <catch2/catch.hpp>
#include <date/tz.h>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

// `unix_seconds` on the wall clock of `zone`, by the tz library itself.
std::string FormatInZone(int64_t unix_seconds, const char* zone, const char* fmt) {
  const date::zoned_seconds z(zone, date::sys_seconds{std::chrono::seconds{unix_seconds}});
  return date::format(fmt, z.get_local_time());
}

TEST_CASE("audit log prints unix_millis clocks as stored and in the config's zone in the table, raw in JSON and CSV",
          "[e2e][audit][clock]") {
  DemoFixture demo(2000);
  demo.EditConfig("time_zone = \"UTC\"", "time_zone = \"Europe/Berlin\"");
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
  const std::regex decoded(R"( clock=\d{13} \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})? Europe/Berlin\) )");
  const std::regex raw_millis(R"( clock=\d{13} cutoff=)");  // stored alone
  RunResult table = demo.Retention(filter);
  INFO(Describe(table));
  REQUIRE(table.exit_code == 0);
  REQUIRE(e2e::Contains(table.out, "app/audit_events/"));
  CHECK(std::regex_search(table.out, decoded));
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

  // The first line's decoded clock is the stored millis', to the
  // millisecond, on Berlin's wall clock (UTC+1 in winter, +2 in summer).
  std::smatch m;
  REQUIRE(std::regex_search(json.out, m, std::regex(R"re("clock":"(\d{13})")re")));
  const int64_t millis = std::stoll(m[1].str());
  const std::string local = FormatInZone(millis / 1000, "Europe/Berlin", "%Y-%m-%d %H:%M:%S");
  char frac[8] = "";
  if (millis % 1000) std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(millis % 1000));
  CHECK(e2e::Contains(table.out, " clock=" + m[1].str() + " (" + local + frac + " Europe/Berlin) "));

  // Rules changed since the run: the run's encoding is no longer known for
  // sure, so the table shows the clock as stored.
  const fs::path file = rules / "audit_security.toml";
  WriteFile(file, ReadFile(file) + "\n# edited\n");
  RunResult after = demo.Retention(filter);
  INFO(Describe(after));
  REQUIRE(after.exit_code == 0);
  CHECK(std::regex_search(after.out, raw_millis));
  CHECK_FALSE(std::regex_search(after.out, decoded));
}

}  // namespace
}  // namespace retention::e2e
