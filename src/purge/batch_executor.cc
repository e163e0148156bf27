// The batch protocol (batch_executor.h), and why the ledger stays exact.
//
// For each batch: (1) its intent, a `batch` entry packing every candidate,
// is committed to the state database (synchronous=FULL: durable when the
// commit returns); (2) under the hold barrier the holds are re-read; (3) the
// target's transaction deletes those candidates still deletable, judged
// row by row by identity; (4) Store::Sync makes that commit durable
// whatever `synchronous` the application chose; (5) the settlement (what
// the delete left, by index, with reasons) is queued and written in the
// run's next entry. An open batch (intent, no settlement) is reconciled at
// the next start: Store::Sync, then Exist by identity per candidate.
//
// Kill -9 (the process dies; the kernel keeps what was written):
//   before (1) commits: nothing deleted, nothing claimed.
//   after (1), before (3) commits: an open batch whose candidates are all in
//     place: reconciled as kept, not_deleted. Nothing claimed wrongly.
//   after (3) commits, before the settlement commits: an open batch; what
//     the delete removed is absent (gone or replaced), what it left is in
//     place; reconciliation settles exactly that. No deletion without its
//     entry: every row the delete can remove is a candidate of the intent,
//     committed before the delete began.
//   after the settlement commits: nothing to do.
// A row updated between (1) and (3) is judged by (3) on its facts then: one
// whose clock moved younger is kept (and settled kept, with its reason);
// one that moved into the range is not a candidate, so the by-key delete
// never touches it. A hold placed after (1) binds (3): (2) re-reads holds
// under the barrier that `hold add` takes exclusively.
//
// Power loss (also what the kernel had not written is lost):
//   the intent was fsynced before (3) began, so a target commit that
//     survives always has its intent;
//   the target's commit may be lost (synchronous=NORMAL or OFF): the rows
//     come back. A settlement is written only after (4), so no settlement
//     ever claims a deletion a power cut undid; an open batch is judged only
//     after reconciliation's own Store::Sync, so it judges what the disk
//     will keep, not a page cache a second cut could drop;
//   a settlement's own commit may be lost: its batch is open again and
//     reconciled from the target's durable state, which (4) made final.
// With the pipeline, two batches are in flight: batch N deleting and batch
// N+1's intent committing. Each is open until its own settlement; a crash
// leaves at most both open and each is judged by itself. The settlements
// queued for the run's next entry are only batches synced by (4).
//
// A batch whose delete or Sync failed is never settled by the run: it stays
// open for the next start, which judges it after a Sync. A prepared batch
// the run never deleted (a stop, a failure first) is settled kept,
// not_deleted: its delete never ran.
#include "purge/batch_executor.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <future>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "calendar/cutoff.h"
#include "purge/batch_sizer.h"
#include "plan/verdict.h"
#include "state/state_ops.h"
#include "util/fault_point.h"
#include "util/json_text.h"

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

// A PostgreSQL batch's fixed costs (the COMMIT's WAL flush, the statement's
// planning over the batch's arrays) are larger than SQLite's, and SPEC 7
// allows its transaction 100 ms, not 50: half of that, so that one batch
// the sizer overestimates (at most double) still stays within it.
std::chrono::microseconds StoreBatchTarget::TransactionTarget(std::chrono::microseconds run) const {
  if (store_.config().type == StoreType::kPostgres)
    return std::max<std::chrono::microseconds>(run, std::chrono::milliseconds(50));
  return run;
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


Selection BatchExecutor::Following(const Selection& base) const {
  std::lock_guard<std::mutex> lock(mu_);
  return WithHolds(base, holds_);
}

Result<BatchExecutor::Locked> BatchExecutor::LockHolds(const Selection& base) {
  FaultPoint("before_batch");
  auto barrier = options_.hold_barrier();
  if (!barrier.ok()) return barrier.status();
  std::lock_guard<std::mutex> lock(mu_);
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
  Selection rule = WithHolds(base, holds_);
  rule.confirm_barrier = barrier->Confirmer();
  return Locked{std::move(*barrier), std::move(rule)};
}

std::vector<Settlement> BatchExecutor::TakeSettlements() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Settlement> out;
  out.swap(settles_);
  return out;
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

Result<BatchExecutor::Prepared> BatchExecutor::Prepare(const Selection& base, const std::vector<Candidate>& listed,
                                                       Intent intent) {
  Prepared prepared;
  // A key listed twice (a saved plan edited by hand) is one candidate: the
  // settlement names candidates by index, and one record has one outcome.
  prepared.candidates.reserve(listed.size());
  {
    std::unordered_set<std::string_view> seen;
    seen.reserve(listed.size());
    for (const Candidate& c : listed)
      if (seen.insert(c.key).second) prepared.candidates.push_back(c);
  }
  if (intent != Intent::kBatchEntry || prepared.candidates.empty()) return prepared;

  BatchPayload payload;
  payload.subject_kind = base.target->subject ? base.target->subject->kind : "";
  payload.records.reserve(prepared.candidates.size());
  for (const Candidate& c : prepared.candidates) payload.records.push_back({c.key, c.clock, c.subject, c.identity});
  auto bytes = EncodeBatchPayload(payload);
  if (!bytes.ok()) return bytes.status();
  const BatchKeyRange range = KeyRangeOf(payload);

  LedgerEntry e;
  e.kind = LedgerKind::kBatch;
  e.run_id = options_.run_id;
  e.category = base.category->name;
  e.store = base.target->store;
  e.target = base.target->name;
  e.cutoff = base.cutoff ? FormatTimestamp(*base.cutoff) : "";
  e.rule = base.target->where.file + ":" + std::to_string(base.target->where.line);
  e.payload = std::move(*bytes);
  BatchIndexRow index{e.store, e.target, range.lo, range.hi, range.integer_keys};

  std::lock_guard<std::mutex> lock(mu_);
  // What the store names, so that whoever reconciles this batch can tell
  // whether its own store of that name sees the same records.
  const auto identity = identities_.find(base.target);
  if (identity == identities_.end())
    return Status::Internal("a batch of " + e.category + "/" + e.target + " prepared before its store's identity was read");
  nlohmann::json detail = nlohmann::json::object();
  if (!options_.request.empty()) detail["request"] = options_.request;
  if (identity->second) detail[kStoreIdentityMember] = TextJson(*identity->second);
  if (!detail.empty()) e.detail = DumpJson(detail);
  e.batch = ++batch_no_;
  // The settlements queued so far ride in this entry; they leave the queue
  // only once it is committed.
  const size_t settling = settles_.size();
  std::vector<Settlement> settles(settles_.begin(), settles_.end());
  auto seq = AppendBatch(state_, std::move(e), index, settles);
  if (!seq.ok()) return seq.status();
  settles_.erase(settles_.begin(), settles_.begin() + static_cast<std::ptrdiff_t>(settling));
  prepared.seq = *seq;
  FaultPoint("after_intent");
  if (settling > 0) FaultPoint("after_settle");
  return prepared;
}

Result<BatchReport> BatchExecutor::Execute(const Selection& base, BatchTarget& target, const Prepared& batch,
                                           std::chrono::microseconds* took) {
  BatchReport report;
  if (batch.candidates.empty()) return report;
  const bool settles = batch.seq != 0;  // an anchored batch has no settlement
  BatchResult result;
  Selection rule;
  {
    auto locked = LockHolds(base);
    if (!locked.ok()) return locked.status();
    rule = locked->rule;
    FaultPoint("before_delete");  // the barrier held: a test places a hold here
    // The delete, under the barrier: a hold placed before it is in the
    // holds just read; one placed after waits for it to commit. An error
    // leaves the batch open: the next start reconciles it.
    const auto start = std::chrono::steady_clock::now();
    auto deleted = DeleteWithRetries(rule, target, batch.candidates);
    if (took)
      *took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    if (!deleted.ok()) return deleted.status();
    result = std::move(*deleted);
  }
  // (An anchored target's delete has its own fault point.)
  if (settles) {
    FaultPoint("after_delete");
    // Durable before it is claimed; a failure leaves the batch open.
    RETENTION_RETURN_IF_ERROR(target.Sync());
    FaultPoint("after_sync");
  }

  // What stayed, and why: the store's own reasons first, then the record's
  // facts for the rest (a hold placed since, a clock that moved, a row
  // updated in place).
  report.deleted = std::move(result.deleted);
  // Views of keys that outlive it: report.deleted's (not changed below),
  // result.skipped's and the batch's.
  std::unordered_set<std::string_view> accounted;
  accounted.reserve(batch.candidates.size());
  for (const DeletedRecord& r : report.deleted) accounted.insert(r.key);
  for (SkippedRecord& r : result.skipped) {
    if (!accounted.insert(r.key).second) continue;
    report.kept.push_back({r.key, r.clock, r.subject,
                           KeptReason{WhyOfSkip(r.reason), std::move(r.detail), SkipReasonName(r.reason), std::nullopt}});
  }
  if (accounted.size() < batch.candidates.size()) {
    std::vector<Candidate> rest;
    for (const Candidate& c : batch.candidates)
      if (accounted.insert(c.key).second) rest.push_back(c);
    auto reasons = target.WhyKept(rule, rest);
    if (!reasons.ok()) return reasons.status();
    for (size_t i = 0; i < rest.size() && i < reasons->size(); ++i)
      report.kept.push_back({rest[i].key, rest[i].clock, rest[i].subject, std::move((*reasons)[i])});
  }

  if (settles) {
    // Candidates by key, for the kept ones' indexes (none when all went).
    std::unordered_map<std::string_view, uint32_t> index;
    if (!report.kept.empty()) {
      index.reserve(batch.candidates.size());
      for (size_t i = 0; i < batch.candidates.size(); ++i)
        index.emplace(batch.candidates[i].key, static_cast<uint32_t>(i));
    }
    Settlement s;
    s.batch_seq = batch.seq;
    for (const KeptRecord& k : report.kept) {
      auto it = index.find(k.key);
      if (it != index.end()) s.kept.push_back({it->second, k.reason});
    }
    std::sort(s.kept.begin(), s.kept.end(),
              [](const Settlement::Kept& a, const Settlement::Kept& b) { return a.index < b.index; });
    std::lock_guard<std::mutex> lock(mu_);
    settles_.push_back(std::move(s));
  }
  return report;
}

void BatchExecutor::Abandon(const Prepared& batch) {
  if (batch.seq == 0 || batch.candidates.empty()) return;
  Settlement s;
  s.batch_seq = batch.seq;
  for (size_t i = 0; i < batch.candidates.size(); ++i)
    s.kept.push_back({static_cast<uint32_t>(i), KeptReason{KeptWhy::kNotDeleted,
                                                           "not deleted: the run stopped before this batch's delete",
                                                           std::nullopt, std::nullopt}});
  std::lock_guard<std::mutex> lock(mu_);
  settles_.push_back(std::move(s));
}

Status BatchExecutor::LearnIdentity(const Selection& base, BatchTarget& target) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (identities_.count(base.target)) return Status::Ok();
  }
  auto identity = target.Identity(*base.target);
  if (!identity.ok()) return identity.status();
  std::lock_guard<std::mutex> lock(mu_);
  identities_.emplace(base.target, std::move(*identity));
  return Status::Ok();
}

Result<BatchReport> BatchExecutor::RunBatch(const Selection& base, BatchTarget& target,
                                            const std::vector<Candidate>& listed, Intent intent) {
  if (intent == Intent::kBatchEntry) RETENTION_RETURN_IF_ERROR(LearnIdentity(base, target));
  auto prepared = Prepare(base, listed, intent);
  if (!prepared.ok()) return prepared.status();
  return Execute(base, target, *prepared, nullptr);
}

Status BatchExecutor::Run(const Selection& base, BatchTarget& target, CandidateSource& source,
                          TargetOutcome* outcome, bool* stopped) {
  BatchSizer sizer(options_.batch_size, target.TransactionTarget(options_.target_transaction));
  // Reads a batch and commits its intent; on the pipeline's thread, it
  // touches only the source and (under mu_) the state.
  auto fetch = [this, &base, &source](size_t limit) -> Result<Prepared> {
    auto listed = source.Next(limit);
    if (!listed.ok()) return listed.status();
    return Prepare(base, *listed, Intent::kBatchEntry);
  };
  if (OutOfTime()) {
    *stopped = true;
    return Status::Ok();
  }
  RETENTION_RETURN_IF_ERROR(LearnIdentity(base, target));
  Result<Prepared> current = fetch(sizer.Next());
  while (true) {
    if (!current.ok()) return current.status();
    if (current->candidates.empty()) return Status::Ok();
    if (OutOfTime()) {
      *stopped = true;
      Abandon(*current);
      return Status::Ok();
    }
    // One batch ahead: the next batch's candidates and intent while this
    // one deletes. Its size follows the last delete measured.
    std::future<Result<Prepared>> ahead;
    if (options_.pipeline) ahead = std::async(std::launch::async, fetch, sizer.Next());
    std::chrono::microseconds took{0};
    auto report = Execute(base, target, *current, &took);
    if (!report.ok()) {
      if (ahead.valid()) {
        auto next = ahead.get();
        if (next.ok()) Abandon(*next);
      }
      return report.status();
    }
    sizer.Observe(current->candidates.size(), took);
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
    current = ahead.valid() ? ahead.get() : fetch(sizer.Next());
  }
}

}  // namespace retention
