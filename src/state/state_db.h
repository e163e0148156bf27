// The state database: holds, runs, pending batches and the ledger.
//
// A SQLite file by default (SPEC section 3). All access goes through this
// class so that a PostgreSQL state (a later issue) can slot in behind the
// same interface.
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
#include "holds/hold.h"
#include "ledger/ledger_entry.h"
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

class StateDb {
 public:
  virtual ~StateDb() = default;

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

  // Runs: one row per run, mirrored in the ledger by run start/end entries.
  virtual Result<int64_t> BeginRun(const RunInfo& info) = 0;
  virtual Status EndRun(int64_t run_id, const std::string& outcome, int exit_code,
                        const std::string& detail_json) = 0;
  virtual Result<std::optional<RunInfo>> LastRun() = 0;
  // Runs left "running" by a process that died.
  virtual Result<std::vector<RunInfo>> UnfinishedRuns() = 0;
  virtual Status MarkRunCrashed(int64_t run_id) = 0;

  // Pending batches (crash protocol).
  virtual Result<int64_t> AddPending(const PendingBatch& batch) = 0;
  // Appends the ledger entries and removes the pending batch atomically.
  virtual Status SettlePending(int64_t pending_id, const std::vector<LedgerEntry>& entries) = 0;
  virtual Result<std::vector<PendingBatch>> ListPending() = 0;

  // Holds.
  virtual Result<int64_t> AddHold(const Hold& hold) = 0;  // + ledger entry
  virtual Status ReleaseHold(int64_t id, const std::string& by, const std::string& reason,
                             Timestamp at) = 0;           // + ledger entry
  virtual Result<std::vector<Hold>> ListHolds(bool include_released) = 0;
  virtual Result<std::optional<Hold>> GetHold(int64_t id) = 0;

  // Ledger.
  // Assigns seq, prev_hash and hash (any values passed in are replaced) and
  // appends all entries atomically; an entry whose `at` is the epoch gets
  // the current time.
  virtual Status Append(std::vector<LedgerEntry> entries) = 0;
  // Streams entries in seq order; the callback returns false to stop. The
  // entry passed is only valid during the call; the callback may take its
  // fields (swap them out) rather than copy them. An entry that cannot be
  // decoded (a NULL field, an unknown kind) is an AuditFailed status.
  virtual Status ScanLedger(int64_t from_seq,
                            const std::function<bool(LedgerEntry&)>& visit) = 0;
  // The purge log's own retention (ledger/anchor.h). The highest seq an
  // anchor has pruned (0 when none): entries up to it may be deleted.
  virtual Result<int64_t> PrunedThrough() = 0;
  // Deletes every entry with seq <= `last` in one transaction and returns
  // how many went. `last` must not be past PrunedThrough(): the state
  // database refuses to delete an entry no anchor has pruned.
  virtual Result<int64_t> DeletePrunedEntries(int64_t last) = 0;
  // The oldest anchor entry still in the ledger whose range reaches entry
  // `seq` (its seq), or nullopt: for `explain` of a pruned entry.
  virtual Result<std::optional<int64_t>> OldestAnchorReaching(int64_t seq) = 0;
  // For `audit verify`'s cross-check of the state's own tables against the
  // ledger (audit/state_cross_check.h); read-only.
  // Every run, by id.
  virtual Result<std::vector<RunInfo>> ListRuns() = 0;
  // The ledger_anchors rows, by seq: {anchor entry seq, through}. Empty for
  // a version 1 database, which has no such table.
  virtual Result<std::vector<std::pair<int64_t, int64_t>>> ListAnchorRows() = 0;
  // The last entry's seq, hash and time ({0, 64 zeros} when the ledger is
  // empty).
  // The default scans; implementations answer from an index.
  virtual Result<LedgerHead> Head() {
    LedgerHead head{0, std::string(64, '0'), std::nullopt};
    Status st = ScanLedger(0, [&](const LedgerEntry& e) {
      head.seq = e.seq;
      head.hash = e.hash;
      head.at = e.at;
      return true;
    });
    if (!st.ok()) return st;
    return head;
  }
};

}  // namespace retention
