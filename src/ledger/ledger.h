// The ledger's hash chain: entry hashes and the verifier behind
// `retention audit verify` (SPEC 6.10). The exact bytes hashed are written
// out at the top of ledger.cc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/anchor.h"
#include "ledger/ledger_entry.h"
#include "ledger/ledger_reader.h"
#include "ledger/run_tally.h"
#include "ledger/sha256.h"
#include "util/status.h"

namespace retention {

// Hex SHA-256 of `entry` as described in ledger.cc: covers entry.prev_hash
// and every field except entry.hash itself.
std::string ComputeEntryHash(const LedgerEntry& entry);

// The same, reusing one EVP context and one buffer across entries: the form
// to use in loops (append of a batch, verification).
class EntryHasher {
 public:
  // Writes the hex hash of `entry` into *hex (reusing its capacity).
  void Hash(const LedgerEntry& entry, std::string* hex);
  std::string Hash(const LedgerEntry& entry) {
    std::string hex;
    Hash(entry, &hex);
    return hex;
  }

 private:
  Sha256 sha_;
  std::string buffer_;
};

// The last entry of a ledger, as printed by `audit verify` and kept by an
// auditor as a checkpoint: a later verify against it detects truncation of
// the tail or a rewritten chain (SPEC 6.10).
using LedgerCheckpoint = LedgerHead;

// An anchor entry found in the ledger (ledger/anchor.h), with its place.
struct AnchorInLedger {
  int64_t seq = 0;
  Timestamp at{};
  LedgerAnchor anchor;
};

struct VerifyReport {
  bool ok = true;
  int64_t entries = 0;   // entries checked and found good
  int64_t head_seq = 0;  // the last good entry (0 for an empty ledger)
  std::string head_hash; // its hash (kGenesisHash for an empty ledger)
  std::optional<Timestamp> head_at;  // its time
  std::optional<int64_t> first_bad_seq;
  std::string problem;   // plain words; empty when ok
  // The first entry present: 1, or later when the purge log's retention
  // pruned the oldest; then `anchor` is the anchor entry that accounts for
  // them (at seq `anchor_seq`).
  int64_t first_seq = 1;
  std::optional<LedgerAnchor> anchor;
  int64_t anchor_seq = 0;
  // Every anchor entry checked, in seq order (few: at most one a run), so
  // that `audit verify` can compare the schedules they claim with the
  // policy (audit/anchor_schedule.h).
  std::vector<AnchorInLedger> anchors;
  // The run and hold entries checked, in seq order: what the state's own
  // tables are cross-checked against (audit/state_cross_check.h). `id` is
  // the run_id for run_start / run_end, the hold's id (detail.id) for
  // hold_placed / hold_released, -1 when the detail does not name one.
  struct Lifecycle {
    int64_t seq = 0;
    LedgerKind kind = LedgerKind::kRunStart;
    int64_t id = 0;
    // hold_placed only: the entry's detail (the hold as placed, with its
    // scope), for the cross-check against the holds table.
    std::string detail;
  };
  std::vector<Lifecycle> lifecycle;
  // Records the entries checked account for: every candidate of a batch
  // entry, and each per-record delete or kept entry (ledger/batch_entry.h).
  int64_t records = 0;
  // Batch entries checked that no entry checked settles: in flight, or left
  // by a crash for the next start to reconcile.
  int64_t open_batches = 0;
  // Every batch entry checked, in seq order: what its fields and payload
  // say its row in the batch index must hold, and the entry that settled
  // it (0: none checked did). `audit verify` cross-checks the index
  // against these (audit/state_cross_check.h).
  struct Batch {
    int64_t seq = 0;
    std::string store, target;
    std::string key_lo, key_hi;  // ledger/batch_entry.h KeyRangeOf
    bool integer_keys = false;
    int64_t settled_by = 0;
  };
  std::vector<Batch> batches;
  // What each run deleted and kept, per category, recounted from the
  // entries checked (ledger/run_tally.h): the run tally index is
  // cross-checked against it. `first_seq` and `last_seq` are the first and
  // last entries that changed the run's counts, so that a check can leave
  // out a run an entry appended after it read the index has changed since,
  // and one with records before its run_start (a ledger written by hand).
  struct RunRecords {
    std::map<std::string, RecordTally> by_category;
    int64_t first_seq = 0;
    int64_t last_seq = 0;
  };
  std::map<int64_t, RunRecords> run_records;
};

// The ledger is read through a LedgerReader (ledger/ledger_reader.h): the
// state database is one.
//
// Walks the whole ledger in seq order with bounded memory and checks that
// seqs run 1, 2, 3 ... without gaps, that each entry's prev_hash is the
// previous entry's hash (kGenesisHash for entry 1) and that each entry's
// fields hash to its stored hash. A ledger whose oldest entries were pruned
// starts later: an anchor entry must account for them, and every anchor
// must pass CheckAnchor, follow on from the one before it and not be dated
// after `now` (the verifying host's clock, from its Env). A batch entry's
// payload must decode (at least one record); a settlement must name an
// earlier batch entry not settled before (one pruned, or before a tail's
// start, is taken on trust), with candidate indexes inside it, none both
// kept and replaced nor listed twice; no other kind may carry a payload.
// Stops at the first bad entry. A failure
// to read the ledger is an error Status, not a report. Reads through
// `ledger` on a second thread while hashing on the calling one; do not use
// `ledger` elsewhere during the call.
Result<VerifyReport> VerifyLedger(LedgerReader& ledger, Timestamp now);
// Checks only the last `entries` entries (their links and hashes, the first
// one's prev_hash taken on trust): the cheap guard a purge runs before it
// appends, so that it never extends a chain whose recent history was
// altered. The full check is VerifyLedger.
Result<VerifyReport> VerifyLedgerTail(LedgerReader& ledger, int64_t entries, Timestamp now);
// The same, then checks that entry `checkpoint.seq` still exists with
// `checkpoint.hash`, or, if the purge log's retention pruned it, that the
// anchor vouches for it: the anchor's through_hash when it was the last
// entry pruned, and a time (checkpoint.at) older than the anchor's cutoff.
Result<VerifyReport> VerifyLedger(LedgerReader& ledger, const LedgerCheckpoint& checkpoint, Timestamp now);

}  // namespace retention
