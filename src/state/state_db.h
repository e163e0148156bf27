// The state database: storage for holds, runs, pending batches and the
// ledger, and nothing more.
//
// A SQLite file by default (SPEC section 3); a PostgreSQL state (issue 15)
// implements the same interface. It stores and reads rows: it builds no
// ledger entry, hashes nothing and writes no JSON. What a hold or a run
// means in the ledger, and the chain, are above it: the operations that
// write an entry with their rows (place a hold, begin a run ...) are in
// state/state_ops.h, which chains entries with ledger/chain_writer.h and
// writes their details with ledger/ledger_payloads.h, all inside one
// append transaction (StateAppend below).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "calendar/timestamp.h"
#include "erase/erasure.h"
#include "holds/hold.h"
#include "ledger/ledger_entry.h"
#include "ledger/ledger_reader.h"
#include "ledger/run_tally.h"
#include "util/status.h"

namespace retention {

// A batch whose target deletion may or may not have committed: written
// before the target's DELETE, removed in the same state transaction that
// appends the batch's ledger entries. Found at the next start, it is
// reconciled against the target (see purge/reconcile).
struct PendingBatch {
  int64_t id = 0;
  int64_t run_id = 0;
  int64_t batch = 0;
  std::string category;
  std::string store;
  std::string target;
  std::string rule;
  std::string cutoff;
  // The candidate records: key, clock text, subject ("KIND:ID", "" when
  // none), and the rest of the identity the store selected them with
  // (Candidate::identity), which reconciliation compares (SPEC 6.2).
  struct Record {
    std::string key;
    std::string clock;
    std::string subject;
    // nullopt: not known (a candidate from a saved plan, or a batch written
    // by schema version 2, which recorded no identity).
    std::optional<std::string> identity;
  };
  std::vector<Record> records;
};

struct RunInfo {
  int64_t id = 0;
  Timestamp started_at{};
  std::optional<Timestamp> ended_at;
  Timestamp as_of{};
  std::string user, host, version, rules_hash, command;
  std::string outcome;  // "running", "ok", "stopped", "failed", "crashed"
  int exit_code = 0;
};

// A batch entry's row in the ledger's batch index (ledger/batch_entry.h):
// where `explain` and `audit log --key` look a key up without scanning
// every record, and which batches are still open (not settled).
struct BatchIndexRow {
  std::string store;
  std::string target;
  std::string key_lo;  // KeyRangeOf
  std::string key_hi;
  bool integer_keys = false;
};

// A row of the batch index as stored, for `audit verify`'s cross-check of
// the index against the payloads (audit/state_cross_check.h).
struct BatchIndexListing {
  int64_t seq = 0;
  BatchIndexRow row;  // key bounds as decimal text when integer_keys
  bool open = false;
};

// A row of the key span index (schema version 7): the widest key_hi -
// key_lo of the target's integer-keyed batch rows, a lower bound for
// BatchesReaching's read of the batch index.
struct KeySpanRow {
  std::string store;
  std::string target;
  int64_t widest = 0;  // INT64_MAX for a stored value that is no INTEGER >= 0: it bounds nothing
};

// What a reader asks the lookup indexes (schema version 6) for: the
// entries of a record key (optionally in one store/target), of a data
// subject, or of a run. Exactly one of key, subject, run_id is set.
struct LedgerLookup {
  std::optional<std::string> key;
  std::optional<std::string> store, target;  // narrow a key's batches
  std::optional<std::string> subject;        // "customer:42"
  std::optional<int64_t> run_id;
  // With run_id: only the run's own events (run_start, run_end, reconciled,
  // anchor), not its records, when the state can tell them apart cheaply
  // (schema version 8); a state that cannot returns every entry of the run.
  bool run_events_only = false;
};

// A row of the run tally index (schema version 8, ledger/run_tally.h).
struct RunTallyRow {
  int64_t run_id = 0;
  std::string category;
  RecordTally tally;
};

// The run tallies and the ledger head they are up to date with, read
// together.
struct RunTallies {
  int64_t head_seq = 0;
  std::vector<RunTallyRow> rows;  // by run, then category
  // Listing every run: each run the ledger names, by a tally row or by an
  // event entry (run_start, run_end, reconciled, anchor), ascending.
  std::vector<int64_t> runs;
};

// An append transaction: it serializes appenders (SQLite: BEGIN
// IMMEDIATE; another process's append waits for this one to end), so the
// head read through it cannot change before it commits. Entries are
// inserted already chained (ledger/chain_writer.h), together with the rows
// that must commit atomically with them. Rolled back when destroyed
// uncommitted. Not for use after Commit, nor after an error.
class StateAppend {
 public:
  virtual ~StateAppend() = default;

  // The ledger's head, read inside this transaction.
  virtual Result<LedgerHead> Head() = 0;
  // Inserts entries chained onto the head: refused (Internal) unless the
  // first one's seq and prev_hash follow the head read inside this
  // transaction and each next one follows the one before, so that entries
  // chained on a stale head can never be stored.
  virtual Status Insert(const std::vector<LedgerEntry>& entries) = 0;
  // Records that anchor entry `seq` prunes through entry `through`
  // (ledger/anchor.h); written with the anchor entry.
  virtual Status RecordAnchor(int64_t seq, int64_t through) = 0;

  // Batch entries: the index row of batch entry `seq` (inserted in this
  // transaction), open; and the close of an open one, whose settlement is
  // inserted in this transaction (Internal when it is not open: settled
  // twice, or never indexed).
  virtual Status IndexBatch(int64_t seq, const BatchIndexRow& row) = 0;
  virtual Status CloseBatch(int64_t seq) = 0;

  // Holds: a new row (its id; released_* are ignored), and the release of
  // one in force (the hold as it was; Invalid when it does not exist or was
  // already released).
  virtual Result<int64_t> InsertHold(const Hold& hold) = 0;
  virtual Result<Hold> MarkHoldReleased(int64_t id, const std::string& by, const std::string& reason,
                                        Timestamp at) = 0;

  // Runs: a new row (its id), the end of a running one, and a running one
  // marked crashed (its end time unknown); Invalid when the run does not
  // exist or has ended.
  virtual Result<int64_t> InsertRun(const RunInfo& run) = 0;
  // Schema version 5: an erasure request's row, inserted, or updated whole
  // but for its first_seq (keyed by its reference), written with the entry
  // or run end it goes with.
  virtual Status PutErasureRequest(const ErasureRequest& request) = 0;
  virtual Status FinishRun(int64_t run_id, const std::string& outcome, int exit_code, Timestamp ended_at) = 0;
  virtual Status MarkRunCrashed(int64_t run_id) = 0;

  // Removes a pending batch and its records; Internal when it does not
  // exist (settled twice).
  virtual Status RemovePending(int64_t pending_id) = 0;

  virtual Status Commit() = 0;
};

class StateDb : public LedgerReader {
 public:
  ~StateDb() override = default;

  // The clock that stamps what is written through this state: the `at` of
  // new ledger entries, run starts and ends, hold placements. Injected by
  // whoever opens it (tests: a fixed clock); the system clock when none
  // was.
  Timestamp Now() const { return clock_ ? clock_() : SystemNow(); }

  // Whether the path this database was opened from still names it: Ok, or
  // Unavailable when the file was removed or replaced (renamed over) since
  // it was opened. A purge checks this before each deletion, so that it
  // never goes on writing its ledger into a file no one will read again.
  virtual Status CheckStillInPlace() = 0;

  // Claims the database for one run (a purge), until this object is
  // destroyed: Busy when another run holds the claim. The run lock file
  // (state/run_lock.h) keeps runs apart while it stays in place; this claim
  // still does when that file was removed under a running purge.
  virtual Status ClaimForRun() = 0;

  // ---- writes --------------------------------------------------------------

  // Starts an append transaction (see StateAppend).
  virtual Result<std::unique_ptr<StateAppend>> BeginAppend() = 0;

  // Records a pending batch (crash protocol) in its own transaction; it has
  // no ledger entry. Its settlement is state_ops.h's SettlePending.
  virtual Result<int64_t> AddPending(const PendingBatch& batch) = 0;

  // Deletes every entry with seq <= `last` in one transaction and returns
  // how many went (the purge log's own retention, ledger/anchor.h). `last`
  // must not be past PrunedThrough(): the state database refuses to delete
  // an entry no anchor has pruned.
  virtual Result<int64_t> DeletePrunedEntries(int64_t last) = 0;

  // ---- reads ---------------------------------------------------------------

  virtual Result<std::vector<Hold>> ListHolds(bool include_released) = 0;
  virtual Result<std::optional<Hold>> GetHold(int64_t id) = 0;

  virtual Result<std::optional<RunInfo>> LastRun() = 0;
  // Erasure requests (schema version 5; none in an older database opened
  // read-only): one by reference, and all by when they were received.
  virtual Result<std::optional<ErasureRequest>> GetErasureRequest(const std::string& reference) = 0;
  virtual Result<std::vector<ErasureRequest>> ListErasureRequests() = 0;
  // Runs left "running" by a process that died.
  virtual Result<std::vector<RunInfo>> UnfinishedRuns() = 0;
  // Every run, by id.
  virtual Result<std::vector<RunInfo>> ListRuns() = 0;

  virtual Result<std::vector<PendingBatch>> ListPending() = 0;

  // Batch entries not yet settled, by seq (a running run's in flight, a
  // crashed run's to reconcile).
  virtual Result<std::vector<int64_t>> OpenBatches() = 0;
  // Every row of the batch index, by seq (empty before schema version 4).
  virtual Result<std::vector<BatchIndexListing>> ListBatchIndex() = 0;
  // The entries that decide which batches are open, from the ledger itself
  // rather than the index (which the chain does not cover): every batch
  // entry and every entry whose detail carries a settlement, by seq, with
  // their kind and detail and without payloads. Stops when `visit` returns
  // false.
  virtual Status ScanBatchesAndSettlements(
      const std::function<bool(int64_t seq, LedgerKind kind, const std::string& detail)>& visit) = 0;
  // The entry `seq`, or nullopt when there is none (pruned, or not yet
  // written).
  virtual Result<std::optional<LedgerEntry>> ReadEntry(int64_t seq) = 0;
  // The batch entries of `store`/`target` whose key range reaches `key`
  // (a superset of those that list it), by seq.
  virtual Result<std::vector<int64_t>> BatchesReaching(const std::string& store, const std::string& target,
                                                       const std::string& key) = 0;

  // Schema version 6 lookups (ledger/entry_index.h). The entries that may
  // hold rows for `lookup`: per-record and erase entries with that key or
  // subject, the batch entries whose key range or subjects reach it, every
  // entry of the run; plus the entries that settle the batch entries among
  // them. Sorted, a superset of what the question needs as long as the
  // index is intact: readers judge each entry on its own fields. nullopt
  // when there is no such index (an older database opened read-only), or
  // when it visibly disagrees with itself (a batch closed with no settling
  // entry): then read every entry.
  virtual Result<std::optional<std::vector<int64_t>>> LookupEntries(const LedgerLookup& lookup) = 0;
  // Streams the entries `seqs` (sorted) that are in the ledger, as
  // ScanLedger does.
  virtual Status ReadEntries(const std::vector<int64_t>& seqs, const std::function<bool(LedgerEntry&)>& visit) = 0;
  // The index rows as stored, for `audit verify`'s cross-check: {seq,
  // subject} of ledger_subjects, and {batch seq, settled_by} of every
  // settled batch, by seq (empty before schema version 6).
  virtual Result<std::vector<std::pair<int64_t, std::string>>> ListSubjectIndex() = 0;
  virtual Result<std::vector<std::pair<int64_t, int64_t>>> ListSettledBy() = 0;
  // The key span index as stored, by store and target; nullopt for a state
  // that keeps none (a SQLite state before schema version 7 opened
  // read-only; a state whose BatchesReaching reads without that bound),
  // which `audit verify` then has nothing of to check.
  virtual Result<std::optional<std::vector<KeySpanRow>>> ListKeySpans() {
    return std::optional<std::vector<KeySpanRow>>();
  }

  // The run tally index (ledger/run_tally.h): run `run_id`'s rows, or every
  // run's; nullopt for a state that keeps none (a SQLite state before
  // schema version 8 opened read-only, the PostgreSQL state), whose run
  // summaries then count their records from the entries.
  virtual Result<std::optional<RunTallies>> ListRunTallies(std::optional<int64_t> run_id) {
    (void)run_id;
    return std::optional<RunTallies>();
  }

  // ScanLedger and Head: see ledger/ledger_reader.h.

  // The highest seq an anchor has pruned (0 when none): entries up to it
  // may be deleted.
  virtual Result<int64_t> PrunedThrough() = 0;
  // The oldest anchor entry still in the ledger whose range reaches entry
  // `seq` (its seq), or nullopt: for `explain` of a pruned entry.
  virtual Result<std::optional<int64_t>> OldestAnchorReaching(int64_t seq) = 0;
  // The ledger_anchors rows, by seq: {anchor entry seq, through}. Empty for
  // a version 1 database, which has no such table.
  virtual Result<std::vector<std::pair<int64_t, int64_t>>> ListAnchorRows() = 0;

 protected:
  explicit StateDb(std::function<Timestamp()> clock) : clock_(std::move(clock)) {}

 private:
  std::function<Timestamp()> clock_;
};

}  // namespace retention
