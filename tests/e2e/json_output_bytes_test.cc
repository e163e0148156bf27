// `--format json` never aborts on bytes that are not UTF-8 (issue 12 item
// 5: every dump goes through DumpJson). A file name, a rules file's name or
// a run's command line may be any bytes; nlohmann's dump() throws on them
// and the command used to die with SIGABRT (exit 134).
#include <catch2/catch.hpp>

#include <sys/time.h>

#include "e2e/e2e_util.h"

namespace retention {
namespace {

using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;
using e2e::WriteFile;
namespace fs = std::filesystem;

const char* kLogsRule = R"(
[logs]
delete_after = "90 days"
[[logs.target]]
name = "rotated"
store = "logs"
paths = ["*.log"]
clock = { mtime = true }
)";

void MakeOld(const fs::path& p) {
  WriteFile(p, "x\n");
  const time_t when = ::time(nullptr) - 200 * 86400;
  struct timeval times[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimes(p.c_str(), times) == 0);
}

// A files store over dir/logs, its rules in dir/rules/RULES_FILE.
fs::path MakeConfig(const TempDir& dir, const std::string& rules_file = "logs.toml") {
  WriteFile(dir / "rules" / rules_file, kLogsRule);
  WriteFile(dir / "retention.toml",
            "rules = \"rules\"\nstate = \"state.db\"\n[limits]\nmax_delete_fraction = 1.0\n"
            "[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n");
  e2e::InitState(dir / "retention.toml");
  return dir / "retention.toml";
}

TEST_CASE("explain --format json over a file name that is not UTF-8 does not abort", "[e2e][json]") {
  TempDir dir;
  const fs::path config = MakeConfig(dir);
  MakeOld(dir / "logs" / "bad\xff.log");
  RunResult r = RunWith(config, {"explain", "logs/rotated/bad\xff.log", "--format", "json"});
  INFO(Describe(r));
  CHECK(r.exit_code == 0);
  CHECK(e2e::Contains(r.out, "\"deletable\": true"));
}

TEST_CASE("check --format json with a rules file whose name is not UTF-8 does not abort", "[e2e][json]") {
  TempDir dir;
  const fs::path config = MakeConfig(dir, "logs\xff.toml");
  MakeOld(dir / "logs" / "a.log");
  RunResult r = RunWith(config, {"check", "--format", "json"});
  INFO(Describe(r));
  CHECK(r.exit_code == 0);
  CHECK(e2e::Contains(r.out, "\"rotated\""));
}

TEST_CASE("status --format json after a run whose command line is not UTF-8 does not abort", "[e2e][json]") {
  TempDir dir;
  const fs::path config = MakeConfig(dir);
  MakeOld(dir / "logs" / "a.log");
  // The run records its command line; a config path with a byte that is not
  // UTF-8 is a valid path.
  const fs::path odd = dir / "retention\xff.toml";
  fs::copy_file(config, odd);
  RunResult purge = RunWith(odd, {"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  RunResult r = RunWith(config, {"status", "--format", "json"});
  INFO(Describe(r));
  CHECK(r.exit_code == 0);
  CHECK(e2e::Contains(r.out, "\"compliant\": true"));
}

}  // namespace
}  // namespace retention
