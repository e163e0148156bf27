// The hold barrier: makes "a hold is effective the moment `hold add`
// returns" (SPEC section 4, Holds) true while a purge is running. The
// reasoning is at the top of hold_barrier.cc. This is the lock file barrier
// of a SQLite state; a PostgreSQL state's is an advisory lock
// (state/postgres_state_locks.cc). Both are reached through StateLocks
// (state/state_locks.h), whose Guard is this one.
//
// Usage (through StateLocks, state/file_state_locks.h, which derives the
// path from the config):
//   purge, per batch:   auto g = HoldBarrier::Shared(LockPathsFor(state).hold_barrier);
//                       read holds; pick records; write pending; DELETE and
//                       commit on the target; then drop g.
//   hold add / release: auto g = HoldBarrier::Exclusive(LockPathsFor(state).hold_barrier);
//                       write the hold (commit); then drop g; then return.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include "util/status.h"

namespace retention {

// A lock a state's backend holds for this process (state/state_locks.h),
// released when destroyed.
class HeldLock {
 public:
  virtual ~HeldLock() = default;
  // Ok while the lock is certainly still held, checked just before a step
  // that relies on it cannot be undone; otherwise why not (Unavailable or
  // Busy): the step must not be taken.
  virtual Status Confirm() = 0;
};

class HoldBarrier {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{60000};

  // The barrier's lock file is "<state path>.holds-lock" (LockPathsFor in
  // state/state_open.h). A second file beside it, "<lock path>.gate", keeps
  // waiting writers from being starved.

  // Holds the barrier until destroyed (or moved from): this file barrier,
  // or the barrier of another state's backend (state/state_locks.h).
  class Guard {
   public:
    explicit Guard(std::unique_ptr<HeldLock> held, bool exclusive)
        : held_(std::move(held)), held_exclusive_(exclusive) {}
    Guard(Guard&& other) noexcept;
    Guard& operator=(Guard&& other) noexcept;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard();
    bool exclusive() const { return gate_fd_ >= 0 || (held_ && held_exclusive_); }

    // Ok while the barrier is certainly still held (HeldLock::Confirm; a
    // file barrier is held until released). A store calls it right before
    // its deletion becomes irrevocable (Selection::confirm_barrier).
    Status Confirm() const { return held_ ? held_->Confirm() : Status::Ok(); }
    // Confirm, callable from a copy of the selection that may outlive the
    // guard: once the guard is released it answers Internal.
    std::function<Status()> Confirmer() const;

   private:
    friend class HoldBarrier;
    Guard(int barrier_fd, int gate_fd) : barrier_fd_(barrier_fd), gate_fd_(gate_fd) {}
    void Release();
    int barrier_fd_ = -1;
    int gate_fd_ = -1;  // held only by an exclusive guard
    std::shared_ptr<HeldLock> held_;  // another backend's barrier
    bool held_exclusive_ = false;
  };

  // Shared: many purge batches (of any process) at once. Waits while a hold
  // is being written, up to `timeout` (0: do not wait): then Busy.
  static Result<Guard> Shared(const std::filesystem::path& lock_path,
                              std::chrono::milliseconds timeout = kDefaultTimeout);
  // Exclusive: waits for the batches in flight to commit, and keeps new ones
  // from starting, up to `timeout`: then Busy. `run_lock_path` names the
  // run lock (LockPathsFor): when the barrier file is missing while a
  // run holds that lock, the file was removed under a batch that may still
  // hold it, so this waits for the run's next batch to re-create it rather
  // than lock a new file that batch does not see.
  static Result<Guard> Exclusive(const std::filesystem::path& lock_path,
                                 std::chrono::milliseconds timeout = kDefaultTimeout,
                                 const std::filesystem::path& run_lock_path = {});
};

}  // namespace retention
