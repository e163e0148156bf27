// From rules to per-target decisions: the cutoff each target's records are
// measured against, and the floors of every rule over the same records.
//
// This is the one decision path (SPEC 6.3): `plan` measures these
// decisions, `purge` deletes by them, `explain` evaluates them for one
// record, `erase` (later) narrows them to a subject.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calendar/cutoff.h"
#include "config/config.h"
#include "rules/rule.h"
#include "stores/store.h"

namespace retention {

// Two targets cover the same records when they name the same table of the
// same store, or for files, the same store (their globs may overlap; the
// store checks per file).
bool SameRecords(const Target& a, const Target& b);

// The decision for every target of the selected categories (all when
// `category` is empty), in category then target order. `holds` must stay
// alive while the decisions are used. Unknown category: Usage error.
Result<std::vector<TargetDecision>> MakeDecisions(const Config& config, const RuleSet& rules,
                                                  Timestamp as_of, const std::string& category,
                                                  const HoldSet* holds);

// The zone naive clocks of a store's records are read in.
Result<TimeZone> StoreZone(const Config& config, const std::string& store);

}  // namespace retention
