// The batch protocol of purge.h, in one place (the crash and power-loss
// argument is at the top of batch_executor.cc). For each batch of
// candidates a source yields: (1) the intent, one `batch` ledger entry
// packing every candidate (ledger/batch_entry.h), committed durably; (2)
// the hold barrier taken shared, the run's lock and state checked still in
// place and the holds re-read; (3) the store's re-checking delete under the
// rule with the fresh holds, retried while the store is busy; (4) the
// store's Sync, the delete made durable; (5) the outcome, a settlement (the
// candidates the delete left, each with a structured reason,
// ledger/kept_reason.h), queued to ride in the run's next entry: the next
// batch entry, or the run_end (TakeSettlements). One state commit per batch.
//
// Run pipelines it: while one batch deletes, a second thread reads the
// next batch's candidates and commits its intent, so the intent's fsync is
// hidden behind the delete; at most two batches are in flight. Batches are
// sized by time (batch_sizer.h).
//
// `purge` runs it over a store's cursor or a saved plan; the purge log's
// own pruning runs it over the entries an anchor covers, through a target
// whose delete is the anchored prefix's deletion and whose intent is the
// anchor written before (purge_log_prune.h); `erase` will run it over an
// erasure's list.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "holds/hold_set.h"
#include "ledger/batch_entry.h"
#include "ledger/kept_reason.h"
#include "purge/candidate_source.h"
#include "purge/purge.h"
#include "state/hold_barrier.h"
#include "state/state_db.h"
#include "stores/store.h"

namespace retention {

// A record the batch selected and the delete left, and why.
struct KeptRecord {
  std::string key;
  std::string clock;
  std::string subject;  // the subject id as stored
  KeptReason reason;
};

// What one batch did. Every candidate is in exactly one of the two lists.
struct BatchReport {
  std::vector<DeletedRecord> deleted;
  std::vector<KeptRecord> kept;
};

// What the executor deletes through. A store is one (StoreBatchTarget);
// the purge log's anchored prefix another.
class BatchTarget {
 public:
  virtual ~BatchTarget() = default;
  // Deletes those of `batch` still deletable under `rule` (its holds fresh);
  // as Store::DeleteBatch.
  virtual Result<BatchResult> Delete(const Selection& rule, const std::vector<Candidate>& batch) = 0;
  // Why each of `kept` (candidates the delete neither removed nor skipped
  // with a reason of its own) stayed, same order, judged on the record's
  // facts now.
  virtual Result<std::vector<KeptReason>> WhyKept(const Selection& rule, const std::vector<Candidate>& kept) = 0;
  // Makes what Delete committed durable (Store::Sync): a batch is settled
  // only after it.
  virtual Status Sync() = 0;
  // The wall time a delete aims at (BatchSizer), given the run's.
  virtual std::chrono::microseconds TransactionTarget(std::chrono::microseconds run) const { return run; }
  // What `target` names, comparable across hosts (Store::Identity), for
  // its batch entries; nullopt when it has no such identity.
  virtual Result<std::optional<std::string>> Identity(const Target& target) {
    (void)target;
    return std::optional<std::string>();
  }
};

// A store: its DeleteBatch, and kept reasons from its Exist and Lookup.
class StoreBatchTarget final : public BatchTarget {
 public:
  explicit StoreBatchTarget(Store& store) : store_(store) {}
  Result<BatchResult> Delete(const Selection& rule, const std::vector<Candidate>& batch) override;
  Result<std::vector<KeptReason>> WhyKept(const Selection& rule, const std::vector<Candidate>& kept) override;
  Status Sync() override { return store_.Sync(); }
  std::chrono::microseconds TransactionTarget(std::chrono::microseconds run) const override;
  Result<std::optional<std::string>> Identity(const Target& target) override { return store_.Identity(target); }

 private:
  Store& store_;
};

// Why a record whose facts a store reported (Store::Lookup) is not
// deletable under `rule` (Evaluate's answer, as a code and in words), or
// nullopt when it is. `replaced`: another record took its key since it was
// selected (Store::Exist).
std::optional<KeptReason> WhyNotDeletable(const Selection& rule, const RecordFacts& facts, bool replaced);

// How the intent of a batch is recorded.
enum class Intent {
  kBatchEntry,    // a batch entry before the delete, its settlement after
  kAnchor,        // an anchor entry written before the batches already says
                  // what goes: no pending batch, no entries (the purge log)
};

struct ExecutorOptions {
  int64_t run_id = 0;
  // An erasure run's request reference: every batch entry's detail carries
  // it as "request" (ledger/ledger.cc, ERASURE REQUESTS). Empty: a purge.
  std::string request;
  // The most candidates in one batch (one target transaction): an upper
  // bound; Run sizes batches by time under it (batch_sizer.h).
  int64_t batch_size = 1000;
  // The wall time Run aims each target transaction at.
  std::chrono::microseconds target_transaction = std::chrono::milliseconds(20);
  // Run reads and records the next batch while the current one deletes.
  // Needs a source whose Next may run while the target deletes (the stores'
  // cursors, a saved plan, a list).
  bool pipeline = true;
  // Takes the hold barrier shared (state/hold_barrier.h); the guard releases it.
  std::function<Result<HoldBarrier::Guard>()> hold_barrier;
  // Ok while the run's lock file and state database are the ones it opened
  // (SPEC 6.5): checked before every batch. Null: nothing to check.
  std::function<Status()> check_in_place;
  // Reads the holds in force now; null: the state's, active at clock().
  // The clock is required when fresh_holds is null (no default: the run's
  // Env gives it).
  std::function<Result<HoldSet>()> fresh_holds;
  std::function<Timestamp()> clock;
  // Polled between batches (max runtime, SIGTERM/SIGINT). Null: never.
  std::function<bool()> out_of_time;
  // After each deleted batch of Run (progress; observes only).
  std::function<void(const Selection& rule, const BatchReport&)> on_batch;
};

class BatchExecutor {
 public:
  // `holds`: those in force as the run starts (before the first batch).
  BatchExecutor(StateDb& state, ExecutorOptions options, HoldSet holds)
      : state_(state), options_(std::move(options)), holds_(std::move(holds)) {}

  // `base` under the holds the latest batch read: what a store cursor pages
  // with (CursorSource), so that a hold placed during the run is skipped by
  // the next page, not selected and then kept. Safe from the pipeline's
  // thread.
  Selection Following(const Selection& base) const;

  // The barrier taken shared, the run checked in place, the holds re-read:
  // what every delete starts with; `rule` is `base` under those holds.
  struct Locked {
    HoldBarrier::Guard guard;
    Selection rule;
  };
  Result<Locked> LockHolds(const Selection& base);

  // One batch through the protocol, unpipelined (nothing when `batch` is
  // empty).
  Result<BatchReport> RunBatch(const Selection& base, BatchTarget& target, const std::vector<Candidate>& batch,
                               Intent intent = Intent::kBatchEntry);

  // Every batch of `source` until it is empty or the run is out of time
  // (*stopped set); adds what went and what stayed to `outcome`.
  Status Run(const Selection& base, BatchTarget& target, CandidateSource& source, TargetOutcome* outcome,
             bool* stopped);

  // The settlements not yet written, for the run's last entry (EndRun's
  // `settles`); the queue is left empty. Also after a failure: a batch whose
  // delete is known durable is settled whatever happened next.
  std::vector<Settlement> TakeSettlements();

  const ExecutorOptions& options() const { return options_; }
  bool OutOfTime() const { return options_.out_of_time && options_.out_of_time(); }

 private:
  // A batch whose intent is committed (seq 0: an anchored batch, none).
  struct Prepared {
    std::vector<Candidate> candidates;  // distinct keys, the payload's order
    int64_t seq = 0;
  };
  Result<Prepared> Prepare(const Selection& base, const std::vector<Candidate>& listed, Intent intent);
  // Steps 2 to 5; `took`: the delete's wall time.
  Result<BatchReport> Execute(const Selection& base, BatchTarget& target, const Prepared& batch,
                              std::chrono::microseconds* took);
  // A prepared batch the run will not delete (stopped, or failed first):
  // settled as kept, not deleted, which is the truth, since its delete never
  // ran.
  void Abandon(const Prepared& batch);
  Result<BatchResult> DeleteWithRetries(const Selection& rule, BatchTarget& target,
                                        const std::vector<Candidate>& batch);
  // Reads the identity of `base`'s target through `target` once per run
  // (identities_), before a batch of it is prepared: Prepare may run on the
  // pipeline's thread, which must not use the target's connection.
  Status LearnIdentity(const Selection& base, BatchTarget& target);

  StateDb& state_;
  ExecutorOptions options_;
  // Serializes the state connection (not thread-safe) between the deleting
  // thread and the pipeline's, and guards what both touch below.
  mutable std::mutex mu_;
  HoldSet holds_;                    // the holds the last LockHolds read
  int64_t batch_no_ = 0;             // the run's batches so far
  std::vector<Settlement> settles_;  // outcomes not yet written
  // Each target's Store::Identity, read once (LearnIdentity); its batch
  // entries record it as "store_identity" (ledger/batch_entry.h).
  std::unordered_map<const Target*, std::optional<std::string>> identities_;
};

}  // namespace retention
