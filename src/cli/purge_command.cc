// retention purge: batched, audited deletion.
#include <csignal>
#include <iostream>

#include <nlohmann/json.hpp>

#include "calendar/cutoff.h"
#include "cli/command.h"
#include "purge/purge.h"

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

// "90s", "45 minutes", "2h", "3600": a run-time budget.
Result<std::chrono::seconds> ParseRuntime(const std::string& text) {
  size_t pos = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &pos);
  } catch (...) {
    pos = 0;
  }
  std::string unit = text.substr(pos);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  if (pos == 0 || n <= 0) return Status::Usage("--max-runtime: '" + text + "' is not a positive duration (e.g. 30m, 2h)");
  if (unit.empty() || unit == "s" || unit == "sec" || unit == "second" || unit == "seconds") return std::chrono::seconds(n);
  if (unit == "m" || unit == "min" || unit == "minute" || unit == "minutes") return std::chrono::seconds(n * 60);
  if (unit == "h" || unit == "hour" || unit == "hours") return std::chrono::seconds(n * 3600);
  return Status::Usage("--max-runtime: unknown unit in '" + text + "' (use s, m or h)");
}

}  // namespace

Status RunPurgeCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()
      ("category", po::value<std::string>()->value_name("NAME"), "only this category")
      ("as-of", po::value<std::string>()->value_name("TIME"), "purge as of an earlier moment (never later than now)")
      ("batch-size", po::value<int64_t>()->value_name("N"), "records per delete transaction (default: config, 1000)")
      ("max-runtime", po::value<std::string>()->value_name("DURATION"),
       "stop after the batch in flight once this much time has passed (e.g. 30m, 2h); exit 75")
      ("plan", po::value<std::string>()->value_name("FILE"),
       "delete only what a saved plan (`plan --out FILE`) listed and is still due")
      ("allow-mass-delete", po::bool_switch(), "let the run through the safety valve")
      ("allow-clock-jump", po::bool_switch(), "accept a clock far ahead of the last run")
      ("format", po::value<std::string>()->value_name("FORMAT"), "report as table or json");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr,
                             "retention purge [--category NAME] [--as-of TIME] [--batch-size N] [--max-runtime D] "
                             "[--plan FILE] [--allow-mass-delete]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto loaded = LoadConfigAndRules(**vm);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;
  const po::variables_map& v = **vm;

  PurgeOptions options;
  options.now = SystemNow();
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  if (v.count("as-of")) {
    auto t = ParseMomentArgument("--as-of", v["as-of"].as<std::string>(), *zone);
    if (!t.ok()) return t.status();
    options.as_of = *t;
  }
  if (v.count("category")) options.category = v["category"].as<std::string>();
  if (v.count("batch-size")) options.batch_size = v["batch-size"].as<int64_t>();
  if (v.count("max-runtime")) {
    auto r = ParseRuntime(v["max-runtime"].as<std::string>());
    if (!r.ok()) return r.status();
    options.max_runtime = *r;
  } else if (config.limits.max_runtime) {
    auto cutoff = ComputeCutoff(options.now, *config.limits.max_runtime, TimeZone::Utc());
    options.max_runtime = std::chrono::duration_cast<std::chrono::seconds>(options.now - cutoff);
  }
  if (v.count("plan")) options.plan_file = v["plan"].as<std::string>();
  options.allow_mass_delete = v["allow-mass-delete"].as<bool>();
  options.allow_clock_jump = v["allow-clock-jump"].as<bool>();
  options.command_line = "purge";
  for (const auto& arg : a.args) options.command_line += " " + arg;
  options.stop_requested = &g_stop_requested;
  InstallStopHandlers();

  auto report = RunPurge(config, loaded->rules, options);
  if (!report.ok()) return report.status();

  if (*format == "json") {
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& t : report->targets)
      targets.push_back({{"category", t.category}, {"target", t.target}, {"deleted", t.deleted},
                         {"batches", t.batches}, {"kept_changed", t.kept_changed}});
    *a.out << nlohmann::json{{"run", report->run_id},
                             {"as_of", FormatTimestamp(report->as_of)},
                             {"outcome", report->outcome},
                             {"exit_code", report->status.exit_code()},
                             {"deleted", report->TotalDeleted()},
                             {"reconciled", report->reconciled},
                             {"ledger_head", report->head_hash},
                             {"targets", targets}}
                  .dump(2)
           << "\n";
  } else {
    *a.out << "Run " << report->run_id << " as of " << FormatTimestamp(report->as_of) << ": " << report->outcome << "\n";
    if (report->reconciled)
      *a.out << "Reconciled " << report->reconciled << " deletions of a crashed run first.\n";
    for (const auto& t : report->targets) {
      *a.out << "  " << t.category << "/" << t.target << ": " << t.deleted << " deleted";
      if (t.kept_changed) *a.out << ", " << t.kept_changed << " kept (held or changed since selection)";
      *a.out << "\n";
    }
    *a.out << report->TotalDeleted() << " records deleted. Ledger head " << report->head_hash << "\n";
  }
  return report->status;
}

}  // namespace retention
