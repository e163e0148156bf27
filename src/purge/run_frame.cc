#include "purge/run_frame.h"

#include "plan/selection.h"
#include "purge/reconcile.h"
#include "purge/run_guards.h"
#include "state/state_open.h"

namespace retention {

Status RunFrame::Open(StoreSet& stores) {
  auto locks = env_.OpenLocks(config_);
  if (!locks.ok()) return locks.status();
  locks_ = std::move(*locks);
  auto lock = locks_->LockRun();
  if (!lock.ok()) return lock.status();
  lock_ = std::move(*lock);
  // The hold barrier's file exists before the first intent: a batch takes
  // the barrier only after its intent is committed, and `hold add`, finding
  // a running purge without the file, waits for a batch to re-create it
  // (state/hold_barrier.h) instead of placing the hold.
  {
    auto barrier = locks_->ShareHoldBarrier(HoldBarrier::kDefaultTimeout);
    if (!barrier.ok()) return barrier.status();
  }
  // Never created here: a missing or empty state database held the legal
  // holds (state init creates it).
  auto state = env_.OpenState(config_, StateOpenMode::kWrite);
  if (!state.ok()) return state.status();
  state_ = std::move(*state);
  RETENTION_RETURN_IF_ERROR(state_->ClaimForRun());
  RETENTION_RETURN_IF_ERROR(CheckLedgerTail(*state_));
  // A state a fleet shares: only this host's runs (the others' are theirs).
  const std::optional<std::string> only_host =
      config_.state.IsPostgres() ? std::optional<std::string>(HostNameInState(config_.state)) : std::nullopt;
  auto reconciled = Reconcile(*state_, stores, rules_, only_host);
  if (!reconciled.ok()) return reconciled.status();
  reconciled_ = *reconciled;
  RETENTION_RETURN_IF_ERROR(CheckClockSanity(*state_, only_host, options_.now, config_.limits, options_.allow_clock_jump,
                                             options_.allow_clock_behind));
  auto holds = state_->ListHolds(/*include_released=*/false);
  if (!holds.ok()) return holds.status();
  holds_ = HoldSet(*holds, env_.Now());
  return Status::Ok();
}

Result<std::unique_ptr<HeldLock>> RunFrame::LockTarget(const Target& target) {
  const std::string host = HostNameInState(config_.state);
  const bool own_disk = config_.stores.at(target.store).type == StoreType::kFiles;
  auto lock = locks_->LockTarget(own_disk ? target.store + "@" + host : target.store, RecordsKey(target));
  if (!lock.ok() || own_disk || !config_.state.IsPostgres()) return lock;
  RETENTION_RETURN_IF_ERROR(CheckNoOtherHostsOpenBatch(*state_, rules_, target, host));
  return lock;
}

Status RunFrame::CheckStillInPlace() {
  RETENTION_RETURN_IF_ERROR(lock_->Confirm());
  return state_->CheckStillInPlace();
}

bool RunFrame::OutOfTime() const {
  if (options_.stop_requested && options_.stop_requested->load()) return true;
  return options_.max_runtime && env_.Now() - options_.started >= *options_.max_runtime;
}

ExecutorOptions RunFrame::BatchOptions(int64_t run_id, int64_t batch_size) {
  ExecutorOptions o;
  o.run_id = run_id;
  o.batch_size = batch_size;
  o.hold_barrier = [this] { return locks_->ShareHoldBarrier(HoldBarrier::kDefaultTimeout); };
  o.check_in_place = [this] { return CheckStillInPlace(); };
  o.clock = [this] { return Now(); };
  o.out_of_time = [this] { return OutOfTime(); };
  return o;
}

}  // namespace retention
