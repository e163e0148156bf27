// Checkpoints: the ledger's head, saved by an auditor outside the state
// database, so that a later `audit verify --against FILE` detects a log cut
// back past it or rewritten up to it (SPEC 6.10).
//
// FILE FORMAT (JSON, one object):
//
//   {"format": "retention-checkpoint/2",
//    "seq": 1234,                       -- the head entry's seq (0: empty ledger)
//    "hash": "<64 hex>",                -- its hash (64 zeros: empty ledger)
//    "head_at": "2026-11-22T02:59:58.123456Z",  -- its time ("" when empty)
//    "time": "2026-11-22T03:00:00Z",    -- when the checkpoint was taken
//    "signature": "<base64>",           -- optional: Ed25519 over the message below
//    "public_key": "<base64 raw 32 bytes>"}  -- optional, informative only
//
//   Signed message (UTF-8, '\n' after each line):
//     retention-checkpoint/2
//     <seq>
//     <hash>
//     <head_at>
//     <time>
//
// head_at lets `verify --against` tell an entry the purge log's own
// retention pruned (older than the anchor's cutoff) from a log cut back.
// Format 1 (no head_at; the signed message without its line) is still read.
//
// Verifying trusts only the key given on the command line (--verify-key),
// never the public_key inside the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "ledger/ledger.h"
#include "util/status.h"

namespace retention::audit {

inline constexpr const char* kCheckpointFormat = "retention-checkpoint/2";
inline constexpr const char* kCheckpointFormatV1 = "retention-checkpoint/1";

struct Checkpoint {
  std::string format = kCheckpointFormat;
  int64_t seq = 0;
  std::string hash;
  std::string head_at;  // FormatTimestamp of the head entry's time; "" if unknown
  std::string time;
  std::string signature;   // base64; empty when unsigned
  std::string public_key;  // base64 raw key; informative

  LedgerCheckpoint head() const;
  std::string SignedMessage() const;
  std::string ToJson() const;  // pretty, with a trailing newline
};

// Parses a checkpoint file's text. Also accepts the output of
// `audit verify --format json` (head_seq, head_hash). A malformed file is
// an Invalid status naming `source`.
Result<Checkpoint> ParseCheckpoint(const std::string& text, const std::string& source);
Result<Checkpoint> ReadCheckpointFile(const std::filesystem::path& file);

// Signs with the Ed25519 private key in PEM file `key_pem` (sets signature
// and public_key). Unreadable or non-Ed25519 keys: Invalid.
Status SignCheckpoint(const std::filesystem::path& key_pem, Checkpoint* cp);
// Checks the signature against the Ed25519 public key in PEM file
// `key_pem`. An unsigned checkpoint or a bad signature: AuditFailed.
Status VerifyCheckpointSignature(const std::filesystem::path& key_pem, const Checkpoint& cp);

}  // namespace retention::audit
