// retention status: is the policy applied? Last runs and their outcomes,
// what is due now per category, and compliance: the records past their
// delete_after that no hold and no floor keeps (SPEC 5). Opens stores and
// state read-only; changes nothing.
//
// `status --check` is for monitoring: it exits 75 (EX_TEMPFAIL, "work
// left") when a category has overdue records or no successful purge ended
// within --max-age. Overdue means past the due moment by more than --grace
// (plan/overdue.h): records that became due since the last daily run wait
// for the next one, and a check right after a purge does not flap.
// SPEC 5 names no code for "out of compliance"; 75 is the one whose meaning
// fits (a purge run would fix it), and it is not 1, which monitoring tools
// read as "the check itself broke".
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "audit/fleet_hosts.h"
#include "audit/run_history.h"
#include "calendar/cutoff.h"
#include "calendar/duration.h"
#include "cli/command.h"
#include "cli/measure_meter.h"
#include "cli/state_access.h"
#include "erase/erase_run.h"
#include "plan/overdue.h"
#include "plan/plan.h"
#include "stores/store_set.h"
#include "util/json_document.h"
#include "util/json_text.h"

namespace retention {

namespace {

using Json = nlohmann::json;

struct CategoryStatus {
  std::string name;
  std::string policy;
  std::string schedule;
  TargetStats stats;  // summed over the category's targets, as of now
  int64_t overdue = 0;  // past the due moment + grace, kept by nothing
  std::optional<Timestamp> oldest_overdue;
};

}  // namespace

Status RunStatusCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("format", po::value<std::string>()->value_name("FORMAT"), "table or json")(
      "max-age", po::value<std::string>()->value_name("DURATION")->default_value("2 days"),
      "warn when no purge succeeded within this long")(
      "grace", po::value<std::string>()->value_name("DURATION"),
      "a record is overdue only this long past its due moment (default: config overdue_grace, else 1 day; "
      "0s: at once)")(
      "last", po::value<int>()->value_name("N")->default_value(5), "show the last N runs")(
      "check", "exit 75 when anything is overdue (past due + grace) or the last successful purge is older "
               "than --max-age (in a state a fleet shares: on any host)");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr,
                             "retention status [--max-age DURATION] [--grace DURATION] [--last N] [--check] [--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto max_age = ParseDurationArgument("--max-age", (**vm)["max-age"].as<std::string>());
  if (!max_age.ok()) return max_age.status();
  std::optional<CalendarDuration> grace_option;
  if ((**vm).count("grace")) {
    auto g = ParseGrace((**vm)["grace"].as<std::string>());
    if (!g.ok()) return Status::Usage("--grace: " + g.status().message());
    grace_option = *g;
  }
  const int last = (**vm)["last"].as<int>();
  if (last < 0) return Status::Usage("--last must not be negative");
  auto loaded = LoadConfigAndRules(**vm);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  const Timestamp now = a.env->Now();

  auto state = OpenStateForReading(*a.env, config);
  if (!state.ok()) return state.status();
  // The last runs, the last successful one and the last that ended: each
  // read from its own entries (audit/run_history.h), not the whole ledger.
  std::vector<audit::RunSummary> runs;
  std::optional<audit::RunSummary> success, ended;
  if (*state) {
    auto r = audit::SummarizeRuns(**state, static_cast<size_t>(last));
    if (!r.ok()) return r.status();
    runs = std::move(*r);
    // The newest of the last runs that qualifies is the newest of all; an
    // older one is looked for only when none of them does.
    auto newest = [&](const std::function<bool(const RunInfo&)>& table_says,
                      const std::function<bool(const audit::RunSummary&)>& ledger_says,
                      std::optional<audit::RunSummary>* found) -> Status {
      for (auto it = runs.rbegin(); it != runs.rend(); ++it)
        if (ledger_says(*it)) {
          *found = *it;
          return Status::Ok();
        }
      auto older = audit::NewestRun(**state, table_says, ledger_says);
      if (!older.ok()) return older.status();
      *found = std::move(*older);
      return Status::Ok();
    };
    RETENTION_RETURN_IF_ERROR(newest([](const RunInfo& t) { return t.outcome == "ok"; },
                                     [](const audit::RunSummary& l) { return l.outcome == "ok"; }, &success));
    RETENTION_RETURN_IF_ERROR(newest([](const RunInfo& t) { return t.outcome != "running"; },
                                     [](const audit::RunSummary& l) { return l.end_seq != 0; }, &ended));
  }
  const audit::RunSummary* last_success = success ? &*success : nullptr;
  const Timestamp oldest_allowed = ComputeCutoff(now, *max_age, *zone);
  // A successful run counts from when it ended (its end entry's time).
  bool stale = true;
  std::string last_success_at;
  if (last_success) {
    last_success_at = last_success->ended_at;
    stale = !last_success->ended || *last_success->ended < oldest_allowed;
  }

  // Erasure requests: those still keeping records (answered, with a
  // receipt saying until when), and those past their deadline not done
  // (pending or failed: late, like an overdue record, so --check fails).
  std::vector<ErasureRequest> requests;
  if (*state) {
    auto list = (*state)->ListErasureRequests();
    if (!list.ok()) return list.status();
    requests = std::move(*list);
  }
  std::vector<const ErasureRequest*> late_requests, kept_requests;
  for (const ErasureRequest& r : requests) {
    if (RequestPastDeadline(r, now)) late_requests.push_back(&r);
    if (r.kept > 0) kept_requests.push_back(&r);
  }

  auto holds = LoadHoldSet(state->get(), now);
  if (!holds.ok()) return holds.status();
  const CalendarDuration grace = grace_option.value_or(ConfiguredGrace(config));
  StoreSet stores(config, /*read_only=*/true, a.env->file_system);
  MeasureOptions measure_options;
  measure_options.now = measure_options.as_of = now;
  measure_options.grace = grace;
  MeasureMeter meter("status");
  measure_options.progress = meter.Progress();
  auto measured = MeasureOverdue(config, loaded->rules, *holds, stores, measure_options);
  meter.Clear();
  if (!measured.ok()) return measured.status();
  std::vector<CategoryStatus> categories;
  for (const Category& c : loaded->rules.categories) {
    CategoryStatus s{c.name, c.policy, ScheduleText(c), {}, 0, {}};
    for (const CategoryMeasure& m : measured->categories)
      if (m.category == c.name) {
        s.stats = m.due_now;
        s.overdue = m.overdue;
        s.oldest_overdue = m.oldest_overdue;
      }
    categories.push_back(std::move(s));
  }
  int64_t overdue = 0;
  for (const auto& c : categories) overdue += c.overdue;

  // A state a fleet shares: each host's own timer may have stopped while
  // the others purge on time.
  std::vector<audit::FleetHost> hosts;
  std::vector<std::string> host_warnings;
  if (*state && config.state.IsPostgres()) {
    auto summarized = audit::SummarizeFleetHosts(**state);
    if (!summarized.ok()) return summarized.status();
    hosts = std::move(*summarized);
    for (const audit::FleetHost& h : hosts)
      for (std::string& w : audit::FleetHostWarnings(h, oldest_allowed, max_age->ToString()))
        host_warnings.push_back(std::move(w));
  }
  const bool hosts_stale = !host_warnings.empty();

  std::vector<std::string> warnings;
  if (!last_success) {
    warnings.push_back("no purge has ever succeeded: the policy is configured but not applied");
  } else if (stale) {
    warnings.push_back("no purge succeeded within " + max_age->ToString() + " (last success ended " +
                       last_success_at + "): the policy is configured but not applied");
  }
  // The last run that ended: files the system refused to remove stay due
  // run after run until someone looks (SPEC 6.14).
  const audit::RunSummary* last_ended = ended ? &*ended : nullptr;
  if (last_ended && last_ended->undeletable > 0) {
    std::string per;
    for (const auto& [t, n] : last_ended->undeletable_by_target)
      per += (per.empty() ? "" : ", ") + t + " " + std::to_string(n);
    warnings.push_back(std::to_string(last_ended->undeletable) + " files could not be deleted in the last run (run " +
                       std::to_string(last_ended->id) + ": " + per + "); see `retention audit log --run " +
                       std::to_string(last_ended->id) + " --kind kept`");
  }
  warnings.insert(warnings.end(), host_warnings.begin(), host_warnings.end());
  if (overdue > 0)
    warnings.push_back(std::to_string(overdue) + " records are past their delete_after" +
                       (grace.amount ? " by more than " + grace.ToString() : std::string()) +
                       " with no hold or floor keeping them");

  for (const ErasureRequest* r : late_requests)
    warnings.push_back("erasure request " + r->reference + " (" + r->subject + ") is past its deadline " +
                       FormatTimestamp(r->deadline) + " and " + (r->outcome == "failed" ? "failed" : "not executed") +
                       ": run `retention erase --subject " + r->subject + " --request " + r->reference + "`");

  const size_t first = runs.size() > static_cast<size_t>(last) ? runs.size() - static_cast<size_t>(last) : 0;
  if (*format == "json") {
    Json j;
    j["as_of"] = FormatTimestamp(now);
    j["max_age"] = max_age->ToString();
    j["grace"] = GraceText(grace);
    j["last_success"] = last_success ? last_success->ToJson() : Json(nullptr);
    Json rs = Json::array();
    for (size_t i = first; i < runs.size(); ++i) rs.push_back(runs[i].ToJson());
    j["runs"] = rs;
    Json cs = Json::array();
    for (const auto& c : categories) {
      cs.push_back({{"category", c.name},
                    {"policy", c.policy},
                    {"schedule", c.schedule},
                    {"records", c.stats.total},
                    {"due", c.stats.due},
                    {"held", c.stats.held},
                    {"floor_protected", c.stats.floor_protected},
                    {"deletable", c.stats.deletable},
                    {"overdue", c.overdue},
                    {"undated", c.stats.undated},
                    {"oldest_overdue", c.oldest_overdue ? Json(FormatTimestamp(*c.oldest_overdue)) : Json(nullptr)},
                    {"compliant", c.overdue == 0}});
    }
    j["categories"] = cs;
    j["overdue"] = overdue;
    j["undeletable_last_run"] = last_ended ? last_ended->undeletable : 0;
    j["compliant"] = overdue == 0 && !stale && !hosts_stale && late_requests.empty();
    if (config.state.IsPostgres()) {
      Json hs = Json::array();
      for (const audit::FleetHost& h : hosts) {
        Json running = Json::array();
        for (const RunInfo& r : h.running) running.push_back({{"run", r.id}, {"started_at", FormatTimestamp(r.started_at)}});
        const std::optional<Timestamp> ended = h.last_success ? h.last_success->ended_at : std::nullopt;
        hs.push_back({{"host", h.host},
                      {"last_success_run", h.last_success ? Json(h.last_success->id) : Json(nullptr)},
                      {"last_success_ended", ended ? Json(FormatTimestamp(*ended)) : Json(nullptr)},
                      {"running", running},
                      {"applied", audit::FleetHostWarnings(h, oldest_allowed, max_age->ToString()).empty()}});
      }
      j["hosts"] = hs;
    }
    Json er = Json::array();
    for (const ErasureRequest& r : requests) {
      if (r.kept == 0 && !RequestPastDeadline(r, now)) continue;
      er.push_back({{"reference", r.reference},
                    {"subject", r.subject},
                    {"deadline", FormatTimestamp(r.deadline)},
                    {"past_deadline", RequestPastDeadline(r, now)},
                    {"outcome", r.outcome},
                    {"erased", r.erased},
                    {"kept", r.kept}});
    }
    j["erasure_requests"] = er;
    j["warnings"] = warnings;
    PrintJsonDocument(*a.out, "status", std::move(j));
  } else {
    std::ostream& out = *a.out;
    out << "Status at " << FormatTimestamp(now) << " (grace " << GraceText(grace) << ")\n\nLast runs:\n";
    if (runs.empty()) out << "  (none)\n";
    for (size_t i = first; i < runs.size(); ++i) {
      const auto& r = runs[i];
      out << "  run " << r.id << "  " << (r.start_pruned ? "(start pruned)" : r.started_at) << " .. "
          << (r.ended_at.empty() ? "-" : r.ended_at) << "  " << r.outcome
          << (r.exit_code ? " (exit " + std::to_string(*r.exit_code) + ")" : "") << "  deleted " << r.deleted
          << (r.pruned ? "  pruned " + std::to_string(r.pruned) + " purge log entries" : "")
          << (r.start_pruned ? "" : "  by " + r.user + "@" + r.host) << "\n";
    }
    out << "Last successful purge: " << (last_success ? "run " + std::to_string(last_success->id) + ", ended " + last_success_at
                                                    : std::string("never"))
        << "\n\n";
    if (config.state.IsPostgres()) {
      out << "Hosts sharing " << config.state.Name() << ":\n";
      if (hosts.empty()) out << "  (none has run yet)\n";
      for (const audit::FleetHost& h : hosts) {
        out << "  " << h.host << "  last success "
            << (h.last_success ? "run " + std::to_string(h.last_success->id) + ", ended " +
                                     (h.last_success->ended_at ? FormatTimestamp(*h.last_success->ended_at) : "-")
                               : std::string("never"));
        for (const RunInfo& r : h.running)
          out << "  running: run " << r.id << " since " << FormatTimestamp(r.started_at);
        out << "\n";
      }
      out << "\n";
    }
    char line[512];
    std::snprintf(line, sizeof line, "%-22s %10s %9s %7s %9s %9s %8s  %-10s %s\n", "CATEGORY", "RECORDS", "DUE",
                  "HELD", "FLOOR", "OVERDUE", "UNDATED", "COMPLIANT", "OLDEST OVERDUE");
    out << line;
    for (const auto& c : categories) {
      std::snprintf(line, sizeof line, "%-22s %10lld %9lld %7lld %9lld %9lld %8lld  %-10s %s\n", c.name.c_str(),
                    static_cast<long long>(c.stats.total), static_cast<long long>(c.stats.due),
                    static_cast<long long>(c.stats.held), static_cast<long long>(c.stats.floor_protected),
                    static_cast<long long>(c.overdue), static_cast<long long>(c.stats.undated),
                    c.overdue == 0 ? "yes" : "NO",
                    c.oldest_overdue ? FormatTimestamp(*c.oldest_overdue).c_str() : "-");
      out << line;
    }
    out << "\nOVERDUE = past delete_after by more than the grace (" << GraceText(grace)
        << "), not held and not protected by a floor: late for the purge.\n";
    if (!kept_requests.empty()) {
      out << "\nErasure requests with records still kept (by a floor, a hold or an exception; "
             "`retention erase list`):\n";
      for (const ErasureRequest* r : kept_requests)
        out << "  " << r->reference << "  " << r->subject << "  " << r->kept << " kept, " << r->erased
            << " erased\n";
    }
    for (const auto& w : warnings) out << "WARNING: " << w << "\n";
    if (warnings.empty()) out << "Compliant.\n";
  }
  if ((*vm)->count("check") && (overdue > 0 || stale || hosts_stale || !late_requests.empty())) {
    return Status::OutOfCompliance("out of compliance: " +
                                   (warnings.empty() ? std::string("see above") : warnings.front()) +
                                   (warnings.size() > 1 ? " (and " + std::to_string(warnings.size() - 1) + " more)" : ""));
  }
  return Status::Ok();
}

}  // namespace retention
