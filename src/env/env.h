// The environment a command runs in: the clock, the state opener, the locks
// and the file system the files store calls (STYLE.md, "Seams for tests").
//
// main (cli.cc) builds Env::Default() once and hands it down through the
// options of each command (PurgeOptions::env, ...) and into StoreSet for
// the files store. Nothing below the command line reads the system clock,
// opens the state or derives a lock path by itself. Tests replace a piece:
// a fixed clock, a fault-injecting file system
// (tests/support/fault_file_system.h), a state opener that counts opens.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "calendar/timestamp.h"
#include "config/config.h"
#include "state/hold_barrier.h"
#include "state/run_lock.h"
#include "state/state_db.h"
#include "state/state_open.h"
#include "stores/file_system.h"
#include "util/status.h"

namespace retention {

struct Env {
  using Clock = std::function<Timestamp()>;
  // Opens the state a config names; `clock` is this Env's (it stamps the
  // ledger entries the state writes itself).
  using StateOpener =
      std::function<Result<std::unique_ptr<StateDb>>(const Config&, StateOpenMode, const Clock& clock)>;

  Clock clock;                                        // default: SystemNow
  StateOpener state_opener;                           // default: OpenStateDb (state/state_open.h)
  std::shared_ptr<const files::FileSystem> file_system;  // default: PosixFileSystem

  // The production defaults.
  static Env Default();

  Timestamp Now() const { return clock(); }
  Result<std::unique_ptr<StateDb>> OpenState(const Config& config, StateOpenMode mode) const {
    return state_opener(config, mode, clock);
  }

  // The locks of the config's state, their paths from LockPathsFor.
  // The run lock, without waiting (RunLock::TryAcquire).
  Result<RunLock> LockRun(const Config& config) const;
  // The hold barrier, shared (a purge batch) or exclusive (hold add and
  // release); Busy after `timeout`.
  Result<HoldBarrier::Guard> ShareHoldBarrier(
      const Config& config, std::chrono::milliseconds timeout = HoldBarrier::kDefaultTimeout) const;
  Result<HoldBarrier::Guard> ExcludeHoldBarrier(
      const Config& config, std::chrono::milliseconds timeout = HoldBarrier::kDefaultTimeout) const;
};

}  // namespace retention
