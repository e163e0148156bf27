// Why one record is or is not deletable under a decision, in words: for
// the ledger's "kept" entries (a selected record the delete re-check kept)
// and for `explain`.
#pragma once

#include <string>

#include "stores/store.h"

namespace retention {

struct RecordVerdict {
  bool deletable = false;
  std::string reason;  // "held by hold 3 (matter M-1)", "clock 2026-... is not before the cutoff ..."
};

// Judges the facts a store reported for `key` the way store.h defines
// "deletable". Holds are matched under the decision's own target; a record
// kept only by a hold under an overlapping target is reported as such.
RecordVerdict JudgeRecord(const TargetDecision& d, const std::string& key, const RecordFacts& facts);

}  // namespace retention
