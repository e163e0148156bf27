// Crash safety for the files store (issue 5, SPEC 6.2): a purge of rotated
// logs killed at each step of the batch protocol leaves an exact ledger
// after the next run reconciles.
#include <catch2/catch.hpp>

#include <sys/time.h>

#include <set>

#include "e2e/e2e_util.h"
#include "purge/ledger_outcomes.h"
#include "purge/purge_fixture.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;
using e2e::WriteFile;

constexpr int kFiles = 40;  // all older than 90 days; batches of 6

void SetMtime(const std::filesystem::path& p, time_t when) {
  struct timeval times[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimes(p.c_str(), times) == 0);
}

void MakeFixture(const TempDir& dir) {
  const time_t old = ::time(nullptr) - 200 * 86400;
  for (int i = 0; i < kFiles; ++i) {
    auto p = dir / "logs" / ("app.log-" + std::to_string(1000 + i) + ".gz");
    WriteFile(p, "line\n");
    SetMtime(p, old + i * 3600);
  }
  WriteFile(dir / "logs" / "app.log", "live\n");
  SetMtime(dir / "logs" / "app.log", old);  // old, but never matched by the rotated pattern
  WriteFile(dir / "rules" / "logs.toml", R"(
[logs]
keep_at_least = "30 days"
delete_after = "90 days"
[[logs.target]]
name = "rotated"
store = "logs"
paths = ["app.log-*"]
clock = { mtime = true }
)");
  WritePurgeTestConfig(dir, 6, "files");
}

std::set<std::string> Remaining(const TempDir& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir / "logs")) out.insert(e.path().filename().string());
  return out;
}

TEST_CASE("a files purge killed at any step leaves an exact ledger", "[files][crash][e2e]") {
  for (const char* point : {"after_intent", "after_delete", "after_sync", "after_settle"}) {
    for (int nth : {1, 3}) {
      DYNAMIC_SECTION(point << " #" << nth) {
        TempDir dir;
        MakeFixture(dir);
        ::setenv("RETENTION_FAULT", (std::string(point) + ":" + std::to_string(nth)).c_str(), 1);
        RunResult killed = RunWith(dir / "retention.toml", {"purge"});
        ::unsetenv("RETENTION_FAULT");
        INFO(Describe(killed));
        REQUIRE(killed.exit_code == 128 + SIGKILL);
        // Every file gone has its intent, an open or settled batch entry.
        {
          const std::set<std::string> left = Remaining(dir);
          const LedgerOutcomes crashed = ReadLedgerOutcomes(dir / "state.db");
          REQUIRE_FALSE(crashed.open.empty());
          CHECK(crashed.open.size() <= 2);
          for (int i = 0; i < kFiles; ++i) {
            const std::string name = "app.log-" + std::to_string(1000 + i) + ".gz";
            if (!left.count(name)) CHECK(crashed.candidates.count(name) == 1);
          }
        }

        RunResult next = RunWith(dir / "retention.toml", {"purge"});
        INFO(Describe(next));
        REQUIRE(next.exit_code == 0);
        REQUIRE(Remaining(dir) == std::set<std::string>{"app.log"});

        const LedgerOutcomes after = ReadLedgerOutcomes(dir / "state.db");
        CHECK(after.open.empty());
        const std::vector<std::string> keys(after.deleted.begin(), after.deleted.end());
        REQUIRE(keys.size() == static_cast<size_t>(kFiles));
        REQUIRE(std::set<std::string>(keys.begin(), keys.end()).size() == static_cast<size_t>(kFiles));
        for (const auto& k : keys) CHECK(k.rfind("app.log-", 0) == 0);
        REQUIRE(RunWith(dir / "retention.toml", {"audit", "verify"}).exit_code == 0);
      }
    }
  }
}

}  // namespace
}  // namespace retention
