#include "state/file_state_locks.h"

#include "state/run_lock.h"

namespace retention {
namespace {

class FileRunLock final : public HeldLock {
 public:
  explicit FileRunLock(RunLock lock) : lock_(std::move(lock)) {}
  Status Confirm() override { return lock_.CheckInPlace(); }

 private:
  RunLock lock_;
};

// The run lock already keeps every other run of this state out.
class NoTargetLock final : public HeldLock {
 public:
  Status Confirm() override { return Status::Ok(); }
};

class FileStateLocks final : public StateLocks {
 public:
  explicit FileStateLocks(StateLockPaths paths) : paths_(std::move(paths)) {}

  Result<std::unique_ptr<HeldLock>> LockRun() override {
    auto lock = RunLock::TryAcquire(paths_.run_lock);
    if (!lock.ok()) return lock.status();
    return std::unique_ptr<HeldLock>(std::make_unique<FileRunLock>(std::move(*lock)));
  }
  Result<std::unique_ptr<HeldLock>> LockTarget(const std::string&, const std::string&) override {
    return std::unique_ptr<HeldLock>(std::make_unique<NoTargetLock>());
  }
  Result<HoldBarrier::Guard> ShareHoldBarrier(std::chrono::milliseconds timeout) override {
    return HoldBarrier::Shared(paths_.hold_barrier, timeout);
  }
  Result<HoldBarrier::Guard> ExcludeHoldBarrier(std::chrono::milliseconds timeout) override {
    return HoldBarrier::Exclusive(paths_.hold_barrier, timeout, paths_.run_lock);
  }

 private:
  StateLockPaths paths_;
};

}  // namespace

std::unique_ptr<StateLocks> MakeFileStateLocks(const StateLockPaths& paths) {
  return std::make_unique<FileStateLocks>(paths);
}

}  // namespace retention
