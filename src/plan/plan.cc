#include "plan/plan.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iomanip>

namespace retention {

int64_t Plan::TotalDeletable() const {
  int64_t n = 0;
  for (const auto& t : targets) n += t.stats.deletable;
  return n;
}

std::string ScheduleText(const Category& c) {
  std::string s;
  if (c.delete_after) s = "delete after " + c.delete_after->ToString();
  if (c.keep_at_least) s += (s.empty() ? "" : ", ") + std::string("keep at least ") + c.keep_at_least->ToString();
  return s;
}

Result<Plan> MakePlan(const std::vector<Selection>& selections, StoreSet& stores, Timestamp as_of,
                      Timestamp now, const std::string& rules_hash, const HoldSet& holds,
                      const MeasureProgress& progress) {
  Plan plan;
  plan.as_of = as_of;
  plan.made_at = now;
  plan.rules_hash = rules_hash;
  plan.holds_in_force = static_cast<int64_t>(holds.size());
  for (const Selection& d : selections) {
    if (progress) progress(plan.targets.size(), selections.size(), d);
    auto store = stores.Get(d.target->store);
    if (!store.ok()) return store.status();
    auto stats = (*store)->Measure(d);
    if (!stats.ok()) return stats.status();
    TargetPlan t;
    t.category = d.category->name;
    t.target = d.target->name;
    t.store = d.target->store;
    t.rule = d.target->where.ToString();
    t.cutoff = d.cutoff;
    t.schedule = ScheduleText(*d.category);
    t.stats = std::move(*stats);
    plan.targets.push_back(std::move(t));
  }
  return plan;
}

nlohmann::json PlanToJson(const Plan& plan) {
  nlohmann::json targets = nlohmann::json::array();
  for (const TargetPlan& t : plan.targets) {
    nlohmann::json j = {
        {"category", t.category},
        {"target", t.target},
        {"store", t.store},
        {"rule", t.rule},
        {"schedule", t.schedule},
        {"cutoff", t.cutoff ? nlohmann::json(FormatTimestamp(*t.cutoff)) : nlohmann::json(nullptr)},
        {"records", t.stats.total},
        {"due", t.stats.due},
        {"held", t.stats.held},
        {"floor_protected", t.stats.floor_protected},
        {"deletable", t.stats.deletable},
        {"undated", t.stats.undated},
        {"oldest_due", t.stats.oldest_due ? nlohmann::json(FormatTimestamp(*t.stats.oldest_due))
                                          : nlohmann::json(nullptr)},
        {"sample_keys", t.stats.sample_keys},
    };
    targets.push_back(std::move(j));
  }
  return {{"as_of", FormatTimestamp(plan.as_of)},
          {"made_at", FormatTimestamp(plan.made_at)},
          {"rules_hash", plan.rules_hash},
          {"holds_in_force", plan.holds_in_force},
          {"deletable", plan.TotalDeletable()},
          {"targets", targets}};
}

namespace {

std::string Shorten(const std::string& s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 1) + "~";
}

std::string DateOnly(const std::optional<Timestamp>& t) {
  if (!t) return "-";
  return FormatTimestamp(*t).substr(0, 10);
}

}  // namespace

// Sample keys are printed whole, so that one can be pasted into `explain
// STORE/TARGET/KEY`: as many as fit in a column of kSampleWidth (always the
// first), then how many more --format json lists.
constexpr size_t kSampleWidth = 48;

std::string SampleKeys(const std::vector<std::string>& keys) {
  std::string samples;
  size_t shown = 0;
  for (const auto& k : keys) {
    if (shown > 0 && samples.size() + 1 + k.size() > kSampleWidth) break;
    samples += (samples.empty() ? "" : " ") + k;
    ++shown;
  }
  if (shown < keys.size()) samples += " (+" + std::to_string(keys.size() - shown) + ")";
  return samples;
}

void PrintPlanTable(const Plan& plan, std::ostream& out) {
  out << "Plan as of " << FormatTimestamp(plan.as_of) << " (" << plan.holds_in_force << " hold"
      << (plan.holds_in_force == 1 ? "" : "s") << " in force)\n\n";
  // The store/target column is as wide as its longest name: it is the
  // STORE/TARGET part of what explain takes, so it is never cut.
  int target_width = 18;
  for (const TargetPlan& t : plan.targets)
    target_width = std::max(target_width, static_cast<int>(t.store.size() + 1 + t.target.size()));
  char line[1024];
  std::snprintf(line, sizeof line, "%-16s %-*s %-10s %10s %9s %7s %7s %8s %9s  %-10s  %s\n", "CATEGORY", target_width,
                "STORE/TARGET", "CUTOFF", "RECORDS", "DUE", "HELD", "FLOOR", "UNDATED", "DELETE", "OLDEST",
                "SAMPLE KEYS");
  out << line;
  for (const TargetPlan& t : plan.targets) {
    const std::string samples = SampleKeys(t.stats.sample_keys);  // whole: may be longer than `line`
    std::snprintf(line, sizeof line, "%-16s %-*s %-10s %10lld %9lld %7lld %7lld %8lld %9lld  %-10s  ",
                  Shorten(t.category, 16).c_str(), target_width, (t.store + "/" + t.target).c_str(),
                  DateOnly(t.cutoff).c_str(), static_cast<long long>(t.stats.total),
                  static_cast<long long>(t.stats.due), static_cast<long long>(t.stats.held),
                  static_cast<long long>(t.stats.floor_protected), static_cast<long long>(t.stats.undated),
                  static_cast<long long>(t.stats.deletable), DateOnly(t.stats.oldest_due).c_str());
    out << line << samples << "\n";
  }
  out << "\n" << plan.TotalDeletable() << " record" << (plan.TotalDeletable() == 1 ? "" : "s")
      << " would be deleted. DUE counts records past the cutoff; HELD and FLOOR of them are kept "
         "(legal hold, another rule's minimum); UNDATED records have no usable clock and are never due. "
         "`retention explain STORE/TARGET/KEY` explains one record (every sample key is in --format json).\n";
}

}  // namespace retention
