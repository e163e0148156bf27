// A batch entry: one ledger entry that is both the intent of a batch and,
// once an outcome is known, the record of what it deleted (SPEC 6.2, the
// "packed batch entry").
//
// Before a batch's target transaction, one hash-chained entry of kind
// `batch` is committed durably. It names once what the batch shares (run,
// category, store, target, rule, cutoff, batch number: the entry's own
// fields) and, packed in its `payload`, every candidate: key, clock,
// subject and identity. It claims nothing yet. The outcome rides in a
// later entry's detail, as a settlement naming the batch entry by its seq:
// the candidates the delete left (by index, with their reason), and, after
// a crash, those found gone under another identity. A candidate of a
// settled batch that the settlement does not list as kept was deleted. A
// batch not yet settled is open: the run is still deleting it, or it
// crashed and the next start reconciles it (purge/reconcile.h).
//
// A settlement is written only once the target's commit of that batch is
// durable (Store::Sync): the ledger never claims a deletion a power cut
// could undo. Settlements ride in the detail of the next batch entry of the
// run (any target), of its run_end, or of a reconciled entry.
//
// PAYLOAD LAYOUT (version 1). varint = unsigned LEB128, at most 10 bytes.
// zigzag(v) = (v << 1) ^ (v >> 63) on int64, as uint64. Front-coded text:
// varint length of the prefix shared with the previous value of the same
// column (0 for the first record), varint length of the rest, the rest's
// bytes.
//
//   u8      version = 1
//   varint  n, the number of records (1 .. 1,000,000)
//   u8      key form: 0 = text, 1 = integer (every key is the canonical
//           decimal text of an int64: optional '-', no leading zeros, not
//           "-0")
//   n keys  form 0: front-coded text;
//           form 1: varint zigzag(key - previous key), previous = 0 for the
//           first, in wrapping int64 arithmetic
//   n clocks, front-coded text (the clock as the store held it)
//   varint  length, then the bytes, of the subject kind ("customer"; empty
//           when the target maps no subject)
//   u8      subject form: 0 = every subject empty (nothing follows),
//           1 = integer, 2 = text
//   n subjects (the id as stored; empty = none)
//           form 1: varint 0 for empty, else zigzag(id) + 1 (an id is the
//           canonical decimal text of an int64 other than INT64_MIN)
//           form 2: front-coded text
//   u8      identity form: 0 = every identity unknown (nullopt), 1 = every
//           identity empty "", 2 = per record, front-coded against the
//           previous known identity: varint 0 = unknown, else 1 + the
//           shared prefix length, then varint length of the rest and its
//           bytes
//   nothing after the last field.
//
// Records are in the order the batch selected them. The entry's hash covers
// the payload bytes (ledger/ledger.cc, field 16).
//
// SETTLEMENT (the "settles" member of a batch, run_end or reconciled
// entry's detail JSON):
//
//   "settles": [ {"seq": S,                       the batch entry settled
//                 "kept": [ {"i": 3, "why": "held", "reason": "...",
//                            "hold": 7, "skip": "locked"} ],
//                 "replaced": [5],                 reconciliation only
//                 "reconciled": true } ]           reconciliation only
//
// "i" is the candidate's index in S's payload; the other members of a kept
// item are KeptDetail's (ledger/kept_reason.h). "replaced" lists
// candidates found gone with another record under their key: deleted.
// Omitted members are empty / false. Each batch entry is settled at most
// once, by an entry after it.
//
// STORE IDENTITY (the "store_identity" member of a batch entry's own
// detail, beside an erasure's "request" and the "settles" it carries):
//
//   "store_identity": "postgres cluster 7714821381855405924, database
//                      \"app\" (oid 16384), table \"public\".\"events\" (oid 16390)"
//
// What the entry's store named as the batch was written (Store::Identity),
// as TextJson writes text (a string; {"base64": ...} for bytes that are not
// UTF-8). Absent for a store without one (SQLite, files, the purge log) and
// in entries written before it existed. Reconciliation judges the batch
// only over a store whose identity now is the same (purge/reconcile.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/kept_reason.h"
#include "util/status.h"

namespace retention {

struct BatchRecord {
  std::string key;
  std::string clock;
  std::string subject;                  // the id as stored; "" when none
  std::optional<std::string> identity;  // stores/store.h Candidate::identity

  bool operator==(const BatchRecord&) const = default;
};

struct BatchPayload {
  std::string subject_kind;  // "" when the target maps no subject
  std::vector<BatchRecord> records;

  // Field by field: what a round trip through the payload must keep.
  bool operator==(const BatchPayload&) const = default;
};

// At most this many records in one batch entry.
inline constexpr size_t kMaxBatchRecords = 1000000;

// The payload bytes (layout above). Picks the integer forms whenever every
// value allows them. Invalid for an empty batch or one over the limit.
Result<std::string> EncodeBatchPayload(const BatchPayload& payload);

// Reads payload bytes back; AuditFailed naming what is wrong when they do
// not follow the layout (truncated, trailing bytes, a count over the
// limit, a prefix longer than the previous value).
Result<BatchPayload> DecodeBatchPayload(std::string_view bytes);

// Every record's subject id ("" for none) and the batch's subject kind,
// the rest of the payload checked as DecodeBatchPayload checks it but not
// kept (the subject index's rows, ledger/entry_index.h, cost a decode of
// every key and clock otherwise).
struct BatchSubjects {
  std::string kind;
  std::vector<std::string> ids;
};
Result<BatchSubjects> SubjectsOfPayload(std::string_view bytes);

// The smallest and largest key of a payload, for the ledger's key index
// (StateAppend::IndexBatch): compared as integers when `integer_keys`, else
// as bytes.
struct BatchKeyRange {
  std::string lo;
  std::string hi;
  bool integer_keys = false;
};
BatchKeyRange KeyRangeOf(const BatchPayload& payload);
// The same from payload bytes, reading only the header and the keys (for
// `audit verify`'s check of the batch index); AuditFailed when they do not
// follow the layout.
Result<BatchKeyRange> KeyRangeOfPayload(std::string_view bytes);

// The int64 whose canonical decimal text `s` is (key form 1 above:
// optional '-', digits without a leading zero, not "-0"), else nullopt.
std::optional<int64_t> CanonicalInt(std::string_view s);

// hi - lo for integer keys lo <= hi, INT64_MAX when that overflows: the
// key span the state database bounds a key lookup with (ledger_key_spans).
int64_t KeySpan(int64_t lo, int64_t hi);

// The outcome of one batch entry (SETTLEMENT above).
struct Settlement {
  int64_t batch_seq = 0;
  struct Kept {
    uint32_t index = 0;
    KeptReason reason;
  };
  std::vector<Kept> kept;
  std::vector<uint32_t> replaced;
  bool reconciled = false;
};

// The "settles" array for an entry's detail.
nlohmann::json SettlementsJson(const std::vector<Settlement>& settlements);
// The settlements a detail carries (empty when it has none); AuditFailed
// when "settles" is present but malformed.
Result<std::vector<Settlement>> SettlementsOf(std::string_view detail_json);

// The member of a batch entry's detail that names its store (STORE
// IDENTITY above).
inline constexpr const char* kStoreIdentityMember = "store_identity";
// The store identity a batch entry's detail records; nullopt when it
// records none; AuditFailed when the member is there but not text.
Result<std::optional<std::string>> StoreIdentityOf(std::string_view detail_json);

}  // namespace retention
