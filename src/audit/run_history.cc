#include "audit/run_history.h"

#include "audit/ledger_query.h"
#include "ledger/ledger_reader.h"

#include "ledger/anchor.h"
#include "ledger/kept_reason.h"
#include "ledger/ledger_entry.h"
#include "ledger/ledger_payloads.h"
#include "ledger/ledger_records.h"
#include "ledger/run_tally.h"

namespace retention::audit {

using Json = nlohmann::json;

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

namespace {

// Up to this many runs (`audit runs --last N`, `status`) are each read
// through the run index; more, or every run, and the whole ledger is read
// once.
constexpr size_t kRunsByLookup = 64;

// The runs as the entries fed to it tell them: records (deletions, kept)
// from the record view, so that a batch entry's records count as
// per-record entries did (a batch's records count once settled; an open
// one's count nothing), and the run's own entries.
class RunTally {
 public:
  // Without `count_records`, only the runs' own entries are read: the
  // records' counts come from the run tally index (SetRecords).
  explicit RunTally(bool count_records = true) : count_records_(count_records) {}

  bool OnRecord(const LedgerRecord& rec) {
    const LedgerEntry& e = rec.entry;
    if (e.run_id == 0 || !count_records_) return true;
    if (rec.Deleted()) {
      RunSummary& r = Get(e.run_id);
      ++r.deleted;
      ++r.deleted_by_category[e.category];
    } else if (rec.outcome == LedgerRecord::Outcome::kKept) {
      RunSummary& r = Get(e.run_id);
      ++r.kept;
      if (KeptByHoldDetail(e.detail)) ++r.kept_by_hold;
    }
    return true;
  }

  bool OnEntry(const LedgerEntry& e) {
    if (e.run_id == 0) return true;
    switch (e.kind) {
      case LedgerKind::kRunStart: {
        RunSummary& r = Get(e.run_id);
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
        RunSummary& r = Get(e.run_id);
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
        ++Get(e.run_id).reconciled;
        break;
      case LedgerKind::kAnchor:
        if (auto anchor = ReadAnchor(e); anchor.ok()) Get(e.run_id).pruned += anchor->through - anchor->from + 1;
        break;
      default:
        break;
    }
    return true;
  }

  // Feeds every entry `ledger` gives (and their records) through the tally.
  Status Read(LedgerReader& ledger) {
    return ScanRecords(
        ledger, INT64_MIN, [&](const LedgerRecord& rec) { return OnRecord(rec); }, nullptr,
        [&](const LedgerEntry& e) { return OnEntry(e); });
  }

  // The summaries, oldest first; `first_seq` is the ledger's oldest entry
  // (above 1: the purge log's retention pruned the ones before).
  std::vector<RunSummary> Take(int64_t first_seq) {
    std::vector<RunSummary> out;
    out.reserve(runs_.size());
    for (auto& [id, r] : runs_) {
      if (r.start_seq == 0 && first_seq > 1) {
        r.start_pruned = true;
        if (r.end_seq == 0) r.outcome = "pruned";
      }
      out.push_back(std::move(r));
    }
    runs_.clear();
    return out;
  }

  RunSummary& Get(int64_t id) {
    RunSummary& r = runs_[id];
    r.id = id;
    return r;
  }

  // Run `id`'s record counts from its run tally rows.
  void SetRecords(int64_t id, const std::vector<RunTallyRow>& rows) {
    RunSummary& r = Get(id);
    for (const RunTallyRow& row : rows) {
      if (row.run_id != id) continue;
      r.deleted += row.tally.deleted;
      if (row.tally.deleted) r.deleted_by_category[row.category] += row.tally.deleted;
      r.kept += row.tally.kept;
      r.kept_by_hold += row.tally.kept_by_hold;
    }
  }

 private:
  bool count_records_;
  std::map<int64_t, RunSummary> runs_;
};

// A run of the runs table with no entry in the ledger: "pruned" when the
// purge log's retention pruned entries (its went with them), else
// "missing" (`audit verify` names the damage).
RunSummary NoEntriesLeft(int64_t id, int64_t first_seq) {
  RunSummary r;
  r.id = id;
  r.start_pruned = first_seq > 1;
  r.outcome = first_seq > 1 ? "pruned" : "missing";
  return r;
}

// The seq of the ledger's oldest entry (1 when nothing was ever pruned, or
// when the ledger is empty).
Result<int64_t> FirstSeq(StateDb& state) {
  int64_t first = 0;
  RETENTION_RETURN_IF_ERROR(state.ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
    first = e.seq;
    return false;
  }));
  return first == 0 ? int64_t{1} : first;
}

// The runs `ids` (ascending) from their own entries, which the run index
// names (StateDb::LookupEntries); nullopt when the state has no such index.
Result<std::optional<std::vector<RunSummary>>> SummarizeByIndex(StateDb& state, const std::vector<int64_t>& ids) {
  using Found = std::optional<std::vector<RunSummary>>;
  auto first_seq = FirstSeq(state);
  if (!first_seq.ok()) return first_seq.status();
  std::vector<RunSummary> out;
  for (int64_t id : ids) {
    // With the run tally index, only the run's own events are read; its
    // counts hold only while none of its entries was pruned (its run_start
    // is still there), else the entries left are counted as they are.
    auto tallies = state.ListRunTallies(id);
    if (!tallies.ok()) return tallies.status();
    auto summarize = [&](bool use_tallies) -> Result<std::optional<RunSummary>> {
      using One = std::optional<RunSummary>;
      LedgerLookup lookup;
      lookup.run_id = id;
      lookup.run_events_only = use_tallies;
      auto seqs = state.LookupEntries(lookup);
      if (!seqs.ok()) return seqs.status();
      if (!*seqs) return One();
      if ((*seqs)->empty()) return One(NoEntriesLeft(id, *first_seq));
      RunTally tally(/*count_records=*/!use_tallies);
      EntryListReader reader(state, **seqs);
      RETENTION_RETURN_IF_ERROR(tally.Read(reader));
      if (use_tallies) tally.SetRecords(id, (*tallies)->rows);
      // Only this run: a settlement by another run's entry is read for the
      // records it settles, not counted as that run's.
      tally.Get(id);
      for (RunSummary& r : tally.Take(*first_seq))
        if (r.id == id) return One(std::move(r));
      return One();
    };
    auto one = summarize(tallies->has_value());
    if (one.ok() && *one && tallies->has_value() && (*one)->start_seq == 0) one = summarize(false);
    if (!one.ok()) return one.status();
    if (!*one) return Found();
    out.push_back(std::move(**one));
  }
  return Found(std::move(out));
}

}  // namespace

Result<std::vector<RunSummary>> SummarizeRunsByScan(StateDb& state) {
  RunTally tally;
  int64_t first_seq = 0;
  struct FirstSeen final : LedgerReader {
    StateDb& state;
    int64_t& first;
    FirstSeen(StateDb& s, int64_t& f) : state(s), first(f) {}
    Status ScanLedger(int64_t from, const std::function<bool(LedgerEntry&)>& visit) override {
      return state.ScanLedger(from, [&](LedgerEntry& e) {
        if (first == 0) first = e.seq;
        return visit(e);
      });
    }
    Result<LedgerHead> Head() override { return state.Head(); }
  } reader(state, first_seq);
  RETENTION_RETURN_IF_ERROR(tally.Read(reader));
  return tally.Take(first_seq);
}

Result<std::vector<RunSummary>> SummarizeRuns(StateDb& state, std::optional<size_t> last) {
  auto runs = state.ListRuns();
  if (!runs.ok()) return runs.status();
  std::set<int64_t> named;
  for (const RunInfo& r : *runs) named.insert(r.id);
  // With the run tally index a run's summary reads only its own few
  // events, so every run is looked up on its own; the index also names
  // the runs the ledger has and the table does not.
  auto all_tallies = state.ListRunTallies(std::nullopt);
  if (!all_tallies.ok()) return all_tallies.status();
  const bool tallied = all_tallies->has_value();
  if (tallied) named.insert((*all_tallies)->runs.begin(), (*all_tallies)->runs.end());
  std::vector<int64_t> ids(named.begin(), named.end());
  if (last && ids.size() > *last) ids.erase(ids.begin(), ids.end() - static_cast<ptrdiff_t>(*last));
  // Without it, every run, or many: most of the ledger is theirs, and one
  // pass in seq order reads it faster than each run's entries looked up one
  // by one. It also finds runs the ledger names and the table does not
  // (with the index, `audit verify` checks that there are none).
  if (!tallied && (!last || ids.size() > kRunsByLookup)) {
    auto scanned = SummarizeRunsByScan(state);
    if (!scanned.ok()) return scanned.status();
    std::map<int64_t, RunSummary> by_id;
    for (RunSummary& r : *scanned) by_id[r.id] = std::move(r);
    auto first_seq = FirstSeq(state);
    if (!first_seq.ok()) return first_seq.status();
    for (int64_t id : ids)
      if (!by_id.count(id)) by_id[id] = NoEntriesLeft(id, *first_seq);
    std::vector<RunSummary> out;
    for (auto& [id, r] : by_id) out.push_back(std::move(r));
    if (last && out.size() > *last) out.erase(out.begin(), out.end() - static_cast<ptrdiff_t>(*last));
    return out;
  }
  auto indexed = SummarizeByIndex(state, ids);
  if (!indexed.ok()) return indexed.status();
  if (*indexed) return std::move(**indexed);
  auto scanned = SummarizeRunsByScan(state);
  if (!scanned.ok()) return scanned.status();
  if (last && scanned->size() > *last) scanned->erase(scanned->begin(), scanned->end() - static_cast<ptrdiff_t>(*last));
  return scanned;
}

Result<std::optional<RunSummary>> NewestRun(StateDb& state, const std::function<bool(const RunInfo&)>& table_says,
                                            const std::function<bool(const RunSummary&)>& ledger_says) {
  auto runs = state.ListRuns();
  if (!runs.ok()) return runs.status();
  LedgerLookup probe;
  probe.run_id = -1;  // no run: only whether the index is there
  auto indexed = state.LookupEntries(probe);
  if (!indexed.ok()) return indexed.status();
  if (*indexed) {
    for (auto it = runs->rbegin(); it != runs->rend(); ++it) {
      if (!table_says(*it)) continue;
      auto one = SummarizeByIndex(state, {it->id});
      if (!one.ok()) return one.status();
      if (*one && !(*one)->empty() && ledger_says((*one)->front())) return std::optional<RunSummary>((*one)->front());
    }
    return std::optional<RunSummary>();
  }
  // No run index: judged from every entry.
  auto all = SummarizeRunsByScan(state);
  if (!all.ok()) return all.status();
  for (auto it = all->rbegin(); it != all->rend(); ++it)
    if (ledger_says(*it)) return std::optional<RunSummary>(std::move(*it));
  return std::optional<RunSummary>();
}

}  // namespace retention::audit
