// The selections a command would make, its holds applied: MakeSelections
// then WithHolds, as plan and purge do.
#pragma once

#include "plan/selection.h"

namespace retention::testing {

inline Result<std::vector<Selection>> HeldSelections(const Config& config, const RuleSet& rules, Timestamp as_of,
                                                     const std::string& category, const HoldSet& holds) {
  auto selections = MakeSelections(config, rules, as_of, category);
  if (!selections.ok()) return selections.status();
  return WithHolds(std::move(*selections), holds);
}

}  // namespace retention::testing
