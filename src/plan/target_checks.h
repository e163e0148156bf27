// The checks of the rules against the live stores: tables, columns, types,
// clock encodings that parse, file roots (SPEC 5 `check`).
//
// One function, two callers: `check` reports everything, and `purge` runs
// the same checks before it takes its lock or opens the state database, and
// refuses (65) on any error, so that rules `check` rejects never run
// (SPEC 6.12). A target whose clock values do not parse would otherwise
// purge "successfully" forever while deleting nothing.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "rules/rule.h"
#include "stores/store.h"
#include "stores/store_set.h"
#include "util/status.h"

namespace retention {

struct TargetChecks {
  std::vector<std::string> errors;    // each "FILE:LINE:COL: message"
  std::vector<std::string> warnings;
};

using CategoryTarget = std::pair<const Category*, const Target*>;

// Every target of the rules, in order.
std::vector<CategoryTarget> AllTargets(const RuleSet& rules);

// Runs each target's checks against its store, opened through `stores`.
// kGate skips what only informs (walks counting matching files) and the
// purge log's checks, which only warn and would open the state database
// before the run lock. A store that cannot be opened is its error status.
Status CheckTargets(const Config& config, const std::vector<CategoryTarget>& targets, StoreSet& stores,
                    CheckDepth depth, TargetChecks* out);

// The gate at the start of a purge: Ok, or Invalid naming the first error
// (and how many there are) so that nothing is deleted under such rules.
Status RequireTargetsPass(const Config& config, const std::vector<CategoryTarget>& targets, StoreSet& stores);

}  // namespace retention
