// Pruning the purge log's own oldest entries (its retention, SPEC 1) behind
// an anchor entry, so that `audit verify` still proves what is left
// (ledger/anchor.h).
//
// The protocol, which leaves a ledger that verifies after a crash at any
// point:
//   1. finish what an earlier run anchored but did not delete (a crash, a
//      stop, a hold placed since): entries up to StateDb::PrunedThrough();
//   2. walk the prefix of entries prunable now (purge_log_store.h) and
//      append one anchor for it: the range, the hash it ends on, the cutoff
//      and schedule, in the run's ledger;
//   3. delete the range in batches of batch_size entries, each one under
//      the hold barrier with the holds re-read, stopping at the first entry
//      a hold or floor now keeps.
// Entries anchored but not yet deleted verify against the anchor's
// through_hash, so a crash or a stop between 2 and 3 costs nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "purge/purge.h"
#include "state/hold_barrier.h"
#include "state/state_db.h"
#include "stores/store.h"

namespace retention {

struct PurgeLogPruneOptions {
  int64_t run_id = 0;
  int64_t batch_size = 1000;
  // purge --plan FILE: prune no further than the last entry the plan listed
  // (nullopt: no saved plan; 0: the plan listed none).
  std::optional<int64_t> plan_through;
  // Takes the hold barrier shared and re-reads the holds in force into
  // `*holds`; the guard releases it. Each batch is judged under
  // WithHolds(selection, *holds) as they are then.
  std::function<Result<HoldBarrier::Guard>()> lock_holds;
  const HoldSet* holds = nullptr;
  // Polled between batches (max runtime, SIGTERM).
  std::function<bool()> out_of_time;
};

// Prunes under `selection` (holds not yet applied), a target on the
// purge-log store. Adds what went
// to `outcome` (deleted, batches; kept_changed: entries anchored but kept
// by a hold or floor placed since); sets *stopped when out of time.
Status PrunePurgeLog(StateDb& state, const Selection& selection, const PurgeLogPruneOptions& options,
                     TargetOutcome* outcome, bool* stopped);

}  // namespace retention
