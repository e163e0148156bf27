// The record view of the ledger: one row per record the ledger speaks of,
// whether it was written as a per-record entry (delete, kept: every ledger
// before schema version 4) or packed in a batch entry (ledger/batch_entry.h).
//
// Readers that answer per record (audit log/export/runs, explain, the
// independent checker's claims) read this instead of entries, so that old
// and new ledgers read alike:
//   - a delete or kept entry is one row, as it is (outcome deleted / kept);
//   - a batch entry's candidates become rows when a later entry settles it:
//     kept (the settlement's reason), replaced (found gone with another
//     record under its key: deleted), else deleted;
//   - a batch still open when the stream ends gives "pending" rows: the
//     intent only, claiming nothing.
// Rows come in the order their outcome is known (a batch's at its
// settling entry). Memory: only the open batches are held, decoded.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "ledger/batch_entry.h"
#include "ledger/ledger_entry.h"
#include "util/status.h"

namespace retention {

struct LedgerRecord {
  enum class Outcome { kDeleted, kKept, kReplaced, kPending };
  Outcome outcome = Outcome::kDeleted;
  // The record as a per-record entry carries it. For a batch's record: kind
  // delete (deleted, replaced), kept, or batch (pending); seq, at,
  // prev_hash and hash of the batch entry; run, category, store, target,
  // cutoff, rule and batch number from it; key, clock and subject
  // ("kind:id", as delete entries name it) from the payload; detail the
  // kept reason (KeptDetail) when kept, else "".
  LedgerEntry entry;
  // Batch records only (0 / "" / nullopt for a per-record entry).
  int64_t batch_seq = 0;    // the batch entry
  uint32_t index = 0;       // the candidate's index in its payload
  int64_t settled_seq = 0;  // the entry that settled it; 0 while pending
  std::optional<Timestamp> settled_at;
  bool reconciled = false;  // settled by a crash's reconciliation
  std::optional<std::string> identity;

  // The outcome's word: "deleted", "kept", "replaced", "pending".
  const char* OutcomeName() const;
  // Whether the ledger claims the record is gone (deleted or replaced).
  bool Deleted() const { return outcome == Outcome::kDeleted || outcome == Outcome::kReplaced; }
};

// Turns the entry stream into records. Feed every entry in seq order to
// Add, then call Finish. `visit` returns false to stop (Add and Finish then
// return false too).
class RecordStream {
 public:
  using Visit = std::function<bool(const LedgerRecord&)>;
  // `want`, when set, names the batch entries whose records are wanted
  // (e.g. those a key's lookup reaches): the others are neither decoded
  // nor held. Per-record entries always pass.
  explicit RecordStream(Visit visit, std::function<bool(const LedgerEntry&)> want = nullptr)
      : visit_(std::move(visit)), want_(std::move(want)) {}

  // AuditFailed when a payload or a settlement does not decode (verify
  // says where); settlements naming batches not seen are ignored (pruned,
  // or not wanted).
  Result<bool> Add(const LedgerEntry& e);
  // Emits the records of batches still open, as pending.
  bool Finish();

  // The entries not kind delete/kept/batch (run, hold, anchor...) are not
  // records; callers that want them see them go by in their own scan.

 private:
  struct Open {
    LedgerEntry entry;  // payload cleared once decoded
    BatchPayload payload;
  };
  bool Emit(Open& open, const Settlement* settlement, const LedgerEntry* by);

  Visit visit_;
  std::function<bool(const LedgerEntry&)> want_;
  std::unordered_map<int64_t, Open> open_;
  LedgerRecord row_;  // reused
};

// The record view of `entry` alone when it is a per-record entry (delete or
// kept); nullopt for any other kind.
std::optional<LedgerRecord> PerRecordRow(const LedgerEntry& entry);

}  // namespace retention

namespace retention {

class LedgerReader;

// Streams the records of the ledger from entry `from_seq` on (see
// RecordStream; batches settled after `from_seq` but written before it are
// not seen). `on_entry`, when set, sees every entry first (false: stop).
Status ScanRecords(LedgerReader& ledger, int64_t from_seq, const RecordStream::Visit& visit,
                   std::function<bool(const LedgerEntry&)> want = nullptr,
                   const std::function<bool(const LedgerEntry&)>& on_entry = nullptr);

}  // namespace retention
