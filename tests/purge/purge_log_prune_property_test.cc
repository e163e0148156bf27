// Property test of the purge log's own retention: over hundreds of random
// ledgers (clocks that sometimes step back, subjects), schedules, floors,
// holds, batch sizes and stops part way, pruning removes exactly the
// longest prefix an independent oracle finds due, past the floor and
// unheld -- so no held entry is ever pruned -- behind anchors that follow
// on from each other, and the ledger verifies after every step.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "calendar/cutoff.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "holds/hold_set.h"
#include "ledger/anchor.h"
#include "ledger/ledger.h"
#include "purge/purge_log_prune.h"
#include "stores/purge_log_store.h"
#include "state/sqlite_state_db.h"
#include "state/state_open.h"
#include "state/test_util.h"

namespace retention {
namespace {

using testing::TempDir;
using std::chrono::hours;

const char* kSubjects[] = {"", "", "customer:1", "customer:2", "customer:3", "account:1", "account:2"};

struct Present {
  int64_t seq;
  Timestamp at;
  std::string subject;
};

std::vector<Present> ReadLedger(StateDb& state) {
  std::vector<Present> out;
  REQUIRE(state.ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
                 out.push_back({e.seq, e.at, e.subject});
                 return true;
               }).ok());
  return out;
}

// The oracle, from the rule in purge_log_store.h and SPEC section 4,
// without the engine's code: whether a hold in force covers entry `e`.
bool OracleHeld(const Present& e, const std::vector<Hold>& holds, Timestamp now) {
  const std::string key = std::to_string(e.seq);
  for (const Hold& h : holds) {
    if (!h.ActiveAt(now)) continue;
    const HoldScope& s = h.scope;
    if (s.category && *s.category != "audit_security") continue;
    if (s.target && *s.target != "purge-log") continue;
    if (s.subject_kind && e.subject != *s.subject_kind + ":" + *s.subject_id) continue;
    if (s.key && *s.key != key) continue;
    if (s.clock_from && e.at < *s.clock_from) continue;
    if (s.clock_until && !(e.at < *s.clock_until)) continue;
    return true;
  }
  return false;
}

// How many of the oldest entries go.
size_t OraclePrefix(const std::vector<Present>& entries, Timestamp cutoff, std::optional<Timestamp> floor_cutoff,
                    const std::vector<Hold>& holds, Timestamp now) {
  size_t n = 0;
  for (const Present& e : entries) {
    if (!(e.at < cutoff)) break;
    if (floor_cutoff && !(e.at < *floor_cutoff)) break;
    if (OracleHeld(e, holds, now)) break;
    ++n;
  }
  return n;
}

TEST_CASE("pruning the purge log removes exactly the oracle's prefix and never a held entry", "[purge][purge-log][property]") {
  std::mt19937_64 rng(20261122);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const CalendarDuration schedules[] = {{30, DurationUnit::kDays}, {6, DurationUnit::kMonths}, {12, DurationUnit::kMonths}};
  int pruned_cases = 0, held_cases = 0, stopped_cases = 0;

  for (int iteration = 0; iteration < 150; ++iteration) {
    INFO("iteration " << iteration);
    TempDir dir("/dev/shm");
    const auto path = dir / "state.db";
    Timestamp now = FromUnixMicros(1672531200LL * 1000000);  // 2023-01-01
    SqliteStateDbOptions options;
    options.clock = [&] { return now; };
    auto opened = OpenOrCreateStateDb(path, options);
    REQUIRE(opened.ok());
    StateDb& state = **opened;
    // The purge-log store over the same database: the executor asks it why
    // an entry stays.
    StoreConfig log_config;
    log_config.name = kPurgeLogStore;
    log_config.type = StoreType::kPurgeLog;
    log_config.path = path;
    log_config.state.path = path.string();
    auto log_store = OpenPurgeLogStore(log_config);
    REQUIRE(log_store.ok());

    Category category;
    category.name = "audit_security";
    category.delete_after = schedules[pick(0, 2)];
    if (pick(0, 2) == 0) category.keep_at_least = CalendarDuration{pick(1, 20), DurationUnit::kDays};
    Target target;
    target.name = "purge-log";
    target.store = kPurgeLogStore;
    target.where = {"rules/audit.toml", 3, 1};
    category.targets.push_back(target);

    // Holds: on a subject, a key, a clock range, the whole category, or
    // another category (which must not cover the purge log).
    std::vector<Hold> holds;
    for (int64_t h = pick(0, 3); h > 0; --h) {
      Hold hold;
      hold.id = static_cast<int64_t>(holds.size()) + 1;
      hold.matter = "M-" + std::to_string(hold.id);
      hold.placed_at = now;
      switch (pick(0, 4)) {
        case 0: {
          const std::string s = kSubjects[pick(2, 6)];
          hold.scope.subject_kind = s.substr(0, s.find(':'));
          hold.scope.subject_id = s.substr(s.find(':') + 1);
          break;
        }
        case 1: hold.scope.key = std::to_string(pick(1, 150)); break;
        case 2:
          hold.scope.clock_from = now + hours(24 * pick(0, 300));
          hold.scope.clock_until = *hold.scope.clock_from + hours(24 * pick(1, 60));
          break;
        case 3: hold.scope.category = "audit_security"; break;
        default: hold.scope.category = "support"; break;
      }
      if (pick(0, 4) == 0) hold.released_at = now + hours(24 * pick(1, 900));
      holds.push_back(hold);
    }

    const int64_t batch_size = pick(1, 25);
    for (int round = 0; round < 2; ++round) {
      INFO("round " << round);
      // More entries, a chunk at a time; the clock steps back now and then.
      for (int64_t chunk = pick(1, 6); chunk > 0; --chunk) {
        std::vector<LedgerEntry> entries;
        for (int64_t i = pick(1, 40); i > 0; --i) {
          now += pick(0, 19) == 0 ? -hours(pick(0, 240)) : hours(pick(0, 72));
          LedgerEntry e;
          e.at = now;
          e.kind = LedgerKind::kDelete;
          e.run_id = round + 1;
          e.category = "support";
          e.store = "app";
          e.target = "tickets";
          e.record_key = std::to_string(pick(1, 1000000));
          e.subject = kSubjects[pick(0, 6)];
          entries.push_back(std::move(e));
        }
        REQUIRE(Append(state, std::move(entries)).ok());
      }
      now += hours(24 * pick(0, 500));

      const TimeZone utc = TimeZone::Utc();
      const HoldSet hold_set(holds, now);
      Selection d;
      d.category = &category;
      d.target = &category.targets[0];
      d.cutoff = ComputeCutoff(now, *category.delete_after, utc);
      d.scopes.push_back({&category, &category.targets[0]});
      std::optional<Timestamp> floor_cutoff;
      if (category.keep_at_least) {
        floor_cutoff = ComputeCutoff(now, *category.keep_at_least, utc);
        d.floors.push_back({0, *floor_cutoff});
      }
      d.zone = utc;

      const std::vector<Present> before = ReadLedger(state);
      const size_t expected = OraclePrefix(before, *d.cutoff, floor_cutoff, holds, now);

      ExecutorOptions o;
      o.run_id = round + 1;
      o.batch_size = batch_size;
      o.hold_barrier = [&]() { return HoldBarrier::Shared(LockPathsFor(path).hold_barrier); };
      o.fresh_holds = [&]() -> Result<HoldSet> { return hold_set; };
      // Sometimes a stop (max runtime, SIGTERM) after a few batches.
      int64_t batches_left = pick(0, 2) == 0 ? pick(0, 3) : INT64_MAX;
      o.out_of_time = [&] { return batches_left-- <= 0; };
      BatchExecutor executor(state, o, hold_set);
      TargetOutcome outcome{"audit_security", "purge-log"};
      bool stopped = false;
      REQUIRE(PrunePurgeLog(state, **log_store, executor, d, nullptr, &outcome, &stopped).ok());
      {
        auto report = VerifyLedger(state, SystemNow());
        REQUIRE(report.ok());
        INFO(report->problem);
        REQUIRE(report->ok);
      }
      if (stopped) {
        ++stopped_cases;
        batches_left = INT64_MAX;
        stopped = false;
        REQUIRE(PrunePurgeLog(state, **log_store, executor, d, nullptr, &outcome, &stopped).ok());
        REQUIRE_FALSE(stopped);
      }

      const std::vector<Present> after = ReadLedger(state);
      const auto report = VerifyLedger(state, SystemNow());
      REQUIRE(report.ok());
      INFO(report->problem);
      REQUIRE(report->ok);
      // Exactly the prefix went; everything after it, and one anchor when
      // anything went, is there.
      const size_t anchors_added = expected > 0 ? 1 : 0;
      REQUIRE(after.size() == before.size() - expected + anchors_added);
      for (size_t i = expected; i < before.size(); ++i) REQUIRE(after[i - expected].seq == before[i].seq);
      CHECK(outcome.deleted == static_cast<int64_t>(expected));
      if (expected > 0) {
        ++pruned_cases;
        REQUIRE(report->anchor);
        CHECK(report->anchor->from == before.front().seq);
        CHECK(report->anchor->through == before[expected - 1].seq);
      }
      // The guarantee itself, checked on what is actually gone: no entry
      // a hold covers.
      std::set<int64_t> left;
      for (const Present& e : after) left.insert(e.seq);
      for (const Present& e : before) {
        if (left.count(e.seq)) continue;
        if (OracleHeld(e, holds, now)) FAIL("held entry " << e.seq << " was pruned");
      }
      // Cases where a hold, not the schedule, stopped the pruning.
      if (expected < before.size() && before[expected].at < *d.cutoff &&
          !(floor_cutoff && !(before[expected].at < *floor_cutoff)))
        ++held_cases;
    }
  }
  // The cases covered what they should.
  CHECK(pruned_cases > 50);
  CHECK(held_cases > 10);
  CHECK(stopped_cases > 10);
}

}  // namespace
}  // namespace retention
