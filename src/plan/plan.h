// The plan: what is due per category and target, as a plain value that
// `plan` prints and saves and `purge` executes (STYLE.md, "Decide, then act").
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "holds/hold_set.h"
#include "plan/selection.h"
#include "rules/rule.h"
#include "stores/store_set.h"

namespace retention {

struct TargetPlan {
  std::string category;
  std::string target;
  std::string store;
  std::string rule;  // FILE:LINE:COL of the target
  std::optional<Timestamp> cutoff;
  std::string schedule;  // "delete after 90 days, keep at least 30 days"
  TargetStats stats;
};

struct Plan {
  Timestamp as_of{};
  Timestamp made_at{};
  std::string rules_hash;
  int64_t holds_in_force = 0;
  std::vector<TargetPlan> targets;

  int64_t TotalDeletable() const;
};

// Measures every selection (its holds applied: WithHolds with `holds`) on
// its store. Stores must be opened read-only by the caller for a dry run.
// `progress`, when set, is told before each selection is measured.
Result<Plan> MakePlan(const std::vector<Selection>& selections, StoreSet& stores, Timestamp as_of,
                      Timestamp now, const std::string& rules_hash, const HoldSet& holds,
                      const MeasureProgress& progress = {});

std::string ScheduleText(const Category& c);

nlohmann::json PlanToJson(const Plan& plan);
void PrintPlanTable(const Plan& plan, std::ostream& out);

}  // namespace retention
