// The environment a command runs in: the clock, the state opener, the
// state's locks and the file system the files store calls (STYLE.md, "Seams for tests").
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
#include "state/state_db.h"
#include "state/state_locks.h"
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

  // Opens the locks of the state a config names.
  using LocksOpener = std::function<Result<std::unique_ptr<StateLocks>>(const Config&)>;

  Clock clock;                                        // default: SystemNow
  StateOpener state_opener;                           // default: OpenStateDb (state/state_open.h)
  LocksOpener locks_opener;                           // default: OpenStateLocks (state/state_open.h)
  std::shared_ptr<const files::FileSystem> file_system;  // default: PosixFileSystem

  // The production defaults.
  static Env Default();

  Timestamp Now() const { return clock(); }
  Result<std::unique_ptr<StateDb>> OpenState(const Config& config, StateOpenMode mode) const {
    return state_opener(config, mode, clock);
  }

  // The locks of the config's state (run lock, target locks, hold
  // barrier): one object per command, which holds what it took.
  Result<std::unique_ptr<StateLocks>> OpenLocks(const Config& config) const { return locks_opener(config); }
};

}  // namespace retention
