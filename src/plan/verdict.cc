#include "plan/verdict.h"

namespace retention {

RecordVerdict JudgeRecord(const TargetDecision& d, const std::string& key, const RecordFacts& facts) {
  if (!facts.exists) return {false, "no longer exists (removed by someone else)"};
  if (!facts.matches_filters) return {false, "no longer matches the target's filters"};
  if (!facts.clock)
    return {false, "undated: its clock '" + facts.clock_text + "' is empty or does not parse, so it is never due"};
  if (!d.cutoff) return {false, "its category has only a floor (keep_at_least): nothing is due under it"};
  if (!IsDue(*facts.clock, *d.cutoff))
    return {false, "clock " + FormatTimestamp(*facts.clock) + " is not before the cutoff " + FormatTimestamp(*d.cutoff)};
  if (d.holds) {
    RecordRef ref;
    ref.category = d.category->name;
    ref.target = d.target->name;
    ref.key = key;
    if (!facts.subject_kind.empty()) {
      ref.subject_kind = facts.subject_kind;
      ref.subject_id = facts.subject;
    } else if (d.target->subject && !facts.subject.empty()) {
      ref.subject_kind = d.target->subject->kind;
      ref.subject_id = facts.subject;
    }
    ref.clock = facts.clock;
    if (const Hold* h = d.holds->Covering(ref))
      return {false, "held by hold " + std::to_string(h->id) + " (" + h->matter + ")"};
  }
  for (size_t i = 0; i < facts.guards.size() && i < d.floors.size(); ++i) {
    const auto& g = facts.guards[i];
    if (!g.applies) continue;
    const FloorGuard& floor = d.floors[i];
    if (!g.clock || !IsDue(*g.clock, floor.floor_cutoff))
      return {false, "protected by the floor of " + floor.category->name + "/" + floor.target->name + " (keep at least " +
                         floor.category->keep_at_least->ToString() + ": " +
                         (g.clock ? "clock " + FormatTimestamp(*g.clock) : std::string("no usable clock")) +
                         " is not before " + FormatTimestamp(floor.floor_cutoff) + ")"};
  }
  if (!facts.kept_behind.empty()) return {false, facts.kept_behind};
  return {true, "due: clock " + FormatTimestamp(*facts.clock) + " is before the cutoff " + FormatTimestamp(*d.cutoff) +
                    ", no hold covers it and no floor protects it"};
}

}  // namespace retention
