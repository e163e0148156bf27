// End-to-end: the `audit log` table tells holds and runs in words, their
// times on the config's wall clock (issue 17, item 5), while JSON and CSV
// keep each entry's detail exactly as stored.
#include <regex>

#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"
#include "util/identity.h"

namespace retention::e2e {
namespace {

TEST_CASE("audit log tells holds and runs in words in the table and keeps their JSON in json and csv",
          "[e2e][audit][words]") {
  DemoFixture demo(1000);
  demo.EditConfig("time_zone = \"UTC\"", "time_zone = \"Europe/Berlin\"");
  RunResult hold = demo.Retention({"hold", "add", "--matter", "M-1", "--reason", "litigation", "--by", "alice",
                                   "--category", "support", "--expires", "2027-01-01 00:00:00"});
  INFO(Describe(hold));
  REQUIRE(hold.exit_code == 0);
  RunResult purge = demo.Retention({"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  RunResult release = demo.Retention({"hold", "release", "1", "--by", "bob", "--reason", "settled"});
  INFO(Describe(release));
  REQUIRE(release.exit_code == 0);

  RunResult table = demo.Retention({"audit", "log", "--kind", "hold_placed,hold_released,run_start,run_end"});
  INFO(Describe(table));
  REQUIRE(table.exit_code == 0);
  // 2027-01-01 00:00 in Berlin is what --expires said (the config's zone).
  // Each hold entry names the host it was placed or released on: this
  // machine's name, the state being a file of its own.
  CHECK(Contains(table.out, "hold 1 placed by alice on " + HostName() +
                                ": matter M-1, scope category=support, expires 2027-01-01 00:00:00 "
                                "Europe/Berlin, reason: litigation\n"));
  CHECK(std::regex_search(table.out, std::regex(R"(hold 1 \(matter M-1\) released by bob on [^ ]+ at )"
                                                R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? Europe/Berlin: settled\n)")));
  CHECK(std::regex_search(table.out, std::regex(R"(run 1 started as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? )"
                                                R"(Europe/Berlin by [^@ ]+@[^ ,]+, command: purge[^,]*, retention [^,]+, )"
                                                R"(rules [0-9a-f]{12}\n)")));
  CHECK(std::regex_search(table.out, std::regex(R"(run 1 ended ok, exit 0, \d+ deleted\n)")));
  // No raw JSON left in those lines.
  CHECK_FALSE(Contains(table.out, "{\""));

  // JSON and CSV: the detail as stored, not the words.
  RunResult json = demo.Retention({"audit", "log", "--kind", "hold_placed", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  CHECK(Contains(json.out, R"("detail_text":"{\"author\":\"alice\")"));
  CHECK_FALSE(Contains(json.out, "placed by alice"));
  RunResult csv = demo.Retention({"audit", "log", "--kind", "run_start", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(Contains(csv.out, "\"{\"\"as_of\"\":"));
  CHECK_FALSE(Contains(csv.out, "started as of"));
}

}  // namespace
}  // namespace retention::e2e
