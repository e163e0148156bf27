// The holds in force, indexed for the per-record question "is this held?".
//
// Built once per batch from the state database (under the hold barrier, see
// state/hold_barrier.h) and consulted by every store's delete path and by
// the planner, so that plan, purge and explain answer the same way.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "holds/hold.h"

namespace retention {

// What a hold is matched against: one record of one target.
struct RecordRef {
  std::string_view category;
  std::string_view target;
  std::string_view key;
  std::string_view subject_kind;  // "" when the target maps no subject
  std::string_view subject_id;
  std::optional<Timestamp> clock;  // nullopt: undated
};

class HoldSet {
 public:
  HoldSet() = default;
  // Keeps the holds active at `now` (placed, not released, not expired).
  HoldSet(const std::vector<Hold>& holds, Timestamp now);

  bool empty() const { return holds_.empty(); }
  size_t size() const { return holds_.size(); }

  // The first hold covering the record, or nullptr. A hold covers a record
  // when every field of its scope matches: category, target, subject
  // (kind and id), key, and clock in [clock_from, clock_until). A hold with
  // a clock range covers an undated record (when unsure, keep).
  const Hold* Covering(const RecordRef& r) const;
  bool Covers(const RecordRef& r) const { return Covering(r) != nullptr; }

  // True when some hold could cover records of this target; when false the
  // stores skip the per-record check.
  bool MayCover(std::string_view category, std::string_view target) const;

  const std::vector<Hold>& holds() const { return holds_; }

 private:
  static bool Matches(const Hold& h, const RecordRef& r);

  std::vector<Hold> holds_;
  // Holds whose scope names a subject: "kind:id" -> indexes into holds_.
  std::unordered_multimap<std::string, size_t> by_subject_;
  // Holds whose scope names a key (and no subject): key -> indexes.
  std::unordered_multimap<std::string, size_t> by_key_;
  // All other holds, checked one by one.
  std::vector<size_t> general_;
};

}  // namespace retention
