// The holds in force at one moment, as the state database lists them.
//
// Built once per batch from the state database (under the hold barrier, see
// state/hold_barrier.h). What a hold covers is decided in one place: each
// hold becomes an exclusion of a Selection (plan/selection.h, WithHolds),
// which every store renders, so that plan, purge and explain answer the
// same way.
#pragma once

#include <vector>

#include "holds/hold.h"

namespace retention {

class HoldSet {
 public:
  HoldSet() = default;
  // Keeps the holds active at `now` (placed, not released, not expired).
  HoldSet(const std::vector<Hold>& holds, Timestamp now);

  bool empty() const { return holds_.empty(); }
  size_t size() const { return holds_.size(); }

  const std::vector<Hold>& holds() const { return holds_; }

 private:
  std::vector<Hold> holds_;
};

}  // namespace retention
