#include "plan/selection.h"

#include <cctype>
#include <string_view>

namespace retention {
namespace {

// SQLite's table names are case-insensitive (ASCII).
std::string FoldedTableName(std::string_view name) {
  std::string folded;
  for (char c : name) folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return folded;
}

}  // namespace

std::string RecordsKey(const Target& target) {
  if (!target.paths.empty()) return "files";
  // The table's own name, without a schema: PostgreSQL reads "events" as
  // "public.events", and SQLite "main.events" as "events". Two tables of
  // one name in two schemas, or differing only in case, then share a key,
  // which only makes their runs take turns: when unsure, the same records.
  const std::string_view table(target.table);
  const size_t dot = table.rfind('.');
  return "table:" + FoldedTableName(dot == std::string_view::npos ? table : table.substr(dot + 1));
}

bool SameRecords(const Target& a, const Target& b) {
  if (a.store != b.store) return false;
  if (!a.paths.empty() || !b.paths.empty()) return !a.paths.empty() && !b.paths.empty();
  return FoldedTableName(a.table) == FoldedTableName(b.table);
}

Result<TimeZone> StoreZone(const Config& config, const std::string& store) {
  auto it = config.stores.find(store);
  std::string name = config.time_zone;
  if (it != config.stores.end() && !it->second.time_zone.empty()) name = it->second.time_zone;
  return TimeZone::Load(name);
}

Result<std::vector<Selection>> MakeSelections(const Config& config, const RuleSet& rules, Timestamp as_of,
                                              const std::string& category) {
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  bool found = category.empty();
  std::vector<Selection> selections;
  for (const Category& c : rules.categories) {
    if (!category.empty() && c.name != category) continue;
    found = true;
    for (const Target& t : c.targets) {
      Selection s;
      s.category = &c;
      s.target = &t;
      if (c.delete_after) s.cutoff = ComputeCutoff(as_of, *c.delete_after, *zone);
      auto store_zone = StoreZone(config, t.store);
      if (!store_zone.ok()) return store_zone.status();
      s.zone = *store_zone;
      // Every target over the same records is a scope, this one first: a
      // hold under any of them keeps the record, and every floor over them
      // guards it, this rule's own included (it matters when a path other
      // than the schedule deletes).
      s.scopes.push_back({&c, &t});
      for (const Category& other : rules.categories) {
        for (const Target& ot : other.targets) {
          if (!SameRecords(t, ot)) continue;
          size_t scope = 0;
          if (&ot != &t) {
            scope = s.scopes.size();
            s.scopes.push_back({&other, &ot});
          }
          if (other.keep_at_least) s.floors.push_back({scope, ComputeCutoff(as_of, *other.keep_at_least, *zone)});
        }
      }
      selections.push_back(std::move(s));
    }
  }
  if (!found) {
    std::string known;
    for (const Category& c : rules.categories) known += (known.empty() ? "" : ", ") + c.name;
    return Status::Usage("unknown category '" + category + "' (the rules define: " + known + ")");
  }
  return selections;
}

Selection WithHolds(Selection base, const HoldSet& holds) {
  base.exclusions.clear();
  for (const Hold& h : holds.holds()) {
    const HoldScope& hs = h.scope;
    // A subject kind without an id matches no record (HoldSet::Matches).
    if (hs.subject_kind && !hs.subject_id) continue;
    for (size_t i = 0; i < base.scopes.size(); ++i) {
      const SelectionScope& scope = base.scopes[i];
      if (hs.category && *hs.category != scope.category->name) continue;
      if (hs.target && *hs.target != scope.target->name) continue;
      HoldExclusion e;
      e.hold_id = h.id;
      e.matter = h.matter;
      e.scope = i;
      if (hs.subject_kind) {
        e.subject_kind = hs.subject_kind;
        e.subject_id = hs.subject_id;
      }
      e.key = hs.key;
      e.clock_from = hs.clock_from;
      e.clock_until = hs.clock_until;
      base.exclusions.push_back(std::move(e));
    }
  }
  base.holds_applied = true;
  return base;
}

std::vector<Selection> WithHolds(std::vector<Selection> base, const HoldSet& holds) {
  for (Selection& s : base) s = WithHolds(std::move(s), holds);
  return base;
}

bool ExclusionCovers(const HoldExclusion& e, const RecordFacts& facts) {
  if (e.scope >= facts.scopes.size()) return false;
  const RecordFacts::ScopeFacts& s = facts.scopes[e.scope];
  if (!s.matches_filters) return false;
  if (e.subject_kind && (!s.subject_kind || !s.subject_id || *s.subject_kind != *e.subject_kind ||
                         *s.subject_id != *e.subject_id))
    return false;
  if (e.key && *e.key != facts.key) return false;
  // An undated record is covered by any clock range: when unsure, keep.
  if (s.clock) {
    if (e.clock_from && *s.clock < *e.clock_from) return false;
    if (e.clock_until && !(*s.clock < *e.clock_until)) return false;
  }
  return true;
}

bool FloorProtects(const FloorGuard& floor, const RecordFacts& facts) {
  if (floor.scope >= facts.scopes.size()) return true;  // unknown: keep
  const RecordFacts::ScopeFacts& s = facts.scopes[floor.scope];
  if (!s.matches_filters) return false;
  return !s.clock || !(*s.clock < floor.floor_cutoff);
}

Status CheckRenderable(const Selection& selection) {
  if (!selection.category || !selection.target || selection.scopes.empty() ||
      selection.scopes[0].target != selection.target || selection.scopes[0].category != selection.category)
    return Status::Internal("a selection without its own target as scope 0");
  for (const SelectionScope& scope : selection.scopes)
    if (!scope.category || !scope.target) return Status::Internal("a selection scope without a target");
  for (const FloorGuard& floor : selection.floors)
    if (floor.scope >= selection.scopes.size()) return Status::Internal("a floor guard without a scope");
  for (const HoldExclusion& e : selection.exclusions)
    if (e.scope >= selection.scopes.size()) return Status::Internal("a hold exclusion without a scope");
  if (!selection.holds_applied)
    return Status::Internal("selection for " + selection.category->name + "/" + selection.target->name +
                            ": holds not loaded; refusing to select anything");
  return Status::Ok();
}

const char* DeciderName(Decider decider) {
  switch (decider) {
    case Decider::kAbsent: return "gone";
    case Decider::kFilters: return "no longer matches the filters";
    case Decider::kSubject: return "another subject";
    case Decider::kUndated: return "undated";
    case Decider::kNoCutoff: return "nothing is due under a floor-only rule";
    case Decider::kNotDue: return "no longer due";
    case Decider::kHeld: return "held";
    case Decider::kFloor: return "protected by a floor";
    case Decider::kKeptBehind: return "kept behind an older record";
    case Decider::kDeletable: return "deletable";
  }
  return "";
}

Evaluation Evaluate(const Selection& selection, const RecordFacts& facts) {
  if (!facts.exists || facts.scopes.empty()) return {false, Decider::kAbsent, 0};
  const RecordFacts::ScopeFacts& own = facts.scopes[0];
  if (!own.matches_filters) return {false, Decider::kFilters, 0};
  if (selection.subject && (!own.subject_id || *own.subject_id != *selection.subject))
    return {false, Decider::kSubject, 0};
  if (!selection.any_age) {
    if (!own.clock) return {false, Decider::kUndated, 0};
    if (!selection.cutoff) return {false, Decider::kNoCutoff, 0};
    if (!(*own.clock < *selection.cutoff)) return {false, Decider::kNotDue, 0};
  }
  for (size_t i = 0; i < selection.exclusions.size(); ++i)
    if (ExclusionCovers(selection.exclusions[i], facts)) return {false, Decider::kHeld, i};
  for (size_t i = 0; i < selection.floors.size(); ++i)
    if (FloorProtects(selection.floors[i], facts)) return {false, Decider::kFloor, i};
  if (!facts.kept_behind.empty()) return {false, Decider::kKeptBehind, 0};
  return {true, Decider::kDeletable, 0};
}

}  // namespace retention
