#include "audit/state_cross_check.h"

#include <map>
#include <set>

#include "ledger/batch_entry.h"
#include "ledger/entry_index.h"
#include "ledger/ledger_payloads.h"

namespace retention::audit {

Result<StateTables> ReadStateTables(StateDb& state) {
  StateTables t;
  auto head = state.Head();
  if (!head.ok()) return head.status();
  t.head_seq = head->seq;
  auto runs = state.ListRuns();
  if (!runs.ok()) return runs.status();
  t.runs = std::move(*runs);
  auto holds = state.ListHolds(/*include_released=*/true);
  if (!holds.ok()) return holds.status();
  t.holds = std::move(*holds);
  auto rows = state.ListAnchorRows();
  if (!rows.ok()) return rows.status();
  t.anchor_rows = std::move(*rows);
  auto batches = state.ListBatchIndex();
  if (!batches.ok()) return batches.status();
  t.batch_index = std::move(*batches);
  auto settled = state.ListSettledBy();
  if (!settled.ok()) return settled.status();
  t.settled_by = std::move(*settled);
  auto subjects = state.ListSubjectIndex();
  if (!subjects.ok()) return subjects.status();
  t.subjects = std::move(*subjects);
  auto spans = state.ListKeySpans();
  if (!spans.ok()) return spans.status();
  t.key_spans = std::move(*spans);
  auto tallies = state.ListRunTallies(std::nullopt);
  if (!tallies.ok()) return tallies.status();
  t.run_tallies = std::move(*tallies);
  LedgerLookup probe;
  probe.run_id = -1;  // no run: only whether the lookup indexes are there
  auto indexed = state.LookupEntries(probe);
  if (!indexed.ok()) return indexed.status();
  t.has_lookup_index = indexed->has_value();
  return t;
}


namespace {

// The run tally index (schema version 8, ledger/run_tally.h) is not
// covered by the chain, yet `audit runs`, `audit show` and `status` print
// its counts: each run whose entries are all in the ledger (its run_start
// is, before them) must have exactly the counts its entries give. A run
// an entry after the index's snapshot changed (a settlement, a
// reconciliation) is left for the next verify: its row may be newer than
// the snapshot.
CrossCheckFinding CrossCheckRunTallies(const StateTables& tables, const VerifyReport& report) {
  CrossCheckFinding f;
  if (!tables.run_tallies) return f;
  // The runs whose run_start entry was checked, and came before their
  // records (always, but in a ledger written by hand).
  std::set<int64_t> whole;
  for (const VerifyReport::Lifecycle& l : report.lifecycle) {
    if (l.kind != LedgerKind::kRunStart) continue;
    auto counted = report.run_records.find(l.id);
    if (counted == report.run_records.end() || counted->second.first_seq > l.seq) whole.insert(l.id);
  }
  std::map<int64_t, std::map<std::string, RecordTally>> stored;
  for (const RunTallyRow& r : tables.run_tallies->rows) stored[r.run_id][r.category] = r.tally;
  std::set<int64_t> runs = whole;
  for (const auto& [run, rows] : stored) runs.insert(run);
  const std::map<std::string, RecordTally> none;
  auto text = [](const RecordTally& t) {
    return std::to_string(t.deleted) + " deleted, " + std::to_string(t.kept) + " kept (" +
           std::to_string(t.kept_by_hold) + " by a hold)";
  };
  for (int64_t run : runs) {
    if (!whole.count(run)) continue;  // its first entries pruned: not recounted
    auto counted = report.run_records.find(run);
    if (counted != report.run_records.end() && counted->second.last_seq > tables.run_tallies->head_seq) continue;
    const auto& want = counted == report.run_records.end() ? none : counted->second.by_category;
    auto has_it = stored.find(run);
    const auto& has = has_it == stored.end() ? none : has_it->second;
    if (has == want) continue;
    std::set<std::string> categories;
    for (const auto& [c, t] : want) categories.insert(c);
    for (const auto& [c, t] : has) categories.insert(c);
    for (const std::string& c : categories) {
      const RecordTally w = want.count(c) ? want.at(c) : RecordTally{};
      const RecordTally h = has.count(c) ? has.at(c) : RecordTally{};
      if (w == h) continue;
      f.bad_seq = report.head_seq + 1;
      f.problem = "the run tally index says run " + std::to_string(run) + " (" + c + ") " + text(h) +
                  ", but its entries say " + text(w) +
                  ": entries of the run were removed, or the run tally index was edited by hand";
      return f;
    }
  }
  return f;
}

// The batch index (ledger_batches) is not covered by the chain, yet
// reconciliation, `explain` and `audit log --key` read it: every batch
// entry must have its row, saying what its fields and payload say, open
// exactly while no entry settles it; and no row may name anything else.
// A row is written and closed in the transactions of the entries that
// open and settle the batch, so one read after the head cannot be older
// than the entries up to the head: settlements after the head may have
// closed it already.
CrossCheckFinding CrossCheckBatchIndex(const StateTables& tables, const VerifyReport& report) {
  CrossCheckFinding f;
  auto fail = [&](int64_t seq, std::string problem) {
    f.bad_seq = seq;
    f.problem = std::move(problem) + ": the batch index was edited by hand";
    return f;
  };
  std::map<int64_t, const BatchIndexListing*> rows;
  for (const BatchIndexListing& l : tables.batch_index) rows[l.seq] = &l;
  auto range = [](const std::string& lo, const std::string& hi, bool integers) {
    return std::string(integers ? "integer" : "text") + " keys " + lo + " to " + hi;
  };
  // Schema version 6 keeps the settling entry's seq (ledger/entry_index.h).
  const std::map<int64_t, int64_t> settled_by(tables.settled_by.begin(), tables.settled_by.end());
  const bool versioned_6 = tables.has_lookup_index;
  std::map<std::pair<std::string, std::string>, int64_t> widest;  // schema version 7
  if (tables.key_spans)
    for (const KeySpanRow& k : *tables.key_spans) widest[{k.store, k.target}] = k.widest;
  std::set<int64_t> batch_seqs;
  for (const VerifyReport::Batch& b : report.batches) {
    batch_seqs.insert(b.seq);
    if (b.seq > tables.head_seq) continue;  // appended after the index was read
    const std::string n = std::to_string(b.seq);
    auto it = rows.find(b.seq);
    if (it == rows.end()) return fail(b.seq, "batch entry " + n + " has no row in the batch index");
    const BatchIndexListing& row = *it->second;
    if (row.row.store != b.store || row.row.target != b.target)
      return fail(b.seq, "the batch index says batch entry " + n + " is on " + row.row.store + "/" + row.row.target +
                             ", but the entry says " + b.store + "/" + b.target);
    if (row.row.integer_keys != b.integer_keys || row.row.key_lo != b.key_lo || row.row.key_hi != b.key_hi)
      return fail(b.seq, "the batch index gives batch entry " + n + " " +
                             range(row.row.key_lo, row.row.key_hi, row.row.integer_keys) + ", but its payload holds " +
                             range(b.key_lo, b.key_hi, b.integer_keys));
    if (row.open && b.settled_by != 0 && b.settled_by <= tables.head_seq)
      return fail(b.seq, "the batch index says batch entry " + n + " is open, but entry " +
                             std::to_string(b.settled_by) + " settles it");
    if (!row.open && b.settled_by == 0)
      return fail(b.seq, "the batch index says batch entry " + n + " is settled, but no entry settles it");
    if (tables.key_spans && b.integer_keys) {
      const auto lo = CanonicalInt(b.key_lo), hi = CanonicalInt(b.key_hi);
      const int64_t span = lo && hi ? KeySpan(*lo, *hi) : INT64_MAX;
      auto w = widest.find({b.store, b.target});
      if (w == widest.end() || w->second < span) {
        f.bad_seq = b.seq;
        f.problem = "the key span index says the batches of " + b.store + "/" + b.target + " span " +
                    (w == widest.end() ? std::string("no integer keys") : "at most " + std::to_string(w->second)) +
                    ", but batch entry " + n + " spans " + std::to_string(span) +
                    ": the key span index was edited by hand";
        return f;
      }
    }
    if (versioned_6) {
      auto by = settled_by.find(b.seq);
      const int64_t says = by == settled_by.end() ? 0 : by->second;
      const int64_t is = b.settled_by != 0 && b.settled_by <= tables.head_seq ? b.settled_by : 0;
      if (says != is && !(is == 0 && says > tables.head_seq))
        return fail(b.seq, "the batch index says batch entry " + n + " is settled by " +
                               (says ? "entry " + std::to_string(says) : std::string("no entry")) + ", but " +
                               (is ? "entry " + std::to_string(is) + " settles it" : std::string("no entry does")));
    }
  }
  for (const BatchIndexListing& l : tables.batch_index) {
    // Pruned since the index was read, or appended after the head.
    if (l.seq < report.first_seq || l.seq > tables.head_seq) continue;
    if (!batch_seqs.count(l.seq))
      return fail(l.seq, "the batch index has a row for entry " + std::to_string(l.seq) + ", which is no batch entry");
  }
  return f;
}

}  // namespace

Result<CrossCheckFinding> CrossCheckSubjectIndex(StateDb& state, const StateTables& tables,
                                                 const VerifyReport& report) {
  CrossCheckFinding f;
  if (!tables.has_lookup_index) return f;
  std::map<int64_t, std::vector<std::string>> rows;
  for (const auto& [seq, subject] : tables.subjects) rows[seq].push_back(subject);
  std::vector<int64_t> seqs;
  for (const VerifyReport::Batch& b : report.batches)
    if (b.seq <= tables.head_seq) seqs.push_back(b.seq);
  Status bad;
  RETENTION_RETURN_IF_ERROR(state.ReadEntries(seqs, [&](const LedgerEntry& e) {
    auto want = IndexRowsOf(e);
    if (!want.ok()) {
      bad = want.status();
      return false;
    }
    auto it = rows.find(e.seq);
    const std::vector<std::string> has = it == rows.end() ? std::vector<std::string>() : it->second;
    if (it != rows.end()) rows.erase(it);
    if (has != want->subjects) {
      f.bad_seq = e.seq;
      f.problem = "the subject index lists " + std::to_string(has.size()) + " subjects for batch entry " +
                  std::to_string(e.seq) + ", but its payload holds " + std::to_string(want->subjects.size()) +
                  (has.size() == want->subjects.size() ? " others" : "") + ": the subject index was edited by hand";
      return false;
    }
    return true;
  }));
  RETENTION_RETURN_IF_ERROR(bad);
  if (f.bad_seq) return f;
  for (const auto& [seq, subjects] : rows) {
    if (seq < report.first_seq || seq > tables.head_seq) continue;  // pruned since, or appended after the head
    f.bad_seq = seq;
    f.problem = "the subject index names entry " + std::to_string(seq) + " (" + subjects.front() +
                "), which is no batch entry: the subject index was edited by hand";
    return f;
  }
  return f;
}

CrossCheckFinding CrossCheckState(const StateTables& tables, const VerifyReport& report) {
  CrossCheckFinding f;
  auto fail = [&](int64_t seq, std::string problem) {
    f.bad_seq = seq;
    f.problem = std::move(problem);
    return f;
  };
  std::set<int64_t> run_starts, run_ends, placed, released;
  for (const VerifyReport::Lifecycle& l : report.lifecycle) {
    switch (l.kind) {
      case LedgerKind::kRunStart: run_starts.insert(l.id); break;
      case LedgerKind::kRunEnd: run_ends.insert(l.id); break;
      case LedgerKind::kHoldPlaced: placed.insert(l.id); break;
      case LedgerKind::kHoldReleased: released.insert(l.id); break;
      default: break;
    }
  }
  // An entry written at `t` may be missing only if the purge log's
  // retention pruned it: then it was older than the cutoff of the anchor
  // that pruned it, and that cutoff is at most the latest cutoff of the
  // anchors present (an anchor pruned since was itself older than a later
  // one's cutoff). The time the tables give (a run's start or end, a hold's
  // placing or release) is taken just before its entry is written, so it
  // is no later. The schedule check bounds a forged anchor's cutoff, so a
  // forger who removes recent entries behind an anchor that names the right
  // schedule but lies about their age is caught here too.
  const bool pruned = report.first_seq > 1;
  std::optional<Timestamp> latest_cutoff;
  for (const AnchorInLedger& a : report.anchors)
    if (!latest_cutoff || a.anchor.cutoff > *latest_cutoff) latest_cutoff = a.anchor.cutoff;
  auto could_be_pruned = [&](Timestamp t) { return pruned && latest_cutoff && t < *latest_cutoff; };
  const int64_t after_head = report.head_seq + 1;
  const std::string head = report.head_at ? "the ledger's head is entry " + std::to_string(report.head_seq) +
                                                " of " + FormatTimestamp(*report.head_at)
                                          : "the ledger is empty";
  // Why it is missing, as far as can be told: the chain from the first
  // entry left is intact, so without pruning only the tail can have gone.
  auto why = [&](Timestamp t, bool later_entry_present) -> std::string {
    if (!pruned || later_entry_present || (report.head_at && t > *report.head_at))
      return " (" + head + "): the ledger's tail was cut?";
    return ", and no anchor pruned entries that recent (the anchors prune only entries written before " +
           (latest_cutoff ? FormatTimestamp(*latest_cutoff) : std::string("none")) +
           "): entries were removed by hand?";
  };

  for (const RunInfo& r : tables.runs) {
    const std::string run = "run " + std::to_string(r.id);
    const bool has_start = run_starts.count(r.id) > 0;
    const bool has_end = run_ends.count(r.id) > 0;
    if (r.outcome != "running" && !has_end) {
      // Crashed runs have no end time: the end entry came later still.
      const Timestamp ended = r.ended_at.value_or(r.started_at);
      if (has_start || !could_be_pruned(ended))
        return fail(after_head, "the runs table says " + run + " ended (" + r.outcome +
                                    (r.ended_at ? " at " + FormatTimestamp(*r.ended_at) : std::string()) +
                                    "), but its run_end entry is not in the ledger" + why(ended, has_start));
    }
    if (!has_start && !has_end && !could_be_pruned(r.started_at)) {
      if (report.head_at && r.started_at > *report.head_at)
        return fail(after_head, "the runs table says " + run + " started at " + FormatTimestamp(r.started_at) +
                                    ", after the ledger's last entry (" + head +
                                    "), and its run_start entry is not in the ledger: the ledger's tail was cut?");
      return fail(after_head, "the runs table has " + run + " (started " + FormatTimestamp(r.started_at) +
                                  "), but its run_start entry is not in the ledger" + why(r.started_at, false));
    }
  }

  for (const Hold& h : tables.holds) {
    const std::string hold = "hold " + std::to_string(h.id) + " (" + h.matter + ")";
    const bool has_release = released.count(h.id) > 0;
    if (!placed.count(h.id) && !has_release && !could_be_pruned(h.placed_at))
      return fail(after_head, "the holds table has " + hold + ", placed " + FormatTimestamp(h.placed_at) +
                                  ", but its hold_placed entry is not in the ledger" + why(h.placed_at, false));
    if (h.released_at && !has_release && !could_be_pruned(*h.released_at))
      return fail(after_head, "the holds table says " + hold + " was released " + FormatTimestamp(*h.released_at) +
                                  ", but its hold_released entry is not in the ledger" +
                                  why(*h.released_at, placed.count(h.id) > 0));
  }

  // The purge reads the holds from the holds table, which is not chained:
  // a hold whose row was removed, or whose scope or expiry was edited, no
  // longer keeps what its hold_placed entry says it keeps.
  std::map<int64_t, const Hold*> hold_rows;
  for (const Hold& h : tables.holds) hold_rows[h.id] = &h;
  for (const VerifyReport::Lifecycle& l : report.lifecycle) {
    if (l.kind != LedgerKind::kHoldPlaced || l.id < 0) continue;
    const std::string hold = "hold " + std::to_string(l.id);
    auto row = hold_rows.find(l.id);
    if (row == hold_rows.end()) {
      // Placed after the tables were read: its row may be newer than ours.
      if (l.seq > tables.head_seq) continue;
      return fail(l.seq, "entry " + std::to_string(l.seq) + " placed " + hold +
                             ", but the holds table has no row for it: it was removed by hand");
    }
    // The terms (scope and expiry) in the form the entry records them
    // (ledger/ledger_payloads.h); an entry written before issue 12 recorded
    // text that is not UTF-8 with its bad bytes replaced.
    const std::optional<std::string> placed_terms = HoldTermsOfEntry(l.detail);
    if (!placed_terms) continue;  // an entry without a scope (older format)
    const std::string row_terms = HoldTerms(*row->second);
    if (*placed_terms != row_terms && *placed_terms != HoldTermsWrittenBefore(*row->second))
      return fail(l.seq, "the holds table's row for " + hold + " says " + row_terms + ", but its hold_placed entry " +
                             std::to_string(l.seq) + " says " + *placed_terms + ": the row was edited by hand");
  }

  std::map<int64_t, int64_t> rows(tables.anchor_rows.begin(), tables.anchor_rows.end());
  std::map<int64_t, const AnchorInLedger*> anchors;
  for (const AnchorInLedger& a : report.anchors) anchors[a.seq] = &a;
  for (const auto& [seq, through] : rows) {
    if (seq < report.first_seq) continue;  // the anchor entry itself was pruned since
    auto it = anchors.find(seq);
    if (it == anchors.end())
      return fail(seq, "the ledger_anchors table has a row for entry " + std::to_string(seq) +
                           ", which is not an anchor entry in the ledger (" + head + ")");
    if (it->second->anchor.through != through)
      return fail(seq, "the ledger_anchors table says anchor entry " + std::to_string(seq) + " prunes through entry " +
                           std::to_string(through) + ", but the entry says " +
                           std::to_string(it->second->anchor.through));
  }
  for (const AnchorInLedger& a : report.anchors) {
    // Appended after the tables were read: its row may be newer than ours.
    if (a.seq > tables.head_seq) continue;
    if (!rows.count(a.seq))
      return fail(a.seq, "anchor entry " + std::to_string(a.seq) +
                             " has no row in the ledger_anchors table, which the engine writes with every anchor: "
                             "it was chained in by hand");
  }
  if (CrossCheckFinding tallies = CrossCheckRunTallies(tables, report); tallies.bad_seq) return tallies;
  return CrossCheckBatchIndex(tables, report);
}

}  // namespace retention::audit
