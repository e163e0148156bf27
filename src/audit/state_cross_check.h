// `audit verify`'s cross-check of the state database's own tables against
// the ledger.
//
// The chain proves the ledger was not changed in the middle; a tail cut
// back by hand (the DELETE trigger dropped) still forms a valid chain. But
// the runs, holds and ledger_anchors tables are written in the same
// transactions as their entries, so they remember what the tail held:
//
//   - a run the runs table says ended must have its run_end entry, and every
//     run its run_start entry, unless an anchor pruned them (then they were
//     older than the latest cutoff of the anchors present, which the
//     schedule check bounds); a run started after the ledger's head entry
//     is a cut;
//   - every hold must have its hold_placed entry, and a released one its
//     hold_released entry, unless pruned; every hold_placed entry must have
//     its row, with the scope and expiry the entry records (the purge
//     reads the holds from the table);
//   - every ledger_anchors row must match an anchor entry (seq and through)
//     unless that anchor entry itself was pruned, and every anchor entry
//     must have its row;
//   - every batch entry must have its ledger_batches row with the store,
//     target and key range its fields and payload give, open exactly while
//     no entry settles it, and every row must name a batch entry (unless
//     pruned): reconciliation and `explain` read that index;
//   - (schema version 6) every batch row's settled_by must name the entry
//     that settles it, and no other: the lookups of `audit log --key/
//     --subject/--run` follow it (the subject index, ledger_subjects, is
//     checked against the payloads by CrossCheckSubjectIndex);
//   - (schema version 7) every integer-keyed batch entry's key span must be
//     within its target's ledger_key_spans row: a lookup of a key reads
//     only the batch rows that bound allows, so a lowered bound would hide
//     the batches that reach further.
//   - (schema version 8) every run whose run_start entry is in the ledger
//     must have the run tally rows its entries give, per category: `audit
//     runs`, `audit show` and `status` print them.
//
// So are recent entries removed from the start behind a forged anchor that
// names the right schedule but lies about their age. A forger must also
// rewrite these tables consistently;
// only a checkpoint kept outside the state database (audit/checkpoint.h)
// catches that.
//
// The tables are read before the ledger is scanned, and the ledger's head
// before the tables: entries only ever follow what the tables had, so a
// purge or hold add running meanwhile cannot make a false alarm.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "holds/hold.h"
#include "ledger/ledger.h"
#include "state/state_db.h"
#include "util/status.h"

namespace retention::audit {

struct StateTables {
  int64_t head_seq = 0;  // the ledger's head when the tables were read
  std::vector<RunInfo> runs;
  std::vector<Hold> holds;  // released ones too
  std::vector<std::pair<int64_t, int64_t>> anchor_rows;
  std::vector<BatchIndexListing> batch_index;
  std::vector<std::pair<int64_t, int64_t>> settled_by;  // {batch seq, settling seq}
  std::vector<std::pair<int64_t, std::string>> subjects;  // ledger_subjects {seq, subject}
  std::optional<std::vector<KeySpanRow>> key_spans;       // schema version 7
  std::optional<RunTallies> run_tallies;                  // schema version 8
  bool has_lookup_index = false;  // schema version 6
};

// Reads them, head first. Call before VerifyLedger.
Result<StateTables> ReadStateTables(StateDb& state);

struct CrossCheckFinding {
  std::optional<int64_t> bad_seq;  // unset: the tables agree with the ledger
  std::string problem;
};

// `report` is VerifyLedger's, and good.
CrossCheckFinding CrossCheckState(const StateTables& tables, const VerifyReport& report);

// The subject index against the batch entries' payloads: every batch entry
// up to the tables' head has exactly the rows of its distinct subjects
// (ledger/entry_index.h), and no row names anything else. Reads each batch
// entry again (decoding its payload): after CrossCheckState.
Result<CrossCheckFinding> CrossCheckSubjectIndex(StateDb& state, const StateTables& tables, const VerifyReport& report);

}  // namespace retention::audit
