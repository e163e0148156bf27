// retention purge: batched, audited deletion.
#include <cmath>
#include <csignal>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "calendar/cutoff.h"
#include "cli/command.h"
#include "cli/exit_codes.h"
#include "purge/purge.h"
#include "util/logging.h"
#include "util/metrics.h"
#include "util/json_text.h"
#include "util/progress.h"

namespace retention {

namespace {

std::atomic<bool> g_stop_requested{false};

extern "C" void OnStopSignal(int) { g_stop_requested.store(true); }

// SIGTERM (systemd stopping the unit) and SIGINT (Ctrl-C) finish the batch
// in flight, close the run in the ledger and exit 75.
void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

// A run-time budget: a duration in the one grammar (calendar/duration.h),
// at most a century, which is a mistake, not a budget. Calendar days and
// months are measured from now in UTC, as the config's max_runtime is.
Result<std::chrono::seconds> ParseRuntime(const std::string& text, Timestamp now) {
  constexpr int64_t kMaxSeconds = int64_t{36525} * 86400;  // 100 years
  auto d = ParseDurationArgument("--max-runtime", text);
  if (!d.ok()) return d.status();
  const auto budget = std::chrono::duration_cast<std::chrono::seconds>(now - ComputeCutoff(now, *d, TimeZone::Utc()));
  if (budget.count() > kMaxSeconds)
    return Status::Usage("--max-runtime: '" + text + "' is longer than 100 years");
  return budget;
}

// Per category, summed over its targets: what the plan measured at the
// start and what the run deleted.
struct CategoryTotals {
  int64_t due = 0, held = 0, floor_protected = 0, deletable = 0, deleted = 0, kept_changed = 0, undeletable = 0;
};

std::map<std::string, CategoryTotals> TotalsByCategory(const PurgeReport& report) {
  std::map<std::string, CategoryTotals> out;
  for (const auto& p : report.planned) {
    CategoryTotals& c = out[p.category];
    c.due += p.due;
    c.held += p.held;
    c.floor_protected += p.floor_protected;
    c.deletable += p.deletable;
  }
  for (const auto& t : report.targets) {
    CategoryTotals& c = out[t.category];
    c.deleted += t.deleted;
    c.kept_changed += t.kept_changed;
    c.undeletable += t.undeletable;
  }
  return out;
}

// One line per category at the end of a run, for the journal (with the
// plan's figures when it was measured).
void LogCategorySummaries(const PurgeReport& report) {
  for (const auto& [name, c] : TotalsByCategory(report)) {
    if (report.planned.empty()) {  // the plan was not measured
      spdlog::info("category {}: {} deleted{}{}", name, c.deleted,
                   c.kept_changed ? fmt::format(", {} kept (changed since selection)", c.kept_changed) : std::string(),
                   c.undeletable ? fmt::format(", {} could not be deleted", c.undeletable) : std::string());
      continue;
    }
    const int64_t left = std::max<int64_t>(0, c.deletable - c.deleted - c.kept_changed - c.undeletable);
    spdlog::info("category {}: {} deleted of {} deletable; {} due, {} held, {} floor-protected{}{}{}", name,
                 c.deleted, c.deletable, c.due, c.held, c.floor_protected,
                 c.kept_changed ? fmt::format(", {} kept (changed since selection)", c.kept_changed) : std::string(),
                 c.undeletable ? fmt::format(", {} could not be deleted", c.undeletable) : std::string(),
                 left ? fmt::format(", {} left for the next run", left) : std::string());
  }
}

// The outcome label of a run that never started (no report).
std::string RefusalOutcome(const Status& s) {
  switch (s.code()) {
    case StatusCode::kBusy: return "locked";
    case StatusCode::kSafetyValve:
    case StatusCode::kClockSanity:
    case StatusCode::kAuditFailed: return "refused";
    default: return "failed";
  }
}

// The textfile-collector metrics of one purge (see man/retention.8,
// METRICS). `report` is null when the run did not start.
MetricsFile PurgeMetrics(const PurgeReport* report, const Status& status, Timestamp started, double duration_seconds,
                         std::optional<double> last_success) {
  MetricsFile m;
  const double started_s = static_cast<double>(ToUnixMicros(started) / 1000000);
  const std::string outcome = report ? report->outcome : RefusalOutcome(status);
  if (status.ok()) last_success = started_s;
  m.Gauge("retention_last_run_timestamp_seconds", "Start of the last purge run, seconds since the epoch.");
  m.Add("retention_last_run_timestamp_seconds", started_s);
  m.Gauge("retention_last_success_timestamp_seconds",
          "Start of the last purge run that exited 0, seconds since the epoch.");
  if (last_success) m.Add("retention_last_success_timestamp_seconds", *last_success);
  m.Gauge("retention_run_duration_seconds", "Wall time of the last purge run.");
  m.Add("retention_run_duration_seconds", duration_seconds);
  m.Gauge("retention_run_outcome", "Outcome of the last purge run (ok, stopped, failed, locked, refused).");
  m.Add("retention_run_outcome", {{"outcome", outcome}}, 1);
  m.Gauge("retention_run_exit_code", "Exit code of the last purge run (see retention(8)).");
  m.Add("retention_run_exit_code", ExitStatusOf(status));
  m.Gauge("retention_deleted_records", "Records the last purge run deleted, per category and target.");
  m.Gauge("retention_due_records", "Records past delete_after when the last run started, per category.");
  m.Gauge("retention_held_records", "Due records a legal hold kept when the last run started, per category.");
  m.Gauge("retention_overdue_records",
          "Records past delete_after, not held and not floor-protected, left after the last run, per category.");
  m.Gauge("retention_undeletable_records",
          "Due records the last purge run could not delete (immutable, a mount point, ...), per category and "
          "target; they are kept and each has a kept ledger entry saying why.");
  if (report) {
    for (const auto& t : report->targets) {
      m.Add("retention_deleted_records", {{"category", t.category}, {"target", t.target}},
            static_cast<double>(t.deleted));
      m.Add("retention_undeletable_records", {{"category", t.category}, {"target", t.target}},
            static_cast<double>(t.undeletable));
    }
    for (const auto& [name, c] : TotalsByCategory(*report)) {
      m.Add("retention_due_records", {{"category", name}}, static_cast<double>(c.due));
      m.Add("retention_held_records", {{"category", name}}, static_cast<double>(c.held));
      m.Add("retention_overdue_records", {{"category", name}},
            static_cast<double>(std::max<int64_t>(0, c.deletable - c.deleted)));
    }
  }
  return m;
}

}  // namespace

Status RunPurgeCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()
      ("category", po::value<std::string>()->value_name("NAME"), "only this category")
      ("as-of", po::value<std::string>()->value_name("TIME"), "purge as of an earlier moment (never later than now)")
      ("batch-size", po::value<int64_t>()->value_name("N"), "at most N records per delete transaction; batches are sized to about 20 ms under it (default: config "
       "limits.batch_size)")
      ("max-runtime", po::value<std::string>()->value_name("DURATION"),
       "stop after the batch in flight once this much time has passed (e.g. 30m, 2h); exit 75")
      ("plan", po::value<std::string>()->value_name("FILE"),
       "delete only what a saved plan (`plan --out FILE`) listed and is still due")
      ("allow-mass-delete", po::bool_switch(), "let the run through the safety valve")
      ("allow-clock-jump", po::bool_switch(), "accept a clock far ahead of the last run")
      ("allow-clock-behind", po::bool_switch(),
       "accept a clock earlier than the last run's start (that run's clock was wrong)")
      ("format", po::value<std::string>()->value_name("FORMAT"), "report as table or json")
      ("metrics-file", po::value<std::string>()->value_name("PATH"),
       "write Prometheus textfile-collector metrics of the run to PATH (atomically), whatever the outcome");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr,
                             "retention purge [--category NAME] [--as-of TIME] [--batch-size N] [--max-runtime D] "
                             "[--plan FILE] [--allow-mass-delete] [--metrics-file PATH]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  const po::variables_map& v = **vm;

  // From here on every outcome, refusals included, is written to the
  // metrics file when one is asked for: a scraper must see a failing run.
  const Timestamp started = a.env->Now();
  const auto started_steady = std::chrono::steady_clock::now();
  std::optional<std::filesystem::path> metrics_path;
  if (v.count("metrics-file")) metrics_path = v["metrics-file"].as<std::string>();
  auto finish = [&](const PurgeReport* report, Status status) -> Status {
    if (!metrics_path) return status;
    const double duration =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_steady).count();
    const auto last_success = ReadMetricSample(*metrics_path, "retention_last_success_timestamp_seconds");
    Status written = PurgeMetrics(report, status, started, std::round(duration * 1000) / 1000, last_success)
                         .WriteAtomically(*metrics_path);
    // Metrics are an observer: failing to write them is a warning and does
    // not change what the run did or its exit code.
    if (!written.ok()) spdlog::warn("{}", written.message());
    return status;
  };

  auto loaded = LoadConfigAndRules(v);
  if (!loaded.ok()) return finish(nullptr, loaded.status());
  const Config& config = loaded->config;
  if (!metrics_path && config.metrics_file) metrics_path = *config.metrics_file;

  PurgeOptions options;
  // The metrics report what was due and held at the start: measured only
  // for them, since it is a pass over every due record (the safety valve
  // needs only the stores' cheap bounds).
  options.measure_plan = metrics_path.has_value();

  options.exit_code_of = ExitStatusOf;
  options.env = *a.env;
  options.now = a.env->Now();
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return finish(nullptr, zone.status());
  if (v.count("as-of")) {
    auto t = ParseMomentArgument("--as-of", v["as-of"].as<std::string>(), *zone,
                                 TimeZone::Pick::kEarlier /* deletes less */, options.now, *a.err);
    if (!t.ok()) return finish(nullptr, t.status());
    options.as_of = *t;
  }
  if (v.count("category")) options.category = v["category"].as<std::string>();
  if (v.count("batch-size")) options.batch_size = v["batch-size"].as<int64_t>();
  if (v.count("max-runtime")) {
    auto r = ParseRuntime(v["max-runtime"].as<std::string>(), options.now);
    if (!r.ok()) return finish(nullptr, r.status());
    options.max_runtime = *r;
  } else if (config.limits.max_runtime) {
    auto cutoff = ComputeCutoff(options.now, *config.limits.max_runtime, TimeZone::Utc());
    options.max_runtime = std::chrono::duration_cast<std::chrono::seconds>(options.now - cutoff);
  }
  if (v.count("plan")) options.plan_file = v["plan"].as<std::string>();
  options.allow_mass_delete = v["allow-mass-delete"].as<bool>();
  options.allow_clock_jump = v["allow-clock-jump"].as<bool>();
  options.allow_clock_behind = v["allow-clock-behind"].as<bool>();
  options.command_line = "purge";
  for (const auto& arg : a.args) options.command_line += " " + arg;
  options.stop_requested = &g_stop_requested;
  InstallStopHandlers();

  // Progress: a bar on a terminal, a log line every 10 s otherwise. The
  // meter is made when the first batch reports, with the plan's total.
  std::unique_ptr<ProgressMeter> meter;
  const bool terminal = CurrentLogTarget() == LogTarget::kTerminal && spdlog::should_log(spdlog::level::info);
  options.on_batch = [&](const PurgeProgress& p) {
    if (!meter) meter = std::make_unique<ProgressMeter>("purge", p.deletable_total, terminal);
    meter->Update(p.deleted, p.category + "/" + p.target);
  };

  auto report = RunPurge(config, loaded->rules, options);
  if (meter) meter->Finish();
  if (!report.ok()) return finish(nullptr, report.status());
  LogCategorySummaries(*report);

  if (*format == "json") {
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& t : report->targets)
      targets.push_back({{"category", t.category}, {"target", t.target}, {"deleted", t.deleted},
                         {"batches", t.batches}, {"kept_changed", t.kept_changed},
                         {"undeletable", t.undeletable}});
    *a.out << DumpJson(nlohmann::json{{"run", report->run_id},
                             {"as_of", FormatTimestamp(report->as_of)},
                             {"outcome", report->outcome},
                             {"exit_code", ExitStatusOf(report->status)},
                             {"deleted", report->TotalDeleted()},
                             {"reconciled", report->reconciled},
                             {"ledger_head", report->head_hash},
                             {"targets", targets}},
                       2)
           << "\n";
  } else {
    *a.out << "Run " << report->run_id << " as of " << FormatTimestamp(report->as_of) << ": " << report->outcome << "\n";
    if (report->reconciled)
      *a.out << "Reconciled " << report->reconciled << " deletions of a crashed run first.\n";
    for (const auto& t : report->targets) {
      *a.out << "  " << t.category << "/" << t.target << ": " << t.deleted << " deleted";
      if (t.kept_changed) *a.out << ", " << t.kept_changed << " kept (held or changed since selection)";
      if (t.undeletable) *a.out << ", " << t.undeletable << " could not be deleted (kept; see the log)";
      *a.out << "\n";
    }
    *a.out << report->TotalDeleted() << " records deleted. Ledger head " << report->head_hash << "\n";
  }
  return finish(&*report, report->status);
}

}  // namespace retention
