#include "purge/purge_log_prune.h"

#include <algorithm>
#include <charconv>
#include <climits>

#include <spdlog/spdlog.h>

#include "ledger/anchor.h"
#include "state/state_ops.h"
#include "stores/purge_log_store.h"
#include "util/fault_point.h"

namespace retention {

namespace {

int64_t SeqOf(const std::string& key) {
  int64_t seq = 0;
  std::from_chars(key.data(), key.data() + key.size(), seq);
  return seq;
}

Candidate EntryCandidate(const LedgerEntry& e) {
  return {std::to_string(e.seq), FormatTimestamp(e.at), e.subject, std::string()};
}

// The oldest batch entry still open, or INT64_MAX when none is. An open
// batch entry is the only record of what its batch may have deleted: the
// next reconciliation reads it, and its settlement, still to be written,
// must name it. So the log is never pruned through one. Open by the index
// or by the ledger's own settlements: either saying so is enough (the
// index is not covered by the chain).
Result<int64_t> FirstOpenBatch(StateDb& state) {
  auto indexed = state.OpenBatches();
  if (!indexed.ok()) return indexed.status();
  auto unsettled = UnsettledBatches(state);
  if (!unsettled.ok()) return unsettled.status();
  int64_t first = INT64_MAX;
  if (!indexed->empty()) first = std::min(first, indexed->front());
  if (!unsettled->empty()) first = std::min(first, unsettled->front());
  return first;
}

}  // namespace

Result<BatchResult> PurgeLogBatchTarget::Delete(const Selection& rule, const std::vector<Candidate>& batch) {
  BatchResult result;
  if (batch.empty()) return result;
  const int64_t last_listed = SeqOf(batch.back().key);
  // An anchor written before this guard existed may reach an open batch.
  auto first_open = FirstOpenBatch(state_);
  if (!first_open.ok()) return first_open.status();
  // The log's oldest entries on, re-judged under the fresh holds: the
  // prefix up to the first one kept goes.
  std::optional<int64_t> last;
  std::vector<DeletedRecord> going;
  RETENTION_RETURN_IF_ERROR(state_.ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
    if (e.seq > last_listed || e.seq >= *first_open || PurgeLogEntryKept(rule, e)) return false;
    last = e.seq;
    going.push_back({std::to_string(e.seq), FormatTimestamp(e.at), e.subject});
    return true;
  }));
  if (!last) return result;
  auto deleted = state_.DeletePrunedEntries(*last);
  if (!deleted.ok()) return deleted.status();
  FaultPoint("after_prune_batch");
  result.deleted = std::move(going);
  return result;
}

Result<std::vector<KeptReason>> PurgeLogBatchTarget::WhyKept(const Selection& rule,
                                                             const std::vector<Candidate>& kept) {
  // The first stays for a reason of its own; every later one stays behind
  // it (Delete stops at the first kept).
  std::vector<KeptReason> out;
  if (kept.empty()) return out;
  auto facts = log_store_.Lookup(rule, kept.front().key);
  if (!facts.ok()) return facts.status();
  auto first = WhyNotDeletable(rule, *facts, /*replaced=*/false);
  auto first_open = FirstOpenBatch(state_);
  if (!first_open.ok()) return first_open.status();
  if (!first && SeqOf(kept.front().key) == *first_open)
    first = KeptReason{KeptWhy::kChanged, "an open batch entry: its batch is not settled yet", std::nullopt,
                       std::nullopt};
  if (!first)
    first = KeptReason{KeptWhy::kChanged, "changed during the delete", std::nullopt, std::nullopt};
  out.push_back(*first);
  for (size_t i = 1; i < kept.size(); ++i)
    out.push_back({KeptWhy::kBehind, "entry " + kept.front().key + " stays (" + first->words + ")", std::nullopt,
                   std::nullopt});
  return out;
}

Result<std::vector<Candidate>> AnchoredSource::Next(size_t limit) {
  std::vector<Candidate> out;
  RETENTION_RETURN_IF_ERROR(state_.ScanLedger(next_seq_, [&](const LedgerEntry& e) {
    if (e.seq > through_) return false;
    out.push_back(EntryCandidate(e));
    next_seq_ = e.seq + 1;
    return out.size() < limit;
  }));
  return out;
}

// The last entry of `saved` (0: none), read to its end.
static Result<int64_t> PlanThrough(CandidateSource& saved, size_t batch_size) {
  int64_t through = 0;
  while (true) {
    auto listed = saved.Next(batch_size);
    if (!listed.ok()) return listed.status();
    if (listed->empty()) return through;
    for (const Candidate& c : *listed) through = std::max<int64_t>(through, std::strtoll(c.key.c_str(), nullptr, 10));
  }
}

namespace {

class Pruner {
 public:
  Pruner(StateDb& state, Store& log_store, BatchExecutor& executor, const Selection& d,
         std::optional<int64_t> plan_through, TargetOutcome* outcome, bool* stopped)
      : state_(state),
        target_(state, log_store),
        executor_(executor),
        d_(d),
        plan_through_(plan_through),
        outcome_(outcome),
        stopped_(stopped) {}

  Status Run() {
    auto pruned = state_.PrunedThrough();
    if (!pruned.ok()) return pruned.status();
    pruned_through_ = *pruned;
    // 1. What an earlier run anchored and left.
    bool complete = false;
    RETENTION_RETURN_IF_ERROR(DeleteAnchored(&complete));
    if (!complete) return Status::Ok();
    // 2. The prefix prunable now, under one anchor.
    LedgerAnchor anchor;
    auto first_open = FirstOpenBatch(state_);
    if (!first_open.ok()) return first_open.status();
    {
      auto locked = executor_.LockHolds(d_);
      if (!locked.ok()) return locked.status();
      RETENTION_RETURN_IF_ERROR(WalkPrunablePrefix(
          state_, locked->rule, pruned_through_, [&](const LedgerEntry& e, const std::optional<std::string>& kept) {
            if (kept || e.seq >= *first_open) return false;
            if (plan_through_ && e.seq > *plan_through_) return false;
            if (anchor.from == 0) anchor.from = e.seq;
            anchor.through = e.seq;
            anchor.through_hash = e.hash;
            anchor.through_at = e.at;
            return true;
          }));
    }
    if (anchor.from == 0) return Status::Ok();  // nothing prunable now
    anchor.cutoff = *d_.cutoff;  // set: an entry was due
    anchor.delete_after = *d_.category->delete_after;
    anchor.time_zone = d_.zone.name();
    LedgerEntry entry;
    entry.run_id = executor_.options().run_id;
    entry.category = d_.category->name;
    entry.target = d_.target->name;
    entry.rule = d_.target->where.file + ":" + std::to_string(d_.target->where.line);
    WriteAnchor(anchor, &entry);
    RETENTION_RETURN_IF_ERROR(Append(state_, {entry}));
    FaultPoint("after_anchor");
    spdlog::info("{}/{}: anchored entries {} to {} (written before {}) for pruning", d_.category->name,
                 d_.target->name, anchor.from, anchor.through, FormatTimestamp(anchor.cutoff));
    pruned_through_ = anchor.through;
    // 3. Delete them.
    return DeleteAnchored(&complete);
  }

 private:
  // Deletes the anchored entries still present, a batch at a time. Sets
  // *complete when none is left.
  Status DeleteAnchored(bool* complete) {
    *complete = false;
    AnchoredSource source(state_, pruned_through_);
    while (true) {
      if (executor_.OutOfTime()) {
        *stopped_ = true;
        return Status::Ok();
      }
      auto batch = source.Next(static_cast<size_t>(executor_.options().batch_size));
      if (!batch.ok()) return batch.status();
      if (batch->empty()) {
        *complete = true;
        return Status::Ok();
      }
      auto report = executor_.RunBatch(d_, target_, *batch, Intent::kAnchor);
      if (!report.ok()) return report.status();
      if (!report->deleted.empty()) {
        outcome_->deleted += static_cast<int64_t>(report->deleted.size());
        ++outcome_->batches;
      }
      if (!report->kept.empty()) {
        const KeptRecord& first = report->kept.front();
        const int64_t kept_seq = SeqOf(first.key);
        outcome_->kept_changed += pruned_through_ - kept_seq + 1;
        spdlog::warn("{}/{}: entries {} to {} stay for now (entry {}: {})", d_.category->name, d_.target->name,
                     kept_seq, pruned_through_, kept_seq, first.reason.words);
        return Status::Ok();
      }
    }
  }

  StateDb& state_;
  PurgeLogBatchTarget target_;
  BatchExecutor& executor_;
  const Selection& d_;
  std::optional<int64_t> plan_through_;
  TargetOutcome* outcome_;
  bool* stopped_;
  int64_t pruned_through_ = 0;
};

}  // namespace

Status PrunePurgeLog(StateDb& state, Store& log_store, BatchExecutor& executor, const Selection& selection,
                     CandidateSource* listed, TargetOutcome* outcome, bool* stopped) {
  std::optional<int64_t> plan_through;
  if (listed) {
    auto through = PlanThrough(*listed, static_cast<size_t>(executor.options().batch_size));
    if (!through.ok()) return through.status();
    plan_through = *through;
  }
  return Pruner(state, log_store, executor, selection, plan_through, outcome, stopped).Run();
}

}  // namespace retention
