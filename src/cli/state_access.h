// Opening the state database from a command, and reading the holds in
// force, the same way for every command.
#pragma once

#include <memory>

#include "config/config.h"
#include "holds/hold_set.h"
#include "state/state_db.h"

namespace retention {

// Read-only commands (plan, check) run without a state database: nullptr
// then, as if it were empty.
Result<std::unique_ptr<StateDb>> OpenStateForReading(const Config& config);
Result<std::unique_ptr<StateDb>> OpenStateForWriting(const Config& config);

// The holds in force at `now` (an empty set without a state database).
Result<HoldSet> LoadHoldSet(StateDb* state, Timestamp now);

}  // namespace retention
