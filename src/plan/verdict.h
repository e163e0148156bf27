// Why one record is or is not deletable under a selection, in words: for
// the ledger's "kept" entries (a selected record the delete re-check kept),
// the purge log's pruning and `explain`.
//
// The words describe an Evaluation (plan/selection.h): which part of the
// rule decided, with the hold's id and matter or the floor's rule and
// dates. There is no second copy of the rule here.
#pragma once

#include <string>

#include "plan/selection.h"

namespace retention {

struct RecordVerdict {
  bool deletable = false;
  Evaluation evaluation;
  std::string reason;  // "held by hold 3 (M-1)", "clock 2026-... is not before the cutoff ..."
};

// The words for `evaluation`, which Evaluate gave for `facts`.
std::string VerdictText(const Selection& selection, const RecordFacts& facts, const Evaluation& evaluation);

// Evaluate, and its words.
RecordVerdict JudgeRecord(const Selection& selection, const RecordFacts& facts);

}  // namespace retention
