#include "plan/verdict.h"

namespace retention {

namespace {

std::string ScopeName(const Selection& s, size_t scope) {
  const SelectionScope& sc = s.scopes[scope];
  return sc.category->name + "/" + sc.target->name;
}

}  // namespace

std::string VerdictText(const Selection& s, const RecordFacts& facts, const Evaluation& ev) {
  const RecordFacts::ScopeFacts* own = facts.scopes.empty() ? nullptr : &facts.scopes[0];
  switch (ev.decided_by) {
    case Decider::kAbsent:
      return "no longer exists (removed by someone else)";
    case Decider::kFilters:
      return "no longer matches the target's filters";
    case Decider::kSubject:
      return "not a record of subject " + s.subject.value_or("");
    case Decider::kUndated:
      return "undated: its clock '" + own->clock_text + "' is empty or does not parse, so it is never due";
    case Decider::kNoCutoff:
      return "its category has only a floor (keep_at_least): nothing is due under it";
    case Decider::kNotDue:
      return "clock " + FormatTimestamp(*own->clock) + " is not before the cutoff " + FormatTimestamp(*s.cutoff);
    case Decider::kHeld: {
      const HoldExclusion& e = s.exclusions[ev.index];
      std::string text = "held by hold " + std::to_string(e.hold_id) + " (" + e.matter + ")";
      if (e.scope != 0) text += " under " + ScopeName(s, e.scope);
      return text;
    }
    case Decider::kFloor: {
      const FloorGuard& floor = s.floors[ev.index];
      const Category& c = *s.scopes[floor.scope].category;
      const std::optional<Timestamp>& clock = facts.scopes[floor.scope].clock;
      return "protected by the floor of " + ScopeName(s, floor.scope) + " (keep at least " +
             (c.keep_at_least ? c.keep_at_least->ToString() : std::string("?")) + ": " +
             (clock ? "clock " + FormatTimestamp(*clock) : std::string("no usable clock")) + " is not before " +
             FormatTimestamp(floor.floor_cutoff) + ")";
    }
    case Decider::kKeptBehind:
      return facts.kept_behind;
    case Decider::kDeletable:
      if (s.any_age || !s.cutoff || !own->clock)
        return "selected whatever its age; no hold covers it and no floor protects it";
      return "due: clock " + FormatTimestamp(*own->clock) + " is before the cutoff " + FormatTimestamp(*s.cutoff) +
             ", no hold covers it and no floor protects it";
  }
  return "";
}

RecordVerdict JudgeRecord(const Selection& selection, const RecordFacts& facts) {
  RecordVerdict v;
  v.evaluation = Evaluate(selection, facts);
  v.deletable = v.evaluation.deletable;
  v.reason = VerdictText(selection, facts, v.evaluation);
  return v;
}

}  // namespace retention
