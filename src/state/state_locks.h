// The locks of a state: the run lock (SPEC 6.5), a per-target lock and the
// hold barrier (SPEC section 4, Holds), taken the way the state's backend
// keeps them. A SQLite state keeps lock files beside its database
// (state/file_state_locks.h: one host, the run lock makes a target lock
// needless); a PostgreSQL state shared by a fleet keeps advisory locks on
// a connection of their own (state/postgres_state_locks.h). Opened through
// Env (env/env.h) from the config's state, once per command: the locks a
// run takes live as long as the object that took them.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "state/hold_barrier.h"
#include "state/state_db.h"
#include "util/status.h"

namespace retention {

class StateLocks {
 public:
  virtual ~StateLocks() = default;

  // One run at a time per host and state, without waiting: Busy naming
  // who holds it. Confirm() on the lock: the run may go on (the lock file
  // still in place; the lock's session still alive), checked before every
  // batch.
  virtual Result<std::unique_ptr<HeldLock>> LockRun() = 0;

  // One run at a time over `records` of `store` (a table's RecordsKey)
  // across every host sharing the state, without waiting: Busy naming who
  // holds it (the run skips the target, says so, and exits 75). The
  // caller holds the run lock.
  virtual Result<std::unique_ptr<HeldLock>> LockTarget(const std::string& store, const std::string& records) = 0;

  // The hold barrier, shared (a purge batch) or exclusive (hold add and
  // release), waiting up to `timeout`: then Busy.
  virtual Result<HoldBarrier::Guard> ShareHoldBarrier(std::chrono::milliseconds timeout) = 0;
  virtual Result<HoldBarrier::Guard> ExcludeHoldBarrier(std::chrono::milliseconds timeout) = 0;

  // What `hold add` and `release` wait after their hold is committed and
  // the exclusive barrier released, before they return, so that no batch
  // that lost its barrier can still commit a delete the hold covers (the
  // argument is in postgres_state_locks.cc). A lock file cannot be lost
  // while its process lives: nothing to wait.
  virtual Status AwaitBarrierLosers(StateDb& state) {
    (void)state;
    return Status::Ok();
  }
};

// `hold add` and `hold release`: `write` (which commits the hold and its
// ledger entry) under the exclusive barrier. When the barrier turns out to
// have been lost before `write` committed, it is taken again, which waits
// for every batch that may have read the holds without it; then
// AwaitBarrierLosers. On return, every batch that commits a delete
// afterwards has read the holds after `write` committed.
Status WriteUnderHoldBarrier(StateLocks& locks, StateDb& state, const std::function<Status()>& write,
                             std::chrono::milliseconds timeout = HoldBarrier::kDefaultTimeout);

}  // namespace retention
