// The progress meter on a terminal (issue 18): it follows the work from
// target to target and ends with its last state, 100% when all is done.
#include "util/progress.h"

#include <catch2/catch.hpp>

namespace retention {
namespace {

TEST_CASE("ProgressMeter on a terminal redraws at once when the target changes", "[progress]") {
  auto now = std::chrono::steady_clock::time_point{};
  ProgressMeter meter("purge", 1000, /*terminal=*/true, std::chrono::seconds(10), [&] { return now; });
  meter.Update(0, "a/first");
  CHECK(meter.last_line().find("a/first") != std::string::npos);
  now += std::chrono::milliseconds(50);
  meter.Update(100, "a/first");  // same target, within 200 ms: not redrawn
  CHECK(meter.last_line().find("  0/1000") != std::string::npos);
  now += std::chrono::milliseconds(50);
  meter.Update(150, "b/second");  // another target: redrawn at once
  CHECK(meter.last_line().find("b/second") != std::string::npos);
  CHECK(meter.last_line().find("150/1000") != std::string::npos);
}

TEST_CASE("ProgressMeter on a terminal ends at 100% when everything was done", "[progress]") {
  auto now = std::chrono::steady_clock::time_point{};
  ProgressMeter meter("purge", 1000, /*terminal=*/true, std::chrono::seconds(10), [&] { return now; });
  meter.Update(0, "a/first");
  now += std::chrono::seconds(1);
  meter.Update(970, "a/first");
  now += std::chrono::milliseconds(100);
  meter.Update(1000, "a/first");  // throttled: the last drawn state is 97%
  CHECK(meter.last_line().find(" 97%") != std::string::npos);
  meter.Finish(1000, "");
  CHECK(meter.last_line().find("[####################] 100%  1000/1000") != std::string::npos);
  CHECK(meter.last_line().find("done") != std::string::npos);
  CHECK(meter.last_line().find("ETA") == std::string::npos);
  meter.Update(1000, "b/late");  // after the end: nothing
  CHECK(meter.last_line().find("b/late") == std::string::npos);
}

TEST_CASE("ProgressMeter ending short of its total says why", "[progress]") {
  auto now = std::chrono::steady_clock::time_point{};
  ProgressMeter meter("purge", 1000, /*terminal=*/true, std::chrono::seconds(10), [&] { return now; });
  meter.Update(0, "a/first");
  meter.Finish(970, "stopped (time or signal): the next run continues");
  CHECK(meter.last_line().find(" 97%  970/1000") != std::string::npos);
  CHECK(meter.last_line().find("stopped (time or signal)") != std::string::npos);
}

TEST_CASE("ProgressMeter with no total shows a count, no percentage", "[progress]") {
  auto now = std::chrono::steady_clock::time_point{};
  ProgressMeter meter("export", 0, /*terminal=*/false, std::chrono::seconds(10), [&] { return now; });
  now += std::chrono::seconds(10);
  meter.Update(500, "");
  CHECK(meter.last_line() == "export progress: 500 done, 50/s");
}

}  // namespace
}  // namespace retention
