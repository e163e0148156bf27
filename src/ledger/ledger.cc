// The ledger (purge log): format and hash chain.
//
// TABLE (SQLite state database, schema version 1; see state/sqlite_state_db.cc)
//
//   ledger(seq        INTEGER PRIMARY KEY,  -- 1, 2, 3 ... no gaps
//          at         INTEGER NOT NULL,     -- append time, unix microseconds UTC
//          kind       TEXT    NOT NULL,     -- LedgerKindName: run_start, run_end,
//                                           --   delete, hold_placed,
//                                           --   hold_released, reconciled
//          run_id     INTEGER NOT NULL,     -- 0 outside a run
//          category   TEXT NOT NULL, store TEXT NOT NULL, target TEXT NOT NULL,
//          record_key TEXT NOT NULL, clock TEXT NOT NULL, cutoff TEXT NOT NULL,
//          rule       TEXT NOT NULL, subject TEXT NOT NULL,
//          batch      INTEGER NOT NULL,
//          detail     TEXT NOT NULL,        -- compact JSON, sorted keys, or ''
//          prev_hash  TEXT NOT NULL,        -- hash of entry seq-1; 64 '0' for seq 1
//          hash       TEXT NOT NULL)        -- see below
//
//   Triggers make the table append-only for ordinary SQL (UPDATE and DELETE
//   abort); they are a guard against accidents, not against tampering,
//   which is what the chain is for.
//
// HASH
//
//   hash = lowercase hex of SHA-256 over the concatenation of 15 fields,
//   in this order, each encoded as
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
//
//   Because every field is length-prefixed, no two different entries
//   produce the same byte string. Because prev_hash and seq are inside the
//   hash, changing, removing, inserting or reordering any entry breaks
//   either that entry's hash or the next entry's link; only truncating the
//   tail keeps a valid chain, which a saved checkpoint (seq, hash) of the
//   head detects.
#include "ledger/ledger.h"

#include <array>
#include <cstring>

namespace retention {
namespace {

constexpr std::array<std::string_view, 6> kKindNames = {
    "run_start", "run_end", "delete", "hold_placed", "hold_released", "reconciled",
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

Result<VerifyReport> VerifyLedger(StateDb& state) {
  VerifyReport report;
  report.head_hash = std::string(kGenesisHash);
  EntryHasher hasher;
  std::string computed;
  int64_t expected = 1;

  auto fail = [&](int64_t seq, std::string problem) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.problem = std::move(problem);
    return false;
  };

  Status st = state.ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
    const std::string n = std::to_string(e.seq);
    if (e.seq != expected) {
      if (e.seq < expected) {
        if (e.seq < 1) {
          return fail(e.seq, "entry " + n + " has a seq below 1; seqs start at 1");
        }
        return fail(e.seq, "entry " + n + " appears after entry " +
                               std::to_string(expected - 1) + ": the order is broken");
      }
      const std::string want = std::to_string(expected);
      if (expected == 1) {
        return fail(1, "entry 1 is missing: the ledger starts at entry " + n);
      }
      if (e.seq == expected + 1) {
        return fail(expected, "entry " + want + " is missing: entry " + n +
                                  " follows entry " + std::to_string(expected - 1));
      }
      return fail(expected, "entries " + want + " to " + std::to_string(e.seq - 1) +
                                " are missing: entry " + n + " follows entry " +
                                std::to_string(expected - 1));
    }
    if (e.prev_hash != report.head_hash) {
      if (e.seq == 1) {
        return fail(1, "entry 1 does not start the chain: its prev_hash is " +
                           Abbrev(e.prev_hash) + ", not 64 zeros");
      }
      return fail(e.seq, "entry " + n + " does not follow entry " +
                             std::to_string(e.seq - 1) + ": its prev_hash is " +
                             Abbrev(e.prev_hash) + " but entry " +
                             std::to_string(e.seq - 1) + "'s hash is " +
                             Abbrev(report.head_hash) +
                             " (an entry was inserted, removed, replaced or reordered here)");
    }
    hasher.Hash(e, &computed);
    if (computed != e.hash) {
      return fail(e.seq, "entry " + n + " was modified: its fields hash to " +
                             Abbrev(computed) + " but its stored hash is " +
                             Abbrev(e.hash));
    }
    report.head_hash = e.hash;
    report.head_seq = e.seq;
    ++report.entries;
    ++expected;
    return true;
  });
  if (!st.ok()) {
    // The state database reports an entry it cannot even decode (a NULL
    // field, an unknown kind) as AuditFailed: that is tampering too, and it
    // sits right after the last good entry (any gap before it would have
    // been reported first only if we had seen it, so name the next seq).
    if (st.code() == ExitCode::kAuditFailed && report.ok) {
      report.ok = false;
      report.first_bad_seq = expected;
      report.problem = st.message();
      return report;
    }
    return st;
  }
  return report;
}

Result<VerifyReport> VerifyLedger(StateDb& state, const LedgerCheckpoint& checkpoint) {
  Result<VerifyReport> r = VerifyLedger(state);
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
