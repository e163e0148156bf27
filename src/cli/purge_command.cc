// retention purge: batched, audited deletion.
#include <algorithm>
#include <cmath>
#include <limits>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "calendar/cutoff.h"
#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/state_access.h"
#include "plan/overdue.h"
#include "purge/purge.h"
#include "util/log_context.h"
#include "util/logging.h"
#include "util/metrics.h"
#include "util/json_document.h"
#include "util/json_text.h"
#include "util/progress.h"

namespace retention {

namespace {

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

// The run's result in the log, for the journal and other non-terminal
// stderr (man/retention.8, OUTPUT): its end, then one line per category
// that had anything due or deleted (with the plan's figures when it was
// measured), the others counted in one line.
void LogRunResult(const PurgeReport& report) {
  const ScopedLogField run(kLogFieldRun, std::to_string(report.run_id));
  LogEvent(spdlog::level::info, kMessageIdRunEnd,
           fmt::format("run {} {}: {} deleted; ledger head {}", report.run_id, report.outcome,
                       report.TotalDeleted(), report.head_hash));
  int64_t idle = 0;
  for (const auto& [name, c] : TotalsByCategory(report)) {
    if (c.due == 0 && c.deleted == 0 && c.kept_changed == 0 && c.undeletable == 0) {
      ++idle;
      continue;
    }
    const ScopedLogField category(kLogFieldCategory, name);
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
  if (idle > 0)
    spdlog::info("{} {}: nothing {}", idle, idle == 1 ? "category" : "categories",
                 report.planned.empty() ? "deleted" : "due");
}

// The table report on stdout: targets where something happened one line
// each, the others counted in one line.
void PrintReport(const PurgeReport& report, std::ostream& out) {
  out << "Run " << report.run_id << " as of " << FormatTimestamp(report.as_of) << ": " << report.outcome << "\n";
  if (report.reconciled) out << "Reconciled " << report.reconciled << " deletions of a crashed run first.\n";
  int64_t idle = 0;
  for (const auto& t : report.targets) {
    if (!t.skipped.empty()) {
      out << "  " << t.category << "/" << t.target << ": skipped, not purged: " << t.skipped << "\n";
      continue;
    }
    if (t.deleted == 0 && t.kept_changed == 0 && t.undeletable == 0) {
      ++idle;
      continue;
    }
    out << "  " << t.category << "/" << t.target << ": " << t.deleted << " deleted";
    if (t.kept_changed) out << ", " << t.kept_changed << " kept (held or changed since selection)";
    if (t.undeletable) out << ", " << t.undeletable << " could not be deleted (kept; see the log)";
    out << "\n";
  }
  if (idle > 0) out << "  " << idle << (idle == 1 ? " target" : " targets") << ": nothing deleted\n";
  out << report.TotalDeleted() << " records deleted. Ledger head " << report.head_hash << "\n";
}

// Counts the warnings and errors logged while a purge runs: `--quiet`
// prints the report only when something went wrong, and a warning is that.
class ProblemCounter final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  int64_t count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return count_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level >= spdlog::level::warn && msg.level != spdlog::level::off) ++count_;
  }
  void flush_() override {}

 private:
  int64_t count_ = 0;
};

// Attaches a ProblemCounter to the default logger for its lifetime (no
// other thread logs while it is attached or detached: the purge's second
// thread lives inside RunPurge).
class CountProblems {
 public:
  CountProblems() : counter_(std::make_shared<ProblemCounter>()) {
    spdlog::default_logger()->sinks().push_back(counter_);
  }
  ~CountProblems() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), counter_), sinks.end());
  }
  CountProblems(const CountProblems&) = delete;
  CountProblems& operator=(const CountProblems&) = delete;
  int64_t count() { return counter_->count(); }

 private:
  std::shared_ptr<ProblemCounter> counter_;
};

// The last words of the progress bar: how far the run got against the
// plan, and why not to the end when it did not (man/retention.8, OUTPUT).
std::string ProgressNote(const PurgeReport& report, int64_t settled, int64_t total) {
  if (report.outcome == "stopped") return "stopped (time or signal): the next run continues";
  if (report.outcome == "failed") return "failed: see the error";
  if (settled >= total) return "done";
  // Records the plan counted that the run found no longer deletable when it
  // selected them (deleted by someone else, changed, or locked by the
  // store): nothing was left undone that is due.
  return fmt::format("done; {} of the plan's records were no longer deletable", total - settled);
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

// What the metrics measure themselves, whatever the run did (a refusal
// included): due, held and overdue per category, read-only on the stores
// (plan/overdue.h), and the start of the last successful run from the
// state's runs table. Nothing here may fail the run: what cannot be read is
// a warning and is left out (its series are NaN, retention_records_measured
// 0).
struct MetricsMeasure {
  std::optional<OverdueMeasure> stores;  // nullopt: nothing could be measured
  std::optional<double> last_success;    // from the state database
};

MetricsMeasure MeasureForMetrics(const Env& env, const Loaded& loaded, const std::string& category, Timestamp as_of,
                                 bool measure_due_now) {
  MetricsMeasure out;
  try {
    auto state = OpenStateForReading(env, loaded.config, /*warn_if_missing=*/false);
    if (!state.ok()) {
      spdlog::warn("metrics: cannot read the state database: {}", state.status().message());
      return out;
    }
    if (*state) {
      auto runs = (*state)->ListRuns();
      if (runs.ok()) {
        for (const RunInfo& r : *runs)
          if (r.outcome == "ok")
            out.last_success = std::max(out.last_success.value_or(0),
                                        static_cast<double>(ToUnixMicros(r.started_at) / 1000000));
      }
    }
    const Timestamp now = env.Now();
    auto holds = LoadHoldSet(state->get(), now);
    if (!holds.ok()) {
      spdlog::warn("metrics: cannot read the holds: {}", holds.status().message());
      return out;
    }
    StoreSet stores(loaded.config, /*read_only=*/true, env.file_system);
    MeasureOptions options;
    options.now = now;
    options.as_of = std::min(as_of, now);
    options.grace = ConfiguredGrace(loaded.config);
    options.category = category;
    options.measure_due_now = measure_due_now;
    options.tolerate_store_errors = true;
    auto measured = MeasureOverdue(loaded.config, loaded.rules, *holds, stores, options);
    if (!measured.ok()) {
      spdlog::warn("metrics: cannot measure the stores: {}", measured.status().message());
      return out;
    }
    for (const std::string& e : measured->errors) spdlog::warn("metrics: not measured: {}", e);
    out.stores = std::move(*measured);
  } catch (const std::exception& e) {
    spdlog::warn("metrics: cannot measure the stores: {}", e.what());
  }
  return out;
}

// The textfile-collector metrics of one purge (see man/retention.8,
// METRICS). `report` is null when the run did not start. Every family has
// its samples whatever the outcome: a refused run is when they matter.
MetricsFile PurgeMetrics(const PurgeReport* report, const Status& status, Timestamp started, double duration_seconds,
                         std::optional<double> last_success, const MetricsMeasure& measured) {
  MetricsFile m;
  const double started_s = static_cast<double>(ToUnixMicros(started) / 1000000);
  const std::string outcome = report ? report->outcome : RefusalOutcome(status);
  if (measured.last_success) last_success = std::max(last_success.value_or(0), *measured.last_success);
  if (status.ok()) last_success = started_s;
  m.Gauge("retention_last_run_timestamp_seconds", "Start of the last purge run, seconds since the epoch.");
  m.Add("retention_last_run_timestamp_seconds", started_s);
  m.Gauge("retention_last_success_timestamp_seconds",
          "Start of the last purge run that exited 0, seconds since the epoch; 0 when none ever did.");
  m.Add("retention_last_success_timestamp_seconds", last_success.value_or(0));
  m.Gauge("retention_run_duration_seconds", "Wall time of the last purge run.");
  m.Add("retention_run_duration_seconds", duration_seconds);
  m.Gauge("retention_run_outcome", "Outcome of the last purge run (ok, stopped, failed, locked, refused).");
  m.Add("retention_run_outcome", {{"outcome", outcome}}, 1);
  m.Gauge("retention_run_exit_code", "Exit code of the last purge run (see retention(8)).");
  m.Add("retention_run_exit_code", ExitStatusOf(status));
  m.Gauge("retention_records_measured",
          "1 when due, held and overdue were measured on every target; 0 when a store, the state or the config "
          "could not be read (their series are NaN then).");
  m.Add("retention_records_measured", measured.stores && measured.stores->errors.empty() ? 1 : 0);
  m.Gauge("retention_deleted_records", "Records the last purge run deleted, per category and target.");
  m.Gauge("retention_due_records", "Records past delete_after when the last run started, per category.");
  m.Gauge("retention_held_records", "Due records a legal hold kept when the last run started, per category.");
  m.Gauge("retention_overdue_records",
          "Records past delete_after by more than the grace (overdue_grace), not held and not floor-protected, "
          "left after the last run, per category.");
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
  } else if (measured.stores) {
    // The run deleted nothing: every target says so.
    for (const auto& [category, target] : measured.stores->targets) {
      m.Add("retention_deleted_records", {{"category", category}, {"target", target}}, 0);
      m.Add("retention_undeletable_records", {{"category", category}, {"target", target}}, 0);
    }
  }
  // Due and held as the run measured them at its start when it did, else
  // as measured now (a refused run changed nothing); overdue after the run.
  constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();
  const bool planned = report && !report->planned.empty();
  const std::map<std::string, CategoryTotals> totals =
      planned ? TotalsByCategory(*report) : std::map<std::string, CategoryTotals>();
  std::vector<std::string> categories;
  if (measured.stores) {
    for (const CategoryMeasure& c : measured.stores->categories) categories.push_back(c.category);
  } else {
    for (const auto& [name, c] : totals) categories.push_back(name);
  }
  for (const std::string& name : categories) {
    const CategoryMeasure* c = nullptr;
    if (measured.stores)
      for (const CategoryMeasure& x : measured.stores->categories)
        if (x.category == name && x.complete) c = &x;
    double due = kUnknown, held = kUnknown;
    if (planned) {
      auto t = totals.find(name);
      due = t == totals.end() ? 0 : static_cast<double>(t->second.due);
      held = t == totals.end() ? 0 : static_cast<double>(t->second.held);
    } else if (c) {
      due = static_cast<double>(c->due_now.due);
      held = static_cast<double>(c->due_now.held);
    }
    m.Add("retention_due_records", {{"category", name}}, due);
    m.Add("retention_held_records", {{"category", name}}, held);
    m.Add("retention_overdue_records", {{"category", name}}, c ? static_cast<double>(c->overdue) : kUnknown);
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
  const bool quiet = v.count("quiet") && v["quiet"].as<bool>();
  CountProblems problems;

  // From here on every outcome, refusals included, is written to the
  // metrics file when one is asked for: a scraper must see a failing run.
  const Timestamp started = a.env->Now();
  const auto started_steady = std::chrono::steady_clock::now();
  std::optional<std::filesystem::path> metrics_path;
  if (v.count("metrics-file")) metrics_path = v["metrics-file"].as<std::string>();
  // Set as they become known, for the metrics' own measurement.
  const Loaded* loaded_for_metrics = nullptr;
  std::string category_for_metrics;
  std::optional<Timestamp> as_of_for_metrics;
  auto finish = [&](const PurgeReport* report, Status status) -> Status {
    if (!metrics_path) return status;
    const double duration =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_steady).count();
    const auto last_success = ReadMetricSample(*metrics_path, "retention_last_success_timestamp_seconds");
    MetricsMeasure measured;
    if (loaded_for_metrics) {
      const bool planned = report && !report->planned.empty();
      measured = MeasureForMetrics(*a.env, *loaded_for_metrics, category_for_metrics,
                                   as_of_for_metrics.value_or(started), /*measure_due_now=*/!planned);
    }
    Status written =
        PurgeMetrics(report, status, started, std::round(duration * 1000) / 1000, last_success, measured)
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
  loaded_for_metrics = &*loaded;

  PurgeOptions options;
  // The metrics report what was due and held at the start: measured only
  // for them, since it is a pass over every due record (the safety valve
  // needs only the stores' cheap bounds).
  // On a terminal too: the progress bar needs the total (someone is
  // watching; the pass costs a fraction of the deletions).
  const bool terminal = ProgressOnTerminal();
  options.measure_plan = metrics_path.has_value() || terminal;

  options.exit_code_of = ExitStatusOf;
  options.env = *a.env;
  options.now = a.env->Now();
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return finish(nullptr, zone.status());
  if (v.count("as-of")) {
    auto t = AsOfOption(v, *zone, options.now, *a.err);
    if (!t.ok()) return finish(nullptr, t.status());
    options.as_of = *t;
    as_of_for_metrics = *t;
  }
  if (v.count("category")) options.category = category_for_metrics = v["category"].as<std::string>();
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
  options.stop_requested = InstallStopHandlers();

  // Progress: a bar on a terminal, a log line every 10 s otherwise. The
  // meter is made when the first target starts, with the plan's total, and
  // counts the records settled (deleted or kept at delete time) against it;
  // a run with nothing to delete shows none.
  std::unique_ptr<ProgressMeter> meter;
  int64_t settled = 0, total = 0;
  options.on_batch = [&](const PurgeProgress& p) {
    settled = p.settled;
    total = p.deletable_total;
    if (!meter && (p.deletable_total > 0 || !options.measure_plan))
      meter = std::make_unique<ProgressMeter>("purge", p.deletable_total, terminal);
    if (meter) meter->Update(p.settled, p.category + "/" + p.target);
  };

  auto report = RunPurge(config, loaded->rules, options);
  if (!report.ok()) {
    if (meter) meter->Finish();
    return finish(nullptr, report.status());
  }
  if (meter) meter->Finish(settled, ProgressNote(*report, settled, total));
  // One result, printed once per channel (man/retention.8, OUTPUT): on a
  // terminal the report on stdout says it; elsewhere the log carries it
  // too, for the journal, and stdout still has the report.
  if (CurrentLogTarget() != LogTarget::kTerminal) LogRunResult(*report);
  // --quiet: nothing on stdout for a clean run; a run that failed, stopped,
  // reconciled a crash or logged a warning prints its report, so cron mails
  // it. An explicit --format json is always printed: it was asked for.
  const bool clean = report->status.ok() && report->reconciled == 0 && problems.count() == 0;
  if (quiet && clean && !v.count("format")) return finish(&*report, report->status);

  if (*format == "json") {
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& t : report->targets)
      targets.push_back({{"category", t.category}, {"store", t.store}, {"target", t.target}, {"deleted", t.deleted},
                         {"batches", t.batches}, {"kept_changed", t.kept_changed},
                         {"undeletable", t.undeletable}});
    for (size_t i = 0; i < report->targets.size(); ++i)
      if (!report->targets[i].skipped.empty()) targets[i]["skipped"] = report->targets[i].skipped;
    PrintJsonDocument(*a.out, "purge",
                      {{"run", report->run_id},
                       {"as_of", FormatTimestamp(report->as_of)},
                       {"outcome", report->outcome},
                       {"exit_code", ExitStatusOf(report->status)},
                       {"deleted", report->TotalDeleted()},
                       {"reconciled", report->reconciled},
                       {"ledger_head", report->head_hash},
                       {"targets", targets}});
  } else {
    PrintReport(*report, *a.out);
  }
  return finish(&*report, report->status);
}

}  // namespace retention
