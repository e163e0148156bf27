#include "purge/purge_log_prune.h"

#include <spdlog/spdlog.h>

#include "ledger/anchor.h"
#include "stores/purge_log_store.h"
#include "util/fault_point.h"

namespace retention {
namespace {

class Pruner {
 public:
  Pruner(StateDb& state, const Selection& base, const PurgeLogPruneOptions& options, TargetOutcome* outcome,
         bool* stopped)
      : state_(state), base_(base), d_(base), options_(options), outcome_(outcome), stopped_(stopped) {}

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
    {
      auto barrier = options_.lock_holds();
      if (!barrier.ok()) return barrier.status();
      RETENTION_RETURN_IF_ERROR(ApplyHolds());
      RETENTION_RETURN_IF_ERROR(WalkPrunablePrefix(
          state_, d_, pruned_through_, [&](const LedgerEntry& e, const std::optional<std::string>& kept) {
            if (kept) return false;
            if (options_.plan_through && e.seq > *options_.plan_through) return false;
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
    entry.run_id = options_.run_id;
    entry.category = d_.category->name;
    entry.target = d_.target->name;
    entry.rule = d_.target->where.file + ":" + std::to_string(d_.target->where.line);
    WriteAnchor(anchor, &entry);
    RETENTION_RETURN_IF_ERROR(state_.Append({entry}));
    FaultPoint("after_anchor");
    spdlog::info("{}/{}: anchored entries {} to {} (written before {}) for pruning", d_.category->name,
                 d_.target->name, anchor.from, anchor.through, FormatTimestamp(anchor.cutoff));
    pruned_through_ = anchor.through;
    // 3. Delete them.
    return DeleteAnchored(&complete);
  }

 private:
  // The selection under the holds lock_holds just re-read.
  Status ApplyHolds() {
    if (!options_.holds) return Status::Internal("purge log pruning without a hold set");
    d_ = WithHolds(base_, *options_.holds);
    return Status::Ok();
  }

  // Deletes the anchored entries still present, a batch at a time. Sets
  // *complete when none is left.
  Status DeleteAnchored(bool* complete) {
    *complete = false;
    while (true) {
      std::optional<int64_t> batch_last;
      bool kept = false;
      std::string why;
      int64_t kept_seq = 0;
      {
        if (options_.out_of_time()) {
          *stopped_ = true;
          return Status::Ok();
        }
        auto barrier = options_.lock_holds();
        if (!barrier.ok()) return barrier.status();
        RETENTION_RETURN_IF_ERROR(ApplyHolds());
        int64_t n = 0;
        RETENTION_RETURN_IF_ERROR(
            state_.ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
              if (e.seq > pruned_through_) return false;
              if (auto reason = PurgeLogEntryKept(d_, e)) {
                kept = true;
                kept_seq = e.seq;
                why = *reason;
                return false;
              }
              batch_last = e.seq;
              return ++n < options_.batch_size;
            }));
        if (batch_last) {
          auto deleted = state_.DeletePrunedEntries(*batch_last);
          if (!deleted.ok()) return deleted.status();
          outcome_->deleted += *deleted;
          ++outcome_->batches;
          FaultPoint("after_prune_batch");
        }
      }
      if (kept) {
        outcome_->kept_changed += pruned_through_ - kept_seq + 1;
        spdlog::warn("{}/{}: entries {} to {} stay for now (entry {}: {})", d_.category->name, d_.target->name,
                     kept_seq, pruned_through_, kept_seq, why);
        return Status::Ok();
      }
      if (!batch_last) {
        *complete = true;
        return Status::Ok();
      }
    }
  }

  StateDb& state_;
  const Selection& base_;
  Selection d_;  // base_ under the holds last read
  const PurgeLogPruneOptions& options_;
  TargetOutcome* outcome_;
  bool* stopped_;
  int64_t pruned_through_ = 0;
};

}  // namespace

Status PrunePurgeLog(StateDb& state, const Selection& decision, const PurgeLogPruneOptions& options,
                     TargetOutcome* outcome, bool* stopped) {
  return Pruner(state, decision, options, outcome, stopped).Run();
}

}  // namespace retention
