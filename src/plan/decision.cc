#include "plan/decision.h"

namespace retention {

bool SameRecords(const Target& a, const Target& b) {
  if (a.store != b.store) return false;
  if (!a.paths.empty() || !b.paths.empty()) return !a.paths.empty() && !b.paths.empty();
  // SQLite table names are case-insensitive.
  if (a.table.size() != b.table.size()) return false;
  for (size_t i = 0; i < a.table.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a.table[i])) != std::tolower(static_cast<unsigned char>(b.table[i])))
      return false;
  return true;
}

Result<TimeZone> StoreZone(const Config& config, const std::string& store) {
  auto it = config.stores.find(store);
  std::string name = config.time_zone;
  if (it != config.stores.end() && !it->second.time_zone.empty()) name = it->second.time_zone;
  return TimeZone::Load(name);
}

Result<std::vector<TargetDecision>> MakeDecisions(const Config& config, const RuleSet& rules, Timestamp as_of,
                                                  const std::string& category, const HoldSet* holds) {
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  bool found = category.empty();
  std::vector<TargetDecision> decisions;
  for (const Category& c : rules.categories) {
    if (!category.empty() && c.name != category) continue;
    found = true;
    for (const Target& t : c.targets) {
      TargetDecision d;
      d.category = &c;
      d.target = &t;
      d.holds = holds;
      if (c.delete_after) d.cutoff = ComputeCutoff(as_of, *c.delete_after, *zone);
      auto store_zone = StoreZone(config, t.store);
      if (!store_zone.ok()) return store_zone.status();
      d.zone = *store_zone;
      // Every floor over the same records guards them, this rule's own
      // included (it matters when a path other than the schedule deletes).
      d.overlaps.push_back({&c, &t});
      for (const Category& other : rules.categories) {
        for (const Target& ot : other.targets) {
          if (!SameRecords(t, ot)) continue;
          if (&ot != &t) d.overlaps.push_back({&other, &ot});
          if (other.keep_at_least)
            d.floors.push_back({&other, &ot, ComputeCutoff(as_of, *other.keep_at_least, *zone)});
        }
      }
      decisions.push_back(std::move(d));
    }
  }
  if (!found) {
    std::string known;
    for (const Category& c : rules.categories) known += (known.empty() ? "" : ", ") + c.name;
    return Status::Usage("unknown category '" + category + "' (the rules define: " + known + ")");
  }
  return decisions;
}

}  // namespace retention
