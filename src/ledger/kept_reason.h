// Why a selected record stayed: the reason of a ledger "kept" entry, as a
// value (STYLE "Reasons are values").
//
// A kept entry's detail is a JSON object:
//   {"why": "held", "reason": "held by hold 3 (M-1)", "hold": 3}
//   {"why": "undeletable", "skip": "undeletable", "reason": "cannot be deleted: ..."}
// "why" is the code below, for programs (audit runs counts by it);
// "reason" words it for people; "skip" names the store's own reason when
// the store refused (stores/store.h SkipReason), as before "why" existed;
// "hold" is the id of the hold that kept it, when known. Entries written
// before "why" existed carry "reason" (and "skip") only: ParseKeptDetail
// returns no code for them and readers fall back to what they did then.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace retention {

enum class KeptWhy {
  kGone,          // nothing under its key any more (removed by someone else)
  kFilters,       // no longer matches the target's filters
  kUndated,       // its clock is empty or does not parse: never due
  kNotDue,        // its clock is not before the cutoff (or no cutoff)
  kHeld,          // a hold in force covers it under this target
  kHeldElsewhere, // deletable under this target's own holds, yet the delete
                  // kept it: a hold under an overlapping target, or a change
                  // during the delete
  kFloor,         // another rule's floor protects it
  kBehind,        // purge log: an older entry stays, and the log is pruned
                  // only as a prefix
  kChanged,       // another record under its key, or no longer what was selected
  kUndeletable,   // the system refused to remove it (SPEC 6.14)
  kLocked,        // another process holds a lock on it
  kNotDeleted,    // found in place after a crash: the batch's delete never
                  // committed (reconciliation)
};

// The ledger's word for a code: "gone", "filters", "undated", "not_due",
// "held", "held_elsewhere", "floor", "behind", "changed", "undeletable",
// "locked", "not_deleted".
const char* KeptWhyName(KeptWhy why);
std::optional<KeptWhy> KeptWhyFromName(const std::string& name);

// Whether the code means a hold kept the record (audit runs' kept_by_hold).
bool KeptByHold(KeptWhy why);

struct KeptReason {
  KeptWhy why = KeptWhy::kChanged;
  std::string words;                // "held by hold 3 (M-1)"
  std::optional<std::string> skip;  // the store's SkipReason name, when the store refused
  std::optional<int64_t> hold_id;   // kHeld: the hold
};

// The kept entry's detail for `reason` (compact JSON, never throws).
std::string KeptDetail(const KeptReason& reason);

// Reads a kept entry's detail. nullopt when it is not a JSON object; a
// result without a code (why == nullopt) for entries written before codes.
struct ParsedKeptDetail {
  std::optional<KeptWhy> why;
  std::string words;
  std::optional<std::string> skip;
  std::optional<int64_t> hold_id;
};
std::optional<ParsedKeptDetail> ParseKeptDetail(const std::string& detail);

}  // namespace retention
