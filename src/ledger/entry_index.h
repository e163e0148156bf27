// What the state database's lookup indexes (schema version 6) hold for one
// ledger entry, derived from the entry alone, so that the rows written with
// an append and the rows a migration rebuilds from old entries are the same.
//
// The indexes are not evidence: the chain does not cover them. A reader
// uses them to find the few entries a question is about (a key, a subject,
// a run) and then judges those entries themselves (audit/ledger_query.h),
// so that an edited index can at worst make a query miss an entry, which
// `audit verify` reports (audit/state_cross_check.h).
//
//   ledger_subjects(subject TEXT, seq INTEGER): one row per distinct
//       subject ("customer:42") among a batch entry's candidates.
//   ledger_batches.settled_by: the entry whose "settles" names the batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/ledger_entry.h"
#include "util/status.h"

namespace retention {

struct EntryIndexRows {
  // Batch entries: the distinct subjects of its candidates, in the form a
  // record row carries them ("kind:id"), sorted.
  std::vector<std::string> subjects;
  // The batch entries this entry settles (its detail's "settles").
  std::vector<int64_t> settles;
};

// AuditFailed when a batch payload or a settlement does not decode: such an
// entry is refused by `audit verify` too.
Result<EntryIndexRows> IndexRowsOf(const LedgerEntry& entry);

}  // namespace retention
