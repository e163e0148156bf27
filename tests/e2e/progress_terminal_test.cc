// Progress of plan and status on a terminal (issue 18): a bar on stderr
// while the targets are measured, cleared before the output; none when
// stderr is not a terminal or with --quiet; stdout (JSON) unchanged.
// The terminal is a pseudo-terminal from script(1) (util-linux).
#include <regex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

// Runs `retention ARGS` with stderr (and stdout unless `shell_tail`
// redirects it) on a pseudo-terminal; returns what the terminal showed.
// The command must succeed.
RunResult OnTerminal(const fs::path& config, const std::string& args, const std::string& shell_tail = "") {
  const std::string command =
      "TERM=xterm " + std::string(kBinary) + " --config '" + config.string() + "' " + args + shell_tail;
  RunResult r = RunProgram({"/usr/bin/script", "-qec", command, "/dev/null"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  return r;
}

// The bar's text as drawn, and whether the last one was cleared before
// what follows it.
bool BarDrawnThenCleared(const std::string& screen, const std::string& label) {
  const size_t bar = screen.rfind(label + " [");
  return bar != std::string::npos && screen.find("\r\x1b[K", bar) != std::string::npos;
}

TEST_CASE("plan and status on a terminal show a progress bar on stderr, cleared before their output",
          "[e2e][progress]") {
  DemoFixture demo(2000);
  const RunResult piped_plan = demo.Retention({"plan"});
  REQUIRE(piped_plan.exit_code == 0);
  CHECK_FALSE(Contains(piped_plan.err, "plan ["));  // not a terminal: no bar
  CHECK_FALSE(Contains(piped_plan.err, "\x1b"));

  SECTION("plan") {
    const RunResult shown = OnTerminal(demo.config, "plan");
    INFO(Describe(shown));
    CHECK(BarDrawnThenCleared(shown.out, "plan"));
    // One step per target, named CATEGORY/TARGET.
    CHECK(std::regex_search(shown.out, std::regex(R"(plan \[[#.]{20}\] +\d+%  \d+/\d+ .* [a-z_]+/[a-z_]+)")));
    // The table comes after the bar was cleared: its header as when piped.
    const size_t header = piped_plan.out.find("CATEGORY ");
    REQUIRE(header != std::string::npos);
    const std::string table = piped_plan.out.substr(header, piped_plan.out.find('\n', header) - header);
    const size_t cleared = shown.out.rfind("\r\x1b[K");
    CHECK(shown.out.find(table, cleared) != std::string::npos);
  }
  SECTION("status") {
    const RunResult piped = demo.Retention({"status"});
    REQUIRE(piped.exit_code == 0);
    CHECK_FALSE(Contains(piped.err, "status ["));
    const RunResult shown = OnTerminal(demo.config, "status");
    INFO(Describe(shown));
    CHECK(BarDrawnThenCleared(shown.out, "status"));
  }
  SECTION("--quiet: no bar") {
    const RunResult shown = OnTerminal(demo.config, "plan --quiet");
    INFO(Describe(shown));
    CHECK_FALSE(Contains(shown.out, "plan ["));
  }
  SECTION("JSON on stdout is unchanged with the bar on the terminal") {
    const RunResult piped = demo.Retention({"plan", "--format", "json", "--as-of", "2026-01-01"});
    REQUIRE(piped.exit_code == 0);
    const fs::path json = demo.dir / "plan.json";
    const RunResult shown = OnTerminal(demo.config, "plan --format json --as-of 2026-01-01", " > '" + json.string() + "'");
    INFO(Describe(shown));
    CHECK(BarDrawnThenCleared(shown.out, "plan"));
    // The same plan but for when it was made.
    auto a = nlohmann::json::parse(piped.out), b = nlohmann::json::parse(ReadFile(json));
    a.erase("made_at");
    b.erase("made_at");
    CHECK(a == b);
  }
}

}  // namespace
}  // namespace retention::e2e
