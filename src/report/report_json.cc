// The report as JSON. FORMAT (one object; keys whose value is absent are
// left out, never null; timestamps RFC 3339 UTC with Z):
//
//   {"format": "retention-report/1",
//    "as_of": T, "made_at": T, "time_zone": "UTC",
//    "period": {"length": "30 days", "from": T, "until": T},
//    "max_age": "2 days", "grace": "1 day",
//    "config": "/etc/retention/retention.toml", "rules_hash": "<64 hex>",
//    "summary": {"lines": 8, "complies": 5, "overdue": 1, "not_applied": 1, "held": 1},
//    "ledger": {"state": true, "verified": true, "entries": N, "records": N,
//               "head_seq": N, "head_hash": "<hex>", "head_at": T,
//               "first_bad_seq": N, "problem": "...", "warnings": [...],
//               "checkpoint": {"file": "...", "seq": N, "hash": "<hex>", "time": "...",
//                              "signed": true, "signature_checked": true}},
//    "lines": [{"policy": "Server logs | 30-90 days", "source": "...",
//               "categories": ["request_logs", ...], "schedules": ["delete after 90 days, ..."],
//               "verdict": "complies|overdue|not applied|held", "verdict_reason": "...",
//               "records": N, "overdue": N, "held": N,
//               "last_success": {"run": N, "ended": T, "deleted": N},
//               "not_applied": ["category", ...],
//               "deleted_in_period": N, "runs_in_period": N,
//               "targets": [{"category", "target", "store", "schedule", "cutoff": T,
//                            "records", "undated", "due", "held", "floor_protected",
//                            "overdue", "oldest_overdue": T, "oldest_record": T,
//                            "ages": {"scale": "delete after 90 days",
//                                     "bins": [{"label": "< 0.25x", "from": 0, "to": 0.25,
//                                               "records": N, "past_cutoff": false}, ...]}}],
//               "holds": [{"id", "matter", "reason", "placed_at": T, "expires_at": T,
//                          "records": N}]}],
//    "erasure_requests": {"executed": [R...], "pending": [R...]}}
//   R = {"reference", "subject", "received": T, "deadline": T, "executed": T,
//        "outcome", "erased": N, "kept": N, "past_deadline": bool}
#include "report/report_render.h"

#include <algorithm>

namespace retention::report {

namespace {

using Json = nlohmann::json;

void SetTime(Json& j, const char* key, const std::optional<Timestamp>& t) {
  if (t) j[key] = FormatTimestamp(*t);
}

Json AgesJson(const AgeHistogram& h) {
  Json j = Json::object();
  if (h.counts.empty()) return j;
  j["scale"] = h.scale;
  Json bins = Json::array();
  const size_t past = FirstBinPastCutoff(h);
  for (size_t i = 0; i < h.counts.size(); ++i) {
    Json b = {{"label", BinLabel(h, i)}, {"records", h.counts[i]}, {"past_cutoff", i >= past}};
    b["from"] = i == 0 ? 0.0 : h.factors[i - 1];
    if (i < h.factors.size()) b["to"] = h.factors[i];
    bins.push_back(std::move(b));
  }
  j["bins"] = std::move(bins);
  return j;
}

Json TargetJson(const TargetFacts& t) {
  Json j = {{"category", t.category},   {"target", t.target},   {"store", t.store},
            {"schedule", t.schedule},   {"records", t.records}, {"undated", t.undated},
            {"due", t.due},             {"held", t.held},       {"floor_protected", t.floor_protected},
            {"overdue", t.overdue}};
  SetTime(j, "cutoff", t.cutoff);
  SetTime(j, "oldest_overdue", t.oldest_overdue);
  SetTime(j, "oldest_record", t.oldest_record);
  Json ages = AgesJson(t.ages);
  if (!ages.empty()) j["ages"] = std::move(ages);
  return j;
}

Json RequestJson(const ErasureRequest& r, const Report& report) {
  Json j = {{"reference", r.reference},
            {"subject", r.subject},
            {"received", FormatTimestamp(r.received)},
            {"deadline", FormatTimestamp(r.deadline)},
            {"outcome", r.outcome},
            {"erased", r.erased},
            {"kept", r.kept},
            {"past_deadline", std::count(report.erasure.late.begin(), report.erasure.late.end(), r.reference) > 0}};
  SetTime(j, "executed", r.executed);
  return j;
}

}  // namespace

nlohmann::json ReportToJson(const Report& r) {
  Json j = {{"format", kReportFormat},
            {"as_of", FormatTimestamp(r.as_of)},
            {"made_at", FormatTimestamp(r.made_at)},
            {"time_zone", r.time_zone},
            {"period", {{"length", r.period}, {"from", FormatTimestamp(r.period_start)}, {"until", FormatTimestamp(r.as_of)}}},
            {"max_age", r.max_age},
            {"grace", r.grace},
            {"config", r.config_file},
            {"rules_hash", r.rules_hash}};
  j["summary"] = {{"lines", r.lines.size()},
                  {"complies", r.LinesWith(Verdict::kComplies)},
                  {"overdue", r.LinesWith(Verdict::kOverdue)},
                  {"not_applied", r.LinesWith(Verdict::kNotApplied)},
                  {"held", r.LinesWith(Verdict::kHeld)}};

  const LedgerFacts& l = r.ledger;
  Json ledger = {{"state", l.state_present}};
  if (l.state_present) {
    ledger["verified"] = l.ok;
    ledger["entries"] = l.entries;
    ledger["records"] = l.records;
    ledger["head_seq"] = l.head_seq;
    ledger["head_hash"] = l.head_hash;
    SetTime(ledger, "head_at", l.head_at);
    if (l.first_bad_seq) ledger["first_bad_seq"] = *l.first_bad_seq;
    if (!l.problem.empty()) ledger["problem"] = l.problem;
    if (!l.warnings.empty()) ledger["warnings"] = l.warnings;
  }
  if (l.checkpoint) {
    ledger["checkpoint"] = {{"file", l.checkpoint_file},
                            {"seq", l.checkpoint->seq},
                            {"hash", l.checkpoint->hash},
                            {"time", l.checkpoint->time},
                            {"signed", !l.checkpoint->signature.empty()},
                            {"signature_checked", l.checkpoint_signature_checked}};
  }
  j["ledger"] = std::move(ledger);

  Json lines = Json::array();
  for (const PolicyLine& line : r.lines) {
    Json lj = {{"policy", line.policy},
               {"categories", line.categories},
               {"schedules", line.schedules},
               {"verdict", VerdictName(line.verdict)},
               {"verdict_reason", line.verdict_reason},
               {"records", line.Records()},
               {"overdue", line.Overdue()},
               {"held", line.Held()},
               {"deleted_in_period", line.deleted_in_period},
               {"runs_in_period", line.runs_in_period}};
    if (!line.source.empty()) lj["source"] = line.source;
    if (line.last_success)
      lj["last_success"] = {{"run", line.last_success->id},
                            {"ended", FormatTimestamp(line.last_success->ended)},
                            {"deleted", line.last_success->deleted}};
    if (!line.never_applied.empty()) lj["not_applied"] = line.never_applied;
    Json targets = Json::array();
    for (const TargetFacts& t : line.targets) targets.push_back(TargetJson(t));
    lj["targets"] = std::move(targets);
    Json holds = Json::array();
    for (const HoldFacts& h : line.holds) {
      Json hj = {{"id", h.id}, {"matter", h.matter}, {"reason", h.reason},
                 {"placed_at", FormatTimestamp(h.placed_at)}, {"records", h.records}};
      SetTime(hj, "expires_at", h.expires_at);
      holds.push_back(std::move(hj));
    }
    lj["holds"] = std::move(holds);
    lines.push_back(std::move(lj));
  }
  j["lines"] = std::move(lines);

  Json executed = Json::array(), pending = Json::array();
  for (const ErasureRequest& q : r.erasure.executed) executed.push_back(RequestJson(q, r));
  for (const ErasureRequest& q : r.erasure.pending) pending.push_back(RequestJson(q, r));
  j["erasure_requests"] = {{"executed", std::move(executed)}, {"pending", std::move(pending)}};
  return j;
}

}  // namespace retention::report
