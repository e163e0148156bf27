// What each run deleted and kept, per category, as the purge log tells it:
// the counts `audit runs`, `audit show` and `status` print.
//
// The same counts the record view gives (ledger/ledger_records.h), kept up
// to date with every append, so that a run's summary reads its tally and
// not its thousands of batch entries (state schema version 8, run_tallies,
// state/sqlite_state_db.cc). A record counts for the run and category of
// the entry that holds it: a per-record delete or kept entry its own, a
// batch's candidates their batch entry's, once an entry settles them (a
// later batch of the run, its run_end, or another run's reconciliation).
// A candidate the settlement does not list as kept was deleted (replaced
// ones too).
//
// The tally is an index, not evidence: the chain does not cover it.
// `audit verify` recomputes it from the entries on its own
// (ledger/ledger.h, VerifyReport::run_records) and names any difference
// (audit/state_cross_check.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ledger/ledger_entry.h"
#include "util/status.h"

namespace retention {

struct RecordTally {
  int64_t deleted = 0;
  int64_t kept = 0;
  int64_t kept_by_hold = 0;  // of the kept, those a hold kept

  bool operator==(const RecordTally&) const = default;
  RecordTally& operator+=(const RecordTally& o) {
    deleted += o.deleted;
    kept += o.kept;
    kept_by_hold += o.kept_by_hold;
    return *this;
  }
};

// What a settlement needs of the batch entry it settles.
struct BatchFacts {
  int64_t run_id = 0;
  std::string category;
  size_t records = 0;  // its candidates
};

// The batch entry `seq`'s facts; nullopt when it is not in the ledger (the
// purge log's retention pruned it: its records are not counted).
using BatchFactsLookup = std::function<Result<std::optional<BatchFacts>>(int64_t seq)>;
// Adds `tally` to run `run_id`'s count for `category`.
using TallyAdd = std::function<Status(int64_t run_id, const std::string& category, const RecordTally& tally)>;

// What `entry` adds to the tallies: a per-record delete or kept entry of a
// run, its record; each settlement in its detail, the settled batch's
// records. AuditFailed when the settlement does not decode; an error of
// `batch_of` or `add` as it is.
Status TallyEntry(const LedgerEntry& entry, const BatchFactsLookup& batch_of, const TallyAdd& add);

// Whether a per-record kept entry's detail says a hold kept the record: by
// its code (ledger/kept_reason.h); an entry written before codes existed
// has only words, read as they were then.
bool KeptByHoldDetail(const std::string& detail);

}  // namespace retention
