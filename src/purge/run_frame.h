// The run around the batch executor, shared by `purge` and `erase`: what a
// run takes before its first batch (the run lock, the hold barrier's file,
// the state claimed, the ledger's tail verified, crashed batches
// reconciled, the clock checked, the holds read) and what every batch
// checks (still in place, out of time). One place, so that an erasure is
// guarded exactly as a purge is (SPEC 6.2-6.7).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "config/config.h"
#include "env/env.h"
#include "holds/hold_set.h"
#include "purge/batch_executor.h"
#include "rules/rule.h"
#include "state/state_db.h"
#include "state/state_locks.h"
#include "stores/store_set.h"
#include "util/status.h"

namespace retention {

class RunFrame {
 public:
  struct Options {
    Timestamp now{};      // the real clock at the start (clock sanity)
    Timestamp started{};  // max_runtime counts from here
    bool allow_clock_jump = false;
    bool allow_clock_behind = false;
    std::optional<std::chrono::seconds> max_runtime;
    const std::atomic<bool>* stop_requested = nullptr;
  };
  RunFrame(const Config& config, const RuleSet& rules, const Env& env, Options options)
      : config_(config), rules_(rules), env_(env), options_(options) {}

  // Lock, barrier file, state (never created here: a missing state held the
  // holds), claim, ledger tail, reconciliation, clock sanity, holds: in
  // this order, each refusing as purge documents (exit 75, 74, 78, 77 ...).
  Status Open(StoreSet& stores);

  StateDb& state() { return *state_; }
  const HoldSet& holds() const { return holds_; }
  int64_t reconciled() const { return reconciled_; }
  Timestamp Now() const { return env_.Now(); }

  // Claims `target`'s records for this run across every host sharing the
  // state, held while the result lives: the lock on its records
  // (StateLocks::LockTarget keyed by RecordsKey, so two targets over one
  // table exclude each other; a files store's by this host alone, its disk
  // being its own), then, in a PostgreSQL state, no other host's batch
  // left open over them (CheckNoOtherHostsOpenBatch). Busy: skip the
  // target, the run ends with work left (exit 75). Purge and erase both
  // claim every target before its first batch.
  Result<std::unique_ptr<HeldLock>> LockTarget(const Target& target);

  // Ok while the run lock and state database are the ones this run opened:
  // checked before every batch and the run's end, so that a run whose
  // ledger was removed stops before its next deletion (SPEC 6.5).
  Status CheckStillInPlace();
  // SIGTERM/SIGINT, or max_runtime since Open.
  bool OutOfTime() const;

  // The executor's options for the run `run_id`: barrier, in-place check,
  // clock, out of time; the caller adds on_batch and request.
  ExecutorOptions BatchOptions(int64_t run_id, int64_t batch_size);

 private:
  const Config& config_;
  const RuleSet& rules_;
  const Env& env_;
  Options options_;
  std::unique_ptr<StateLocks> locks_;
  std::unique_ptr<HeldLock> lock_;  // the run lock
  std::unique_ptr<StateDb> state_;
  HoldSet holds_;
  int64_t reconciled_ = 0;
};

}  // namespace retention
