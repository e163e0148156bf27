#include "purge/run_guards.h"

#include <cmath>
#include <map>

#include "ledger/ledger.h"

namespace retention {

namespace {

// Entries at the ledger's end whose chain a purge checks before it starts.
constexpr int64_t kLedgerTailCheck = 10000;

const Category* FindCategory(const RuleSet& rules, const std::string& name) {
  for (const Category& c : rules.categories)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

Status CheckSafetyValve(const Plan& plan, const RuleSet& rules, const Limits& limits, bool allow_mass_delete) {
  if (allow_mass_delete) return Status::Ok();
  std::string over;
  for (const TargetPlan& t : plan.targets) {
    if (t.stats.total == 0 || t.stats.deletable == 0) continue;
    const Category* c = FindCategory(rules, t.category);
    const double limit = c && c->max_delete_fraction ? *c->max_delete_fraction : limits.max_delete_fraction;
    const double fraction = static_cast<double>(t.stats.deletable) / static_cast<double>(t.stats.total);
    if (fraction > limit) {
      over += "\n  " + t.category + "/" + t.target + ": " + std::to_string(t.stats.deletable) + " of " +
              std::to_string(t.stats.total) + " records (" + std::to_string(static_cast<int>(std::lround(fraction * 100))) +
              "%, limit " + std::to_string(static_cast<int>(std::lround(limit * 100))) + "%)";
    }
  }
  const int64_t total = plan.TotalDeletable();
  if (total > limits.max_delete)
    over += "\n  the run: " + std::to_string(total) + " records (limit max_delete = " +
            std::to_string(limits.max_delete) + ")";
  if (over.empty()) return Status::Ok();
  return Status::SafetyValve("safety valve: refusing to delete, nothing was deleted:" + over +
                             "\nCheck the plan (`retention plan`); if it is right, run again with --allow-mass-delete "
                             "or raise the limits in the config.");
}

Status CheckSafetyValveBound(StoreSet& stores, const std::vector<Selection>& selections, const RuleSet& rules,
                             const Limits& limits, bool allow_mass_delete) {
  if (allow_mass_delete) return Status::Ok();
  // The valve's view of the run: one TargetPlan per selection, its stats
  // the bound until a limit makes the exact count necessary.
  Plan plan;
  std::vector<Store*> owners;
  std::vector<bool> exact;
  auto measure = [&](size_t i) -> Status {
    if (exact[i]) return Status::Ok();
    auto stats = owners[i]->Measure(selections[i]);
    if (!stats.ok()) return stats.status();
    plan.targets[i].stats = std::move(*stats);
    exact[i] = true;
    return Status::Ok();
  };
  int64_t at_most = 0;
  for (const Selection& d : selections) {
    auto store = stores.Get(d.target->store);
    if (!store.ok()) return store.status();
    auto bound = (*store)->BoundDue(d);
    if (!bound.ok()) return bound.status();
    TargetPlan t;
    t.category = d.category->name;
    t.target = d.target->name;
    t.stats.total = bound->total_at_least;
    t.stats.deletable = bound->deletable_at_most;
    plan.targets.push_back(std::move(t));
    owners.push_back(*store);
    exact.push_back(bound->exact);
    at_most += bound->deletable_at_most;
  }
  for (size_t i = 0; i < plan.targets.size(); ++i) {
    const TargetStats& s = plan.targets[i].stats;
    if (s.deletable == 0) continue;  // nothing can go: never over
    const Category* c = FindCategory(rules, plan.targets[i].category);
    const double limit = c && c->max_delete_fraction ? *c->max_delete_fraction : limits.max_delete_fraction;
    // deletable <= at_most and total >= total_at_least: within the limit by
    // the bound means within it exactly.
    if (s.total == 0 || static_cast<double>(s.deletable) / static_cast<double>(s.total) > limit)
      RETENTION_RETURN_IF_ERROR(measure(i));
  }
  if (at_most > limits.max_delete)
    for (size_t i = 0; i < plan.targets.size(); ++i) RETENTION_RETURN_IF_ERROR(measure(i));
  return CheckSafetyValve(plan, rules, limits, allow_mass_delete);
}

Status CheckClockSanity(const std::optional<RunInfo>& last, Timestamp now, const CalendarDuration& max_jump,
                        bool allow_clock_jump, bool allow_clock_behind) {
  if (!last) return Status::Ok();
  if (now < last->started_at && !allow_clock_behind)
    return Status::ClockSanity("clock sanity: the clock (" + FormatTimestamp(now) + ") is earlier than the start of run " +
                               std::to_string(last->id) + " (" + FormatTimestamp(last->started_at) +
                               "); refusing to run until the clock is right (if that run's clock was wrong and this one is right, "
                               "run again with --allow-clock-behind)");
  if (!allow_clock_jump && ComputeCutoff(now, max_jump, TimeZone::Utc()) > last->started_at)
    return Status::ClockSanity("clock sanity: the clock (" + FormatTimestamp(now) + ") is more than " +
                               max_jump.ToString() + " (max_clock_jump) after the last run " + std::to_string(last->id) +
                               " (" + FormatTimestamp(last->started_at) +
                               "); if the clock is right, run again with --allow-clock-jump");
  return Status::Ok();
}

Status CheckRunArguments(Timestamp as_of, Timestamp now, int64_t batch_size) {
  if (as_of > now)
    return Status::Usage("--as-of " + FormatTimestamp(as_of) + " is later than the clock (" + FormatTimestamp(now) +
                         "): purge never deletes ahead of time; preview with `retention plan --as-of`");
  if (batch_size < 1 || batch_size > 100000) return Status::Usage("--batch-size must be between 1 and 100000");
  return Status::Ok();
}

Status CheckClockSanity(StateDb& state, const std::optional<std::string>& only_host, Timestamp now,
                        const Limits& limits, bool allow_clock_jump, bool allow_clock_behind) {
  if (only_host) {
    auto runs = state.ListRuns();
    if (!runs.ok()) return runs.status();
    std::optional<RunInfo> last;
    for (RunInfo& run : *runs)
      if (run.host == *only_host) last = std::move(run);
    return CheckClockSanity(last, now, limits.max_clock_jump, allow_clock_jump, allow_clock_behind);
  }
  auto last = state.LastRun();
  if (!last.ok()) return last.status();
  return CheckClockSanity(*last, now, limits.max_clock_jump, allow_clock_jump, allow_clock_behind);
}

Status CheckNoOtherHostsOpenBatch(StateDb& state, const RuleSet& rules, const Target& target,
                                  const std::string& host) {
  auto runs = state.ListRuns();
  if (!runs.ok()) return runs.status();
  std::map<int64_t, std::string> host_of, rules_of;
  for (const RunInfo& run : *runs) {
    host_of[run.id] = run.host;
    rules_of[run.id] = run.rules_hash;
  }
  auto other = [&](int64_t run_id) {
    auto it = host_of.find(run_id);
    return it == host_of.end() || it->second != host;  // a run of no host known: not ours
  };
  // The batch's target is known only by name, and a name means what the
  // rules of its run said. This host can tell which table it covers only
  // when that run ran these very rules; under other rules (another host's,
  // or these before an edit) any target of this store may be these
  // records: kept, as if it were.
  auto same_records = [&](int64_t run_id, const std::string& category, const std::string& store,
                          const std::string& name) {
    if (store != target.store) return false;
    auto run_rules = rules_of.find(run_id);
    if (run_rules == rules_of.end() || run_rules->second != rules.hash) return true;
    for (const Category& c : rules.categories) {
      if (c.name != category) continue;
      for (const Target& t : c.targets)
        if (t.name == name) return RecordsKey(t) == RecordsKey(target);
    }
    return true;
  };
  auto busy = [&](int64_t run_id, const std::string& what, const std::string& category, const std::string& name) {
    auto it = host_of.find(run_id);
    return Status::Busy("the records of " + target.store + "/" + target.name + " have " + what + " (" + category +
                        "/" + name + ") of run " + std::to_string(run_id) + " on host '" +
                        (it == host_of.end() ? std::string("?") : it->second) +
                        "' not yet settled (its run settles it with its next entry, or, stopped mid-batch, at that host's "
                        "next purge; a host that will not run again: 'retention state reconcile --host " +
                        (it == host_of.end() ? std::string("NAME") : it->second) + "'): skipped here");
  };
  auto open = state.OpenBatches();
  if (!open.ok()) return open.status();
  for (int64_t seq : *open) {
    auto read = state.ReadEntry(seq);
    if (!read.ok()) return read.status();
    // Listed open but not in the ledger: whose batch over what is unknown,
    // so it may be these records (keep when unsure).
    if (!*read)
      return Status::Busy("the batch index lists entry " + std::to_string(seq) +
                          " as an open batch but the ledger has no such entry: " + target.store + "/" + target.name +
                          " skipped here until 'retention audit verify' explains it");
    const LedgerEntry& e = **read;
    if (other(e.run_id) && same_records(e.run_id, e.category, e.store, e.target))
      return busy(e.run_id, "batch entry " + std::to_string(seq), e.category, e.target);
  }
  auto pending = state.ListPending();
  if (!pending.ok()) return pending.status();
  for (const PendingBatch& batch : *pending)
    if (other(batch.run_id) && same_records(batch.run_id, batch.category, batch.store, batch.target))
      return busy(batch.run_id, "a pending batch", batch.category, batch.target);
  return Status::Ok();
}

Status CheckLedgerTail(StateDb& state) {
  auto tail = VerifyLedgerTail(state, kLedgerTailCheck, state.Now());
  if (!tail.ok()) return tail.status();
  if (!tail->ok)
    return Status::AuditFailed("the ledger does not verify (" + tail->problem +
                               "); refusing to purge until it is investigated (retention audit verify)");
  return Status::Ok();
}

}  // namespace retention
