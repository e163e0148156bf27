#include "audit/run_history.h"

#include "ledger/anchor.h"
#include "ledger/kept_reason.h"
#include "ledger/ledger_entry.h"
#include "ledger/ledger_payloads.h"
#include "ledger/ledger_records.h"

namespace retention::audit {

using Json = nlohmann::json;

namespace {

// Whether a kept entry's detail says a hold kept the record: by its code
// (ledger/kept_reason.h); an entry written before codes existed has only
// words, read as they were then.
bool KeptByHoldEntry(const std::string& detail) {
  if (auto parsed = ParseKeptDetail(detail); parsed && parsed->why) return KeptByHold(*parsed->why);
  return detail.find("\"held by hold") != std::string::npos || detail.find("held under") != std::string::npos;
}

}  // namespace

Json RunSummary::ToJson() const {
  return Json{{"id", id},
              {"start_seq", start_seq},
              {"end_seq", end_seq ? Json(end_seq) : Json(nullptr)},
              {"started_at", started_at.empty() ? Json(nullptr) : Json(started_at)},
              {"ended_at", ended_at.empty() ? Json(nullptr) : Json(ended_at)},
              {"user", user},
              {"host", host},
              {"version", version},
              {"rules_hash", rules_hash},
              {"as_of", as_of.empty() ? Json(nullptr) : Json(as_of)},
              {"command", command},
              {"outcome", outcome},
              {"exit_code", exit_code ? Json(*exit_code) : Json(nullptr)},
              {"deleted", deleted},
              {"deleted_by_category", deleted_by_category},
              {"kept", kept},
              {"kept_by_hold", kept_by_hold},
              {"reconciled", reconciled},
              {"undeletable", undeletable},
              {"undeletable_by_target", undeletable_by_target},
              {"pruned", pruned},
              {"start_pruned", start_pruned},
              {"error", error.empty() ? Json(nullptr) : Json(error)}};
}

Result<std::vector<RunSummary>> SummarizeRuns(StateDb& state) {
  std::map<int64_t, RunSummary> runs;
  auto get = [&](int64_t id) -> RunSummary& {
    RunSummary& r = runs[id];
    r.id = id;
    return r;
  };
  int64_t first_seq = 0;
  // Deletions and kept records are counted from the record view, so that a
  // batch entry's records count as per-record entries did (a batch's
  // records count once settled; an open one's count nothing).
  auto count_record = [&](const LedgerRecord& rec) {
    const LedgerEntry& e = rec.entry;
    if (e.run_id == 0) return true;
    if (rec.Deleted()) {
      RunSummary& r = get(e.run_id);
      ++r.deleted;
      ++r.deleted_by_category[e.category];
    } else if (rec.outcome == LedgerRecord::Outcome::kKept) {
      RunSummary& r = get(e.run_id);
      ++r.kept;
      if (KeptByHoldEntry(e.detail)) ++r.kept_by_hold;
    }
    return true;
  };
  Status st = ScanRecords(state, INT64_MIN, count_record, nullptr, [&](const LedgerEntry& e) {
    if (first_seq == 0) first_seq = e.seq;
    if (e.run_id == 0) return true;
    switch (e.kind) {
      case LedgerKind::kRunStart: {
        RunSummary& r = get(e.run_id);
        r.start_seq = e.seq;
        r.started_at = FormatTimestamp(e.at);
        if (auto d = DecodeRunStart(e.detail); d.ok()) {
          r.user = std::move(d->user);
          r.host = std::move(d->host);
          r.version = std::move(d->version);
          r.rules_hash = std::move(d->rules_hash);
          r.as_of = std::move(d->as_of);
          r.command = std::move(d->command);
        }
        break;
      }
      case LedgerKind::kRunEnd: {
        RunSummary& r = get(e.run_id);
        r.end_seq = e.seq;
        r.ended_at = FormatTimestamp(e.at);
        r.ended = e.at;
        auto d = DecodeRunEnd(e.detail);
        if (!d.ok()) {
          r.outcome.clear();  // told as far as the entry tells it: nothing
          break;
        }
        r.outcome = std::move(d->outcome);
        r.exit_code = d->exit_code;
        r.error = d->error();
        const Json& targets = d->more.contains("targets") ? d->more["targets"] : Json();
        if (targets.is_array()) {
          for (const Json& t : targets) {
            if (t.is_object() && t.contains("category") && t["category"].is_string())
              r.categories.insert(t["category"].get<std::string>());
            if (!t.is_object() || !t.contains("undeletable") || !t["undeletable"].is_number_integer()) continue;
            const int64_t n = t["undeletable"].get<int64_t>();
            if (n <= 0) continue;
            r.undeletable += n;
            r.undeletable_by_target[PayloadText(t, "category") + "/" + PayloadText(t, "target")] += n;
          }
        }
        break;
      }
      case LedgerKind::kReconciled:
        ++get(e.run_id).reconciled;
        break;
      case LedgerKind::kAnchor:
        if (auto anchor = ReadAnchor(e); anchor.ok()) get(e.run_id).pruned += anchor->through - anchor->from + 1;
        break;
      default:
        break;
    }
    return true;
  });
  if (!st.ok()) return st;
  std::vector<RunSummary> out;
  out.reserve(runs.size());
  for (auto& [id, r] : runs) {
    if (r.start_seq == 0 && first_seq > 1) {
      r.start_pruned = true;
      if (r.end_seq == 0) r.outcome = "pruned";
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace retention::audit
