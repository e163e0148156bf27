// The purge log's own retention never prunes an open batch entry: a
// crashed batch's entry is the only record of what it may have deleted,
// and the next reconciliation reads it. Judged by the independent checker
// (tests/support/ledger_checker.h), not by verify.
#include <catch2/catch.hpp>

#include "config/config.h"
#include "e2e/e2e_util.h"
#include "ledger/batch_entry.h"
#include "plan/selection.h"
#include "purge/batch_executor.h"
#include "purge/events_checker.h"
#include "purge/purge_log_prune.h"
#include "purge/reconcile.h"
#include "rules/rule_loader.h"
#include "state/hold_barrier.h"
#include "state/sqlite_state_db.h"
#include "state/state_open.h"
#include "state/state_ops.h"
#include "stores/file_system.h"
#include "stores/store_set.h"
#include "support/ledger_checker.h"

namespace retention {
namespace {

namespace ck = checker;
using e2e::Db;
using e2e::TempDir;
using e2e::WriteFile;

constexpr int64_t kOldEntries = 20;

Timestamp In2024(int64_t hours) { return FromUnixMicros((1704067200LL + hours * 3600LL) * 1000000); }

// Five events (1 to 4 due), a purge log kept 12 months, and a ledger of
// kOldEntries entries written in 2024.
void MakeFixture(const TempDir& dir) {
  WriteFiveEventsFixture(dir);
  WriteFile(dir / "rules" / "audit.toml", R"(
[audit_security]
delete_after = "12 months"
[[audit_security.target]]
store = "purge-log"
)");
  auto state = OpenSqliteStateDb(dir / "state.db", /*read_only=*/false);
  REQUIRE(state.ok());
  std::vector<LedgerEntry> entries;
  for (int64_t i = 0; i < kOldEntries; ++i) {
    LedgerEntry e;
    e.kind = LedgerKind::kKept;
    e.category = "events";
    e.store = "app";
    e.target = "events";
    e.record_key = std::to_string(9000 + i);
    e.at = In2024(i);
    entries.push_back(std::move(e));
  }
  REQUIRE(Append(**state, std::move(entries)).ok());
}

// What a run killed after its first batch's delete committed leaves: the
// batch's entry, written in 2024 (so the purge log's schedule has it due),
// open, and its rows gone from the table.
int64_t CrashedBatch(const TempDir& dir) {
  BatchPayload payload;
  payload.subject_kind = "customer";
  {
    Db app(dir / "app.db");
    for (const auto& row : app.Query("SELECT id, at, who FROM events WHERE at < '2021' ORDER BY at"))
      payload.records.push_back({*row[0], row[1].value_or(""), row[2].value_or(""), std::nullopt});
  }
  REQUIRE(payload.records.size() == 4);
  auto bytes = EncodeBatchPayload(payload);
  REQUIRE(bytes.ok());
  LedgerEntry e;
  e.kind = LedgerKind::kBatch;
  e.category = "events";
  e.store = "app";
  e.target = "events";
  e.rule = "rules/events.toml:5";
  e.cutoff = "2024-01-01T00:00:00Z";
  e.batch = 1;
  e.at = In2024(kOldEntries);
  e.payload = *bytes;
  const BatchKeyRange range = KeyRangeOf(payload);
  auto state = OpenSqliteStateDb(dir / "state.db", /*read_only=*/false);
  REQUIRE(state.ok());
  auto seq = AppendBatch(**state, e, {"app", "events", range.lo, range.hi, range.integer_keys}, {});
  REQUIRE(seq.ok());
  Db(dir / "app.db").Exec("DELETE FROM events WHERE at < '2021'");
  return *seq;
}

TEST_CASE("the purge log's pruning stops before an open batch entry, so reconciliation still finds it",
          "[purge][purge-log][reconcile]") {
  TempDir dir;
  MakeFixture(dir);
  const ck::StoreSpec spec = EventsSpec(dir / "app.db");
  const ck::Snapshot before = ck::TakeSnapshot(spec, dir / "state.db");
  const int64_t batch_seq = CrashedBatch(dir);
  REQUIRE(batch_seq == kOldEntries + 1);

  auto config = LoadConfig(dir / "retention.toml");
  REQUIRE(config.ok());
  auto rules = LoadRules(*config);
  REQUIRE(rules.ok());
  auto state = OpenSqliteStateDb(config->state.path, /*read_only=*/false);
  REQUIRE(state.ok());
  StoreSet stores(*config, /*read_only=*/false, files::PosixFileSystem());
  RunInfo info;
  info.started_at = info.as_of = SystemNow();
  info.command = "test";
  auto run_id = BeginRun(**state, info);
  REQUIRE(run_id.ok());

  // Pruning with the batch still open (a purge reconciles first; this one
  // did not): everything before it may go, it and what follows stay.
  ExecutorOptions o;
  o.run_id = *run_id;
  o.batch_size = 7;
  o.hold_barrier = [&] { return HoldBarrier::Shared(LockPathsFor(config->state.path).hold_barrier); };
  o.clock = [] { return SystemNow(); };
  BatchExecutor executor(**state, o, HoldSet());
  auto selections = MakeSelections(*config, *rules, SystemNow(), "audit_security");
  REQUIRE(selections.ok());
  REQUIRE(selections->size() == 1);
  auto log_store = stores.Get(kPurgeLogStore);
  REQUIRE(log_store.ok());
  TargetOutcome outcome{"audit_security", "purge-log"};
  bool stopped = false;
  Status pruned = PrunePurgeLog(**state, **log_store, executor, selections->front(), nullptr, &outcome, &stopped);
  INFO(pruned.message());
  REQUIRE(pruned.ok());
  CHECK(outcome.deleted == kOldEntries);
  auto entry = (*state)->ReadEntry(batch_seq);
  REQUIRE(entry.ok());
  CHECK(entry->has_value());
  CHECK((*state)->OpenBatches().value() == std::vector<int64_t>{batch_seq});

  // The next reconciliation settles it: the four rows it deleted are
  // claimed, each once, and nothing else.
  auto reconciled = Reconcile(**state, stores, *rules);
  INFO(reconciled.status().message());
  REQUIRE(reconciled.ok());
  CHECK(*reconciled == 4);
  const ck::Snapshot after = ck::TakeSnapshot(spec, dir / "state.db");
  const std::vector<std::string> problems = ck::Check(before, after, dir / "state.db");
  for (const std::string& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
  std::vector<std::string> keys = e2e::DeletedKeys(dir / "state.db");
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"1", "2", "3", "4"});
}

TEST_CASE("the state database refuses to prune through an open batch entry", "[purge][purge-log][state]") {
  TempDir dir;
  MakeFixture(dir);
  const int64_t batch_seq = CrashedBatch(dir);
  auto state = OpenSqliteStateDb(dir / "state.db", /*read_only=*/false);
  REQUIRE(state.ok());
  // An anchor through the batch entry, as an older binary could write.
  {
    Db raw(dir / "state.db");
    raw.Exec("INSERT INTO ledger_anchors(seq, through) VALUES (" + std::to_string(batch_seq + 100) + ", " +
             std::to_string(batch_seq) + ")");
  }
  auto deleted = (*state)->DeletePrunedEntries(batch_seq);
  REQUIRE_FALSE(deleted.ok());
  CHECK(deleted.status().message().find("batch entry " + std::to_string(batch_seq) + " is still open") !=
        std::string::npos);
  Db raw(dir / "state.db", true);
  CHECK(raw.Int("SELECT count(*) FROM ledger") == kOldEntries + 1);
}

}  // namespace
}  // namespace retention
