// Opening the state database from a command, and reading the holds in
// force, the same way for every command.
#pragma once

#include <memory>

#include "config/config.h"
#include "env/env.h"
#include "holds/hold_set.h"
#include "state/state_db.h"

namespace retention {

// Read-only commands (plan, explain, status, hold list) run without a state
// database: nullptr then, as if it were empty, after a warning on stderr
// that no holds could be read (unless `warn_if_missing` is false: the
// caller refuses itself). An empty or damaged file is an error, not "none".
Result<std::unique_ptr<StateDb>> OpenStateForReading(const Env& env, const Config& config,
                                                     bool warn_if_missing = true);

// Commands that write (purge, hold add and release): the state database
// must exist; a missing or empty one is refused (69), never re-created: it
// held the legal holds. Only `retention state init` creates it.
Result<std::unique_ptr<StateDb>> OpenStateForWriting(const Env& env, const Config& config);

// Creates the state database for `retention state init` (refused when a
// file is already there).
Result<std::unique_ptr<StateDb>> CreateState(const Env& env, const Config& config);

// The warning printed when a read-only command finds no state database.
void WarnNoStateDatabase(const Config& config);

// The holds in force at `now` (an empty set without a state database).
Result<HoldSet> LoadHoldSet(StateDb* state, Timestamp now);

}  // namespace retention
