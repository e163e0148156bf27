// The locks of a SQLite state: flock()ed files beside its database
// (LockPathsFor, state/state_open.h), as they have always been: the run
// lock (state/run_lock.h) and the hold barrier (state/hold_barrier.h). One
// host reaches such a state, and its run lock keeps every other run out,
// so a target needs no lock of its own.
#pragma once

#include <memory>

#include "state/state_locks.h"
#include "state/state_open.h"

namespace retention {

std::unique_ptr<StateLocks> MakeFileStateLocks(const StateLockPaths& paths);

}  // namespace retention
