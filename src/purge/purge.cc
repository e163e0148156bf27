#include "purge/purge.h"


#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "holds/hold_set.h"
#include "ledger/ledger.h"
#include "plan/selection.h"
#include "plan/plan.h"
#include "plan/target_checks.h"
#include "plan/verdict.h"
#include "purge/purge_log_prune.h"
#include "purge/reconcile.h"
#include "purge/run_guards.h"
#include "purge/saved_plan.h"
#include "state/hold_barrier.h"
#include "state/run_lock.h"
#include "state/sqlite_state_db.h"
#include "stores/store_set.h"
#include "util/fault_point.h"
#include "util/identity.h"

namespace retention {

int64_t PurgeReport::TotalDeleted() const {
  int64_t n = 0;
  for (const auto& t : targets) n += t.deleted;
  return n;
}

namespace {

// Entries at the ledger's end whose chain a purge checks before it starts.
constexpr int64_t kLedgerTailCheck = 10000;

// Tries of a batch the store reported busy (each waits the store's busy
// timeout).
constexpr int kBusyAttempts = 5;

class PurgeRun {
 public:
  PurgeRun(const Config& config, const RuleSet& rules, const PurgeOptions& options)
      : config_(config), rules_(rules), options_(options), stores_(config, /*read_only=*/false) {}

  Result<PurgeReport> Run();

 private:
  Timestamp Now() const { return options_.clock ? options_.clock() : SystemNow(); }
  bool OutOfTime() const;
  Status RefreshHolds();
  // Ok while the run lock file and the state database are still the files
  // this run locked and opened: checked before every batch and before the
  // run's end, so that a run whose lock or ledger was removed from under it
  // stops before its next deletion instead of going on unrecorded (SPEC 6.5).
  Status CheckStillInPlace();
  // A ledger entry about one record of the current batch.
  LedgerEntry BatchEntry(LedgerKind kind, const Selection& d, const std::string& key, const std::string& clock,
                         const std::string& subject_id, const std::string& cutoff, const std::string& rule) const;
  // Deletes one batch; appends to `outcome`.
  Status DeleteBatch(const Selection& base, std::vector<Candidate> batch, TargetOutcome* outcome);
  Status PurgeTarget(const Selection& d, SavedPlanReader* saved, TargetOutcome* outcome, bool* stopped);
  // The purge log's own retention (purge_log_prune.h).
  Status PrunePurgeLog(const Selection& d, SavedPlanReader* saved, TargetOutcome* outcome, bool* stopped);

  const Config& config_;
  const RuleSet& rules_;
  const PurgeOptions& options_;
  StoreSet stores_;
  std::optional<RunLock> lock_;
  std::unique_ptr<StateDb> state_;
  HoldSet holds_;  // re-read before each batch; selections take it through WithHolds
  Timestamp as_of_{};
  Timestamp started_{};
  int64_t batch_size_ = 1000;
  int64_t run_id_ = 0;
  int64_t batch_no_ = 0;
  PurgeProgress progress_;  // for options_.on_batch
};

bool PurgeRun::OutOfTime() const {
  if (options_.stop_requested && options_.stop_requested->load()) return true;
  if (options_.max_runtime && Now() - started_ >= *options_.max_runtime) return true;
  return false;
}

Status PurgeRun::RefreshHolds() {
  auto holds = state_->ListHolds(/*include_released=*/false);
  if (!holds.ok()) return holds.status();
  holds_ = HoldSet(*holds, Now());
  return Status::Ok();
}

Status PurgeRun::CheckStillInPlace() {
  RETENTION_RETURN_IF_ERROR(lock_->CheckInPlace());
  return state_->CheckStillInPlace();
}

LedgerEntry PurgeRun::BatchEntry(LedgerKind kind, const Selection& d, const std::string& key,
                                 const std::string& clock, const std::string& subject_id, const std::string& cutoff,
                                 const std::string& rule) const {
  LedgerEntry e;
  e.kind = kind;
  e.run_id = run_id_;
  e.category = d.category->name;
  e.store = d.target->store;
  e.target = d.target->name;
  e.record_key = key;
  e.clock = clock;
  e.cutoff = cutoff;
  e.rule = rule;
  if (d.target->subject && !subject_id.empty()) e.subject = d.target->subject->kind + ":" + subject_id;
  e.batch = batch_no_;
  return e;
}

Status PurgeRun::DeleteBatch(const Selection& base, std::vector<Candidate> batch, TargetOutcome* outcome) {
  FaultPoint("before_batch");
  const std::string state_path = config_.state;
  auto barrier = HoldBarrier::Shared(HoldBarrier::PathFor(state_path));
  if (!barrier.ok()) return barrier.status();
  RETENTION_RETURN_IF_ERROR(CheckStillInPlace());
  RETENTION_RETURN_IF_ERROR(RefreshHolds());
  const Selection d = WithHolds(base, holds_);

  ++batch_no_;
  const std::string cutoff = d.cutoff ? FormatTimestamp(*d.cutoff) : "";
  const std::string rule = d.target->where.file + ":" + std::to_string(d.target->where.line);
  const std::string subject_kind = d.target->subject ? d.target->subject->kind : "";
  PendingBatch pending;
  pending.run_id = run_id_;
  pending.batch = batch_no_;
  pending.category = d.category->name;
  pending.store = d.target->store;
  pending.target = d.target->name;
  pending.rule = rule;
  pending.cutoff = cutoff;
  for (const Candidate& c : batch)
    pending.records.push_back({c.key, c.clock, c.subject.empty() ? "" : subject_kind + ":" + c.subject, c.identity});
  auto pending_id = state_->AddPending(pending);
  if (!pending_id.ok()) return pending_id.status();
  FaultPoint("after_pending");

  auto store = stores_.Get(d.target->store);
  if (!store.ok()) return store.status();
  // An application holding the write lock longer than the busy timeout
  // makes the batch fail with TempFail before anything changed: try again a
  // few times before giving the run up (exit 75, work left).
  auto deleted = (*store)->DeleteBatch(d, batch);
  for (int attempt = 1; !deleted.ok() && deleted.status().code() == ExitCode::kTempFail && attempt < kBusyAttempts;
       ++attempt) {
    spdlog::warn("{}/{}: {}; retrying the batch ({} of {})", d.category->name, d.target->name,
                 deleted.status().message(), attempt + 1, kBusyAttempts);
    deleted = (*store)->DeleteBatch(d, batch);
  }
  if (!deleted.ok()) return deleted.status();
  FaultPoint("after_delete");

  std::vector<LedgerEntry> entries;
  entries.reserve(batch.size());
  for (const DeletedRecord& r : deleted->deleted)
    entries.push_back(BatchEntry(LedgerKind::kDelete, d, r.key, r.clock, r.subject, cutoff, rule));
  // Candidates the store itself left (refused by the system, locked,
  // changed): it says why, as a value; the entry's "skip" names the reason
  // for readers (audit runs, status), "reason" words it for people.
  int64_t undeletable = 0;
  std::set<std::string> accounted;
  for (const DeletedRecord& r : deleted->deleted) accounted.insert(r.key);
  for (const SkippedRecord& r : deleted->skipped) {
    if (!accounted.insert(r.key).second) continue;
    if (r.reason == SkipReason::kUndeletable) ++undeletable;
    LedgerEntry e = BatchEntry(LedgerKind::kKept, d, r.key, r.clock, r.subject, cutoff, rule);
    e.detail = nlohmann::json{{"reason", r.detail}, {"skip", SkipReasonName(r.reason)}}.dump();
    entries.push_back(std::move(e));
  }
  // Candidates the delete's re-check kept (a hold placed since, a clock
  // that moved, a row updated in place): the ledger says which and why.
  if (accounted.size() < batch.size()) {
    std::vector<Candidate> kept;
    for (const Candidate& c : batch)
      if (accounted.insert(c.key).second) kept.push_back(c);
    // Another record under a selected key (a row updated in place or its
    // rowid reused) was kept by the delete's identity check: the reason says
    // so first. Only a reason: when the store cannot tell, the record's
    // facts alone give it.
    auto presence = (*store)->Exist(*d.target, kept);
    for (size_t i = 0; i < kept.size(); ++i) {
      const Candidate& c = kept[i];
      const bool replaced = presence.ok() && (*presence)[i] == Presence::kReplaced;
      auto facts = (*store)->Lookup(d, c.key);
      std::string reason;
      if (!facts.ok()) {
        reason = "changed since selection (" + facts.status().message() + ")";
      } else {
        RecordVerdict verdict = JudgeRecord(d, *facts);
        if (verdict.deletable)
          reason = replaced ? "changed since selection" : "held under an overlapping rule, or changed during the delete";
        else
          reason = replaced ? "changed since selection; now " + verdict.reason : verdict.reason;
      }
      LedgerEntry e = BatchEntry(LedgerKind::kKept, d, c.key, c.clock, c.subject, cutoff, rule);
      e.detail = nlohmann::json{{"reason", reason}}.dump();
      entries.push_back(std::move(e));
    }
  }
  RETENTION_RETURN_IF_ERROR(state_->SettlePending(*pending_id, entries));
  FaultPoint("after_settle");
  const auto went = static_cast<int64_t>(deleted->deleted.size());
  outcome->deleted += went;
  outcome->undeletable += undeletable;
  outcome->kept_changed += static_cast<int64_t>(batch.size()) - went - undeletable;
  ++outcome->batches;
  if (options_.on_batch) {
    progress_.deleted += went;
    ++progress_.batches;
    progress_.category = d.category->name;
    progress_.target = d.target->name;
    options_.on_batch(progress_);
  }
  return Status::Ok();
}

Status PurgeRun::PurgeTarget(const Selection& d, SavedPlanReader* saved, TargetOutcome* outcome, bool* stopped) {
  auto store = stores_.Get(d.target->store);
  if (!store.ok()) return store.status();
  std::unique_ptr<CandidateCursor> cursor;
  if (!saved) {
    auto c = (*store)->OpenCursor(WithHolds(d, holds_));
    if (!c.ok()) return c.status();
    cursor = std::move(*c);
  }
  while (true) {
    if (OutOfTime()) {
      *stopped = true;
      return Status::Ok();
    }
    auto batch = saved ? saved->Next(d.category->name, d.target->name, static_cast<size_t>(batch_size_))
                       : cursor->Next(WithHolds(d, holds_), static_cast<size_t>(batch_size_));
    if (!batch.ok()) return batch.status();
    if (batch->empty()) return Status::Ok();
    RETENTION_RETURN_IF_ERROR(DeleteBatch(d, std::move(*batch), outcome));
    if (outcome->batches % 50 == 0)
      spdlog::info("{}/{}: {} deleted so far", d.category->name, d.target->name, outcome->deleted);
  }
}

Status PurgeRun::PrunePurgeLog(const Selection& d, SavedPlanReader* saved, TargetOutcome* outcome, bool* stopped) {
  PurgeLogPruneOptions o;
  o.run_id = run_id_;
  o.batch_size = batch_size_;
  if (saved) {
    // The log is pruned as a prefix: through the last entry the plan listed.
    int64_t through = 0;
    while (true) {
      auto listed = saved->Next(d.category->name, d.target->name, static_cast<size_t>(batch_size_));
      if (!listed.ok()) return listed.status();
      if (listed->empty()) break;
      for (const Candidate& c : *listed) through = std::max<int64_t>(through, std::strtoll(c.key.c_str(), nullptr, 10));
    }
    o.plan_through = through;
  }
  o.lock_holds = [this]() -> Result<HoldBarrier::Guard> {
    FaultPoint("before_batch");
    auto barrier = HoldBarrier::Shared(HoldBarrier::PathFor(config_.state));
    if (!barrier.ok()) return barrier.status();
    RETENTION_RETURN_IF_ERROR(CheckStillInPlace());
    RETENTION_RETURN_IF_ERROR(RefreshHolds());
    return std::move(*barrier);
  };
  o.holds = &holds_;
  o.out_of_time = [this] { return OutOfTime(); };
  RETENTION_RETURN_IF_ERROR(retention::PrunePurgeLog(*state_, d, o, outcome, stopped));
  if (options_.on_batch && outcome->deleted > 0) {
    progress_.deleted += outcome->deleted;
    progress_.batches += outcome->batches;
    progress_.category = d.category->name;
    progress_.target = d.target->name;
    options_.on_batch(progress_);
  }
  return Status::Ok();
}

Result<PurgeReport> PurgeRun::Run() {
  started_ = Now();
  const Timestamp now = options_.now;
  as_of_ = options_.as_of.value_or(now);
  if (as_of_ > now)
    return Status::Usage("--as-of " + FormatTimestamp(as_of_) + " is later than the clock (" + FormatTimestamp(now) +
                         "): purge never deletes ahead of time; preview with `retention plan --as-of`");
  batch_size_ = options_.batch_size.value_or(config_.limits.batch_size);
  if (batch_size_ < 1 || batch_size_ > 100000) return Status::Usage("--batch-size must be between 1 and 100000");

  // Arguments first: a usage error must leave no trace (no lock file, no
  // state database).
  auto decisions = MakeSelections(config_, rules_, as_of_, options_.category);
  if (!decisions.ok()) return decisions.status();
  // The rules `check` rejects never run: same checks, same refusal (65).
  std::vector<CategoryTarget> targets;
  for (const Selection& d : *decisions) targets.emplace_back(d.category, d.target);
  RETENTION_RETURN_IF_ERROR(RequireTargetsPass(config_, targets, stores_));

  auto lock = RunLock::TryAcquire(RunLock::PathFor(config_.state));
  if (!lock.ok()) return lock.status();
  lock_.emplace(std::move(*lock));

  // Never created here: a missing or empty state database held the legal
  // holds (state init creates it).
  auto state = OpenSqliteStateDb(config_.state, /*read_only=*/false);
  if (!state.ok()) return state.status();
  state_ = std::move(*state);
  RETENTION_RETURN_IF_ERROR(state_->ClaimForRun());

  // Never extend a chain whose recent history was altered: after a ledger
  // error, stop (STYLE: "never continue on an unknown state").
  auto tail = VerifyLedgerTail(*state_, kLedgerTailCheck);
  if (!tail.ok()) return tail.status();
  if (!tail->ok)
    return Status::AuditFailed("the ledger does not verify (" + tail->problem +
                               "); refusing to purge until it is investigated (retention audit verify)");

  PurgeReport report;
  report.as_of = as_of_;
  auto reconciled = Reconcile(*state_, stores_, rules_);
  if (!reconciled.ok()) return reconciled.status();
  report.reconciled = *reconciled;

  auto last = state_->LastRun();
  if (!last.ok()) return last.status();
  RETENTION_RETURN_IF_ERROR(CheckClockSanity(*last, now, config_.limits.max_clock_jump, options_.allow_clock_jump,
                                             options_.allow_clock_behind));

  RETENTION_RETURN_IF_ERROR(RefreshHolds());

  std::unique_ptr<SavedPlanReader> saved;
  if (options_.plan_file) {
    auto reader = SavedPlanReader::Open(*options_.plan_file, rules_.hash);
    if (!reader.ok()) return reader.status();
    saved = std::move(*reader);
    saved->SetOrder(*decisions);
  }

  // The safety valve looks at the whole run before anything is deleted.
  auto plan = MakePlan(WithHolds(*decisions, holds_), stores_, as_of_, now, rules_.hash, holds_);
  if (!plan.ok()) return plan.status();
  RETENTION_RETURN_IF_ERROR(CheckSafetyValve(*plan, rules_, config_.limits, options_.allow_mass_delete));
  for (const TargetPlan& t : plan->targets)
    report.planned.push_back({t.category, t.target, t.stats.due, t.stats.held, t.stats.floor_protected,
                              t.stats.deletable});
  progress_.deletable_total = plan->TotalDeletable();

  RunInfo info;
  info.started_at = now;
  info.as_of = as_of_;
  info.user = InvokingUser();
  info.host = HostName();
  info.version = RETENTION_VERSION;
  info.rules_hash = rules_.hash;
  info.command = options_.command_line;
  auto run_id = state_->BeginRun(info);
  if (!run_id.ok()) return run_id.status();
  run_id_ = report.run_id = *run_id;
  spdlog::info("run {} started: as of {}, {} deletable in {} targets, batch size {}", run_id_,
               FormatTimestamp(as_of_), plan->TotalDeletable(), decisions->size(), batch_size_);

  bool stopped = false;
  Status failure;
  for (const Selection& d : *decisions) {
    TargetOutcome outcome{d.category->name, d.target->name};
    if (!stopped && failure.ok()) {
      failure = d.target->store == kPurgeLogStore ? PrunePurgeLog(d, saved.get(), &outcome, &stopped)
                                                  : PurgeTarget(d, saved.get(), &outcome, &stopped);
      spdlog::info("{}/{}: deleted {} in {} batches{}", outcome.category, outcome.target, outcome.deleted,
                   outcome.batches,
                   outcome.kept_changed ? fmt::format(", {} kept (changed since selection)", outcome.kept_changed)
                                        : std::string());
      if (outcome.undeletable)
        spdlog::warn("{}/{}: {} due records could not be deleted (kept; see `retention audit log --run {} "
                     "--kind kept`)",
                     outcome.category, outcome.target, outcome.undeletable, run_id_);
    }
    report.targets.push_back(std::move(outcome));
  }

  // Recording the end in a state database someone removed would read as
  // success that no one can see: fail instead.
  if (failure.ok()) failure = CheckStillInPlace();
  if (!failure.ok()) {
    report.outcome = "failed";
    report.status = failure;
  } else if (stopped) {
    report.outcome = "stopped";
    report.status = Status::TempFail("stopped early (max runtime or signal) with work left");
  } else {
    report.outcome = "ok";
  }
  nlohmann::json detail = nlohmann::json::object();
  nlohmann::json per_target = nlohmann::json::array();
  for (const auto& t : report.targets)
    per_target.push_back({{"category", t.category},
                          {"target", t.target},
                          {"deleted", t.deleted},
                          {"batches", t.batches},
                          {"kept_changed", t.kept_changed},
                          {"undeletable", t.undeletable}});
  detail["targets"] = per_target;
  detail["deleted"] = report.TotalDeleted();
  if (!report.status.ok()) detail["error"] = report.status.message();
  Status end = state_->EndRun(run_id_, report.outcome, report.status.exit_code(), detail.dump());
  if (!end.ok() && report.status.ok()) report.status = end;
  auto head = state_->Head();
  if (head.ok()) report.head_hash = head->hash;
  spdlog::info("run {} {}: {} deleted; ledger head {}", run_id_, report.outcome, report.TotalDeleted(),
               report.head_hash);
  return report;
}

}  // namespace

Result<PurgeReport> RunPurge(const Config& config, const RuleSet& rules, const PurgeOptions& options) {
  PurgeRun run(config, rules, options);
  return run.Run();
}

}  // namespace retention
