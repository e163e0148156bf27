#include "purge/reconcile.h"

#include "ledger/batch_entry.h"
#include "state/state_ops.h"
#include "util/fault_point.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "util/json_text.h"

namespace retention {

namespace {

const Target* FindTarget(const RuleSet& rules, const std::string& category, const std::string& target) {
  for (const Category& c : rules.categories) {
    if (c.name != category) continue;
    for (const Target& t : c.targets)
      if (t.name == target) return &t;
  }
  return nullptr;
}

// The refusal for an open batch whose target the rules no longer define.
Status TargetGone(int64_t seq, const LedgerEntry& batch) {
  return Status::Invalid("a crashed run left an open batch (ledger entry " + std::to_string(seq) + ") for " +
                         batch.category + "/" + batch.target +
                         ", which the rules no longer define; restore the rule so the batch can be reconciled");
}

// The refusal for another host's batch over a PostgreSQL store that
// recorded no store identity (CheckSameStore).
Status NoStoreIdentity(const std::string& whose, const std::string& store, const std::string& host) {
  return Status::Invalid(whose + " over store '" + store + "' records no store identity: an older version of "
                         "retention wrote it, and nothing here can tell whether store '" + store + "' reaches the "
                         "table it deleted from. Nothing was reconciled; settle it with that host's own config "
                         "(host = \"" + host + "\" in its state config), by running 'retention state reconcile' "
                         "there");
}

// Ok when open batch entry `seq` may be judged by `store` here: the store
// identity the entry recorded (ledger/batch_entry.h, STORE IDENTITY) is
// the one `store` has for `target` now. A store that reaches another
// cluster, database or table under the same name (a conninfo changed
// since, another host's config) would judge the batch against other
// records: those absent there claimed deleted, those the run deleted
// claimed kept. Refused (Invalid), naming both.
//
// An entry that recorded none was written over a store without one
// (SQLite, files) or by an older version: judged as before by the host
// that wrote it (`other_host` empty), since its store is the one it
// deleted through unless its config changed; refused for another host
// over a PostgreSQL store (`other_host`), where nothing says that the two
// hosts' stores of that name reach the same table. Keep when unsure.
Status CheckSameStore(Store& store, const Target& target, int64_t seq, const LedgerEntry& batch,
                      const std::string& other_host) {
  const std::string whose = "batch entry " + std::to_string(seq) + " of run " + std::to_string(batch.run_id) +
                            (other_host.empty() ? std::string() : " of host '" + other_host + "'");
  auto recorded = StoreIdentityOf(batch.detail);
  if (!recorded.ok()) return recorded.status().WithContext(whose);
  if (!*recorded) {
    if (other_host.empty() || store.config().type != StoreType::kPostgres) return Status::Ok();
    return NoStoreIdentity(whose, batch.store, other_host);
  }
  auto here = store.Identity(target);
  if (!here.ok()) return here.status().WithContext("reading which table " + whose + " is over");
  if (*here == *recorded) return Status::Ok();
  const std::string seen = here->has_value() ? **here
                                             : "no table comparable across hosts (a " +
                                                   std::string(StoreTypeName(store.config().type)) + " store)";
  return Status::Invalid(
      whose + " was written over store '" + batch.store + "' as " + **recorded + "; store '" + batch.store +
      "' here reaches " + seen + ". Judged against another table, records absent here would be claimed "
      "deleted. Nothing was reconciled or deleted; point store '" + batch.store + "' (its conninfo) at the "
      "database the batch was written over, then run again");
}

// An open batch entry's target under `rules` and the store to judge it
// with, checked as CheckSameStore does; refused when the rules no longer
// define its target.
Status CheckJudgeable(StateDb& state, StoreSet& stores, const RuleSet& rules, int64_t seq,
                      const std::string& other_host) {
  auto entry = state.ReadEntry(seq);
  if (!entry.ok()) return entry.status();
  if (!*entry) return Status::AuditFailed("open batch entry " + std::to_string(seq) + " is not in the ledger");
  const LedgerEntry& batch = **entry;
  const Target* target = FindTarget(rules, batch.category, batch.target);
  if (!target) return TargetGone(seq, batch);
  auto store = stores.Get(batch.store);
  if (!store.ok()) return store.status();
  return CheckSameStore(**store, *target, seq, batch, other_host);
}

// A pending record as the store's Candidate. The batch wrote the subject as
// "KIND:ID"; the store compares the id as stored. A subject under a kind the
// target no longer maps cannot be compared: then, as for a record without
// an identity, key and clock alone.
Candidate AsCandidate(const Target& target, const PendingBatch::Record& r) {
  Candidate c{r.key, r.clock, "", r.identity};
  if (r.subject.empty()) return c;
  const std::string prefix = target.subject ? target.subject->kind + ":" : std::string();
  if (!prefix.empty() && r.subject.compare(0, prefix.size(), prefix) == 0) {
    c.subject = r.subject.substr(prefix.size());
  } else {
    c.identity.reset();
  }
  return c;
}

// The reconciled entry that sums up one reconciled batch: `source` names
// it ({"batch_entry", seq}, or {"pending_batch", id} for a batch a version
// 3 run left); of its `candidates`, `deleted` were found gone (`replaced`
// of them with another record under their key), the rest present.
// `by_host`, when set, is the host that reconciled another host's batch
// (ReconcileHost), so the entry says who judged it.
LedgerEntry ReconciledSummary(int64_t run_id, const std::string& category, const std::string& store,
                              const std::string& target, int64_t batch_number,
                              std::pair<const char*, int64_t> source, size_t candidates, int64_t deleted,
                              int64_t replaced, const std::string& by_host) {
  LedgerEntry summary;
  summary.kind = LedgerKind::kReconciled;
  summary.run_id = run_id;
  summary.category = category;
  summary.store = store;
  summary.target = target;
  summary.batch = batch_number;
  nlohmann::json detail{{source.first, source.second},
                        {"candidates", candidates},
                        {"found_deleted", deleted},
                        {"found_replaced", replaced},
                        {"found_present", static_cast<int64_t>(candidates) - deleted}};
  if (!by_host.empty()) detail["reconciled_by_host"] = by_host;
  summary.detail = DumpJson(detail);
  return summary;
}

// The runs this host may reconcile: those of `only_host`, or (nullopt)
// every run.
Result<std::optional<std::set<int64_t>>> RunsOf(StateDb& state, const std::optional<std::string>& only_host) {
  if (!only_host) return std::optional<std::set<int64_t>>();
  auto runs = state.ListRuns();
  if (!runs.ok()) return runs.status();
  std::set<int64_t> mine;
  for (const RunInfo& run : *runs)
    if (run.host == *only_host) mine.insert(run.id);
  return std::optional<std::set<int64_t>>(std::move(mine));
}

// Settles every open batch entry of `runs` (nullopt: of every run);
// returns the records found deleted.
Result<int64_t> ReconcileOpenBatches(StateDb& state, StoreSet& stores, const RuleSet& rules,
                                     const std::optional<std::set<int64_t>>& runs, const std::string& by_host) {
  // From the index, cross-checked against the ledger's own settlements: an
  // index edited by hand must not hide an open batch.
  auto open = CheckedOpenBatches(state, runs ? &*runs : nullptr);
  if (!open.ok()) return open.status();
  int64_t reconciled = 0;
  for (int64_t seq : *open) {
    auto entry = state.ReadEntry(seq);
    if (!entry.ok()) return entry.status();
    if (!*entry)
      return Status::AuditFailed("open batch entry " + std::to_string(seq) + " is not in the ledger");
    const LedgerEntry& batch = **entry;
    auto payload = DecodeBatchPayload(batch.payload);
    if (!payload.ok()) return payload.status().WithContext("batch entry " + std::to_string(seq));
    const Target* target = FindTarget(rules, batch.category, batch.target);
    if (!target) return TargetGone(seq, batch);
    auto store = stores.Get(batch.store);
    if (!store.ok()) return store.status();
    // (Its store checked to be the one it was written over: ReconcileRuns,
    // before anything was settled.)
    const std::string context = "reconciling batch entry " + std::to_string(seq) + " of crashed run " +
                                std::to_string(batch.run_id) + " on " + batch.category + "/" + batch.target;
    // What the crashed run committed may not be on disk yet: judge only
    // what a power cut would leave.
    RETENTION_RETURN_IF_ERROR((*store)->Sync().WithContext(context));
    // A subject under a kind the target no longer maps cannot be compared:
    // key and clock alone, as for a record without an identity.
    const std::string kind = target->subject ? target->subject->kind : "";
    const bool same_kind = payload->subject_kind == kind;
    std::vector<Candidate> selected;
    selected.reserve(payload->records.size());
    for (const BatchRecord& r : payload->records) {
      Candidate c{r.key, r.clock, r.subject, r.identity};
      if (!same_kind && !r.subject.empty()) {
        c.subject.clear();
        c.identity.reset();
      }
      selected.push_back(std::move(c));
    }
    auto presence = (*store)->Exist(*target, selected);
    if (!presence.ok()) return presence.status().WithContext(context);

    FaultPoint("reconciling");  // judged, not yet settled: a test starts a second purge here
    Settlement settlement;
    settlement.batch_seq = seq;
    settlement.reconciled = true;
    int64_t deleted = 0;
    for (size_t i = 0; i < selected.size() && i < presence->size(); ++i) {
      switch ((*presence)[i]) {
        case Presence::kSame:
          settlement.kept.push_back({static_cast<uint32_t>(i),
                                     KeptReason{KeptWhy::kNotDeleted, "found in place after the run crashed",
                                                std::nullopt, std::nullopt}});
          break;
        case Presence::kReplaced: settlement.replaced.push_back(static_cast<uint32_t>(i)); break;
        case Presence::kAbsent: ++deleted; break;
      }
    }
    const auto replaced = static_cast<int64_t>(settlement.replaced.size());
    LedgerEntry summary = ReconciledSummary(batch.run_id, batch.category, batch.store, batch.target, batch.batch,
                                            {"batch_entry", seq}, selected.size(), deleted + replaced, replaced, by_host);
    spdlog::warn("reconciled batch entry {} of crashed run {} on {}/{}: {} of {} records had been deleted ({} of "
                 "them with another record under their key now)",
                 seq, batch.run_id, batch.category, batch.target, deleted + replaced, selected.size(), replaced);
    RETENTION_RETURN_IF_ERROR(AppendSettling(state, std::move(summary), {settlement}));
    reconciled += deleted + replaced;
  }
  return reconciled;
}

// `by_host`: this host, when the runs are another host's (`only_host`).
Result<int64_t> ReconcileRuns(StateDb& state, StoreSet& stores, const RuleSet& rules,
                              const std::optional<std::string>& only_host, const std::string& by_host) {
  // Listed before anything else is read: a run another host starts later
  // is never among them.
  auto runs = RunsOf(state, only_host);
  if (!runs.ok()) return runs.status();
  const std::string other_host = by_host.empty() ? std::string() : only_host.value_or("");
  // Every open batch's store first: one whose store here is not the one it
  // was written over refuses before anything is settled.
  {
    auto open = CheckedOpenBatches(state, *runs ? &**runs : nullptr);
    if (!open.ok()) return open.status();
    for (int64_t seq : *open) RETENTION_RETURN_IF_ERROR(CheckJudgeable(state, stores, rules, seq, other_host));
  }
  auto pending = state.ListPending();
  if (!pending.ok()) return pending.status();
  int64_t reconciled = 0;
  for (const PendingBatch& batch : *pending) {
    if (*runs && !(*runs)->count(batch.run_id)) continue;  // another host's
    const Target* target = FindTarget(rules, batch.category, batch.target);
    if (!target)
      return Status::Invalid("a crashed run left a pending batch for " + batch.category + "/" + batch.target +
                             ", which the rules no longer define; restore the rule so the batch can be "
                             "reconciled");
    auto store = stores.Get(batch.store);
    if (!store.ok()) return store.status();
    std::vector<Candidate> selected;
    selected.reserve(batch.records.size());
    for (const auto& r : batch.records) selected.push_back(AsCandidate(*target, r));
    auto presence = (*store)->Exist(*target, selected);
    if (!presence.ok())
      return presence.status().WithContext("reconciling a batch of crashed run " + std::to_string(batch.run_id) +
                                           " on " + batch.category + "/" + batch.target);

    std::vector<LedgerEntry> entries;
    int64_t replaced = 0;
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const Presence p = (*presence)[i];
      if (p == Presence::kSame) continue;
      const auto& r = batch.records[i];
      LedgerEntry e;
      e.kind = LedgerKind::kDelete;
      e.run_id = batch.run_id;
      e.category = batch.category;
      e.store = batch.store;
      e.target = batch.target;
      e.record_key = r.key;
      e.clock = r.clock;
      e.cutoff = batch.cutoff;
      e.rule = batch.rule;
      e.subject = r.subject;
      e.batch = batch.batch;
      if (p == Presence::kReplaced) {
        e.detail = R"({"reconciled":true,"replaced":true})";
        ++replaced;
      } else {
        e.detail = R"({"reconciled":true})";
      }
      entries.push_back(std::move(e));
    }
    LedgerEntry summary =
        ReconciledSummary(batch.run_id, batch.category, batch.store, batch.target, batch.batch,
                          {"pending_batch", batch.id}, batch.records.size(), static_cast<int64_t>(entries.size()),
                          replaced, by_host);
    reconciled += static_cast<int64_t>(entries.size());
    entries.push_back(std::move(summary));
    spdlog::warn("reconciled a batch of crashed run {} on {}/{}: {} of {} records had been deleted ({} of them with "
                 "another record under their key now)",
                 batch.run_id, batch.category, batch.target, entries.size() - 1, batch.records.size(), replaced);
    RETENTION_RETURN_IF_ERROR(SettlePending(state, batch.id, entries));
  }
  auto open = ReconcileOpenBatches(state, stores, rules, *runs, by_host);
  if (!open.ok()) return open.status();
  reconciled += *open;
  auto unfinished = state.UnfinishedRuns();
  if (!unfinished.ok()) return unfinished.status();
  for (const RunInfo& run : *unfinished) {
    if (*runs && !(*runs)->count(run.id)) continue;  // another host's
    spdlog::warn("run {} (started {}) did not finish; marking it crashed", run.id, FormatTimestamp(run.started_at));
    RETENTION_RETURN_IF_ERROR(MarkRunCrashed(state, run.id));
  }
  return reconciled;
}

}  // namespace

Result<int64_t> Reconcile(StateDb& state, StoreSet& stores, const RuleSet& rules,
                          const std::optional<std::string>& only_host) {
  return ReconcileRuns(state, stores, rules, only_host, /*by_host=*/"");
}

Result<HostReconciliation> ReconcileHost(StateDb& state, StoreSet& stores, const Config& config,
                                         const RuleSet& rules, const std::string& host,
                                         const std::string& this_host) {
  const bool own = host == this_host;
  auto runs = RunsOf(state, host);
  if (!runs.ok()) return runs.status();
  HostReconciliation done;
  // Every batch first, so that one this host may not judge refuses the
  // whole command before anything is settled.
  auto all_runs = state.ListRuns();
  if (!all_runs.ok()) return all_runs.status();
  std::map<int64_t, std::string> rules_of;
  for (const RunInfo& run : *all_runs) rules_of[run.id] = run.rules_hash;
  auto judgeable_here = [&](int64_t run_id, const std::string& store, const std::string& what) -> Status {
    if (own) return Status::Ok();
    const std::string whose = what + " of run " + std::to_string(run_id) + " of host '" + host + "'";
    auto it = config.stores.find(store);
    if (it == config.stores.end() || it->second.type != StoreType::kPostgres) {
      return Status::Invalid(
          whose + " is over store '" + store + "', which " +
          (it == config.stores.end() ? std::string("this config does not define")
                                     : "is a " + std::string(StoreTypeName(it->second.type)) + " store here") +
          ": only a PostgreSQL store is the same records seen from every host (files and SQLite databases are on "
          "that host's disk). Nothing was reconciled; settle it on a machine that sees that host's stores, with "
          "host = \"" + host + "\" in its state config, by running 'retention state reconcile' there");
    }
    // A batch names its target by category and target name, which mean a
    // table only under the rules its run ran: under others a record absent
    // here may be one of another table, never deleted.
    if (rules_of[run_id] != rules.hash) {
      return Status::Invalid(whose + " ran under other rules (hash " + rules_of[run_id].substr(0, 12) +
                             ", these are " + rules.hash.substr(0, 12) +
                             "): its target names may stand for other tables here. Nothing was reconciled; run "
                             "this with that host's rules (--config naming a config whose rules are its)");
    }
    return Status::Ok();
  };
  auto pending = state.ListPending();
  if (!pending.ok()) return pending.status();
  for (const PendingBatch& batch : *pending) {
    if (!(*runs)->count(batch.run_id)) continue;
    RETENTION_RETURN_IF_ERROR(judgeable_here(batch.run_id, batch.store, "a pending batch"));
    // Only a version 3 run left one, which recorded no store identity.
    if (!own)
      return NoStoreIdentity("a pending batch of run " + std::to_string(batch.run_id) + " of host '" + host + "'",
                             batch.store, host);
    ++done.batches;
  }
  auto open = CheckedOpenBatches(state, &**runs);
  if (!open.ok()) return open.status();
  for (int64_t seq : *open) {
    auto entry = state.ReadEntry(seq);
    if (!entry.ok()) return entry.status();
    if (!*entry) return Status::AuditFailed("open batch entry " + std::to_string(seq) + " is not in the ledger");
    RETENTION_RETURN_IF_ERROR(judgeable_here((*entry)->run_id, (*entry)->store, "batch entry " + std::to_string(seq)));
    // Its store here must be the table it was written over.
    RETENTION_RETURN_IF_ERROR(CheckJudgeable(state, stores, rules, seq, own ? "" : host));
    ++done.batches;
  }
  auto unfinished = state.UnfinishedRuns();
  if (!unfinished.ok()) return unfinished.status();
  for (const RunInfo& run : *unfinished) done.runs_marked_crashed += (*runs)->count(run.id);

  auto deleted = ReconcileRuns(state, stores, rules, host, own ? "" : this_host);
  if (!deleted.ok()) return deleted.status();
  done.deleted = *deleted;
  return done;
}

}  // namespace retention
