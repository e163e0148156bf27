#include "stores/purge_log_store.h"

#include <charconv>
#include <tuple>
#include <utility>

#include "plan/verdict.h"
#include "state/state_open.h"

namespace retention {
namespace {

constexpr size_t kSampleKeys = 5;

// An entry's subject "KIND:ID" as (kind, id); both empty when it names none.
std::pair<std::string_view, std::string_view> SplitSubject(const LedgerEntry& e) {
  const std::string_view subject = e.subject;
  const auto colon = subject.find(':');
  if (colon == std::string_view::npos) return {};
  return {subject.substr(0, colon), subject.substr(colon + 1)};
}

std::optional<int64_t> ParseSeq(const std::string& key) {
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), seq);
  if (ec != std::errc() || end != key.data() + key.size() || seq < 1) return std::nullopt;
  return seq;
}

// The oldest entry's seq, or nullopt for an empty log.
Result<std::optional<int64_t>> FirstSeq(StateDb& state) {
  std::optional<int64_t> first;
  RETENTION_RETURN_IF_ERROR(state.ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
    first = e.seq;
    return false;
  }));
  return first;
}

Status WalkFrom(StateDb& state, const Selection& d, int64_t pruned_through, int64_t from_seq,
                const std::function<bool(const LedgerEntry&, const std::optional<std::string>&)>& visit) {
  RETENTION_RETURN_IF_ERROR(CheckRenderable(d));
  return state.ScanLedger(from_seq, [&](const LedgerEntry& e) {
    const bool anchored = e.seq <= pruned_through;
    if (!anchored && !d.any_age && !(d.cutoff && IsDue(e.at, *d.cutoff))) return false;
    return visit(e, PurgeLogEntryKept(d, e));
  });
}

// Pages through the prunable prefix for `plan --out`.
class PrefixCursor final : public CandidateCursor {
 public:
  PrefixCursor(StateDb* state, int64_t pruned_through) : state_(state), pruned_through_(pruned_through) {}

  Result<std::vector<Candidate>> Next(const Selection& d, size_t limit) override {
    RETENTION_RETURN_IF_ERROR(CheckRenderable(d));
    std::vector<Candidate> out;
    if (!state_ || done_) return out;
    RETENTION_RETURN_IF_ERROR(
        WalkFrom(*state_, d, pruned_through_, next_seq_, [&](const LedgerEntry& e, const std::optional<std::string>& kept) {
          if (kept) {
            done_ = true;
            return false;
          }
          out.push_back({std::to_string(e.seq), FormatTimestamp(e.at), e.subject, std::string()});
          next_seq_ = e.seq + 1;
          return out.size() < limit;
        }));
    if (out.size() < limit) done_ = true;
    return out;
  }

 private:
  StateDb* state_;
  int64_t pruned_through_;
  int64_t next_seq_ = INT64_MIN;
  bool done_ = false;
};

class PurgeLogStore final : public Store {
 public:
  PurgeLogStore(StoreConfig config, std::unique_ptr<StateDb> state)
      : config_(std::move(config)), state_(std::move(state)) {}

  const StoreConfig& config() const override { return config_; }

  Status CheckTarget(const Category& category, const Target&, TargetCheck* out) override {
    if (!category.delete_after)
      out->warnings.push_back(category.where.ToString() + ": category '" + category.name +
                              "' has no delete_after: the purge log will never be pruned under it");
    return Status::Ok();
  }

  Result<TargetStats> Measure(const Selection& d) override {
    RETENTION_RETURN_IF_ERROR(CheckRenderable(d));
    TargetStats stats;
    if (!state_) return stats;
    auto head = state_->Head();
    if (!head.ok()) return head.status();
    auto first = FirstSeq(*state_);
    if (!first.ok()) return first.status();
    if (!*first) return stats;
    stats.total = head->seq - **first + 1;
    auto pruned = state_->PrunedThrough();
    if (!pruned.ok()) return pruned.status();
    // Once one entry stays, every later one stays with it, counted the way
    // the first one stayed.
    std::optional<bool> blocked_by_hold;
    RETENTION_RETURN_IF_ERROR(
        WalkFrom(*state_, d, *pruned, INT64_MIN, [&](const LedgerEntry& e, const std::optional<std::string>& kept) {
          ++stats.due;
          if (!blocked_by_hold && kept) blocked_by_hold = KeptByHold(d, e);
          if (blocked_by_hold) {
            ++(*blocked_by_hold ? stats.held : stats.floor_protected);
            return true;
          }
          ++stats.deletable;
          if (!stats.oldest_due) stats.oldest_due = e.at;
          if (stats.sample_keys.size() < kSampleKeys) stats.sample_keys.push_back(std::to_string(e.seq));
          return true;
        }));
    return stats;
  }

  Result<int64_t> CountCovered(const Selection& s) override {
    RETENTION_RETURN_IF_ERROR(CheckRenderable(s));
    if (!state_ || s.exclusions.empty()) return int64_t{0};
    int64_t n = 0;
    RETENTION_RETURN_IF_ERROR(state_->ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
      const RecordFacts facts = PurgeLogEntryFacts(s, e);
      for (const HoldExclusion& x : s.exclusions) {
        if (ExclusionCovers(x, facts)) {
          ++n;
          break;
        }
      }
      return true;
    }));
    return n;
  }

  Result<std::unique_ptr<CandidateCursor>> OpenCursor(const Selection& d) override {
    RETENTION_RETURN_IF_ERROR(CheckRenderable(d));
    int64_t pruned = 0;
    if (state_) {
      auto p = state_->PrunedThrough();
      if (!p.ok()) return p.status();
      pruned = *p;
    }
    return std::unique_ptr<CandidateCursor>(new PrefixCursor(state_.get(), pruned));
  }

  Result<BatchResult> DeleteBatch(const Selection&, const std::vector<Candidate>&) override {
    return Status::Internal("the purge log is pruned behind an anchor (purge/purge_log_prune.h), not deleted in batches");
  }

  // An entry's identity is its seq and time (and the subject it names):
  // seqs are never reused while an anchor stands, but say so by comparing.
  Result<std::vector<Presence>> Exist(const Target&, const std::vector<Candidate>& records) override {
    std::vector<Presence> out;
    for (const Candidate& c : records) {
      auto entry = Find(c.key);
      if (!entry.ok()) return entry.status();
      if (!*entry) {
        out.push_back(Presence::kAbsent);
      } else if (FormatTimestamp((*entry)->at) != c.clock || (c.identity && (*entry)->subject != c.subject)) {
        out.push_back(Presence::kReplaced);
      } else {
        out.push_back(Presence::kSame);
      }
    }
    return out;
  }

  // The purge log is small (an entry per batch, not per record, since
  // batch entries): its bound is the exact count, by Measure.
  Result<DueBound> BoundDue(const Selection& d) override {
    auto stats = Measure(d);
    if (!stats.ok()) return stats.status();
    return DueBound{stats->deletable, stats->total, /*exact=*/true};
  }

  // Nothing to make durable here: the log is pruned in state database
  // transactions, which commit synchronously (synchronous=FULL,
  // state/sqlite_state_db.cc), so a committed pruning is already on disk.
  Status Sync() override { return Status::Ok(); }
  // The state's own ledger: nothing another host's store could be.
  Result<std::optional<std::string>> Identity(const Target&) override { return std::optional<std::string>(); }

  Result<RecordFacts> Lookup(const Selection& d, const std::string& key) override {
    RETENTION_RETURN_IF_ERROR(CheckRenderable(d));
    RecordFacts facts;
    auto entry = Find(key);
    if (!entry.ok()) return entry.status();
    if (!*entry) return facts;
    const LedgerEntry& e = **entry;
    facts = PurgeLogEntryFacts(d, e);
    auto pruned = state_->PrunedThrough();
    if (!pruned.ok()) return pruned.status();
    if (PurgeLogEntryKept(d, e)) return facts;  // JudgeRecord says why
    // It may go on its own: does an older entry keep it?
    int64_t last_seen = 0;
    RETENTION_RETURN_IF_ERROR(
        WalkFrom(*state_, d, *pruned, INT64_MIN, [&](const LedgerEntry& older, const std::optional<std::string>& kept) {
          if (older.seq >= e.seq) return false;
          last_seen = older.seq;
          if (kept) facts.kept_behind = "entry " + std::to_string(older.seq) + " stays (" + *kept + ")";
          return !kept;
        }));
    if (facts.kept_behind.empty() && last_seen + 1 < e.seq) {
      auto first = FirstSeq(*state_);
      if (!first.ok()) return first.status();
      const int64_t blocker = last_seen == 0 ? **first : last_seen + 1;
      if (blocker < e.seq) facts.kept_behind = "entry " + std::to_string(blocker) + " stays (not yet due)";
    }
    if (!facts.kept_behind.empty())
      facts.kept_behind += ", and the purge log is pruned only from its oldest entry on, so that it stays one chain";
    return facts;
  }

 private:
  Result<std::optional<LedgerEntry>> Find(const std::string& key) {
    std::optional<LedgerEntry> found;
    const auto seq = ParseSeq(key);
    if (!state_ || !seq) return found;
    RETENTION_RETURN_IF_ERROR(state_->ScanLedger(*seq, [&](const LedgerEntry& e) {
      if (e.seq == *seq) found = e;
      return false;
    }));
    return found;
  }

  static bool KeptByHold(const Selection& d, const LedgerEntry& e) {
    return Evaluate(d, PurgeLogEntryFacts(d, e)).decided_by == Decider::kHeld;
  }

  StoreConfig config_;
  std::unique_ptr<StateDb> state_;  // null: no state database yet
};

}  // namespace

RecordFacts PurgeLogEntryFacts(const Selection& s, const LedgerEntry& e) {
  RecordFacts facts;
  facts.exists = true;
  facts.key = std::to_string(e.seq);
  const auto [kind, id] = SplitSubject(e);
  // Every purge-log target selects every entry: they take no filters.
  RecordFacts::ScopeFacts scope;
  scope.matches_filters = true;
  scope.clock_text = FormatTimestamp(e.at);
  scope.clock = e.at;
  if (!kind.empty()) {
    scope.subject_kind = std::string(kind);
    scope.subject_id = std::string(id);
  }
  facts.scopes.assign(s.scopes.size(), scope);
  return facts;
}

std::optional<std::string> PurgeLogEntryKept(const Selection& s, const LedgerEntry& e) {
  const RecordFacts facts = PurgeLogEntryFacts(s, e);
  const Evaluation ev = Evaluate(s, facts);
  if (ev.deletable) return std::nullopt;
  if (ev.decided_by == Decider::kNotDue)
    return "written " + FormatTimestamp(e.at) + ", not before the cutoff " + FormatTimestamp(*s.cutoff);
  return VerdictText(s, facts, ev);
}

Status WalkPrunablePrefix(StateDb& state, const Selection& d, int64_t pruned_through,
                          const std::function<bool(const LedgerEntry&, const std::optional<std::string>&)>& visit) {
  return WalkFrom(state, d, pruned_through, INT64_MIN, visit);
}

Result<std::unique_ptr<Store>> OpenPurgeLogStore(const StoreConfig& config) {
  std::unique_ptr<StateDb> state;
  if (StateExistsAt(config.state)) {
    auto opened = OpenStateDbAt(config.state, StateOpenMode::kRead);
    if (!opened.ok()) return opened.status();
    state = std::move(*opened);
  }
  return std::unique_ptr<Store>(new PurgeLogStore(config, std::move(state)));
}

}  // namespace retention
