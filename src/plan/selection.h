// The deletion rule as data (SPEC 6.3): which records of one target may go.
//
// A Selection is a plain value. It names the target, the cutoff its clock
// is measured against, the floors of every rule over the same records and
// the holds in force as exclusions, each with the scope it is matched
// under. Nothing in it points at mutable state: the category and target
// pointers are into the loaded rules, which never change while a command
// runs. Holds enter only through WithHolds, so a caller that refreshes the
// holds before a batch makes a new Selection and passes it with the call.
//
// A record is deletable under a Selection when, all at once:
//   - it matches the target's filters;
//   - when `subject` is set (an erasure), its subject under the target is
//     that one;
//   - its clock parses and clock < cutoff (strictly), or `any_age` is set;
//   - no exclusion covers it: an exclusion covers a record when the
//     filters of the exclusion's scope match it and every field the
//     exclusion gives matches the record as that scope sees it (subject,
//     key, clock range; an undated record is covered by any clock range:
//     when unsure, keep);
//   - for every floor guard whose scope's filters match it, its clock under
//     that scope parses and is < the guard's floor cutoff (an unparseable
//     clock under a floor is protected: when unsure, keep).
//
// Every backend renders this one value: the SQLite store into one SQL
// predicate (stores/sqlite_selection_sql.*), the files store and the purge
// log store into a C++ evaluation over what they read of a record, and
// Evaluate below is the reference all of them are tested against
// (tests/plan/selection_agreement_test.cc). `explain` prints Evaluate's
// answer: which part decided.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "calendar/cutoff.h"
#include "config/config.h"
#include "holds/hold_set.h"
#include "rules/rule.h"
#include "util/status.h"

namespace retention {

// A target over the same records as the selection's own (stores/ decide
// "the same records": the same table of the same store, any two targets of
// one files store). Scope 0 is the selection's own target.
struct SelectionScope {
  const Category* category = nullptr;
  const Target* target = nullptr;
};

// A rule's floor over these records: a record the scope's filters match may
// not go while its clock under that scope is not provably before
// `floor_cutoff`. The selection's own rule is among them when it has a
// floor.
struct FloorGuard {
  size_t scope = 0;  // into Selection::scopes
  Timestamp floor_cutoff{};
};

// One hold in force as it applies to records seen under one scope. Fields
// left empty match every record; the hold's category and target were
// matched against the scope when the exclusion was made. A hold whose
// subject kind a scope cannot have yields no exclusion for that scope.
struct HoldExclusion {
  int64_t hold_id = 0;
  std::string matter;  // for people: "held by hold 3 (matter M-1)"
  size_t scope = 0;    // into Selection::scopes
  std::optional<std::string> subject_kind;  // with subject_id
  std::optional<std::string> subject_id;
  std::optional<std::string> key;           // the record key as text
  std::optional<Timestamp> clock_from;      // clock >= clock_from
  std::optional<Timestamp> clock_until;     // clock <  clock_until
};

struct Selection {
  const Category* category = nullptr;
  const Target* target = nullptr;
  // The zone naive text clocks and file-name dates are read in.
  TimeZone zone = TimeZone::Utc();
  // The delete_after cutoff; nullopt when the category has only a floor
  // (nothing is ever due under it) or when `any_age` is set.
  std::optional<Timestamp> cutoff;
  // An erasure: every record of the subject, whatever its clock (undated
  // included); floors and holds still keep.
  bool any_age = false;
  // Only records whose subject id under the target is this one (the
  // target's subject kind); nullopt: any.
  std::optional<std::string> subject;
  std::vector<SelectionScope> scopes;  // [0] is {category, target}
  std::vector<FloorGuard> floors;
  std::vector<HoldExclusion> exclusions;
  // Set by WithHolds. A renderer refuses a selection whose holds were never
  // applied (Internal error), so forgetting them deletes nothing.
  bool holds_applied = false;
  // The holds applied are the latest only while the hold barrier under
  // which they were read is held (state/hold_barrier.h): a store deleting
  // under this selection calls this right before each step that cannot be
  // undone (a COMMIT, an unlink) and takes no such step unless it is Ok.
  // Set by the batch executor; null: nothing to confirm.
  std::function<Status()> confirm_barrier;

  // Ok, or why the barrier is no longer held (confirm_barrier).
  Status ConfirmBarrier() const { return confirm_barrier ? confirm_barrier() : Status::Ok(); }
};

// The selection for every target of the selected categories (all when
// `category` is empty), in category then target order, without holds (see
// WithHolds). Unknown category: Usage error.
Result<std::vector<Selection>> MakeSelections(const Config& config, const RuleSet& rules, Timestamp as_of,
                                              const std::string& category);

// `base` with its exclusions derived from `holds` (replacing any it had):
// one per hold and scope the hold's category, target and subject kind
// allow.
Selection WithHolds(Selection base, const HoldSet& holds);
// The same for each of `base`.
std::vector<Selection> WithHolds(std::vector<Selection> base, const HoldSet& holds);

// Told before a target is measured (a progress bar): `done` of `total`
// targets measured so far, and the one measured next.
using MeasureProgress = std::function<void(size_t done, size_t total, const Selection& next)>;

// The records a target covers within its store, as a coarse key: its table
// (unqualified, ASCII case folded), or for files, the whole store (globs
// may overlap; the store checks per file). One table never has two keys
// however its targets spell it; two tables may share one (the same name
// in two schemas), which only makes runs over them take turns. The fleet's
// target locks and open-batch guard go by it (purge/run_frame.h).
std::string RecordsKey(const Target& target);
// Two targets of one store name the same table (case-insensitively) or are
// both files targets: their rules are merged (floors, holds). Exact, unlike
// RecordsKey: merging two tables' rules would apply one's filters to the
// other.
bool SameRecords(const Target& a, const Target& b);

// The zone naive clocks of a store's records are read in.
Result<TimeZone> StoreZone(const Config& config, const std::string& store);

// How one record looks under each scope of a selection, as a store read it.
struct RecordFacts {
  bool exists = false;
  std::string key;
  struct ScopeFacts {
    bool matches_filters = false;
    std::string clock_text;          // as stored
    std::optional<Timestamp> clock;  // parsed; nullopt: undated
    // The record's subject under this scope's target; nullopt when the
    // target maps none or the value is NULL. Purge log entries name their
    // own kind.
    std::optional<std::string> subject_kind;
    std::optional<std::string> subject_id;
  };
  std::vector<ScopeFacts> scopes;  // parallel to Selection::scopes
  // Set when a record deletable on its own stays because of an older one:
  // the purge log is pruned only from its oldest entry on.
  std::string kept_behind;
};

// Which part of the rule decided.
enum class Decider {
  kAbsent,      // no record under the key
  kFilters,     // the target's filters do not match
  kSubject,     // another subject than the erasure's
  kUndated,     // the clock is empty or does not parse: never due
  kNoCutoff,    // the category has only a floor
  kNotDue,      // clock >= cutoff
  kHeld,        // exclusions[index] covers it
  kFloor,       // floors[index] protects it
  kKeptBehind,  // facts.kept_behind
  kDeletable,   // every part lets it go
};

// "held", "protected by a floor", ...: a short name for logs.
const char* DeciderName(Decider decider);

struct Evaluation {
  bool deletable = false;
  Decider decided_by = Decider::kAbsent;
  size_t index = 0;  // kHeld: into exclusions; kFloor: into floors
};

// The reference evaluation of the rule above. Parts are tried in the order
// of Decider, so the answer names the first that keeps the record.
Evaluation Evaluate(const Selection& selection, const RecordFacts& facts);

// The parts of Evaluate, for renderers that evaluate in C++ and for
// `explain`, which lists every hold that covers a record, not only the
// first: whether `e` covers the record, and whether `floor` keeps it.
bool ExclusionCovers(const HoldExclusion& e, const RecordFacts& facts);
bool FloorProtects(const FloorGuard& floor, const RecordFacts& facts);

// What every renderer checks first: the selection names its target as
// scope 0 and its holds were applied. Internal error otherwise, so that a
// caller that forgot the holds deletes nothing.
Status CheckRenderable(const Selection& selection);

}  // namespace retention
