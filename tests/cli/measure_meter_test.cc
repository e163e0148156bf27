// The progress bar of plan and status (issue 18), on a terminal seen
// through stderr: one step per target, named CATEGORY/TARGET, cleared at
// the end; nothing off a terminal or at --quiet's level.
#include "cli/measure_meter.h"

#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

#include "support/scoped_logger.h"
#include "support/stderr_capture.h"

namespace retention {
namespace {

struct TwoTargets {
  Category category;
  Target first, second;
  Selection a, b;
  TwoTargets() {
    category.name = "sessions";
    first.name = "app_sessions";
    second.name = "web_sessions";
    a.category = b.category = &category;
    a.target = &first;
    b.target = &second;
  }
};

TEST_CASE("MeasureMeter on a terminal draws a step per target and clears the line", "[progress]") {
  TwoTargets t;
  test::StderrCapture err;
  {
    test::ScopedLogger logger(LogTarget::kTerminal);
    MeasureMeter meter("plan");
    const MeasureProgress progress = meter.Progress();
    progress(0, 2, t.a);
    progress(1, 2, t.b);  // another target: drawn at once
    meter.Clear();
    meter.Clear();  // once is enough: nothing more
  }
  const std::string screen = err.Text();
  INFO(screen);
  const size_t first = screen.find("plan [....................]   0%  0/2");
  const size_t second = screen.find("plan [##########..........]  50%  1/2");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  CHECK(screen.find("sessions/app_sessions", first) < second);
  CHECK(screen.find("sessions/web_sessions", second) != std::string::npos);
  // Ends cleared: the output that follows starts on a clean line.
  CHECK(screen.size() >= 4);
  CHECK(screen.substr(screen.size() - 4) == "\r\x1b[K");
}

TEST_CASE("MeasureMeter draws nothing off a terminal or with --quiet", "[progress]") {
  TwoTargets t;
  for (const bool quiet : {false, true}) {
    INFO(quiet);
    test::StderrCapture err;
    {
      test::ScopedLogger logger(quiet ? LogTarget::kTerminal : LogTarget::kPlain);
      if (quiet) spdlog::set_level(spdlog::level::warn);
      MeasureMeter meter("status");
      meter.Progress()(0, 2, t.a);
      meter.Clear();
    }
    CHECK(err.Text().empty());
  }
}

}  // namespace
}  // namespace retention
