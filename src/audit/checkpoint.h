// Checkpoints: the ledger's head, saved by an auditor outside the state
// database, so that a later `audit verify --against FILE` detects a log cut
// back past it or rewritten up to it (SPEC 6.10).
//
// FILE FORMAT (JSON, one object):
//
//   {"format": "retention-checkpoint/3",
//    "seq": 1234,                       -- the head entry's seq (0: empty ledger)
//    "hash": "<64 hex>",                -- its hash (64 zeros: empty ledger)
//    "head_at": "2026-11-22T02:59:58.123456Z",  -- its time ("" when empty)
//    "time": "2026-11-22T03:00:00Z",    -- when the checkpoint was taken
//    "purge_log_schedule": {            -- the purge log's schedule in force then,
//      "delete_after": "12 months",     --   from the rules; "none" when no rule
//      "keep_at_least": "30 days",      --   prunes the log; "" when no floor
//      "time_zone": "UTC"},             --   the calendar of its cutoffs
//    "rules_hash": "<64 hex>",          -- the rules' hash then (RuleSet::hash)
//    "signature": "<base64>",           -- optional: Ed25519 over the message below
//    "public_key": "<base64 raw 32 bytes>"}  -- optional, informative only
//
//   Signed message (UTF-8, '\n' after each line):
//     retention-checkpoint/3
//     <seq>
//     <hash>
//     <head_at>
//     <time>
//     purge_log_delete_after=<delete_after>
//     purge_log_keep_at_least=<keep_at_least>
//     purge_log_time_zone=<time_zone>
//     rules_hash=<rules_hash>
//
// head_at lets `verify --against` tell an entry the purge log's own
// retention pruned (older than the anchor's cutoff) from a log cut back.
// The pinned schedule lets it refuse an anchor appended since that claims a
// shorter one (audit/anchor_schedule.h): a forger's "1 hour".
// Formats 1 (no head_at; the signed message without its line) and 2 (no
// schedule or rules hash; the message ends at <time>) are still read; they
// pin no schedule.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "audit/anchor_schedule.h"
#include "ledger/ledger.h"
#include "util/status.h"

namespace retention::audit {

inline constexpr const char* kCheckpointFormat = "retention-checkpoint/3";
inline constexpr const char* kCheckpointFormatV2 = "retention-checkpoint/2";
inline constexpr const char* kCheckpointFormatV1 = "retention-checkpoint/1";

struct Checkpoint {
  std::string format = kCheckpointFormat;
  int64_t seq = 0;
  std::string hash;
  std::string head_at;  // FormatTimestamp of the head entry's time; "" if unknown
  std::string time;
  // Format 3: the purge log's schedule and the rules' hash when taken.
  std::optional<PurgeLogSchedule> schedule;
  std::string rules_hash;
  std::string signature;   // base64; empty when unsigned
  std::string public_key;  // base64 raw key; informative

  LedgerCheckpoint head() const;
  // The schedule it pins, for CheckAnchorSchedules; nullopt before format 3.
  std::optional<PinnedSchedule> pin() const;
  std::string SignedMessage() const;
  std::string ToJson() const;  // pretty, with a trailing newline
};

// Parses a checkpoint file's text. Also accepts the output of
// `audit verify --format json` (head_seq, head_hash). A malformed file is
// an Invalid status naming `source`.
Result<Checkpoint> ParseCheckpoint(const std::string& text, const std::string& source);
Result<Checkpoint> ReadCheckpointFile(const std::filesystem::path& file);

// Ed25519 over any message, the one way this program signs (checkpoints,
// and an evidence bundle's manifest: audit/evidence_bundle.h). Both
// values base64 (standard, padded); public_key is the raw 32-byte key.
struct Ed25519Signature {
  std::string signature;
  std::string public_key;
};
// Signs `message` with the Ed25519 private key in PEM file `key_pem`.
// Unreadable or non-Ed25519 keys: Invalid.
Result<Ed25519Signature> SignEd25519(const std::filesystem::path& key_pem, std::string_view message);
// Checks base64 `signature` over `message` against the Ed25519 public key
// in PEM file `key_pem`. A bad key file: Invalid. A signature that is not
// base64 or does not verify: AuditFailed, naming `what` ("the checkpoint").
Status VerifyEd25519(const std::filesystem::path& key_pem, std::string_view message, const std::string& signature,
                     const std::string& what);
// "SHA256:" and the lowercase hex SHA-256 of a raw public key: the
// fingerprint `audit verify --bundle` names a signer by.
std::string KeyFingerprint(std::string_view raw_public_key);
// The same for the public key in PEM file `key_pem` (Invalid as above).
Result<std::string> KeyFingerprintOfFile(const std::filesystem::path& key_pem);

// Signs with the Ed25519 private key in PEM file `key_pem` (sets signature
// and public_key). Unreadable or non-Ed25519 keys: Invalid.
Status SignCheckpoint(const std::filesystem::path& key_pem, Checkpoint* cp);
// Checks the signature against the Ed25519 public key in PEM file
// `key_pem`. An unsigned checkpoint or a bad signature: AuditFailed.
Status VerifyCheckpointSignature(const std::filesystem::path& key_pem, const Checkpoint& cp);

}  // namespace retention::audit
