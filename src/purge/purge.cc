// The run's story: arguments, guards, lock, state, ledger tail, reconcile, clock,
// plan and safety valve, run start, each target through the executor, run end.
#include "purge/purge.h"

#include <spdlog/spdlog.h>

#include "plan/selection.h"
#include "plan/plan.h"
#include "plan/target_checks.h"
#include "purge/batch_executor.h"
#include "purge/purge_log_prune.h"
#include "purge/reconcile.h"
#include "purge/run_frame.h"
#include "purge/run_guards.h"
#include "purge/run_report.h"
#include "purge/saved_plan.h"
#include "state/hold_barrier.h"
#include "state/run_lock.h"
#include "state/state_open.h"
#include "state/state_ops.h"
#include "stores/store_set.h"
#include "util/log_context.h"
#include "util/logging.h"

namespace retention {

namespace {

class PurgeRun {
 public:
  PurgeRun(const Config& config, const RuleSet& rules, const PurgeOptions& options)
      : config_(config), rules_(rules), options_(options), stores_(config, /*read_only=*/false, options.env.file_system) {}

  Result<PurgeReport> Run();

 private:
  Timestamp Now() const { return options_.env.Now(); }
  ExecutorOptions BatchOptions();
  void Progress(const Selection& d, size_t deleted, size_t kept, int64_t batches) {
    progress_.Add(d.category->name, d.target->name, static_cast<int64_t>(deleted), static_cast<int64_t>(kept),
                  batches);
    if (options_.on_batch) options_.on_batch(progress_);
  }
  Status PurgeTarget(const Selection& d, SavedPlanReader* saved, BatchExecutor& executor,
                     TargetOutcome* outcome, bool* stopped);

  const Config& config_;
  const RuleSet& rules_;
  const PurgeOptions& options_;
  StoreSet stores_;
  std::optional<RunFrame> frame_;
  StateDb* state_ = nullptr;
  HoldSet holds_;  // in force at the start: the plan's
  Timestamp started_{};
  int64_t batch_size_ = 1000;
  int64_t run_id_ = 0;
  PurgeProgress progress_;  // for options_.on_batch
};

ExecutorOptions PurgeRun::BatchOptions() {
  ExecutorOptions o = frame_->BatchOptions(run_id_, batch_size_);
  o.on_batch = [this](const Selection& d, const BatchReport& b) { Progress(d, b.deleted.size(), b.kept.size(), 1); };
  return o;
}

Status PurgeRun::PurgeTarget(const Selection& d, SavedPlanReader* saved, BatchExecutor& executor,
                             TargetOutcome* outcome, bool* stopped) {
  Progress(d, 0, 0, 0);  // a progress bar names the target it is on, batches or not
  auto store = stores_.Get(d.target->store);
  if (!store.ok()) return store.status();
  if (d.target->store == kPurgeLogStore) {
    std::optional<SavedPlanSource> listed;
    if (saved) listed.emplace(*saved, d.category->name, d.target->name);
    RETENTION_RETURN_IF_ERROR(PrunePurgeLog(*state_, **store, executor, d, listed ? &*listed : nullptr, outcome, stopped));
    if (outcome->deleted > 0) Progress(d, static_cast<size_t>(outcome->deleted), 0, outcome->batches);  // once: it is one prefix
    return Status::Ok();
  }
  std::unique_ptr<CandidateSource> source;
  if (saved) {
    source = std::make_unique<SavedPlanSource>(*saved, d.category->name, d.target->name);
  } else if (auto cursor = (*store)->OpenCursor(executor.Following(d)); cursor.ok()) {
    source = std::make_unique<CursorSource>(std::move(*cursor), [&executor, &d] { return executor.Following(d); });
  } else {
    return cursor.status();
  }
  StoreBatchTarget target(**store);
  return executor.Run(d, target, *source, outcome, stopped);
}

Result<PurgeReport> PurgeRun::Run() {
  started_ = Now();
  const Timestamp now = options_.now;
  const Timestamp as_of = options_.as_of.value_or(now);
  batch_size_ = options_.batch_size.value_or(config_.limits.batch_size);
  RETENTION_RETURN_IF_ERROR(CheckRunArguments(as_of, now, batch_size_));

  // Arguments first: a usage error must leave no trace (no lock file, no
  // state database).
  auto selections = MakeSelections(config_, rules_, as_of, options_.category);
  if (!selections.ok()) return selections.status();
  // The rules `check` rejects never run: same checks, same refusal (65).
  std::vector<CategoryTarget> targets;
  for (const Selection& d : *selections) targets.emplace_back(d.category, d.target);
  RETENTION_RETURN_IF_ERROR(RequireTargetsPass(config_, targets, stores_));

  frame_.emplace(config_, rules_, options_.env,
                 RunFrame::Options{now, started_, options_.allow_clock_jump, options_.allow_clock_behind,
                                   options_.max_runtime, options_.stop_requested});
  RETENTION_RETURN_IF_ERROR(frame_->Open(stores_));
  state_ = &frame_->state();
  holds_ = frame_->holds();

  PurgeReport report;
  report.as_of = as_of;
  report.reconciled = frame_->reconciled();

  std::unique_ptr<SavedPlanReader> saved;
  if (options_.plan_file) {
    auto reader = SavedPlanReader::Open(*options_.plan_file, rules_.hash);
    if (!reader.ok()) return reader.status();
    saved = std::move(*reader);
    saved->SetOrder(*selections);
  }

  // The safety valve looks at the whole run before anything is deleted:
  // from the plan when it is measured anyway, else from the stores' cheap
  // bounds (an exact count only where a bound crosses a limit).
  int64_t deletable = 0;
  if (options_.measure_plan) {
    auto plan = MakePlan(WithHolds(*selections, holds_), stores_, as_of, now, rules_.hash, holds_);
    if (!plan.ok()) return plan.status();
    RETENTION_RETURN_IF_ERROR(CheckSafetyValve(*plan, rules_, config_.limits, options_.allow_mass_delete));
    report.planned = PlannedTargets(*plan);
    deletable = progress_.deletable_total = plan->TotalDeletable();
  } else {
    RETENTION_RETURN_IF_ERROR(CheckSafetyValveBound(stores_, WithHolds(*selections, holds_), rules_, config_.limits,
                                                    options_.allow_mass_delete));
  }

  auto run_id = BeginRun(*state_, StartInfo(now, as_of, rules_.hash, options_.command_line, HostNameInState(config_.state)));
  if (!run_id.ok()) return run_id.status();
  run_id_ = report.run_id = *run_id;
  // Every line of the run carries its id in the journal.
  const ScopedLogField run_field(kLogFieldRun, std::to_string(run_id_));
  // The count is known only when the plan was measured (metrics); the
  // safety valve's bound is not a count worth printing.
  const std::string how_many = options_.measure_plan ? std::to_string(deletable) + " deletable in " : "";
  LogEvent(spdlog::level::info, kMessageIdRunStart,
           fmt::format("run {} started: as of {}, {}{} targets, batches of at most {} records", run_id_,
                       FormatTimestamp(as_of), how_many, selections->size(), batch_size_));

  BatchExecutor executor(*state_, BatchOptions(), holds_);
  bool stopped = false;
  Status failure;
  for (const Selection& d : *selections) {
    TargetOutcome outcome{d.category->name, d.target->name, d.target->store};
    if (!stopped && failure.ok()) {
      const ScopedLogField category(kLogFieldCategory, d.category->name), target(kLogFieldTarget, d.target->name);
      // Another host purging these records: skipped, the rest go on.
      auto target_lock = frame_->LockTarget(*d.target);
      if (target_lock.ok()) {
        failure = PurgeTarget(d, saved.get(), executor, &outcome, &stopped);
      } else if (target_lock.status().code() == StatusCode::kBusy) {
        outcome.skipped = target_lock.status().message();
      } else {
        failure = target_lock.status();
      }
      LogTargetOutcome(outcome, run_id_);
    }
    report.targets.push_back(std::move(outcome));
  }

  // Recording the end in a state database someone removed would read as
  // success that no one can see: fail instead.
  if (failure.ok()) failure = frame_->CheckStillInPlace();
  SetOutcome(failure, stopped, &report);
  // The run's last settlements ride in its run_end: also when it failed or
  // stopped, every batch whose delete is known durable is settled now.
  Status end = EndRun(*state_, run_id_, report.outcome, options_.exit_code_of(report.status), RunEndDetail(report),
                      executor.TakeSettlements());
  if (report.status.ok()) report.status = end;
  auto head = state_->Head();
  if (head.ok()) report.head_hash = head->hash;
  // The run's result (its end, per category, per target) is said by the
  // command, once per channel (man/retention.8, OUTPUT).
  return report;
}

}  // namespace

Result<PurgeReport> RunPurge(const Config& config, const RuleSet& rules, const PurgeOptions& options) {
  if (!options.env.clock || !options.env.state_opener || !options.env.locks_opener || !options.env.file_system || !options.exit_code_of)
    return Status::Internal("purge: PurgeOptions::env and exit_code_of must be set (pass the command's)");
  return PurgeRun(config, rules, options).Run();
}

}  // namespace retention
