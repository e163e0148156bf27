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
//       subject ("customer:42") among a batch entry's candidates, filed
//       under SubjectBucket(subject) (schema version 9).
//   ledger_batches.settled_by: the entry whose "settles" names the batch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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

// The bucket a subject's index rows are filed under, in [0, kSubjectBuckets):
// FNV-1a (32 bit) of its bytes, modulo the bucket count. Stored, so fixed
// forever. Why buckets: a batch entry names a thousand or more subjects at
// random, and rows ordered by subject land on as many pages of the index,
// each rewritten (and written again to the WAL) with every batch: 2000
// pages a batch, the purge's largest cost once the index grew (bench/
// README.md, 2026-12-01). Ordered by (bucket, seq) a batch's rows are
// appended at the end of each bucket's run: about kSubjectBuckets pages.
// A lookup reads its bucket's rows, 1/64 of the index, for the subject's.
inline constexpr int kSubjectBuckets = 64;
int SubjectBucket(std::string_view subject);

}  // namespace retention
