// One entry of the purge log (the ledger). The on-disk format and the hash
// chain are described at the top of ledger.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "calendar/timestamp.h"

namespace retention {

enum class LedgerKind {
  kRunStart,     // detail: user, host, version, rules_hash, as_of, command
  kRunEnd,       // detail: outcome, exit_code, deleted counts
  kDelete,       // one deleted record
  kHoldPlaced,   // detail: the hold
  kHoldReleased, // detail: hold id, by, reason
  kReconciled,   // a crashed run's pending batch settled; detail says how
  kKept,         // selected for deletion, kept at delete time; detail.reason says why
  kAnchor,       // the ledger's own oldest entries pruned; see ledger/anchor.h
  kBatch,        // a batch's intent, its candidates packed in payload; its
                 // outcome settled by a later entry (ledger/batch_entry.h)
  kErase,        // an erasure request a run executes (after its run_start);
                 // detail: request, subject, received, deadline
};

// The prev_hash of entry 1, and the hash of an empty ledger's head.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string_view LedgerKindName(LedgerKind k);
std::optional<LedgerKind> LedgerKindFromName(std::string_view name);

struct LedgerEntry {
  int64_t seq = 0;          // 1, 2, 3 ... assigned on append
  Timestamp at{};           // when it was appended (ChainWriter's clock)
  LedgerKind kind = LedgerKind::kDelete;
  int64_t run_id = 0;       // 0 when not part of a run (holds)
  // kDelete fields (empty otherwise):
  std::string category;
  std::string store;
  std::string target;
  std::string record_key;
  std::string clock;        // the clock value as the store held it
  std::string cutoff;       // FormatTimestamp of the cutoff applied
  std::string rule;         // "FILE:LINE" of the target that made it due
  std::string subject;      // "customer:42" when the target maps subjects
  int64_t batch = 0;
  // Everything else, as compact JSON with sorted keys.
  std::string detail;
  // kBatch only: the packed candidates (ledger/batch_entry.h); empty
  // otherwise.
  std::string payload;
  // Chain.
  std::string prev_hash;    // hex SHA-256, 64 zeros for the first entry
  std::string hash;         // hex SHA-256 over prev_hash and all fields above
};

// The last entry of the ledger: its seq (0 when empty) and hash (64 zeros
// when empty). Kept by an auditor as a checkpoint (see ledger.h).
struct LedgerHead {
  int64_t seq = 0;
  std::string hash;
  // Its time; a checkpoint carries it so that `verify --against` can tell
  // whether the purge log's retention may have pruned it (ledger/anchor.h).
  std::optional<Timestamp> at;
};

}  // namespace retention
