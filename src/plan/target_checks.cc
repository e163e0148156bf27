#include "plan/target_checks.h"

#include <spdlog/spdlog.h>

namespace retention {

std::vector<CategoryTarget> AllTargets(const RuleSet& rules) {
  std::vector<CategoryTarget> all;
  for (const Category& c : rules.categories)
    for (const Target& t : c.targets) all.emplace_back(&c, &t);
  return all;
}

Status CheckTargets(const Config& config, const std::vector<CategoryTarget>& targets, StoreSet& stores,
                    CheckDepth depth, TargetChecks* out) {
  for (const auto& [category, target] : targets) {
    if (depth == CheckDepth::kGate) {
      auto it = config.stores.find(target->store);
      if (it != config.stores.end() && it->second.type == StoreType::kPurgeLog) continue;
    }
    auto store = stores.Get(target->store);
    if (!store.ok()) return store.status();
    TargetCheck check;
    check.depth = depth;
    RETENTION_RETURN_IF_ERROR((*store)->CheckTarget(*category, *target, &check));
    out->errors.insert(out->errors.end(), check.errors.begin(), check.errors.end());
    out->warnings.insert(out->warnings.end(), check.warnings.begin(), check.warnings.end());
  }
  return Status::Ok();
}

Status RequireTargetsPass(const Config& config, const std::vector<CategoryTarget>& targets, StoreSet& stores) {
  TargetChecks checks;
  RETENTION_RETURN_IF_ERROR(CheckTargets(config, targets, stores, CheckDepth::kGate, &checks));
  // Warnings are `check`'s to raise; a purge only notes them, so that an
  // unattended run's log is not a warning each night for a missing index.
  for (const auto& w : checks.warnings) spdlog::info("check: {}", w);
  if (checks.errors.empty()) return Status::Ok();
  for (size_t i = 1; i < checks.errors.size(); ++i) spdlog::error("{}", checks.errors[i]);
  std::string more;
  if (checks.errors.size() > 1) more = " (and " + std::to_string(checks.errors.size() - 1) + " more, logged above)";
  return Status::Invalid(checks.errors.front() + more +
                         "; nothing was deleted: fix the rules (see `retention check`)");
}

}  // namespace retention
