// The ledger (purge log): format and hash chain.
//
// Entries are built and chained above their storage (ledger/chain_writer.h,
// the details of hold and run entries in ledger/ledger_payloads.h) and
// stored by the state database, which only stores them
// (state/state_db.h). In the SQLite state (state/sqlite_state_db.cc,
// schema version 4; the ledger table is version 1's plus `payload`):
//
//   ledger(seq        INTEGER PRIMARY KEY,  -- 1, 2, 3 ... no gaps; the oldest
//                                           --   may be pruned behind an anchor
//          at         INTEGER NOT NULL,     -- append time, unix microseconds UTC
//          kind       TEXT    NOT NULL,     -- LedgerKindName: run_start, run_end,
//                                           --   delete, hold_placed,
//                                           --   hold_released, reconciled, kept,
//                                           --   anchor (ledger/anchor.h),
//                                           --   batch (ledger/batch_entry.h),
//                                           --   erase (below)
//          run_id     INTEGER NOT NULL,     -- 0 outside a run
//          category   TEXT NOT NULL, store TEXT NOT NULL, target TEXT NOT NULL,
//          record_key TEXT NOT NULL, clock TEXT NOT NULL, cutoff TEXT NOT NULL,
//          rule       TEXT NOT NULL, subject TEXT NOT NULL,
//          batch      INTEGER NOT NULL,
//          detail     TEXT NOT NULL,        -- compact JSON, sorted keys, or ''
//          prev_hash  TEXT NOT NULL,        -- hash of entry seq-1; 64 '0' for seq 1
//          hash       TEXT NOT NULL,        -- see below
//          payload    BLOB NOT NULL DEFAULT x'')
//                                           -- version 4: kind "batch" only, its
//                                           --   packed candidates
//                                           --   (ledger/batch_entry.h); x'' else
//   ledger_anchors(seq INTEGER PRIMARY KEY, through INTEGER NOT NULL)
//                                           -- version 2: a row per anchor entry,
//                                           --   written with it
//
//   Triggers make the table append-only for ordinary SQL (UPDATE aborts, and
//   DELETE aborts unless an anchor has pruned the entry); they are a guard
//   against accidents, not against tampering, which is what the chain is
//   for.
//
// HASH
//
//   hash = lowercase hex of SHA-256 over the concatenation of 15 fields
//   (16 for a batch entry), in this order, each encoded as
//
//     len (4 bytes, unsigned big-endian) || bytes (len bytes)
//
//   where an integer field is 8 bytes, big-endian two's complement, and a
//   text field is its UTF-8 bytes exactly as stored (no normalisation):
//
//      1 prev_hash   text (64 hex characters)
//      2 seq         integer
//      3 at          integer (unix microseconds)
//      4 kind        text (the kind's name, e.g. "delete")
//      5 run_id      integer
//      6 category    text
//      7 store       text
//      8 target      text
//      9 record_key  text
//     10 clock       text
//     11 cutoff      text
//     12 rule        text
//     13 subject     text
//     14 batch       integer
//     15 detail      text
//     16 payload     bytes: ONLY when kind is "batch" (schema version 4,
//                    ledger/batch_entry.h), its packed candidates. Every
//                    other kind hashes 15 fields, as every entry did before
//                    batch entries existed, so old hashes stay valid and
//                    the chain continues across the change.
//
//   Because every field is length-prefixed, no two different entries
//   produce the same byte string. Because prev_hash and seq are inside the
//   hash, changing, removing, inserting or reordering any entry breaks
//   either that entry's hash or the next entry's link; only truncating the
//   tail keeps a valid chain, which a saved checkpoint (seq, hash) of the
//   head detects.
//
// ERASURE REQUESTS
//
//   A run of `retention erase` (erase/erase_run.h) writes, right after its
//   run_start, one entry of kind "erase" with the run's id and the
//   subject ("customer:42") in `subject`; its detail names the request:
//
//     {"deadline": "2026-12-30T16:00:00Z", "received": "2026-11-30T16:00:00Z",
//      "request": "DSR-2026-0117", "subject": "customer:42"}
//
//   Every batch entry of that run carries "request": REF in its detail
//   (beside "settles", and "store_identity" over a store that has one:
//   ledger/batch_entry.h, STORE IDENTITY), so each deletion names the
//   request it answered. The entry hashes its 15 fields like any other kind.
//
// PRUNING
//
//   The purge log's own retention removes its oldest entries behind an
//   anchor entry that records the pruned range and the hash it ended on
//   (ledger/anchor.h). The chain then starts at the first entry left, whose
//   prev_hash must be the anchor's through_hash.
#include "ledger/ledger.h"

#include "calendar/cutoff.h"
#include "ledger/anchor.h"
#include "ledger/batch_entry.h"
#include "ledger/batch_scan.h"
#include "ledger/ledger_payloads.h"
#include "ledger/kept_reason.h"

#include <array>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <tuple>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>


namespace retention {
namespace {

constexpr std::array<std::string_view, 10> kKindNames = {
    "run_start", "run_end", "delete", "hold_placed", "hold_released", "reconciled", "kept", "anchor", "batch",
    "erase",
};

void PutU32(uint32_t v, std::string* out) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
               static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(b, 4);
}

void PutText(std::string_view s, std::string* out) {
  PutU32(static_cast<uint32_t>(s.size()), out);
  out->append(s);
}

void PutInt(int64_t v, std::string* out) {
  PutU32(8, out);
  const uint64_t u = static_cast<uint64_t>(v);
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(u >> (56 - 8 * i));
  out->append(b, 8);
}

void Serialize(const LedgerEntry& e, std::string* out) {
  out->clear();
  PutText(e.prev_hash, out);
  PutInt(e.seq, out);
  PutInt(ToUnixMicros(e.at), out);
  PutText(LedgerKindName(e.kind), out);
  PutInt(e.run_id, out);
  PutText(e.category, out);
  PutText(e.store, out);
  PutText(e.target, out);
  PutText(e.record_key, out);
  PutText(e.clock, out);
  PutText(e.cutoff, out);
  PutText(e.rule, out);
  PutText(e.subject, out);
  PutInt(e.batch, out);
  PutText(e.detail, out);
  if (e.kind == LedgerKind::kBatch) PutText(e.payload, out);
}

std::string Abbrev(std::string_view hash) {
  if (hash.empty()) return "(empty)";
  if (hash.size() <= 16) return std::string(hash);
  return std::string(hash.substr(0, 16)) + "...";
}

}  // namespace

std::string_view LedgerKindName(LedgerKind k) {
  const auto i = static_cast<size_t>(k);
  return i < kKindNames.size() ? kKindNames[i] : std::string_view("unknown");
}

std::optional<LedgerKind> LedgerKindFromName(std::string_view name) {
  for (size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == name) return static_cast<LedgerKind>(i);
  }
  return std::nullopt;
}

void EntryHasher::Hash(const LedgerEntry& entry, std::string* hex) {
  Serialize(entry, &buffer_);
  sha_.Update(buffer_);
  const Sha256::Digest d = sha_.Final();
  static constexpr char kHex[] = "0123456789abcdef";
  hex->resize(2 * d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    (*hex)[2 * i] = kHex[d[i] >> 4];
    (*hex)[2 * i + 1] = kHex[d[i] & 0x0f];
  }
}

std::string ComputeEntryHash(const LedgerEntry& entry) {
  thread_local EntryHasher hasher;
  return hasher.Hash(entry);
}

namespace {

// Checks entries one by one, in the order read.
class ChainChecker {
 public:
  // Checks a whole ledger: from entry 1, or from the first entry an anchor
  // left (see Finish).
  explicit ChainChecker(Timestamp now) : now_(now) { report_.head_hash = std::string(kGenesisHash); }
  // Checks from entry `first_seq` on, taking its prev_hash on trust.
  ChainChecker(Timestamp now, int64_t first_seq, std::string anchor_hash)
      : expected_(first_seq), trust_start_(true), now_(now) {
    report_.first_seq = first_seq;
    report_.head_hash = std::move(anchor_hash);
    report_.head_seq = first_seq - 1;
  }

  // False at the first bad entry (the report then says why).
  bool Check(const LedgerEntry& e) {
    if (report_.entries == 0 && !trust_start_ && e.seq > 1) {
      // Entries before this one are gone: fine only if an anchor further on
      // accounts for them (checked as anchors come, and in Finish).
      report_.first_seq = e.seq;
      first_prev_hash_ = e.prev_hash;
      expected_ = e.seq;
      report_.head_seq = e.seq - 1;
      report_.head_hash = e.prev_hash;
    }
    if (e.seq != expected_) return Gap(e);
    if (e.prev_hash != report_.head_hash) return BadLink(e);
    hasher_.Hash(e, &computed_);
    if (computed_ != e.hash) {
      return Fail(e.seq, "entry " + std::to_string(e.seq) + " was modified: its fields hash to " +
                             Abbrev(computed_) + " but its stored hash is " + Abbrev(e.hash));
    }
    if (e.kind == LedgerKind::kAnchor && !CheckAnchorEntry(e)) return false;
    if (!CheckBatchParts(e)) return false;
    NoteLifecycle(e);
    report_.head_hash = e.hash;
    report_.head_seq = e.seq;
    report_.head_at = e.at;
    ++report_.entries;
    ++expected_;
    return true;
  }

  // The state database could not decode the entry after the last one
  // checked (ScanLedger's AuditFailed). If entries were missing before it
  // we would have been told of it first only had we seen it, so `expected_`
  // is the first bad seq either way.
  void Undecodable(const std::string& problem) { Fail(expected_, problem); }

  // After the last entry: a ledger that starts after entry 1 needs the
  // anchor that pruned the entries before it.
  void Finish() {
    if (!report_.ok || trust_start_ || report_.first_seq <= 1 || report_.anchor) return;
    const std::string n = std::to_string(report_.first_seq);
    // Reported as the first entry missing, with nothing before it good.
    report_.entries = 0;
    report_.head_seq = 0;
    report_.head_hash = std::string(kGenesisHash);
    report_.head_at.reset();
    if (short_anchor_) {
      const int64_t missing = short_anchor_->through + 1;
      const std::string gap = missing == report_.first_seq - 1
                                  ? "entry " + std::to_string(missing) + " is missing"
                                  : "entries " + std::to_string(missing) + " to " +
                                        std::to_string(report_.first_seq - 1) + " are missing";
      Fail(missing, gap + ": the ledger starts at entry " + n + ", but anchor entry " +
                        std::to_string(short_anchor_seq_) + " accounts only for entries up to " +
                        std::to_string(short_anchor_->through));
      return;
    }
    Fail(1, report_.first_seq == 2
                                ? "entry 1 is missing: the ledger starts at entry 2 and no anchor accounts for it"
                                : "entries 1 to " + std::to_string(report_.first_seq - 1) +
                                      " are missing: the ledger starts at entry " + n +
                                      " and no anchor accounts for them");
  }

  // Entries an anchor pruned that are still present (a pruning stopped part
  // way): entry `seq` must have `hash`. Checked by the caller after the scan.
  struct PendingCheck {
    int64_t anchor_seq;
    int64_t seq;
    std::string hash;
  };
  const std::vector<PendingCheck>& pending_checks() const { return pending_; }

  VerifyReport& report() {
    report_.open_batches = static_cast<int64_t>(open_.size());
    return report_;
  }

 private:
  // Batch entries and settlements (ledger/batch_entry.h). Only the open
  // batches are kept, each with its record count: memory follows what is in
  // flight, not the ledger's size.
  bool CheckBatchParts(const LedgerEntry& e) {
    const std::string n = std::to_string(e.seq);
    if (e.kind != LedgerKind::kBatch && !e.payload.empty())
      return Fail(e.seq, "entry " + n + " is a " + std::string(LedgerKindName(e.kind)) +
                             " entry with a payload, which only batch entries have (and hash)");
    if (e.kind == LedgerKind::kDelete || e.kind == LedgerKind::kKept) {
      ++report_.records;
      if (e.run_id != 0) {
        const bool kept = e.kind == LedgerKind::kKept;
        CountRunRecords(e.seq, e.run_id, e.category,
                        RecordTally{kept ? 0 : 1, kept ? 1 : 0, kept && KeptByHoldDetail(e.detail) ? 1 : 0});
      }
    }
    // Settlements first: an entry never settles itself.
    if (e.detail.find("\"settles\"") != std::string::npos) {
      auto settles = SettlementsOf(e.detail);
      if (!settles.ok()) return Fail(e.seq, "entry " + n + ": " + settles.status().message());
      for (const Settlement& s : *settles) {
        const std::string b = std::to_string(s.batch_seq);
        auto it = open_.find(s.batch_seq);
        if (it == open_.end()) {
          // Before the first entry checked (pruned behind an anchor, or
          // before a tail's start): what it settles cannot be seen.
          if (s.batch_seq < report_.first_seq && trusted_settled_.insert(s.batch_seq).second) continue;
          return Fail(e.seq, "entry " + n + " settles entry " + b +
                                 (s.batch_seq >= e.seq ? ", which is not before it"
                                                       : ", which is no batch entry or was settled before"));
        }
        const size_t count = it->second.records;
        marks_.assign(count, 0);
        auto mark = [&](uint32_t i, uint8_t how, const char* as) {
          if (i >= count)
            return Fail(e.seq, "entry " + n + " settles candidate " + std::to_string(i) + " of batch entry " + b +
                                   ", which has only " + std::to_string(count));
          if (marks_[i] != 0)
            return Fail(e.seq, "entry " + n + " settles candidate " + std::to_string(i) + " of batch entry " + b +
                                   " twice (" + (marks_[i] == how ? "" : "kept and replaced; ") + "again as " + as +
                                   ")");
          marks_[i] = how;
          return true;
        };
        for (const Settlement::Kept& k : s.kept)
          if (!mark(k.index, 1, "kept")) return false;
        for (uint32_t i : s.replaced)
          if (!mark(i, 2, "replaced")) return false;
        if (it->second.run_id != 0) {
          RecordTally t;
          t.kept = static_cast<int64_t>(s.kept.size());
          for (const Settlement::Kept& k : s.kept)
            if (KeptByHold(k.reason.why)) ++t.kept_by_hold;
          t.deleted = static_cast<int64_t>(count) - t.kept;
          CountRunRecords(e.seq, it->second.run_id, it->second.category, t);
        }
        report_.batches[batch_pos_.at(s.batch_seq)].settled_by = e.seq;
        batch_pos_.erase(s.batch_seq);
        open_.erase(it);
      }
    }
    if (e.kind == LedgerKind::kBatch) {
      auto count = CountBatchRecords(e.payload);
      if (!count.ok()) return Fail(e.seq, "batch entry " + n + ": " + count.status().message());
      report_.records += static_cast<int64_t>(*count);
      open_.emplace(e.seq, OpenBatch{*count, e.run_id, e.category});
      auto keys = KeyRangeOfPayload(e.payload);
      if (!keys.ok()) return Fail(e.seq, "batch entry " + n + ": " + keys.status().message());
      batch_pos_.emplace(e.seq, report_.batches.size());
      report_.batches.push_back({e.seq, e.store, e.target, std::move(keys->lo), std::move(keys->hi),
                                 keys->integer_keys, 0});
    }
    return true;
  }

  // Recounted here rather than with TallyEntry, which the state database
  // keeps its index with: the check is only worth something if it does
  // not share the code it checks.
  void CountRunRecords(int64_t seq, int64_t run_id, const std::string& category, const RecordTally& t) {
    VerifyReport::RunRecords& r = report_.run_records[run_id];
    r.by_category[category] += t;
    if (r.first_seq == 0) r.first_seq = seq;
    r.last_seq = seq;
  }

  bool Fail(int64_t seq, std::string problem) {
    report_.ok = false;
    report_.first_bad_seq = seq;
    report_.problem = std::move(problem);
    return false;
  }

  void NoteLifecycle(const LedgerEntry& e) {
    switch (e.kind) {
      case LedgerKind::kRunStart:
      case LedgerKind::kRunEnd:
        report_.lifecycle.push_back({e.seq, e.kind, e.run_id, {}});
        return;
      case LedgerKind::kHoldPlaced:
      case LedgerKind::kHoldReleased: {
        const int64_t id = HoldIdOf(e.detail);
        report_.lifecycle.push_back({e.seq, e.kind, id, e.kind == LedgerKind::kHoldPlaced ? e.detail : ""});
        return;
      }
      default:
        return;
    }
  }

  bool CheckAnchorEntry(const LedgerEntry& e) {
    auto anchor = ReadAnchor(e);
    if (!anchor.ok()) return Fail(e.seq, anchor.status().message());
    if (std::string problem = CheckAnchor(e, *anchor); !problem.empty()) return Fail(e.seq, problem);
    const std::string n = std::to_string(e.seq);
    // CheckAnchor measures the schedule from the anchor's own time; dated
    // ahead, an anchor could claim entries of any age.
    if (e.at > now_ + kAnchorClockSkew)
      return Fail(e.seq, "anchor entry " + n + " is dated " + FormatTimestamp(e.at) + ", after the time of this check (" +
                             FormatTimestamp(now_) + "): it could claim entries younger than their retention");
    const int64_t first = report_.first_seq;
    if (last_anchor_) {
      if (anchor->from != last_anchor_->through + 1)
        return Fail(e.seq, "anchor entry " + n + " prunes from entry " + std::to_string(anchor->from) +
                               ", but the anchor before it (entry " + std::to_string(last_anchor_seq_) +
                               ") ended at entry " + std::to_string(last_anchor_->through));
      // A purge anchors a new range only once the last one is gone: only
      // the newest anchor may still have entries present.
      if (!trust_start_ && last_anchor_->through >= first)
        return Fail(e.seq, "anchor entry " + n + " begins a new range while entry " + std::to_string(first) +
                               ", of the range of anchor entry " + std::to_string(last_anchor_seq_) +
                               ", is still in the ledger");
    } else if (!trust_start_ && anchor->from > first) {
      return Fail(e.seq, "anchor entry " + n + " prunes from entry " + std::to_string(anchor->from) + ", but entry " +
                             std::to_string(first) + ", older, is still in the ledger and no anchor accounts for it");
    }
    if (!trust_start_ && anchor->from <= first && first <= anchor->through + 1) {
      if (first == anchor->through + 1) {
        if (first_prev_hash_ != anchor->through_hash)
          return Fail(e.seq, "anchor entry " + n + " says the pruned entries ended with hash " +
                                 Abbrev(anchor->through_hash) + ", but the first entry left (" +
                                 std::to_string(first) + ") follows a hash " + Abbrev(first_prev_hash_) +
                                 ": the anchor does not account for what was removed");
      }
      report_.anchor = *anchor;
      report_.anchor_seq = e.seq;
    }
    if (!trust_start_ && anchor->through + 1 < first) {
      short_anchor_ = *anchor;
      short_anchor_seq_ = e.seq;
    }
    if (anchor->through >= first) pending_.push_back({e.seq, anchor->through, anchor->through_hash});
    report_.anchors.push_back({e.seq, e.at, *anchor});
    last_anchor_ = *anchor;
    last_anchor_seq_ = e.seq;
    return true;
  }

  bool Gap(const LedgerEntry& e) {
    const std::string n = std::to_string(e.seq);
    const std::string before = std::to_string(expected_ - 1);
    if (e.seq < expected_) {
      if (e.seq < 1) return Fail(e.seq, "entry " + n + " has a seq below 1; seqs start at 1");
      return Fail(e.seq, "entry " + n + " appears after entry " + before + ": the order is broken");
    }
    const std::string want = std::to_string(expected_);
    if (e.seq == expected_ + 1) {
      return Fail(expected_, "entry " + want + " is missing: entry " + n + " follows entry " + before);
    }
    return Fail(expected_, "entries " + want + " to " + std::to_string(e.seq - 1) +
                               " are missing: entry " + n + " follows entry " + before);
  }

  bool BadLink(const LedgerEntry& e) {
    if (e.seq == 1) {
      return Fail(1, "entry 1 does not start the chain: its prev_hash is " + Abbrev(e.prev_hash) +
                         ", not 64 zeros");
    }
    const std::string n = std::to_string(e.seq);
    const std::string before = std::to_string(e.seq - 1);
    return Fail(e.seq, "entry " + n + " does not follow entry " + before + ": its prev_hash is " +
                           Abbrev(e.prev_hash) + " but entry " + before + "'s hash is " +
                           Abbrev(report_.head_hash) +
                           " (an entry was inserted, removed, replaced or reordered here)");
  }

  // How far an anchor may be dated ahead of the verifying host's clock.
  static constexpr std::chrono::minutes kAnchorClockSkew{5};

  VerifyReport report_;
  EntryHasher hasher_;
  std::string computed_;
  int64_t expected_ = 1;
  bool trust_start_ = false;
  Timestamp now_;  // the verifying host's clock: no anchor may be dated after it
  std::string first_prev_hash_;
  std::optional<LedgerAnchor> last_anchor_;
  int64_t last_anchor_seq_ = 0;
  // The newest anchor whose range ends before the first entry present, with
  // a gap between: what the report names when no anchor accounts for it.
  std::optional<LedgerAnchor> short_anchor_;
  int64_t short_anchor_seq_ = 0;
  std::vector<PendingCheck> pending_;
  // Batch entries not yet settled, with their record counts.
  struct OpenBatch {
    size_t records = 0;
    int64_t run_id = 0;
    std::string category;
  };
  std::unordered_map<int64_t, OpenBatch> open_;
  // Open batches: where each is in report_.batches.
  std::unordered_map<int64_t, size_t> batch_pos_;
  // Settled batches the check could not see (before its first entry).
  std::unordered_set<int64_t> trusted_settled_;
  std::vector<uint8_t> marks_;  // per candidate of the batch being settled
};

// Entries an anchor pruned but a stopped pruning left in place must still be
// the ones it pruned: their hash is the anchor's through_hash.
Status CheckPendingPrunes(LedgerReader& state, ChainChecker& checker) {
  VerifyReport& report = checker.report();
  for (const auto& check : checker.pending_checks()) {
    if (!report.ok) break;
    std::string hash;
    RETENTION_RETURN_IF_ERROR(state.ScanLedger(check.seq, [&](const LedgerEntry& e) {
      if (e.seq == check.seq) hash = e.hash;
      return false;
    }));
    if (hash == check.hash) continue;
    report.ok = false;
    report.first_bad_seq = check.anchor_seq;
    report.problem = "anchor entry " + std::to_string(check.anchor_seq) + " says entry " + std::to_string(check.seq) +
                     " has hash " + Abbrev(check.hash) + ", but it has " + Abbrev(hash);
  }
  return Status::Ok();
}

// Moves `from` into `*to` by swapping the strings (no copy, no allocation).
void TakeEntry(LedgerEntry& from, LedgerEntry* to) {
  to->seq = from.seq;
  to->at = from.at;
  to->kind = from.kind;
  to->run_id = from.run_id;
  to->batch = from.batch;
  for (auto field : {&LedgerEntry::category, &LedgerEntry::store, &LedgerEntry::target, &LedgerEntry::record_key,
                     &LedgerEntry::clock, &LedgerEntry::cutoff, &LedgerEntry::rule, &LedgerEntry::subject,
                     &LedgerEntry::detail, &LedgerEntry::payload, &LedgerEntry::prev_hash, &LedgerEntry::hash})
    (to->*field).swap(from.*field);
}

// Reading entries from the state database and hashing them cost about the
// same, so they run in two threads: a reader fills batches of entries, the
// calling thread checks them. Memory is bounded by kBatches * kBatchSize
// entries whatever the ledger's size.
constexpr size_t kBatchSize = 2048;
constexpr size_t kBatches = 4;

class Pipeline {
 public:
  Pipeline(LedgerReader& state, Timestamp now) : state_(state), now_(now) {
    for (auto& b : batches_) {
      b.resize(kBatchSize);
      free_.push_back(&b);
    }
  }

  Result<VerifyReport> Run() {
    ChainChecker checker(now_);
    std::thread reader;
    try {
      reader = std::thread([this] { Read(); });
    } catch (const std::system_error&) {
      // No thread to be had (RLIMIT_NPROC): the same check, in one thread.
      Status st = state_.ScanLedger(INT64_MIN,
                                    [&](const LedgerEntry& e) { return checker.Check(e); });
      return Finish(checker, checker.report().ok ? std::move(st) : Status::Ok());
    }
    bool good = true;
    for (;;) {
      Batch* b = nullptr;
      size_t n = 0;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !full_.empty() || done_; });
        if (full_.empty()) break;  // done_ and drained
        std::tie(b, n) = full_.front();
        full_.pop_front();
      }
      for (size_t i = 0; good && i < n; ++i) good = checker.Check((*b)[i]);
      {
        std::lock_guard lock(mu_);
        free_.push_back(b);
        if (!good) stop_ = true;
      }
      cv_.notify_all();
      if (!good) break;
    }
    reader.join();
    return Finish(checker, good ? std::move(status_) : Status::Ok());
  }

 private:
  using Batch = std::vector<LedgerEntry>;

  // `scan` is the reader's status when every entry it delivered was good.
  Result<VerifyReport> Finish(ChainChecker& checker, Status scan) {
    if (!scan.ok()) {
      if (scan.code() != StatusCode::kAuditFailed) return scan;
      checker.Undecodable(scan.message());
    }
    checker.Finish();
    RETENTION_RETURN_IF_ERROR(CheckPendingPrunes(state_, checker));
    return checker.report();
  }

  void Read() {
    Batch* cur = nullptr;
    size_t n = 0;
    auto publish = [&] {
      {
        std::lock_guard lock(mu_);
        full_.emplace_back(cur, n);
      }
      cv_.notify_all();
      cur = nullptr;
      n = 0;
    };
    Status st = state_.ScanLedger(INT64_MIN, [&](LedgerEntry& e) {
      if (cur == nullptr) {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !free_.empty() || stop_; });
        if (stop_) return false;
        cur = free_.back();
        free_.pop_back();
      }
      // Taken, not copied: the scan refills the slot's old strings, whose
      // capacity it reuses.
      TakeEntry(e, &(*cur)[n++]);
      if (n == kBatchSize) publish();
      return true;
    });
    if (cur != nullptr && n > 0) publish();
    {
      std::lock_guard lock(mu_);
      status_ = std::move(st);
      done_ = true;
    }
    cv_.notify_all();
  }

  LedgerReader& state_;
  Timestamp now_;
  std::array<Batch, kBatches> batches_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Batch*, size_t>> full_;
  std::vector<Batch*> free_;
  bool stop_ = false;
  bool done_ = false;
  Status status_;
};

}  // namespace

Result<VerifyReport> VerifyLedger(LedgerReader& state, Timestamp now) {
  // The reader is used by the reader thread only, and only while this
  // call runs; it is never used from two threads at once.
  return Pipeline(state, now).Run();
}

Result<VerifyReport> VerifyLedgerTail(LedgerReader& state, int64_t entries, Timestamp now) {
  auto head = state.Head();
  if (!head.ok()) return head.status();
  const int64_t first = std::max<int64_t>(1, head->seq - entries + 1);
  std::optional<ChainChecker> checker;
  Status st = state.ScanLedger(first, [&](const LedgerEntry& e) {
    // Entries appended since the head was read (a `hold add` while a purge
    // starts) are not part of the tail checked: stop at the head, so that
    // a growing ledger never reads as a cut one.
    if (e.seq > head->seq) return false;
    // The first entry read may be later than `first` when the oldest were
    // pruned; its prev_hash is taken on trust like any tail's.
    if (!checker) checker.emplace(now, e.seq, e.seq == 1 ? std::string(kGenesisHash) : e.prev_hash);
    return checker->Check(e);
  });
  if (!checker) checker.emplace(now, first, std::string(kGenesisHash));
  if (!st.ok()) {
    if (st.code() != StatusCode::kAuditFailed) return st;
    checker->Undecodable(st.message());
  }
  VerifyReport report = checker->report();
  if (report.ok && report.head_seq != head->seq) {
    report.ok = false;
    report.first_bad_seq = report.head_seq + 1;
    report.problem = "the ledger's head is entry " + std::to_string(head->seq) + " but its chain ends at entry " +
                     std::to_string(report.head_seq);
  }
  return report;
}

namespace {

// `checkpoint` names an entry the purge log's retention has since pruned:
// fine when the anchor vouches for it, a cut-back log otherwise.
void CheckPrunedCheckpoint(const LedgerCheckpoint& checkpoint, VerifyReport* report) {
  const std::string n = std::to_string(checkpoint.seq);
  auto fail = [&](std::string problem) {
    report->ok = false;
    report->first_bad_seq = checkpoint.seq;
    report->problem = std::move(problem);
  };
  const LedgerAnchor& anchor = *report->anchor;
  const std::string by = " (pruned by anchor entry " + std::to_string(report->anchor_seq) + ")";
  if (checkpoint.seq == anchor.through) {
    if (checkpoint.hash != anchor.through_hash) {
      fail("entry " + n + by + " had hash " + Abbrev(anchor.through_hash) + " but the checkpoint says " +
           Abbrev(checkpoint.hash) + ": the chain up to entry " + n + " was rewritten");
      return;
    }
    // The hash proves the chain up to it; a time, when the checkpoint has
    // one, must still show it was old enough to go (below).
    if (!checkpoint.at) return;
  }
  if (!checkpoint.at) {
    fail("entry " + n + " of the checkpoint was pruned" + by +
         ", and the checkpoint does not say when that entry was written, so the pruning cannot be told from a "
         "cut-back log: verify against a newer checkpoint");
    return;
  }
  if (!IsDue(*checkpoint.at, anchor.cutoff))
    fail("entry " + n + " of the checkpoint, written " + FormatTimestamp(*checkpoint.at) + ", is gone" + by +
         ", but it was not older than the anchor's cutoff " + FormatTimestamp(anchor.cutoff) +
         ": entries were removed before their retention ran out");
}

}  // namespace

Result<VerifyReport> VerifyLedger(LedgerReader& state, const LedgerCheckpoint& checkpoint, Timestamp now) {
  Result<VerifyReport> r = VerifyLedger(state, now);
  if (!r.ok() || !r->ok) return r;
  VerifyReport& report = r.value();
  const std::string n = std::to_string(checkpoint.seq);
  if (checkpoint.seq > report.head_seq) {
    report.ok = false;
    report.first_bad_seq = report.head_seq + 1;
    report.problem = "the ledger ends at entry " + std::to_string(report.head_seq) +
                     " but the checkpoint names entry " + n +
                     ": entries were removed from the end";
    return r;
  }
  if (checkpoint.seq < 1) return r;  // a checkpoint of an empty ledger
  if (checkpoint.seq < report.first_seq) {
    CheckPrunedCheckpoint(checkpoint, &report);
    return r;
  }
  std::string hash;
  Status st = state.ScanLedger(checkpoint.seq, [&](const LedgerEntry& e) {
    if (e.seq == checkpoint.seq) hash = e.hash;
    return false;
  });
  if (!st.ok()) return st;
  if (hash != checkpoint.hash) {
    report.ok = false;
    report.first_bad_seq = checkpoint.seq;
    report.problem = "entry " + n + " has hash " + Abbrev(hash) + " but the checkpoint says " +
                     Abbrev(checkpoint.hash) +
                     ": the chain up to entry " + n + " was rewritten";
  }
  return r;
}

}  // namespace retention
