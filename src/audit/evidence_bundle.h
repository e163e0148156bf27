// Evidence bundles: a contiguous range of the purge log written to a
// directory that an auditor verifies on their own machine, with the binary
// alone: no config, no rules, no state database (`retention audit export
// --bundle DIR`, `retention audit verify --bundle DIR`; SPEC 5, issue 17).
//
// LAYOUT (format "retention-bundle/1"): DIR holds exactly
//
//   entries.jsonl   one JSON object a line ('\n' after each, the last
//                   included), in seq order, one per ledger entry of the
//                   range, members named as the ledger's columns
//                   (ledger/ledger.cc):
//                     seq, at, run_id, batch     integers (at: unix
//                                                microseconds, as hashed)
//                     at_utc                     `at` as RFC 3339 UTC, for
//                                                people (checked against at)
//                     kind, category, store, target, record_key, clock,
//                     cutoff, rule, subject, detail, prev_hash, hash
//                                                text: a JSON string when the
//                                                stored bytes are UTF-8, else
//                                                {"base64": "<the bytes>"}
//                     payload                    standard base64 of the
//                                                packed candidates of a batch
//                                                entry (ledger/batch_entry.h),
//                                                "" for every other kind
//                   No other member. Every field the hash covers is there,
//                   byte for byte: hash = SHA-256 over the layout at the
//                   top of ledger/ledger.cc.
//   manifest.json   one JSON object (2-space indent, sorted keys, '\n' at
//                   the end), written last:
//                     format          "retention-bundle/1"
//                     tool, tool_version   "retention" and its version
//                     created_at      when the bundle was written (UTC)
//                     count           entries in entries.jsonl
//                     first_seq, last_seq  the range; last = first + count - 1
//                     first_prev_hash the first entry's prev_hash: 64 zeros
//                                     when first_seq is 1, else the hash of
//                                     the entry before the range
//                     head_hash, head_at   the last entry's hash and time
//                     rules_hashes    the rules hashes the range's run_start
//                                     entries name, in order, once each
//                     files           {"entries.jsonl": {"bytes": N,
//                                      "sha256": "<hex>"}}
//                     anchor          null, or when the range starts at the
//                                     first entry the purge log's retention
//                                     left: the anchor that pruned the entries
//                                     before it ({"seq", "from", "through",
//                                     "through_hash", "cutoff"}); through + 1
//                                     = first_seq, through_hash =
//                                     first_prev_hash
//   manifest.sig    only when signed: {"algorithm": "Ed25519",
//                   "public_key": "<base64 raw 32 bytes>", "signature":
//                   "<base64>"}, the signature over the bytes of
//                   manifest.json exactly as they are in the file, made as
//                   checkpoints are (audit/checkpoint.h). public_key is
//                   informative: a signature counts only when checked with
//                   --verify-key.
//
// A crash while writing leaves no manifest.json (entries.jsonl and the
// signature go first, each fsynced and renamed into place), and a bundle
// without a manifest does not verify.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calendar/timestamp.h"
#include "ledger/ledger.h"
#include "ledger/ledger_reader.h"
#include "util/status.h"

namespace retention::audit {

inline constexpr const char* kBundleFormat = "retention-bundle/1";
inline constexpr const char* kBundleEntries = "entries.jsonl";
inline constexpr const char* kBundleManifest = "manifest.json";
inline constexpr const char* kBundleSignature = "manifest.sig";

// One entry as a line of entries.jsonl (LAYOUT), and back. ParseBundleLine
// is AuditFailed naming the member that is missing, of the wrong type or
// unknown.
nlohmann::json BundleLine(const LedgerEntry& e);
Result<LedgerEntry> ParseBundleLine(const std::string& line);

// Which entries go in: the contiguous range from the first entry with seq
// >= from_seq and appended at or after `since`, up to (not including) the
// first entry after it with seq > to_seq or appended at or after `until`.
// Unset bounds are open.
struct BundleRange {
  std::optional<int64_t> from_seq, to_seq;
  std::optional<Timestamp> since, until;
};

struct BundleWriteOptions {
  std::filesystem::path dir;  // exists and is empty
  BundleRange range;
  std::optional<std::filesystem::path> sign_key;  // Ed25519 private key, PEM
  Timestamp created_at{};
};

struct BundleSummary {
  int64_t count = 0;
  int64_t first_seq = 0, last_seq = 0;
  std::string first_prev_hash, head_hash;
  std::string signed_by;  // KeyFingerprint of the signing key; "" unsigned
};

// Writes the bundle of `ledger`'s entries in `range` into opt.dir.
// `verified` is VerifyLedger's report of that ledger, ok: the bundle never
// goes past its head, and carries its anchor when the range starts where
// the pruned ledger does. A range without entries is a Usage error. On any
// failure the files written are removed.
Result<BundleSummary> WriteEvidenceBundle(LedgerReader& ledger, const VerifyReport& verified,
                                          const BundleWriteOptions& opt);

struct BundleVerification {
  bool ok = false;
  // Every check that failed, in plain words naming the file, the entry's
  // seq and the member (empty when ok).
  std::vector<std::string> problems;
  // From the manifest (when it could be read) and the chain.
  int64_t count = 0, first_seq = 0, last_seq = 0;
  std::string first_prev_hash, head_hash, head_at, created_at, tool_version;
  std::vector<std::string> rules_hashes;
  int64_t records = 0, open_batches = 0;  // as VerifyLedger counts them
  bool has_anchor = false;
  int64_t anchor_seq = 0, anchor_through = 0;
  bool is_signed = false;          // manifest.sig is present
  bool signature_checked = false;  // and verified with the key given
  std::string signed_by;           // the key's fingerprint (KeyFingerprint)
};

// Verifies the bundle in `dir`, reading nothing else: the manifest, the
// signature with `verify_key` when given (required then), that DIR holds
// the files the manifest lists and no others with their sizes and SHA-256,
// and the entries with the ledger's own verifier (VerifyLedgerTail over
// entries.jsonl: every hash, every link, batch payloads and settlements)
// from first_prev_hash to head_hash, with the count, range, rules hashes
// and anchor the manifest states. `now` dates the check (no anchor may be
// dated after it). A DIR that does not exist or cannot be read is
// Unavailable; a bad --verify-key file Invalid; anything wrong with the
// bundle itself is a report with ok false.
Result<BundleVerification> VerifyEvidenceBundle(const std::filesystem::path& dir,
                                                const std::optional<std::filesystem::path>& verify_key,
                                                Timestamp now);

}  // namespace retention::audit
