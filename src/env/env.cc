#include "env/env.h"

namespace retention {

Env Env::Default() {
  Env env;
  env.clock = SystemNow;
  env.state_opener = [](const Config& config, StateOpenMode mode, const Clock& clock) {
    return OpenStateDb(config, mode, clock);
  };
  env.file_system = files::PosixFileSystem();
  return env;
}

Result<RunLock> Env::LockRun(const Config& config) const {
  return RunLock::TryAcquire(LockPathsFor(config.state).run_lock);
}

Result<HoldBarrier::Guard> Env::ShareHoldBarrier(const Config& config, std::chrono::milliseconds timeout) const {
  return HoldBarrier::Shared(LockPathsFor(config.state).hold_barrier, timeout);
}

Result<HoldBarrier::Guard> Env::ExcludeHoldBarrier(const Config& config, std::chrono::milliseconds timeout) const {
  const StateLockPaths paths = LockPathsFor(config.state);
  return HoldBarrier::Exclusive(paths.hold_barrier, timeout, paths.run_lock);
}

}  // namespace retention
