// The batch executor in process, over a real SQLite store and state: every
// reason a record stays is produced from the record's facts and written in
// its kept entry as a code (ledger/kept_reason.h), audit runs counts holds
// by that code, a source may be any list, and the purge log's pruning runs
// through the same protocol.
#include <catch2/catch.hpp>

#include <map>

#include <nlohmann/json.hpp>

#include "audit/run_history.h"
#include "config/config.h"
#include "e2e/e2e_util.h"
#include "ledger/kept_reason.h"
#include "plan/selection.h"
#include "purge/batch_executor.h"
#include "purge/ledger_outcomes.h"
#include "purge/purge_fixture.h"
#include "purge/purge_log_prune.h"
#include "rules/rule_loader.h"
#include "state/hold_barrier.h"
#include "state/sqlite_state_db.h"
#include "state/state_open.h"
#include "state/state_ops.h"
#include "stores/file_system.h"
#include "stores/store_set.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::TempDir;
using e2e::WriteFile;
using Json = nlohmann::json;

// A run over DIR's config: its rules, state, stores and an executor.
struct Run {
  explicit Run(const TempDir& dir) {
    auto c = LoadConfig(dir / "retention.toml");
    REQUIRE(c.ok());
    config = std::move(*c);
    auto r = LoadRules(config);
    REQUIRE(r.ok());
    rules = std::move(*r);
    auto s = OpenSqliteStateDb(config.state.path, /*read_only=*/false);
    REQUIRE(s.ok());
    state = std::move(*s);
    stores = std::make_unique<StoreSet>(config, /*read_only=*/false, files::PosixFileSystem());
    RunInfo info;
    info.started_at = info.as_of = SystemNow();
    info.command = "test";
    auto id = BeginRun(*state, info);
    REQUIRE(id.ok());
    run_id = *id;
  }

  BatchExecutor Executor(int64_t batch_size, std::function<bool()> out_of_time = nullptr) {
    ExecutorOptions o;
    o.out_of_time = std::move(out_of_time);
    o.run_id = run_id;
    o.batch_size = batch_size;
    o.hold_barrier = [this] { return HoldBarrier::Shared(LockPathsFor(config.state.path).hold_barrier); };
    o.clock = [] { return SystemNow(); };
    return BatchExecutor(*state, o, HoldSet());
  }

  // The selection for category/target, without holds (the executor adds
  // the holds it reads).
  Selection Decision(const std::string& category) {
    auto selections = MakeSelections(config, rules, SystemNow(), category);
    REQUIRE(selections.ok());
    REQUIRE(!selections->empty());
    return selections->front();
  }

  int64_t AddHold(HoldScope scope, const std::string& matter) {
    Hold h;
    h.matter = matter;
    h.reason = "test";
    h.author = "test";
    h.placed_at = SystemNow() - std::chrono::hours(1);
    h.scope = std::move(scope);
    auto id = retention::AddHold(*state, h, "test-host");
    REQUIRE(id.ok());
    return *id;
  }

  Config config;
  RuleSet rules;
  std::unique_ptr<StateDb> state;
  std::unique_ptr<StoreSet> stores;
  int64_t run_id = 0;
};

// events: rows of every kind, three rules over the table (the one that
// deletes, a floor on kind 'legal', a long schedule on kind 'mirror').
void MakeEvents(const TempDir& dir) {
  {
    Db db(dir / "app.db");
    db.Exec("CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT, who INTEGER, kind TEXT);"
            "CREATE INDEX events_at ON events(at);"
            "INSERT INTO events VALUES"
            " (1, '2020-01-01 00:00:00', 1, 'a'),"        // goes
            " (2, '2099-01-01 00:00:00', 2, 'a'),"        // not due
            " (3, 'soon', 3, 'a'),"                       // undated
            " (4, '2020-01-04 00:00:00', 4, 'skip'),"     // outside the filters
            " (5, '2020-01-05 00:00:00', 5, 'a'),"        // held (customer 5)
            " (6, '2020-01-06 00:00:00', 6, 'legal'),"    // floor
            " (7, '2020-01-07 00:00:00', 7, 'mirror'),"   // held under the mirror rule
            " (8, '2020-01-08 00:00:00', 8, 'a'),"        // removed by someone else
            " (9, '2020-01-09 00:00:00', 9, 'a');");      // replaced under its key
  }
  WriteEventsRules(dir, "where = { kind = [\"a\", \"legal\", \"mirror\"] }\n");
  WriteFile(dir / "rules" / "legal.toml", R"(
[legal]
keep_at_least = "100 years"
[[legal.target]]
store = "app"
table = "events"
clock = { column = "at", encoding = "text" }
where = { kind = "legal" }
)");
  WriteFile(dir / "rules" / "mirror.toml", R"(
[mirror]
delete_after = "100 years"
[[mirror.target]]
store = "app"
table = "events"
clock = { column = "at", encoding = "text" }
where = { kind = "mirror" }
)");
  WritePurgeTestConfig(dir, 0);
}

// `audit runs` of the one run in `state`: how many records it kept, and
// how many of them a hold kept.
void CheckRunKept(StateDb& state, int64_t kept, int64_t kept_by_hold) {
  auto runs = audit::SummarizeRuns(state);
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 1);
  CHECK(runs->front().kept == kept);
  CHECK(runs->front().kept_by_hold == kept_by_hold);
}

Candidate Row(const std::string& id, const std::string& at, const std::string& who) {
  return {id, at, who, std::string()};
}

TEST_CASE("the executor keeps each record for a reason of its facts, written as a code", "[purge][executor]") {
  TempDir dir;
  MakeEvents(dir);
  Run run(dir);
  const Selection d = run.Decision("events");
  auto store = run.stores->Get("app");
  REQUIRE(store.ok());

  // The list as an erasure would give it, some of it never due.
  VectorSource source({Row("1", "2020-01-01 00:00:00", "1"), Row("2", "2099-01-01 00:00:00", "2"),
                       Row("3", "soon", "3"), Row("4", "2020-01-04 00:00:00", "4"),
                       Row("5", "2020-01-05 00:00:00", "5"), Row("6", "2020-01-06 00:00:00", "6"),
                       Row("7", "2020-01-07 00:00:00", "7"), Row("8", "2020-01-08 00:00:00", "8"),
                       Row("9", "2020-01-09 00:00:00", "9")});
  // Since the selection: holds placed, a row removed, a row replaced.
  HoldScope customer5;
  customer5.subject_kind = "customer";
  customer5.subject_id = "5";
  const int64_t hold5 = run.AddHold(customer5, "M-5");
  HoldScope mirror;
  mirror.category = "mirror";
  run.AddHold(mirror, "M-mirror");
  {
    Db db(dir / "app.db");
    db.Exec("DELETE FROM events WHERE id = 8; UPDATE events SET who = 99 WHERE id = 9;");
  }

  BatchExecutor executor = run.Executor(4);
  StoreBatchTarget target(**store);
  TargetOutcome outcome{"events", "events"};
  bool stopped = false;
  REQUIRE(executor.Run(d, target, source, &outcome, &stopped).ok());
  CHECK_FALSE(stopped);
  CHECK(outcome.deleted == 1);
  CHECK(outcome.batches == 3);  // 4 + 4 + 1
  CHECK(outcome.kept_changed == 8);
  // The last batch's settlement rides in the run's end.
  REQUIRE(EndRun(*run.state, run.run_id, "ok", 0, "", executor.TakeSettlements()).ok());

  LedgerOutcomes ledger = ReadLedgerOutcomes(dir / "state.db");
  CHECK(ledger.batch_entries == 3);  // one entry per batch, not per record
  CHECK(ledger.open.empty());
  CHECK(ledger.deleted == std::multiset<std::string>{"1"});
  std::map<std::string, Json> kept = ledger.kept;
  REQUIRE(kept.size() == 8);
  const std::map<std::string, std::string> expected = {
      {"2", "not_due"}, {"3", "undated"}, {"4", "filters"},   {"5", "held"},
      {"6", "floor"},   {"7", "held_elsewhere"}, {"8", "gone"}, {"9", "changed"}};
  for (const auto& [key, why] : expected) {
    INFO("record " << key << ": " << kept[key].dump());
    CHECK(kept[key]["why"] == why);
    CHECK(kept[key]["reason"].is_string());
    CHECK(!kept[key]["reason"].get<std::string>().empty());
    CHECK_FALSE(kept[key].contains("skip"));
  }
  CHECK(kept["5"]["hold"] == hold5);
  CHECK(kept["5"]["reason"] == "held by hold " + std::to_string(hold5) + " (M-5)");
  CHECK(kept["2"]["reason"].get<std::string>().find("not before the cutoff") != std::string::npos);
  CHECK(kept["9"]["reason"].get<std::string>().find("changed since selection") == 0);
  Db state(dir / "state.db", true);
  CHECK(state.Column("SELECT count(*) FROM pending") == std::vector<std::string>{"0"});

  // audit runs counts holds by the code: the held and the held-elsewhere.
  CheckRunKept(*run.state, 8, 2);
}

// SPEC 4: a hold binds from the moment `hold add` returns. Its placed_at is
// the placing process's clock; a purge whose clock reads earlier (the
// system clock stepped back after the hold was placed, as NTP or a resumed
// VM does) must not read it as not yet placed.
TEST_CASE("a hold whose placed_at reads later than the run's clock binds the batch", "[purge][executor][holds]") {
  TempDir dir;
  MakeEvents(dir);
  Run run(dir);
  const Selection d = run.Decision("events");
  auto store = run.stores->Get("app");
  REQUIRE(store.ok());
  Hold h;
  h.matter = "M-5";
  h.reason = "test";
  h.author = "test";
  h.placed_at = SystemNow() + std::chrono::seconds(30);
  h.scope.subject_kind = "customer";
  h.scope.subject_id = "5";
  auto hold5 = AddHold(*run.state, h, "test-host");
  REQUIRE(hold5.ok());

  BatchExecutor executor = run.Executor(10);
  StoreBatchTarget target(**store);
  auto report = executor.RunBatch(d, target, {Row("1", "2020-01-01 00:00:00", "1"), Row("5", "2020-01-05 00:00:00", "5")});
  REQUIRE(report.ok());
  REQUIRE(report->deleted.size() == 1);
  CHECK(report->deleted[0].key == "1");
  REQUIRE(report->kept.size() == 1);
  CHECK(report->kept[0].key == "5");
  CHECK(report->kept[0].reason.why == KeptWhy::kHeld);
  CHECK(report->kept[0].reason.hold_id == *hold5);
  Db db(dir / "app.db", true);
  CHECK(db.Int("SELECT count(*) FROM events WHERE id = 5") == 1);
}

// A target whose delete refuses every candidate for a reason of its own.
class RefusingTarget final : public BatchTarget {
 public:
  Result<BatchResult> Delete(const Selection&, const std::vector<Candidate>& batch) override {
    BatchResult r;
    for (size_t i = 0; i < batch.size(); ++i)
      r.skipped.push_back({batch[i].key, batch[i].clock, batch[i].subject,
                           i % 3 == 0 ? SkipReason::kUndeletable : i % 3 == 1 ? SkipReason::kLocked
                                                                              : SkipReason::kChanged,
                           "refused " + std::to_string(i)});
    return r;
  }
  Result<std::vector<KeptReason>> WhyKept(const Selection&, const std::vector<Candidate>&) override {
    return Status::Internal("every candidate was skipped with a reason");
  }
  Status Sync() override { return Status::Ok(); }
};

TEST_CASE("the executor writes the store's own reasons with their skip names and codes", "[purge][executor]") {
  TempDir dir;
  MakeEvents(dir);
  Run run(dir);
  const Selection d = run.Decision("events");
  BatchExecutor executor = run.Executor(10);
  RefusingTarget target;
  auto report = executor.RunBatch(d, target, {Row("1", "a", ""), Row("2", "b", "2"), Row("5", "c", "5")});
  REQUIRE(report.ok());
  CHECK(report->deleted.empty());
  REQUIRE(report->kept.size() == 3);
  CHECK(report->kept[0].reason.why == KeptWhy::kUndeletable);
  CHECK(report->kept[1].reason.why == KeptWhy::kLocked);
  CHECK(report->kept[2].reason.why == KeptWhy::kChanged);

  REQUIRE(EndRun(*run.state, run.run_id, "ok", 0, "", executor.TakeSettlements()).ok());
  LedgerOutcomes ledger = ReadLedgerOutcomes(dir / "state.db");
  CHECK(ledger.deleted.empty());
  REQUIRE(ledger.kept.size() == 3);
  CHECK(ledger.kept["1"] == Json{{"why", "undeletable"}, {"skip", "undeletable"}, {"reason", "refused 0"}});
  CHECK(ledger.kept["2"] == Json{{"why", "locked"}, {"skip", "locked"}, {"reason", "refused 1"}});
  CHECK(ledger.kept["5"] == Json{{"why", "changed"}, {"skip", "changed"}, {"reason", "refused 2"}});
  CHECK(ledger.subject["2"] == "customer:2");
  CHECK(ledger.subject.count("1") == 0);

  // Codes read back; an entry written before codes has none.
  auto parsed = ParseKeptDetail(ledger.kept["2"].dump());
  REQUIRE(parsed);
  CHECK(parsed->why == KeptWhy::kLocked);
  auto old = ParseKeptDetail(R"j({"reason":"held by hold 1 (M-1)"})j");
  REQUIRE(old);
  CHECK_FALSE(old->why);
  for (KeptWhy why : {KeptWhy::kGone, KeptWhy::kFilters, KeptWhy::kUndated, KeptWhy::kNotDue, KeptWhy::kHeld,
                      KeptWhy::kHeldElsewhere, KeptWhy::kFloor, KeptWhy::kBehind, KeptWhy::kChanged,
                      KeptWhy::kUndeletable, KeptWhy::kLocked, KeptWhy::kNotDeleted})
    CHECK(KeptWhyFromName(KeptWhyName(why)) == why);
}

TEST_CASE("audit runs counts kept entries by their code, and old entries by their words", "[purge][executor][audit]") {
  TempDir dir;
  MakeEvents(dir);
  Run run(dir);
  auto kept = [&](const std::string& key, const std::string& detail) {
    LedgerEntry e;
    e.kind = LedgerKind::kKept;
    e.run_id = run.run_id;
    e.category = "events";
    e.store = "app";
    e.target = "events";
    e.record_key = key;
    e.detail = detail;
    return e;
  };
  REQUIRE(Append(*run.state, {kept("1", KeptDetail({KeptWhy::kHeld, "held by hold 1 (M-1)", std::nullopt, 1})),
                        // Words that read like a hold, a code that says otherwise: the code wins.
                        kept("2", KeptDetail({KeptWhy::kNotDue, "held by hold 1 (M-1)", std::nullopt, std::nullopt})),
                        kept("3", R"j({"reason":"held by hold 1 (M-1)"})j"),
                        kept("4", R"j({"reason":"clock 2099 is not before the cutoff"})j")})
              .ok());
  CheckRunKept(*run.state, 4, 2);
}

TEST_CASE("the purge log is pruned through the executor, kept entries with their reason", "[purge][executor][purge-log]") {
  TempDir dir;
  WriteFile(dir / "rules" / "audit.toml", R"(
[audit_security]
delete_after = "12 months"
[[audit_security.target]]
store = "purge-log"
)");
  WritePurgeTestConfig(dir, 0);
  {
    auto state = OpenSqliteStateDb(dir / "state.db", /*read_only=*/false);
    REQUIRE(state.ok());
    std::vector<LedgerEntry> entries;
    for (int64_t i = 0; i < 30; ++i) {
      LedgerEntry e;
      e.kind = LedgerKind::kDelete;
      e.run_id = 0;
      e.category = "support";
      e.store = "app";
      e.target = "tickets";
      e.record_key = std::to_string(1000 + i);
      e.subject = "customer:" + std::to_string(i);
      e.at = FromUnixMicros((1704067200LL + i * 3600LL) * 1000000);  // 2024-01-01 + i hours
      entries.push_back(std::move(e));
    }
    REQUIRE(Append(**state, std::move(entries)).ok());
  }
  Run run(dir);
  const Selection d = run.Decision("audit_security");
  auto log_store = run.stores->Get(kPurgeLogStore);
  REQUIRE(log_store.ok());
  // A first run anchors entries 1 to 30 and is stopped after one batch.
  int polls = 0;
  bool may_stop = true;
  BatchExecutor executor = run.Executor(7, [&] { return may_stop && ++polls > 2; });
  TargetOutcome outcome{"audit_security", "purge-log"};
  bool stopped = false;
  REQUIRE(PrunePurgeLog(*run.state, **log_store, executor, d, nullptr, &outcome, &stopped).ok());
  CHECK(stopped);
  CHECK(outcome.deleted == 7);
  auto pruned = run.state->PrunedThrough();
  REQUIRE(pruned.ok());
  REQUIRE(*pruned == 30);

  // Then a hold on customer:20, whom entry 21 names: the next run deletes
  // the anchored entries up to it and keeps it and every one after it.
  HoldScope held;
  held.subject_kind = "customer";
  held.subject_id = "20";
  const int64_t hold = run.AddHold(held, "M-20");
  may_stop = false;
  stopped = false;
  REQUIRE(PrunePurgeLog(*run.state, **log_store, executor, d, nullptr, &outcome, &stopped).ok());
  CHECK_FALSE(stopped);
  CHECK(outcome.deleted == 20);
  CHECK(outcome.batches == 3);  // 1-7; 8-14; 15-20, stopped at 21
  CHECK(outcome.kept_changed == 10);
  {
    Db state(dir / "state.db", true);
    CHECK(state.Column("SELECT min(seq) FROM ledger") == std::vector<std::string>{"21"});
    // No pending batch and no entry per record: the anchor is the intent.
    CHECK(state.Column("SELECT count(*) FROM pending") == std::vector<std::string>{"0"});
    CHECK(state.Column("SELECT count(*) FROM ledger WHERE kind IN ('delete', 'kept', 'batch') AND run_id <> 0") ==
          std::vector<std::string>{"0"});
  }

  // What stays, batch by batch, and why: the held entry first, the rest
  // behind it.
  AnchoredSource source(*run.state, *pruned);
  auto batch = source.Next(3);
  REQUIRE(batch.ok());
  REQUIRE(batch->size() == 3);
  CHECK(batch->front().key == "21");
  PurgeLogBatchTarget target(*run.state, **log_store);
  auto report = executor.RunBatch(d, target, *batch, Intent::kAnchor);
  REQUIRE(report.ok());
  CHECK(report->deleted.empty());
  REQUIRE(report->kept.size() == 3);
  CHECK(report->kept[0].reason.why == KeptWhy::kHeld);
  CHECK(report->kept[0].reason.hold_id == hold);
  CHECK(report->kept[1].reason.why == KeptWhy::kBehind);
  CHECK(report->kept[2].reason.why == KeptWhy::kBehind);
  CHECK(report->kept[1].reason.words.find("entry 21 stays (held by hold") == 0);
}

}  // namespace
}  // namespace retention
