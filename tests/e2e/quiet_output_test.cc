// End-to-end: what `purge` prints (issue 18; man/retention.8, OUTPUT).
// `--quiet` is silent on a clean run and prints the report when something
// went wrong; the result is said once per channel.
#include <csignal>
#include <regex>

#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

TEST_CASE("purge --quiet prints nothing on a clean run, deleting or not", "[e2e][quiet]") {
  DemoFixture demo(2000);
  for (const char* flag : {"--quiet", "-q"}) {
    INFO(flag);
    RunResult purge = demo.Retention({"purge", flag});
    INFO(Describe(purge));
    REQUIRE(purge.exit_code == 0);
    CHECK(purge.out.empty());
    CHECK(purge.err.empty());
  }
  // It did delete (the first run), and recorded it.
  CHECK(LedgerCount(demo.state_db, "delete") > 0);
  // The global form before the command, as cron lines write it.
  RunResult global = Run({"-q", "--config", demo.config.string(), "purge"});
  INFO(Describe(global));
  CHECK(global.exit_code == 0);
  CHECK(global.out.empty());
}

TEST_CASE("purge prints one report: idle targets in one line, the result not repeated in a non-terminal log",
          "[e2e][quiet]") {
  DemoFixture demo(2000);
  RunResult first = demo.Retention({"purge"});
  INFO(Describe(first));
  REQUIRE(first.exit_code == 0);
  CHECK(Count(first.out, "Run 1 as of ") == 1);
  // The log (not a terminal here: the journal's case) carries the run's
  // end once and one line per category; no per-target lines (debug).
  CHECK(Count(first.err, "info: run 1 ok: ") == 1);
  CHECK(e2e::Contains(first.err, "info: category sessions: "));
  CHECK_FALSE(std::regex_search(first.err, std::regex(R"(: deleted \d+ in \d+ batches)")));

  RunResult idle = demo.Retention({"purge"});
  INFO(Describe(idle));
  REQUIRE(idle.exit_code == 0);
  // Nothing due: one line for the targets, not one "0 deleted" each.
  CHECK_FALSE(e2e::Contains(idle.out, ": 0 deleted"));
  CHECK(std::regex_search(idle.out, std::regex(R"(\n  \d+ targets: nothing deleted\n)")));
  CHECK(LineCount(idle.out) == 3);
  CHECK(std::regex_search(idle.err, std::regex(R"(info: \d+ categories: nothing (due|deleted))")));
  CHECK_FALSE(e2e::Contains(idle.err, "info: category "));
}

TEST_CASE("purge --quiet prints the report when the run had something to say", "[e2e][quiet]") {
  DemoFixture demo(2000);
  // A purge killed after its first delete: the next run reconciles it (a
  // warning) and so prints its report under --quiet.
  Spawned killed = Spawn({"--config", demo.config.string(), "purge", "--batch-size", "5"},
                         {"RETENTION_FAULT=after_delete:1"});
  const RunResult k = killed.Finish();
  REQUIRE(k.exit_code == 128 + SIGKILL);
  RunResult next = demo.Retention({"purge", "--quiet"});
  INFO(Describe(next));
  REQUIRE(next.exit_code == 0);
  CHECK(e2e::Contains(next.err, "warning: "));
  CHECK(e2e::Contains(next.out, "Run "));
  CHECK(e2e::Contains(next.out, "Reconciled "));
  CHECK(e2e::Contains(next.out, " records deleted. Ledger head "));
}

TEST_CASE("a failed purge under --quiet says why on stderr, prints its report and exits non-zero",
          "[e2e][quiet]") {
  DemoFixture demo(2000);
  REQUIRE(demo.Retention({"purge", "--quiet"}).exit_code == 0);
  // Refused before it starts (the state database is gone): no report, the
  // reason on stderr.
  fs::rename(demo.state_db, demo.dir / "state.db.away");
  RunResult refused = demo.Retention({"purge", "--quiet"});
  INFO(Describe(refused));
  CHECK(refused.exit_code != 0);
  CHECK(refused.out.empty());
  CHECK(e2e::Contains(refused.err, "state"));
  fs::rename(demo.dir / "state.db.away", demo.state_db);

  // Failed part way: the state database removed under a paused run. The
  // report says "failed" and the error is on stderr.
  TempDir scratch;
  const fs::path go = scratch / "go";
  DemoFixture fresh(2000);  // with due records: the run gets to its batches
  Spawned paused = Spawn({"--config", fresh.config.string(), "purge", "--quiet", "--batch-size", "5"},
                         {"RETENTION_PAUSE=before_batch:2:" + go.string()});
  fs::path reached = go;
  reached += ".reached";
  WaitForFile(reached);
  fs::rename(fresh.state_db, fresh.dir / "state.db.away");
  WriteFile(go, "");
  RunResult failed = paused.Finish();
  INFO(Describe(failed));
  CHECK(failed.exit_code != 0);
  CHECK(e2e::Contains(failed.err, "was removed or replaced during the run"));
  CHECK(e2e::Contains(failed.out, ": failed\n"));
}

}  // namespace
}  // namespace retention::e2e
