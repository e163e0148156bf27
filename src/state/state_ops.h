// The state's operations that write the ledger: each writes its rows and
// its ledger entries in one append transaction (state/state_db.h,
// StateAppend), the entries chained by ledger/chain_writer.h onto the head
// read inside it, their details written by ledger/ledger_payloads.h.
//
// Storage-agnostic: the SQLite state and a PostgreSQL one share this code
// and implement only StateDb. Times come from state.Now(), the clock
// injected when the state was opened.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "holds/hold.h"
#include "ledger/batch_entry.h"
#include "ledger/ledger_entry.h"
#include "state/state_db.h"
#include "util/status.h"

namespace retention {

// Places a hold: its row and its hold_placed entry, which names `host`
// (this host's name in the state). `hold.placed_at` defaults to now;
// released_* are ignored. Returns the hold's id.
Result<int64_t> AddHold(StateDb& state, const Hold& hold, const std::string& host);

// Releases a hold in force at `at`: the row and its hold_released entry,
// which names `host`. Invalid when it does not exist or was already
// released.
Status ReleaseHold(StateDb& state, int64_t id, const std::string& by, const std::string& reason, Timestamp at,
                   const std::string& host);

// Begins a run: its row ("running" unless info.outcome says otherwise;
// started_at defaults to now) and its run_start entry. Returns its id.
Result<int64_t> BeginRun(StateDb& state, const RunInfo& info);

// Ends a running run now: the row and its run_end entry, whose detail is
// `detail_json` (a JSON object, or "") with outcome and exit_code added,
// and the run's last settlements (`settles`, closing those batches).
// Invalid when the run does not exist or has ended; Internal when
// `detail_json` is not an object.
// `request`: an erasure run's request row, written in the same transaction
// (so that it never says "done" for a run whose end is not recorded).
Status EndRun(StateDb& state, int64_t run_id, const std::string& outcome, int exit_code,
              const std::string& detail_json, const std::vector<Settlement>& settles = {},
              const ErasureRequest* request = nullptr);

// An erasure run's `erase` entry (ledger/ledger.cc, ERASURE REQUESTS) and
// its request's row, in one append transaction.
Status RecordErasure(StateDb& state, LedgerEntry entry, const ErasureRequest& request);

// Marks a run a dead process left "running" as crashed: the row and a
// run_end entry saying so. Invalid when it does not exist or has ended.
Status MarkRunCrashed(StateDb& state, int64_t run_id);

// Settles a pending batch: appends its ledger entries and removes the batch
// atomically. Recording a batch has no entry: StateDb::AddPending.
Status SettlePending(StateDb& state, int64_t pending_id, const std::vector<LedgerEntry>& entries);

// Appends a batch entry (ledger/batch_entry.h): `entry` (kind batch, its
// payload set) with `settles` in its detail, indexed open under `index`,
// and the batches `settles` names closed; one append transaction, so the
// entry is durable when this returns (the state commits synchronously).
// Returns the entry's seq.
Result<int64_t> AppendBatch(StateDb& state, LedgerEntry entry, const BatchIndexRow& index,
                            const std::vector<Settlement>& settles);

// Appends `entry` (kind reconciled, or any kind that may settle) with
// `settles` in its detail, closing the batches they name.
Status AppendSettling(StateDb& state, LedgerEntry entry, const std::vector<Settlement>& settles);

// The batch entries no entry settles, by seq, read from the ledger itself
// (StateDb::ScanBatchesAndSettlements) and not from the batch index, which
// the chain does not cover. AuditFailed when a settlement does not parse.
Result<std::vector<int64_t>> UnsettledBatches(StateDb& state);

// The open batches as reconciliation must see them: the index's open rows
// (StateDb::OpenBatches), which must be exactly UnsettledBatches. A row
// deleted, or its open flag flipped, by hand would otherwise make a
// crashed batch's deletions go unrecorded (or settle a batch twice):
// AuditFailed naming the first entry where they differ. Not for use while
// another process may be settling batches of `runs` (a purge holds the
// run claim of its host).
//
// `runs`: only the batch entries of these runs (both lists filtered before
// they are compared), for a state a fleet shares, where other hosts append
// and settle their own batches meanwhile. nullptr: every batch entry. An
// entry that cannot be read counts as one of `runs`, so that the check
// names it.
Result<std::vector<int64_t>> CheckedOpenBatches(StateDb& state, const std::set<int64_t>* runs = nullptr);

// Busy while `state` has work its own host must finish first (a run left
// running, a pending or open batch: reconciling them needs that host's
// targets, and its next purge does it); the message ends with "then
// `then_what`". Copying a state, or joining a fleet with it, needs none.
Status RequireNoUnfinishedWork(StateDb& state, const std::string& then_what);

// Appends entries atomically (seq, prev_hash and hash assigned; any passed
// in are replaced; an unset `at` gets now). An anchor entry's row in the
// anchors index is written with it.
Status Append(StateDb& state, std::vector<LedgerEntry> entries);

}  // namespace retention
