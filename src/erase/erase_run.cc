// The erasure's story: arguments, the subject's selections, the run frame
// (lock, state, reconcile, clock, holds), a survey of the subject's records
// (the safety valve's count), run start and the `erase` entry, each
// erasable target through the batch executor, run end, a survey of what
// stayed (the receipt's kept groups).
#include "erase/erase_run.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "ledger/ledger_entry.h"
#include "ledger/ledger_records.h"
#include "plan/target_checks.h"
#include "purge/batch_executor.h"
#include "purge/candidate_source.h"
#include "purge/purge.h"
#include "purge/run_frame.h"
#include "purge/run_guards.h"
#include "purge/run_report.h"
#include "state/state_open.h"
#include "state/state_ops.h"
#include "stores/store_set.h"
#include "util/json_text.h"
#include "util/log_context.h"
#include "util/logging.h"

namespace retention {

namespace {

// `t` plus `d` on the zone's calendar: days, weeks, months and years move
// the local date (a day missing in the month is its last day), the time of
// day stays; hours, minutes and seconds are elapsed time.
Timestamp AddDuration(Timestamp t, const CalendarDuration& d, const TimeZone& zone) {
  using namespace std::chrono;
  switch (d.unit) {
    case DurationUnit::kSeconds: return t + seconds(d.amount);
    case DurationUnit::kMinutes: return t + minutes(d.amount);
    case DurationUnit::kHours: return t + hours(d.amount);
    default: break;
  }
  const TimeZone::LocalTime local = zone.ToLocal(t);
  const local_days day = floor<days>(local);
  const auto time_of_day = local - day;
  year_month_day ymd{day};
  local_days moved = day;
  if (d.unit == DurationUnit::kDays) moved = day + days(d.amount);
  if (d.unit == DurationUnit::kWeeks) moved = day + days(7 * d.amount);
  if (d.unit == DurationUnit::kMonths || d.unit == DurationUnit::kYears) {
    year_month_day target = ymd + months(d.unit == DurationUnit::kYears ? 12 * d.amount : d.amount);
    if (!target.ok()) target = year_month_day_last{target.year(), month_day_last{target.month()}};
    moved = local_days{target};
  }
  return zone.FromLocal(moved + time_of_day, TimeZone::Pick::kLater);
}

// The records the ledger says went for request `reference`: the deleted
// (or replaced) candidates of the batch entries naming it, from its first
// `erase` entry on. Reads only those batches' payloads.
Result<int64_t> ErasedInLedger(StateDb& state, const std::string& reference, int64_t first_seq) {
  int64_t erased = 0;
  auto names_request = [&reference](const LedgerEntry& e) {
    if (e.kind != LedgerKind::kBatch || e.detail.find("\"request\"") == std::string::npos) return false;
    const nlohmann::json detail = nlohmann::json::parse(e.detail, nullptr, /*allow_exceptions=*/false);
    return detail.is_object() && detail.value("request", std::string()) == reference;
  };
  RETENTION_RETURN_IF_ERROR(ScanRecords(
      state, std::max<int64_t>(first_seq, 1),
      [&erased](const LedgerRecord& r) {
        if (r.batch_seq != 0 && r.Deleted()) ++erased;  // per-record entries pass `want`: not the request's
        return true;
      },
      names_request));
  return erased;
}

bool IsWildcardOrControl(unsigned char c) { return c < 0x20 || c == 0x7f || c == '*' || c == '?' || c == '%'; }

// One group of kept records, keyed as erasure.h says: target, reason,
// hold, floor rule.
using GroupKey = std::tuple<std::string, std::string, int, bool, int64_t, std::string>;

struct Survey {
  int64_t deletable = 0;  // records the selection would delete now
  // With `collect`: those records, as the cursor gave them (a saved plan's).
  bool collect = false;
  std::vector<Candidate> candidates;
  std::map<GroupKey, KeptGroup> kept;
};

void AddClock(KeptGroup* g, const std::optional<Timestamp>& clock) {
  ++g->records;
  if (!clock) {
    ++g->undated;
    return;
  }
  if (!g->oldest_clock || *clock < *g->oldest_clock) g->oldest_clock = clock;
  if (!g->newest_clock || *clock > *g->newest_clock) g->newest_clock = clock;
}

// Judges every record of the subject in `d`'s target (its filters
// matching), one by one as `explain` does: the store's Lookup under `d`
// (its holds applied), Evaluate. Reads at most `cap` records (nullopt: no
// bound); more is the safety valve's refusal, since a subject has few.
// `after_run`: a record still deletable is one the run left (stopped, the
// store refused it, written since), kept for that reason. `seen` holds the
// records judged under an earlier target over the same records (a table two
// categories cover): each is counted once, under the first.
Status SurveyTarget(Store& store, const Selection& d, std::optional<int64_t> cap, bool after_run,
                    int64_t* read, std::set<std::string>* seen, Survey* out) {
  Selection every = d;  // the subject's records, whatever keeps them
  every.floors.clear();
  every.exclusions.clear();
  every.holds_applied = true;
  auto cursor = store.OpenCursor(every);
  if (!cursor.ok()) return cursor.status();
  while (true) {
    auto page = (*cursor)->Next(every, 256);
    if (!page.ok()) return page.status();
    if (page->empty()) return Status::Ok();
    for (const Candidate& c : *page) {
      if (cap && ++*read > *cap)
        return Status::SafetyValve("the subject has more than " + std::to_string(*cap) +
                                   " records (reached in " + d.category->name + "/" + d.target->name +
                                   "); [limits] max_erase_records is " + std::to_string(*cap) +
                                   ": check the subject and the targets' subject mapping, or pass "
                                   "--allow-mass-delete");
      auto facts = store.Lookup(d, c.key);
      if (!facts.ok()) return facts.status();
      if (!facts->exists) continue;  // gone since the page was read
      const Evaluation ev = Evaluate(d, *facts);
      if (ev.decided_by == Decider::kFilters || ev.decided_by == Decider::kSubject) continue;
      std::string record = d.target->store;
      for (const std::string& part : {d.target->table, c.key}) record += std::string(1, '\0') + part;
      if (!seen->insert(std::move(record)).second) continue;
      KeptGroup g;
      g.category = d.category->name;
      g.target = d.target->name;
      g.store = d.target->store;
      std::optional<Timestamp> clock = facts->scopes.empty() ? std::nullopt : facts->scopes[0].clock;
      if (!d.category->erasable) {
        g.exception = true;
        g.why = KeptWhy::kNotDue;
        g.reason = d.category->erasure_exception;
      } else if (ev.deletable) {
        if (!after_run) {
          ++out->deletable;
          if (out->collect) out->candidates.push_back(c);
          continue;
        }
        g.why = KeptWhy::kNotDeleted;
        g.reason = "not deleted by this run (stopped, skipped while another host purged it, refused by the "
                   "store, or written since)";
      } else {
        auto why = WhyNotDeletable(d, *facts, /*replaced=*/false);
        if (!why) continue;
        g.why = why->why;
        g.reason = why->words;
        if (ev.decided_by == Decider::kHeld) {
          const HoldExclusion& e = d.exclusions[ev.index];
          g.hold_id = e.hold_id;
          g.matter = e.matter;
          g.reason = "held by hold " + std::to_string(e.hold_id) + (e.matter.empty() ? "" : " (" + e.matter + ")");
        } else if (ev.decided_by == Decider::kFloor) {
          const FloorGuard& f = d.floors[ev.index];
          const Category& by = *d.scopes[f.scope].category;
          if (!by.erasable) {  // an exception category over the same records
            g.exception = true;
            g.reason = by.erasure_exception;
          } else {
            g.floor_category = by.name;
            clock = facts->scopes[f.scope].clock;
          }
        }
      }
      GroupKey key{g.target, g.category, static_cast<int>(g.why), g.exception, g.hold_id.value_or(0),
                   g.floor_category};
      auto [it, inserted] = out->kept.emplace(key, g);
      if (inserted) it->second.records = 0;
      AddClock(&it->second, clock);
    }
  }
}

class EraseRun {
 public:
  EraseRun(const Config& config, const RuleSet& rules, const EraseOptions& options)
      : config_(config),
        rules_(rules),
        options_(options),
        stores_(config, /*read_only=*/options.dry_run, options.env.file_system) {}

  Result<ErasureReceipt> Run(Status* run_status);

 private:
  // Every selection surveyed under `holds`; the receipt's kept groups.
  Status SurveyAll(const std::vector<Selection>& selections, bool after_run, Survey* out);
  std::optional<int64_t> Cap() const {
    if (options_.allow_mass_delete) return std::nullopt;
    return config_.limits.max_erase_records;
  }

  const Config& config_;
  const RuleSet& rules_;
  const EraseOptions& options_;
  StoreSet stores_;
};

Status EraseRun::SurveyAll(const std::vector<Selection>& selections, bool after_run, Survey* out) {
  int64_t read = 0;
  std::set<std::string> seen;
  for (const Selection& d : selections) {
    auto store = stores_.Get(d.target->store);
    if (!store.ok()) return store.status();
    RETENTION_RETURN_IF_ERROR(SurveyTarget(**store, d, Cap(), after_run, &read, &seen, out));
  }
  return Status::Ok();
}

Result<ErasureReceipt> EraseRun::Run(Status* run_status) {
  *run_status = Status::Ok();
  const Timestamp now = options_.now;
  const int64_t batch_size = options_.batch_size.value_or(config_.limits.batch_size);
  RETENTION_RETURN_IF_ERROR(CheckRunArguments(now, now, batch_size));
  RETENTION_RETURN_IF_ERROR(CheckRequestReference(options_.request));
  auto zone = TimeZone::Load(config_.time_zone);
  if (!zone.ok()) return zone.status();

  // Arguments first: a usage error leaves no trace.
  auto selections = ErasureSelections(config_, rules_, now, options_.subject);
  if (!selections.ok()) return selections.status();
  std::vector<CategoryTarget> targets;
  for (const Selection& d : *selections) targets.emplace_back(d.category, d.target);
  if (!options_.dry_run) RETENTION_RETURN_IF_ERROR(RequireTargetsPass(config_, targets, stores_));

  ErasureReceipt receipt;
  receipt.request = options_.request;
  receipt.subject = options_.subject;
  receipt.dry_run = options_.dry_run;
  receipt.received = now;
  receipt.deadline = AddDuration(now, config_.erasure.answer_within, *zone);

  auto fill_erased = [&](const std::vector<int64_t>& counts) {
    for (size_t i = 0; i < selections->size(); ++i) {
      const Selection& d = (*selections)[i];
      if (!d.category->erasable) continue;
      receipt.erased.push_back({d.category->name, d.target->name, d.target->store, counts[i]});
    }
  };
  auto fill_kept = [&](const Survey& survey) {
    for (const auto& [key, g] : survey.kept) receipt.kept.push_back(g);
  };

  // The request as remembered: a repeated reference keeps its received
  // time and deadline, and must name the same subject.
  auto remember = [&](StateDb* state) -> Status {
    if (!state) return Status::Ok();
    auto known = state->GetErasureRequest(options_.request);
    if (!known.ok()) return known.status();
    if (!*known) return Status::Ok();
    if ((*known)->subject != options_.subject.Text())
      return Status::Invalid("request " + options_.request + " was recorded for subject " + (*known)->subject +
                             ", not " + options_.subject.Text() + ": a reference names one request");
    receipt.received = (*known)->received;
    receipt.deadline = (*known)->deadline;
    receipt.erased_before = (*known)->erased;
    // A run that executes it counts from the ledger, after the frame
    // reconciled what a killed run left: the row of a run killed part way
    // was never updated, its deletions are in the ledger all the same.
    if (state != options_.preview_state) {
      auto counted = ErasedInLedger(*state, options_.request, (*known)->first_seq);
      if (!counted.ok()) return counted.status();
      receipt.erased_before = *counted;
    }
    return Status::Ok();
  };

  if (options_.dry_run) {
    RETENTION_RETURN_IF_ERROR(remember(options_.preview_state));
    HoldSet holds;
    if (options_.preview_state) {
      auto list = options_.preview_state->ListHolds(/*include_released=*/false);
      if (!list.ok()) return list.status();
      holds = HoldSet(*list, now);
    }
    const std::vector<Selection> held = WithHolds(*selections, holds);
    std::vector<int64_t> counts;
    Survey all;
    int64_t read = 0;
    std::set<std::string> seen;
    std::vector<std::pair<const Selection*, std::vector<Candidate>>> listed;  // the saved plan's
    for (const Selection& d : held) {
      auto store = stores_.Get(d.target->store);
      if (!store.ok()) return store.status();
      Survey one;
      one.collect = options_.save_plan.has_value() && d.category->erasable;
      RETENTION_RETURN_IF_ERROR(SurveyTarget(**store, d, Cap(), /*after_run=*/false, &read, &seen, &one));
      counts.push_back(d.category->erasable ? one.deletable : 0);
      all.kept.merge(one.kept);
      if (one.collect) listed.emplace_back(&d, std::move(one.candidates));
    }
    fill_erased(counts);
    fill_kept(all);
    receipt.outcome = "preview";
    if (options_.save_plan) {
      int64_t records = 0;
      for (const auto& [d, candidates] : listed) records += static_cast<int64_t>(candidates.size());
      auto out = SavedPlanWriter::Create(*options_.save_plan, PlanKind::kErase,
                                         nlohmann::json{{"request", options_.request},
                                                        {"subject", options_.subject.Text()},
                                                        {"rules_hash", rules_.hash},
                                                        {"made_at", FormatTimestamp(now)},
                                                        {"records", records}});
      if (!out.ok()) return out.status();
      for (const auto& [d, candidates] : listed)
        for (const Candidate& c : candidates) (*out)->Add(d->category->name, d->target->name, c);
      RETENTION_RETURN_IF_ERROR((*out)->Commit());
    }
    return receipt;
  }

  // A saved plan is read whole before anything is locked or written: a
  // file cut short or edited beyond its targets deletes nothing.
  if (options_.plan) {
    std::vector<Selection> erasable;
    for (const Selection& d : *selections)
      if (d.category->erasable) erasable.push_back(d);
    auto records = options_.plan->header().find("records");
    if (records == options_.plan->header().end() || !records->is_number_integer())
      return Status::Invalid("the erase plan's header does not say how many records it lists; make a new plan");
    RETENTION_RETURN_IF_ERROR(options_.plan->CheckAll(erasable, records->get<int64_t>()));
    options_.plan->SetOrder(*selections);
  }

  const Timestamp started = options_.env.Now();
  RunFrame frame(config_, rules_, options_.env,
                 RunFrame::Options{now, started, options_.allow_clock_jump, options_.allow_clock_behind,
                                   std::nullopt, options_.stop_requested});
  RETENTION_RETURN_IF_ERROR(frame.Open(stores_));
  StateDb& state = frame.state();
  RETENTION_RETURN_IF_ERROR(remember(&state));

  // The safety valve before anything is written: every record of the
  // subject read and judged, at most the limit of them.
  std::vector<Selection> held = WithHolds(*selections, frame.holds());
  {
    Survey before;
    RETENTION_RETURN_IF_ERROR(SurveyAll(held, /*after_run=*/false, &before));
    if (Cap() && before.deletable > *Cap())
      return Status::SafetyValve("the erasure would delete " + std::to_string(before.deletable) +
                                 " records, more than [limits] max_erase_records (" + std::to_string(*Cap()) +
                                 "); nothing was deleted. Check the subject, or pass --allow-mass-delete");
  }

  auto run_id = BeginRun(state, StartInfo(now, now, rules_.hash, options_.command_line, HostNameInState(config_.state)));
  if (!run_id.ok()) return run_id.status();
  receipt.run_id = *run_id;
  receipt.executed = now;
  // Every line of the run carries its id in the journal.
  const ScopedLogField run_field(kLogFieldRun, std::to_string(*run_id));
  {
    auto head = state.Head();
    if (!head.ok()) return head.status();
    receipt.first_seq = head->seq;  // the run's run_start
  }
  LedgerEntry erase;
  erase.kind = LedgerKind::kErase;
  erase.run_id = *run_id;
  erase.subject = options_.subject.Text();
  erase.detail = DumpJson(nlohmann::json{{"request", options_.request},
                                         {"subject", options_.subject.Text()},
                                         {"received", FormatTimestamp(receipt.received)},
                                         {"deadline", FormatTimestamp(receipt.deadline)}});
  ErasureRequest row;
  row.reference = options_.request;
  row.subject = options_.subject.Text();
  row.received = receipt.received;
  row.deadline = receipt.deadline;
  row.executed = now;
  row.outcome = "pending";
  row.erased = receipt.erased_before;
  row.last_run_id = *run_id;
  Status appended = RecordErasure(state, std::move(erase), row);

  ExecutorOptions batch_options = frame.BatchOptions(*run_id, batch_size);
  batch_options.request = options_.request;
  BatchExecutor executor(state, std::move(batch_options), frame.holds());
  PurgeReport report;  // the run's end entry says what a purge's says
  report.run_id = *run_id;
  report.as_of = now;
  bool stopped = false;
  Status failure = appended;
  std::vector<int64_t> counts;
  for (const Selection& d : *selections) {
    TargetOutcome outcome{d.category->name, d.target->name, d.target->store};
    if (d.category->erasable && !stopped && failure.ok()) {
      const ScopedLogField category(kLogFieldCategory, d.category->name), target(kLogFieldTarget, d.target->name);
      // Claimed as a purge claims it: another host purging these records,
      // or a batch it left open over them, is skipped (exit 75), never
      // raced.
      auto target_lock = frame.LockTarget(*d.target);
      auto store = stores_.Get(d.target->store);
      if (!target_lock.ok() && target_lock.status().code() == StatusCode::kBusy) {
        outcome.skipped = target_lock.status().message();
      } else if (!target_lock.ok()) {
        failure = target_lock.status();
      } else if (!store.ok()) {
        failure = store.status();
      } else if (options_.plan) {
        SavedPlanSource source(*options_.plan, d.category->name, d.target->name);
        StoreBatchTarget target(**store);
        failure = executor.Run(d, target, source, &outcome, &stopped);
      } else if (auto cursor = (*store)->OpenCursor(executor.Following(d)); !cursor.ok()) {
        failure = cursor.status();
      } else {
        CursorSource source(std::move(*cursor), [&executor, &d] { return executor.Following(d); });
        StoreBatchTarget target(**store);
        failure = executor.Run(d, target, source, &outcome, &stopped);
      }
      LogTargetOutcome(outcome, *run_id);
    }
    counts.push_back(outcome.deleted);
    report.targets.push_back(std::move(outcome));
  }
  // What stayed, judged before the run's end under the holds in force
  // now, so that the request's row, written with the end, says it.
  Survey after;
  if (failure.ok() && !stopped) {
    auto holds = state.ListHolds(/*include_released=*/false);
    if (!holds.ok()) {
      failure = holds.status();
    } else {
      failure = SurveyAll(WithHolds(*selections, HoldSet(*holds, options_.env.Now())), /*after_run=*/true, &after);
    }
  }
  if (failure.ok()) failure = frame.CheckStillInPlace();
  SetOutcome(failure, stopped, &report);
  receipt.outcome = report.outcome;
  fill_erased(counts);
  fill_kept(after);
  row.erased = receipt.erased_before + receipt.TotalErased();
  row.kept = receipt.TotalKept();
  row.outcome = report.outcome != "ok" ? "failed" : row.kept > 0 ? "partial" : "done";
  Status end = EndRun(state, *run_id, report.outcome, options_.exit_code_of(report.status), RunEndDetail(report),
                      executor.TakeSettlements(), &row);
  if (report.status.ok()) report.status = end;
  *run_status = report.status;
  auto head = state.Head();
  if (head.ok()) {
    receipt.last_seq = head->seq;
    receipt.head_hash = head->hash;
  }
  LogEvent(spdlog::level::info, kMessageIdRunEnd,
           fmt::format("run {} erased {} records of {} for request {}", *run_id, receipt.TotalErased(),
                       options_.subject.Text(), options_.request));
  return receipt;
}

}  // namespace

Result<ErasureSubject> ParseErasureSubject(const RuleSet& rules, const std::string& text) {
  std::set<std::string> kinds;
  for (const Category& c : rules.categories)
    for (const Target& t : c.targets)
      if (t.subject) kinds.insert(t.subject->kind);
  std::string known;
  for (const std::string& k : kinds) known += (known.empty() ? "" : ", ") + k;
  if (known.empty()) known = "none: no target maps a subject";
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0)
    return Status::Invalid("--subject must be KIND:ID (e.g. customer:42), got \"" + text + "\"; the kinds the rules map: " + known);
  ErasureSubject s{text.substr(0, colon), text.substr(colon + 1)};
  if (!kinds.count(s.kind))
    return Status::Invalid("no target maps the subject kind \"" + s.kind + "\"; the kinds the rules map: " + known);
  if (s.id.empty()) return Status::Invalid("--subject " + text + ": the id is empty");
  if (s.id.size() > kMaxSubjectIdBytes)
    return Status::Invalid("--subject: the id is longer than " + std::to_string(kMaxSubjectIdBytes) + " bytes");
  for (unsigned char c : s.id)
    if (IsWildcardOrControl(c))
      return Status::Invalid("--subject " + s.kind + ":...: the id contains a wildcard (* ? %) or a control "
                             "character; an erasure names one subject exactly, never a pattern");
  return s;
}

Status CheckRequestReference(const std::string& reference) {
  if (reference.empty()) return Status::Usage("--request REF is required (the reference of the deletion request)");
  if (reference.size() > kMaxRequestBytes)
    return Status::Invalid("--request: the reference is longer than " + std::to_string(kMaxRequestBytes) + " bytes");
  for (unsigned char c : reference)
    if (c < 0x20 || c > 0x7e)
      return Status::Invalid("--request: the reference must be printable ASCII (no control characters)");
  return Status::Ok();
}

Result<std::vector<Selection>> ErasureSelections(const Config& config, const RuleSet& rules, Timestamp now,
                                                 const ErasureSubject& subject) {
  auto all = MakeSelections(config, rules, now, "");
  if (!all.ok()) return all.status();
  std::vector<Selection> out;
  for (Selection& d : *all) {
    if (d.target->store == kPurgeLogStore || !d.target->subject || d.target->subject->kind != subject.kind) continue;
    d.any_age = true;
    d.cutoff.reset();
    d.subject = subject.id;
    // A record an `erasable = false` category also covers (the same
    // records, its filters matching) is that category's too: kept, as by a
    // floor that never ends (when unsure, keep).
    if (d.category->erasable) {
      for (const Category& c : rules.categories) {
        if (c.erasable) continue;
        for (const Target& t : c.targets) {
          if (t.store == kPurgeLogStore || !SameRecords(*d.target, t)) continue;
          size_t scope = d.scopes.size();
          for (size_t i = 0; i < d.scopes.size(); ++i)
            if (d.scopes[i].category == &c && d.scopes[i].target == &t) scope = i;
          if (scope == d.scopes.size()) d.scopes.push_back({&c, &t});
          d.floors.push_back({scope, kNothingDueCutoff});
        }
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<OpenedErasePlan> OpenErasePlan(const RuleSet& rules, const std::filesystem::path& file,
                                      const std::string& subject, const std::string& request) {
  auto reader = SavedPlanReader::Open(file, rules.hash, PlanKind::kErase);
  if (!reader.ok()) return reader.status();
  const nlohmann::json& header = (*reader)->header();
  auto field = [&](const char* key) -> std::string {
    auto it = header.find(key);
    return it != header.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string saved_subject = field("subject");
  const std::string saved_request = field("request");
  if (saved_subject.empty() || saved_request.empty())
    return Status::Invalid(file.string() + ":1: the erase plan does not name its subject and request");
  if (!subject.empty() && subject != saved_subject)
    return Status::Invalid(file.string() + ": the plan is for subject " + saved_subject + ", not " + subject);
  if (!request.empty() && request != saved_request)
    return Status::Invalid(file.string() + ": the plan is for request " + saved_request + ", not " + request);
  RETENTION_RETURN_IF_ERROR(CheckRequestReference(saved_request));
  auto parsed = ParseErasureSubject(rules, saved_subject);
  if (!parsed.ok()) return Status::Invalid(file.string() + ": " + parsed.status().message());
  return OpenedErasePlan{std::move(*reader), *parsed, saved_request};
}

Result<ErasureReceipt> RunErase(const Config& config, const RuleSet& rules, const EraseOptions& options,
                                Status* run_status) {
  if (!options.env.clock || !options.env.state_opener || !options.env.locks_opener || !options.env.file_system || !options.exit_code_of)
    return Status::Internal("erase: EraseOptions::env and exit_code_of must be set (pass the command's)");
  return EraseRun(config, rules, options).Run(run_status);
}

}  // namespace retention
