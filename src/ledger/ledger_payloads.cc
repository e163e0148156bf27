#include "ledger/ledger_payloads.h"

#include "calendar/clock_value.h"
#include "calendar/cutoff.h"
#include "util/json_text.h"

namespace retention {
namespace {

using Json = nlohmann::json;

// The terms of `h` (expires_at and scope), each text made JSON by `text`.
template <typename TextFn>
Json TermsJson(const Hold& h, TextFn text) {
  Json j = Json::object();
  if (h.expires_at) j["expires_at"] = FormatTimestamp(*h.expires_at);
  Json scope = Json::object();
  const HoldScope& s = h.scope;
  if (s.category) scope["category"] = text(*s.category);
  if (s.target) scope["target"] = text(*s.target);
  if (s.subject_kind) scope["subject_kind"] = text(*s.subject_kind);
  if (s.subject_id) scope["subject_id"] = text(*s.subject_id);
  if (s.key) scope["key"] = text(*s.key);
  if (s.clock_from) scope["clock_from"] = FormatTimestamp(*s.clock_from);
  if (s.clock_until) scope["clock_until"] = FormatTimestamp(*s.clock_until);
  j["scope"] = std::move(scope);
  return j;
}

Json Text(const std::string& s) { return TextJson(s); }
// Before issue 12: a plain string, whatever its bytes (DumpJson replaces
// what is not UTF-8).
Json PlainText(const std::string& s) { return Json(s); }

Result<Json> ParseObject(std::string_view detail, const char* kind) {
  Json j = Json::parse(detail, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::AuditFailed(std::string(kind) + " entry's detail is not a JSON object");
  return j;
}

// Strict readers for DecodeHoldPlaced / DecodeHoldReleased: `where` names
// the field in the error.
Status Malformed(const char* kind, const std::string& what) {
  return Status::AuditFailed(std::string(kind) + " entry is malformed: " + what);
}

Status ReadText(const Json& j, const char* key, const char* kind, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return Malformed(kind, std::string("detail.") + key + " is missing");
  auto text = TextFromJson(*it);
  if (!text) return Malformed(kind, std::string("detail.") + key + " is not text");
  *out = std::move(*text);
  return Status::Ok();
}

Status ReadOptText(const Json& j, const char* key, const char* kind, std::optional<std::string>* out) {
  if (!j.contains(key)) {
    out->reset();
    return Status::Ok();
  }
  std::string s;
  RETENTION_RETURN_IF_ERROR(ReadText(j, key, kind, &s));
  *out = std::move(s);
  return Status::Ok();
}

Status ReadOptTime(const Json& j, const char* key, const char* kind, std::optional<Timestamp>* out) {
  if (!j.contains(key)) {
    out->reset();
    return Status::Ok();
  }
  const Json& v = j.at(key);
  std::optional<Timestamp> t;
  if (v.is_string()) t = ParseClockText(v.get_ref<const std::string&>(), TimeZone::Utc());
  if (!t) return Malformed(kind, std::string("detail.") + key + " is not a time");
  *out = t;
  return Status::Ok();
}

Status ReadTime(const Json& j, const char* key, const char* kind, Timestamp* out) {
  std::optional<Timestamp> t;
  RETENTION_RETURN_IF_ERROR(ReadOptTime(j, key, kind, &t));
  if (!t) return Malformed(kind, std::string("detail.") + key + " is missing");
  *out = *t;
  return Status::Ok();
}

Status ReadId(const Json& j, const char* kind, int64_t* out) {
  auto it = j.find("id");
  if (it == j.end() || !it->is_number_integer()) return Malformed(kind, "detail.id is not an integer");
  *out = it->get<int64_t>();
  return Status::Ok();
}

}  // namespace

// ---- hold_placed ----------------------------------------------------------

std::string EncodeHoldPlaced(const Hold& h, const std::string& host) {
  Json j = TermsJson(h, Text);
  if (!host.empty()) j["host"] = TextJson(host);
  j["id"] = h.id;
  j["matter"] = TextJson(h.matter);
  j["reason"] = TextJson(h.reason);
  j["author"] = TextJson(h.author);
  j["placed_at"] = FormatTimestamp(h.placed_at);
  return DumpJson(j);
}

Result<HoldPlacedPayload> DecodeHoldPlaced(std::string_view detail) {
  constexpr const char* kKind = "hold_placed";
  auto j = ParseObject(detail, kKind);
  if (!j.ok()) return j.status();
  HoldPlacedPayload p;
  Hold& h = p.hold;
  RETENTION_RETURN_IF_ERROR(ReadId(*j, kKind, &h.id));
  RETENTION_RETURN_IF_ERROR(ReadText(*j, "matter", kKind, &h.matter));
  RETENTION_RETURN_IF_ERROR(ReadText(*j, "reason", kKind, &h.reason));
  RETENTION_RETURN_IF_ERROR(ReadText(*j, "author", kKind, &h.author));
  RETENTION_RETURN_IF_ERROR(ReadTime(*j, "placed_at", kKind, &h.placed_at));
  RETENTION_RETURN_IF_ERROR(ReadOptTime(*j, "expires_at", kKind, &h.expires_at));
  std::optional<std::string> host;
  RETENTION_RETURN_IF_ERROR(ReadOptText(*j, "host", kKind, &host));
  p.host = host.value_or("");
  auto scope = j->find("scope");
  p.has_scope = scope != j->end();
  if (!p.has_scope) return p;
  if (!scope->is_object()) return Malformed(kKind, "detail.scope is not an object");
  HoldScope& s = h.scope;
  RETENTION_RETURN_IF_ERROR(ReadOptText(*scope, "category", kKind, &s.category));
  RETENTION_RETURN_IF_ERROR(ReadOptText(*scope, "target", kKind, &s.target));
  RETENTION_RETURN_IF_ERROR(ReadOptText(*scope, "subject_kind", kKind, &s.subject_kind));
  RETENTION_RETURN_IF_ERROR(ReadOptText(*scope, "subject_id", kKind, &s.subject_id));
  RETENTION_RETURN_IF_ERROR(ReadOptText(*scope, "key", kKind, &s.key));
  RETENTION_RETURN_IF_ERROR(ReadOptTime(*scope, "clock_from", kKind, &s.clock_from));
  RETENTION_RETURN_IF_ERROR(ReadOptTime(*scope, "clock_until", kKind, &s.clock_until));
  return p;
}

std::string HoldTerms(const Hold& hold) { return DumpJson(TermsJson(hold, Text)); }

std::string HoldTermsWrittenBefore(const Hold& hold) { return DumpJson(TermsJson(hold, PlainText)); }

std::optional<std::string> HoldTermsOfEntry(std::string_view detail) {
  const Json d = Json::parse(detail, nullptr, /*allow_exceptions=*/false);
  if (!d.is_object() || !d.contains("scope")) return std::nullopt;
  Json j = Json::object();
  if (d.contains("expires_at")) j["expires_at"] = d["expires_at"];
  j["scope"] = d["scope"];
  return DumpJson(j);
}

// ---- hold_released --------------------------------------------------------

std::string EncodeHoldReleased(const HoldReleasedPayload& r) {
  Json j{{"id", r.id},
         {"matter", TextJson(r.matter)},
         {"by", TextJson(r.by)},
         {"reason", TextJson(r.reason)},
         {"released_at", FormatTimestamp(r.released_at)}};
  if (!r.host.empty()) j["host"] = TextJson(r.host);
  return DumpJson(j);
}

Result<HoldReleasedPayload> DecodeHoldReleased(std::string_view detail) {
  constexpr const char* kKind = "hold_released";
  auto j = ParseObject(detail, kKind);
  if (!j.ok()) return j.status();
  HoldReleasedPayload r;
  RETENTION_RETURN_IF_ERROR(ReadId(*j, kKind, &r.id));
  RETENTION_RETURN_IF_ERROR(ReadText(*j, "matter", kKind, &r.matter));
  RETENTION_RETURN_IF_ERROR(ReadText(*j, "by", kKind, &r.by));
  RETENTION_RETURN_IF_ERROR(ReadText(*j, "reason", kKind, &r.reason));
  RETENTION_RETURN_IF_ERROR(ReadTime(*j, "released_at", kKind, &r.released_at));
  std::optional<std::string> host;
  RETENTION_RETURN_IF_ERROR(ReadOptText(*j, "host", kKind, &host));
  r.host = host.value_or("");
  return r;
}

int64_t HoldIdOf(std::string_view detail) {
  const Json d = Json::parse(detail, nullptr, /*allow_exceptions=*/false);
  if (!d.is_object()) return -1;
  auto it = d.find("id");
  if (it == d.end() || !it->is_number_integer()) return -1;
  return it->get<int64_t>();
}

// ---- runs -----------------------------------------------------------------

std::string PayloadText(const Json& detail, const char* key) {
  if (!detail.is_object()) return "";
  auto it = detail.find(key);
  if (it == detail.end()) return "";
  if (auto text = TextFromJson(*it)) return std::move(*text);
  return DumpJson(*it);
}

std::string EncodeRunStart(const RunStartPayload& s) {
  return DumpJson(Json{{"user", TextJson(s.user)},
                       {"host", TextJson(s.host)},
                       {"version", TextJson(s.version)},
                       {"rules_hash", TextJson(s.rules_hash)},
                       {"as_of", TextJson(s.as_of)},
                       {"started_at", TextJson(s.started_at)},
                       {"command", TextJson(s.command)}});
}

Result<RunStartPayload> DecodeRunStart(std::string_view detail) {
  auto j = ParseObject(detail, "run_start");
  if (!j.ok()) return j.status();
  RunStartPayload s;
  s.user = PayloadText(*j, "user");
  s.host = PayloadText(*j, "host");
  s.version = PayloadText(*j, "version");
  s.rules_hash = PayloadText(*j, "rules_hash");
  s.as_of = PayloadText(*j, "as_of");
  s.started_at = PayloadText(*j, "started_at");
  s.command = PayloadText(*j, "command");
  return s;
}

std::string RunEndPayload::error() const { return PayloadText(more, "error"); }

std::string EncodeRunEnd(const RunEndPayload& end) {
  Json j = end.more.is_object() ? end.more : Json::object();
  j["outcome"] = TextJson(end.outcome);
  if (end.exit_code) {
    j["exit_code"] = *end.exit_code;
  } else {
    j.erase("exit_code");
  }
  return DumpJson(j);
}

RunEndPayload RunCrashedPayload(Timestamp found_at) {
  RunEndPayload p;
  p.outcome = "crashed";
  p.more = Json{{"found_at", FormatTimestamp(found_at)},
                {"note", "the process ended without recording the end of this run"}};
  return p;
}

Result<RunEndPayload> DecodeRunEnd(std::string_view detail) {
  auto j = ParseObject(detail, "run_end");
  if (!j.ok()) return j.status();
  RunEndPayload e;
  e.outcome = PayloadText(*j, "outcome");
  auto code = j->find("exit_code");
  if (code != j->end() && code->is_number_integer()) e.exit_code = code->get<int>();
  e.more = std::move(*j);
  e.more.erase("outcome");
  e.more.erase("exit_code");
  return e;
}

}  // namespace retention
