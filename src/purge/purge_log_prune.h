// Pruning the purge log's own oldest entries (its retention, SPEC 1) behind
// an anchor entry, so that `audit verify` still proves what is left
// (ledger/anchor.h).
//
// The protocol, which leaves a ledger that verifies after a crash at any
// point:
//   1. finish what an earlier run anchored but did not delete (a crash, a
//      stop, a hold placed since): entries up to StateDb::PrunedThrough();
//   2. walk the prefix of entries prunable now (purge_log_store.h), which
//      ends before the oldest open batch entry (the next reconciliation
//      reads it and its settlement must name it), and append one anchor
//      for it: the range, the hash it ends on, the cutoff and schedule, in
//      the run's ledger;
//   3. delete the range in batches of batch_size entries through the batch
//      executor (batch_executor.h), each one under the hold barrier with the
//      holds re-read, stopping at the first entry a hold or floor now keeps.
// The anchor is the batches' intent (Intent::kAnchor): entries anchored but
// not yet deleted verify against the anchor's through_hash, so a crash or a
// stop between 2 and 3 costs nothing, and no pending batch is needed.
#pragma once

#include <cstdint>
#include <optional>

#include "purge/batch_executor.h"
#include "purge/purge.h"
#include "state/state_db.h"
#include "stores/store.h"

namespace retention {

// The batch target of the purge log: its delete removes the anchored
// prefix up to the first entry of the batch the rule now keeps (the log is
// one chain: nothing past a kept entry may go); its kept reasons come from
// the purge-log store's facts (`log_store`, stores/purge_log_store.h).
class PurgeLogBatchTarget final : public BatchTarget {
 public:
  PurgeLogBatchTarget(StateDb& state, Store& log_store) : state_(state), log_store_(log_store) {}
  Result<BatchResult> Delete(const Selection& rule, const std::vector<Candidate>& batch) override;
  Result<std::vector<KeptReason>> WhyKept(const Selection& rule, const std::vector<Candidate>& kept) override;
  // Nothing to do: the log's deletion is a commit of the state database,
  // which commits synchronously (synchronous=FULL).
  Status Sync() override { return Status::Ok(); }

 private:
  StateDb& state_;
  Store& log_store_;
};

// The entries an anchor covers still in the log (seq <= through), oldest
// first.
class AnchoredSource final : public CandidateSource {
 public:
  AnchoredSource(StateDb& state, int64_t through) : state_(state), through_(through) {}
  Result<std::vector<Candidate>> Next(size_t limit) override;

 private:
  StateDb& state_;
  int64_t through_;
  int64_t next_seq_ = INT64_MIN;
};

// Prunes under `selection`, a target on the purge-log store (`log_store`),
// its batches through `executor`. `listed`: with purge --plan FILE, the
// entries the saved plan listed (null: no saved plan); the log is pruned
// as a prefix, through the last of them and never further. Adds what went to `outcome` (deleted, batches;
// kept_changed: entries anchored but kept by a hold or floor placed since);
// sets *stopped when out of time.
Status PrunePurgeLog(StateDb& state, Store& log_store, BatchExecutor& executor, const Selection& selection,
                     CandidateSource* listed, TargetOutcome* outcome, bool* stopped);

}  // namespace retention
