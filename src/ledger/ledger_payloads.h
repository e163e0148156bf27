// The details (payloads) of the ledger's hold and run entries, defined
// once: what the state's operations write (state/state_ops.h) and what the
// audit reads back (audit/state_cross_check.h, audit/run_history.h).
//
// A detail is compact JSON with sorted keys (nlohmann's objects are sorted
// maps). Text is written as a JSON string when it is valid UTF-8, and as
// {"base64": ...} otherwise (util/json_text.h), so every byte comes back;
// entries written before issue 12 carry such text with each bad byte
// replaced by U+FFFD, and decode as that. For valid UTF-8 the bytes are
// exactly those written since schema version 1, so existing ledgers and
// their hashes are untouched:
//
//   hold_placed    {"author","expires_at"?,"host"?,"id","matter","placed_at",
//                   "reason","scope":{"category"?,"clock_from"?,"clock_until"?,
//                   "key"?,"subject_id"?,"subject_kind"?,"target"?}}
//   hold_released  {"by","host"?,"id","matter","reason","released_at"}
//
// "host" is the host that placed or released the hold (its name in the
// state: HostNameInState), as run_start names a run's; entries written
// before it was added have none.
//   run_start      {"as_of","command","host","rules_hash","started_at","user",
//                   "version"}
//   run_end        {"exit_code","outcome", ...what the run adds (counts,
//                   targets, error)}
//   run_end of a crashed run
//                  {"found_at","note","outcome":"crashed"}
//
// Times are FormatTimestamp text (UTC, microseconds when there are any).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "calendar/timestamp.h"
#include "holds/hold.h"
#include "util/status.h"

namespace retention {

// ---- hold_placed ----------------------------------------------------------

// The hold as placed: id, matter, reason, author, placed_at, expires_at and
// scope (a release is its own entry), and the host that placed it.
std::string EncodeHoldPlaced(const Hold& hold, const std::string& host);

struct HoldPlacedPayload {
  Hold hold;  // the fields above; never released
  std::string host;  // "" in an entry that names none
  // False for an entry that records no scope (an older format): its terms
  // cannot be compared with the holds table.
  bool has_scope = false;
};
// AuditFailed when the detail is not a JSON object, names no integer id, or
// holds a field of the wrong type or a time that does not parse.
Result<HoldPlacedPayload> DecodeHoldPlaced(std::string_view detail);

// A hold's terms, the part of a hold_placed entry that decides what it
// keeps (expiry and scope), as compact JSON: for the audit's comparison of
// the holds table with the ledger. HoldTerms is the form an entry written
// today records for `hold`; HoldTermsWrittenBefore the form entries written
// before issue 12 recorded (text not valid UTF-8 with each bad byte
// replaced), which differs only for such text.
std::string HoldTerms(const Hold& hold);
std::string HoldTermsWrittenBefore(const Hold& hold);
// The terms a hold_placed entry records; nullopt when it records no scope.
std::optional<std::string> HoldTermsOfEntry(std::string_view detail);

// ---- hold_released --------------------------------------------------------

struct HoldReleasedPayload {
  int64_t id = 0;
  std::string matter;
  std::string by;
  std::string reason;
  Timestamp released_at{};
  std::string host;  // the host that released it; "" in an entry that names none
};
std::string EncodeHoldReleased(const HoldReleasedPayload& release);
Result<HoldReleasedPayload> DecodeHoldReleased(std::string_view detail);

// The hold a hold_placed or hold_released entry names (detail.id), or -1
// when its detail names none.
int64_t HoldIdOf(std::string_view detail);

// ---- run_start ------------------------------------------------------------

// The run as started; times as FormatTimestamp text.
struct RunStartPayload {
  std::string user, host, version, rules_hash, command;
  std::string as_of, started_at;
};
std::string EncodeRunStart(const RunStartPayload& start);
// AuditFailed only when the detail is not a JSON object: a field missing is
// read as "" (a value that is not text, as its JSON), so that the story of
// a run is told as far as its entry tells it.
Result<RunStartPayload> DecodeRunStart(std::string_view detail);

// ---- run_end --------------------------------------------------------------

struct RunEndPayload {
  std::string outcome;           // ok, stopped, failed, crashed
  std::optional<int> exit_code;  // unset for a crashed run
  // The rest of the detail, an object: what the run reported (counts,
  // targets, error), or found_at and note for a crashed run.
  nlohmann::json more = nlohmann::json::object();

  // more.error, "" when none.
  std::string error() const;
};
std::string EncodeRunEnd(const RunEndPayload& end);
// The run_end of a run found crashed at `found_at` (purge/reconcile.h).
RunEndPayload RunCrashedPayload(Timestamp found_at);
// As DecodeRunStart: AuditFailed only when the detail is not an object.
Result<RunEndPayload> DecodeRunEnd(std::string_view detail);

// A text field of a detail as DecodeRunStart reads it: the bytes of a
// string or {"base64": ...} value, the JSON of any other value, "" when
// absent.
std::string PayloadText(const nlohmann::json& detail, const char* key);

}  // namespace retention
