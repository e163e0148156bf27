// Crash safety (SPEC 6.2) and one run at a time (SPEC 6.5), on the built
// binary: a purge killed with SIGKILL at each step of the batch protocol
// (through the test-only fault point RETENTION_FAULT, not a sleep) leaves a
// state that the next run reconciles into an exact ledger.
#include <catch2/catch.hpp>

#include <set>

#include "e2e/e2e_util.h"
#include "purge/ledger_outcomes.h"
#include "purge/purge_fixture.h"
#include "state/run_lock.h"
#include "state/state_open.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;
using e2e::WriteFile;

constexpr int kRows = kDueEventRows;  // batches of 7 -> 9 batches

void MakeFixture(const TempDir& dir) { WriteDueEventsFixture(dir); }

std::set<std::string> Remaining(const TempDir& dir) {
  Db db(dir / "app.db", true);
  auto ids = db.Column("SELECT id FROM events");
  return {ids.begin(), ids.end()};
}

std::multiset<std::string> LedgerDeletes(const TempDir& dir) { return ReadLedgerOutcomes(dir / "state.db").deleted; }

// after_intent:N with N >= 2 fires on the pipeline's thread while batch
// N-1 is deleting or just deleted: a kill with two batches in flight.
TEST_CASE("a purge killed at any step of the batch protocol leaves an exact ledger", "[purge][crash][e2e]") {
  for (const char* point : {"after_intent", "after_delete", "after_sync", "after_settle"}) {
    for (int nth : {1, 2, 5}) {
      DYNAMIC_SECTION(point << " #" << nth) {
        TempDir dir;
        MakeFixture(dir);
        RunResult killed = PurgeWithFault(dir, std::string(point) + ":" + std::to_string(nth));
        INFO(Describe(killed));
        if (killed.exit_code == 0 && std::string(point) == "after_settle") {
          // after_settle fires once per intent that carries settlements, and
          // how many do depends on the pipeline's timing: under load several
          // settlements ride in one intent, or wait for the run's last entry.
          // A run that was not killed must then have had fewer than nth such
          // intents; the earlier nth of this point are the ones that kill.
          Db state(dir / "state.db", true);
          const auto carrying =
              state.Column("SELECT count(*) FROM ledger WHERE kind = 'batch' AND detail LIKE '%\"settles\"%'");
          REQUIRE(carrying.size() == 1);
          CHECK(std::stoi(carrying[0]) < nth);
          WARN("after_settle #" << nth << " not reached: " << carrying[0] << " intents carried settlements");
          return;
        }
        REQUIRE(killed.exit_code == 128 + SIGKILL);

        // Right after the crash: whatever is gone must be accounted for by
        // the ledger or by a pending batch that the next run settles.
        const std::set<std::string> after_crash = Remaining(dir);
        REQUIRE(after_crash.size() < static_cast<size_t>(kRows) + 1);
        if (std::string(point) != "after_intent")
          REQUIRE(after_crash.size() <= static_cast<size_t>(kRows - 7 * (nth - 1) - 7));
        // Nothing gone without its intent: every missing row is a candidate
        // of a batch entry, settled or open.
        const LedgerOutcomes crashed = ReadLedgerOutcomes(dir / "state.db");
        REQUIRE_FALSE(crashed.open.empty());
        CHECK(crashed.open.size() <= 2);  // at most two batches in flight
        for (int i = 1; i <= kRows; ++i)
          if (!after_crash.count(std::to_string(i))) CHECK(crashed.candidates.count(std::to_string(i)) == 1);

        RunResult next = RunWith(dir / "retention.toml", {"purge"});
        INFO(Describe(next));
        REQUIRE(next.exit_code == 0);
        // Every open batch was reconciled, each by one entry.
        const LedgerOutcomes after = ReadLedgerOutcomes(dir / "state.db");
        CHECK(after.open.empty());
        CHECK(after.reconciled_settlements == static_cast<int64_t>(crashed.open.size()));

        // Every row is gone, and each has exactly one delete entry.
        REQUIRE(Remaining(dir).empty());
        const auto entries = LedgerDeletes(dir);
        REQUIRE(entries.size() == static_cast<size_t>(kRows));
        REQUIRE(std::set<std::string>(entries.begin(), entries.end()).size() == static_cast<size_t>(kRows));

        Db state(dir / "state.db", true);
        CHECK(state.Int("SELECT count(*) FROM runs WHERE outcome = 'crashed'") == 1);
        RunResult verify = RunWith(dir / "retention.toml", {"audit", "verify"});
        INFO(Describe(verify));
        REQUIRE(verify.exit_code == 0);
      }
    }
  }
}

TEST_CASE("rows deleted by a crashed batch are reconciled as deleted, rows kept are not", "[purge][crash][e2e]") {
  TempDir dir;
  MakeFixture(dir);
  // Killed after the first target transaction committed, before its ledger
  // entries: 7 rows gone without entries.
  RunResult killed = PurgeWithFault(dir, "after_delete:1");
  REQUIRE(killed.exit_code == 128 + SIGKILL);
  REQUIRE(Remaining(dir).size() == static_cast<size_t>(kRows - 7));
  REQUIRE(LedgerDeletes(dir).empty());
  // Batch 1, and maybe batch 2 whose intent the pipeline committed ahead.
  const size_t open = ReadLedgerOutcomes(dir / "state.db").open.size();
  REQUIRE(open >= 1);
  REQUIRE(open <= 2);
  // Hold everything that is left: the next run must only settle the crash.
  RunResult hold = RunWith(dir / "retention.toml",
                           {"hold", "add", "--freeze-all", "--matter", "M-1", "--reason", "audit", "--by", "test"});
  INFO(Describe(hold));
  REQUIRE(hold.exit_code == 0);
  RunResult next = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(next));
  REQUIRE(next.exit_code == 0);
  REQUIRE(Remaining(dir).size() == static_cast<size_t>(kRows - 7));
  const auto entries = LedgerDeletes(dir);
  REQUIRE(entries.size() == 7);
  Db state(dir / "state.db", true);
  REQUIRE(state.Int("SELECT count(*) FROM pending") == 0);
  REQUIRE(state.Int("SELECT count(*) FROM ledger WHERE kind = 'reconciled'") == static_cast<int64_t>(open));
  CHECK(ReadLedgerOutcomes(dir / "state.db").open.empty());
  // The reconciled entries name exactly the rows that are gone.
  for (const auto& key : entries) CHECK(Remaining(dir).count(key) == 0);
}

TEST_CASE("a second purge while one holds the lock exits 75 - a killed run's lock is released", "[purge][lock][e2e]") {
  TempDir dir;
  MakeFixture(dir);
  {
    // This test process plays the first run: it holds the run lock.
    auto lock = RunLock::TryAcquire(LockPathsFor(dir / "state.db").run_lock);
    REQUIRE(lock.ok());
    RunResult second = RunWith(dir / "retention.toml", {"purge"});
    INFO(Describe(second));
    REQUIRE(second.exit_code == 75);
    REQUIRE(second.err.find("another run") != std::string::npos);
    REQUIRE(Remaining(dir).size() == static_cast<size_t>(kRows));
  }
  // A run killed while holding the lock: the kernel releases it.
  RunResult killed = PurgeWithFault(dir, "after_intent:1");
  REQUIRE(killed.exit_code == 128 + SIGKILL);
  RunResult next = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(next));
  REQUIRE(next.exit_code == 0);
  REQUIRE(Remaining(dir).empty());
}

TEST_CASE("purge refuses to extend a ledger whose recent entries were altered", "[purge][ledger][e2e]") {
  TempDir dir;
  MakeFixture(dir);
  RunResult first = RunWith(dir / "retention.toml", {"purge", "--batch-size", "100"});
  REQUIRE(first.exit_code == 0);
  {
    Db db(dir / "app.db");
    db.Exec("INSERT INTO events VALUES (1000, '2020-01-01 00:00:00', 1)");
  }
  {
    // An attacker rewrites which record an entry says was deleted.
    Db state(dir / "state.db");
    state.Exec("DROP TRIGGER IF EXISTS ledger_no_update;"
               "UPDATE ledger SET record_key = '999' WHERE seq = (SELECT min(seq) FROM ledger WHERE kind = 'batch')");
  }
  RunResult second = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(second));
  CHECK(second.exit_code == 78);
  CHECK(second.err.find("refusing to purge") != std::string::npos);
  CHECK(Remaining(dir).count("1000") == 1);
}

}  // namespace
}  // namespace retention
