#include "purge/batch_executor.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "calendar/cutoff.h"
#include "plan/verdict.h"
#include "state/state_ops.h"
#include "util/fault_point.h"

namespace retention {

namespace {

// Tries of a batch the store reported busy (each waits the store's busy
// timeout).
constexpr int kBusyAttempts = 5;

KeptWhy WhyOfSkip(SkipReason reason) {
  switch (reason) {
    case SkipReason::kUndeletable: return KeptWhy::kUndeletable;
    case SkipReason::kLocked: return KeptWhy::kLocked;
    case SkipReason::kChanged: return KeptWhy::kChanged;
  }
  return KeptWhy::kChanged;
}

// The part of the rule that decided, as the ledger names it: a hold under
// another target over the same records (an overlapping rule's hold) is told
// apart from one under this target.
KeptWhy KeepingPart(const Selection& rule, const Evaluation& evaluation) {
  switch (evaluation.decided_by) {
    case Decider::kAbsent: return KeptWhy::kGone;
    case Decider::kFilters:
    case Decider::kSubject: return KeptWhy::kFilters;
    case Decider::kUndated: return KeptWhy::kUndated;
    case Decider::kNoCutoff:
    case Decider::kNotDue: return KeptWhy::kNotDue;
    case Decider::kHeld:
      return rule.exclusions[evaluation.index].scope == 0 ? KeptWhy::kHeld : KeptWhy::kHeldElsewhere;
    case Decider::kFloor: return KeptWhy::kFloor;
    case Decider::kKeptBehind: return KeptWhy::kBehind;
    case Decider::kDeletable: break;
  }
  return KeptWhy::kChanged;
}

}  // namespace

std::optional<KeptReason> WhyNotDeletable(const Selection& rule, const RecordFacts& facts, bool replaced) {
  RecordVerdict verdict = JudgeRecord(rule, facts);
  if (verdict.deletable) {
    if (replaced) return KeptReason{KeptWhy::kChanged, "changed since selection", std::nullopt, std::nullopt};
    return std::nullopt;
  }
  KeptReason reason;
  reason.why = KeepingPart(rule, verdict.evaluation);
  if (verdict.evaluation.decided_by == Decider::kHeld)
    reason.hold_id = rule.exclusions[verdict.evaluation.index].hold_id;
  reason.words = verdict.reason;
  if (replaced) {
    // Another record under the key: that is why the selected one stayed;
    // what the newcomer is judged is for people only.
    reason.why = KeptWhy::kChanged;
    reason.hold_id.reset();
    reason.words = "changed since selection; now " + verdict.reason;
  }
  return reason;
}

Result<BatchResult> StoreBatchTarget::Delete(const Selection& rule, const std::vector<Candidate>& batch) {
  return store_.DeleteBatch(rule, batch);
}

Result<std::vector<KeptReason>> StoreBatchTarget::WhyKept(const Selection& rule,
                                                          const std::vector<Candidate>& kept) {
  // Another record under a selected key (a row updated in place or its
  // rowid reused) was kept by the delete's identity check: the reason says
  // so first. Only a reason: when the store cannot tell, the record's facts
  // alone give it.
  auto presence = store_.Exist(*rule.target, kept);
  std::vector<KeptReason> out;
  out.reserve(kept.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    const Candidate& c = kept[i];
    const bool replaced = presence.ok() && (*presence)[i] == Presence::kReplaced;
    auto facts = store_.Lookup(rule, c.key);
    if (!facts.ok()) {
      out.push_back({KeptWhy::kChanged, "changed since selection (" + facts.status().message() + ")", std::nullopt,
                     std::nullopt});
      continue;
    }
    auto reason = WhyNotDeletable(rule, *facts, replaced);
    // Deletable now and unchanged, yet kept: it changed during the delete
    // and back (or the delete judged facts this lookup no longer sees).
    out.push_back(reason ? std::move(*reason)
                         : KeptReason{KeptWhy::kChanged, "changed during the delete", std::nullopt, std::nullopt});
  }
  return out;
}

Result<BatchExecutor::Locked> BatchExecutor::LockHolds(const Selection& base) {
  FaultPoint("before_batch");
  auto barrier = options_.hold_barrier();
  if (!barrier.ok()) return barrier.status();
  if (options_.check_in_place) RETENTION_RETURN_IF_ERROR(options_.check_in_place());
  if (options_.fresh_holds) {
    auto holds = options_.fresh_holds();
    if (!holds.ok()) return holds.status();
    holds_ = std::move(*holds);
  } else {
    auto holds = state_.ListHolds(/*include_released=*/false);
    if (!holds.ok()) return holds.status();
    // A hold listed here was placed: it binds from the moment `hold add`
    // returned (SPEC 4), even when its placed_at, the placing process's
    // clock, reads later than this run's (the clock stepped back since).
    // Only its release and its expiry end it.
    const Timestamp now = options_.clock();
    for (Hold& h : *holds) h.placed_at = std::min(h.placed_at, now);
    holds_ = HoldSet(*holds, now);
  }
  return Locked{std::move(*barrier), WithHolds(base, holds_)};
}

LedgerEntry BatchExecutor::Entry(LedgerKind kind, const Selection& d, const std::string& key,
                                 const std::string& clock, const std::string& subject_id) const {
  LedgerEntry e;
  e.kind = kind;
  e.run_id = options_.run_id;
  e.category = d.category->name;
  e.store = d.target->store;
  e.target = d.target->name;
  e.record_key = key;
  e.clock = clock;
  e.cutoff = d.cutoff ? FormatTimestamp(*d.cutoff) : "";
  e.rule = d.target->where.file + ":" + std::to_string(d.target->where.line);
  if (d.target->subject && !subject_id.empty()) e.subject = d.target->subject->kind + ":" + subject_id;
  e.batch = batch_no_;
  return e;
}

Result<BatchResult> BatchExecutor::DeleteWithRetries(const Selection& rule, BatchTarget& target,
                                                     const std::vector<Candidate>& batch) {
  // An application holding the write lock longer than the busy timeout
  // makes the batch fail with Busy before anything changed: try again a
  // few times before giving the run up (exit 75, work left).
  auto deleted = target.Delete(rule, batch);
  for (int attempt = 1; !deleted.ok() && deleted.status().code() == StatusCode::kBusy && attempt < kBusyAttempts;
       ++attempt) {
    spdlog::warn("{}/{}: {}; retrying the batch ({} of {})", rule.category->name, rule.target->name,
                 deleted.status().message(), attempt + 1, kBusyAttempts);
    deleted = target.Delete(rule, batch);
  }
  return deleted;
}

Result<BatchReport> BatchExecutor::RunBatch(const Selection& base, BatchTarget& target,
                                            const std::vector<Candidate>& listed, Intent intent) {
  BatchReport report;
  if (listed.empty()) return report;
  // A key listed twice (a saved plan edited by hand) is one candidate: in
  // the pending batch twice, a crash after the delete would have it
  // reconciled into two delete entries.
  std::vector<Candidate> batch;
  batch.reserve(listed.size());
  {
    std::set<std::string> seen;
    for (const Candidate& c : listed)
      if (seen.insert(c.key).second) batch.push_back(c);
  }
  auto locked = LockHolds(base);
  if (!locked.ok()) return locked.status();
  const Selection& rule = locked->rule;

  // 1. The intent.
  std::optional<int64_t> pending_id;
  if (intent == Intent::kPendingBatch) {
    ++batch_no_;
    const std::string subject_kind = rule.target->subject ? rule.target->subject->kind : "";
    PendingBatch pending;
    pending.run_id = options_.run_id;
    pending.batch = batch_no_;
    pending.category = rule.category->name;
    pending.store = rule.target->store;
    pending.target = rule.target->name;
    pending.rule = rule.target->where.file + ":" + std::to_string(rule.target->where.line);
    pending.cutoff = rule.cutoff ? FormatTimestamp(*rule.cutoff) : "";
    for (const Candidate& c : batch)
      pending.records.push_back({c.key, c.clock, c.subject.empty() ? "" : subject_kind + ":" + c.subject, c.identity});
    auto id = state_.AddPending(pending);
    if (!id.ok()) return id.status();
    pending_id = *id;
    FaultPoint("after_pending");
  }

  // 2. The delete.
  auto result = DeleteWithRetries(rule, target, batch);
  if (!result.ok()) return result.status();
  // (An anchored target's delete has its own fault point.)
  if (intent == Intent::kPendingBatch) FaultPoint("after_delete");

  // 3. What stayed, and why: the store's own reasons first, then the
  // record's facts for the rest (a hold placed since, a clock that moved, a
  // row updated in place).
  report.deleted = std::move(result->deleted);
  std::set<std::string> accounted;
  for (const DeletedRecord& r : report.deleted) accounted.insert(r.key);
  for (SkippedRecord& r : result->skipped) {
    if (!accounted.insert(r.key).second) continue;
    report.kept.push_back({r.key, r.clock, r.subject,
                           KeptReason{WhyOfSkip(r.reason), std::move(r.detail), SkipReasonName(r.reason), std::nullopt}});
  }
  if (accounted.size() < batch.size()) {
    std::vector<Candidate> rest;
    for (const Candidate& c : batch)
      if (accounted.insert(c.key).second) rest.push_back(c);
    auto reasons = target.WhyKept(rule, rest);
    if (!reasons.ok()) return reasons.status();
    for (size_t i = 0; i < rest.size() && i < reasons->size(); ++i)
      report.kept.push_back({rest[i].key, rest[i].clock, rest[i].subject, std::move((*reasons)[i])});
  }

  // 4. The outcome.
  if (pending_id) {
    std::vector<LedgerEntry> entries;
    entries.reserve(batch.size());
    for (const DeletedRecord& r : report.deleted)
      entries.push_back(Entry(LedgerKind::kDelete, rule, r.key, r.clock, r.subject));
    for (const KeptRecord& r : report.kept) {
      LedgerEntry e = Entry(LedgerKind::kKept, rule, r.key, r.clock, r.subject);
      e.detail = KeptDetail(r.reason);
      entries.push_back(std::move(e));
    }
    RETENTION_RETURN_IF_ERROR(SettlePending(state_, *pending_id, entries));
    FaultPoint("after_settle");
  }
  return report;
}

Status BatchExecutor::Run(const Selection& base, BatchTarget& target, CandidateSource& source,
                          TargetOutcome* outcome, bool* stopped) {
  const auto batch_size = static_cast<size_t>(options_.batch_size);
  while (true) {
    if (OutOfTime()) {
      *stopped = true;
      return Status::Ok();
    }
    auto batch = source.Next(batch_size);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) return Status::Ok();
    auto report = RunBatch(base, target, *batch);
    if (!report.ok()) return report.status();
    int64_t undeletable = 0;
    for (const KeptRecord& k : report->kept)
      if (k.reason.why == KeptWhy::kUndeletable) ++undeletable;
    const auto went = static_cast<int64_t>(report->deleted.size());
    outcome->deleted += went;
    outcome->undeletable += undeletable;
    outcome->kept_changed += static_cast<int64_t>(report->kept.size()) - undeletable;
    ++outcome->batches;
    if (options_.on_batch) options_.on_batch(base, *report);
    if (outcome->batches % 50 == 0)
      spdlog::info("{}/{}: {} deleted so far", base.category->name, base.target->name, outcome->deleted);
  }
}

}  // namespace retention
