#include "cli/cli.h"

#include <iostream>

#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "cli/exit_codes.h"
#include "util/logging.h"

namespace retention {

namespace {

struct CommandEntry {
  const char* name;
  const char* summary;
  Status (*run)(const CommandArgs&);
};

constexpr CommandEntry kCommands[] = {
    {"check", "check the config and rules against the live stores", RunCheckCommand},
    {"cat-rules", "the effective rule files (shipped, local overrides, masks), each with its origin", RunCatRulesCommand},
    {"plan", "dry run: what is due, held, protected and undated, per category and target", RunPlanCommand},
    {"purge", "delete what is due, in batches, every deletion in the ledger", RunPurgeCommand},
    {"erase", "an erasure request: delete a subject's records, floors and holds kept; a receipt", RunEraseCommand},
    {"hold", "legal holds: add, list, show, release", RunHoldCommand},
    {"explain", "one record (STORE/TARGET/KEY or a file): its verdict, then the rules, clock, floors and holds",
     RunExplainCommand},
    {"audit", "the purge log: log, export, runs, show, verify, checkpoint", RunAuditCommand},
    {"status", "last runs, what is due now, and compliance per category", RunStatusCommand},
    {"report", "the auditor's compliance report per policy line (md, html or json)", RunReportCommand},
    {"state", "init: create the state database (legal holds and purge log); migrate: copy it into PostgreSQL", RunStateCommand},
    {"demo", "create demo stores and a config for the shipped rules", RunDemoCommand},
};

void PrintUsage(std::ostream& out) {
  out << "Usage: retention [--config PATH] COMMAND [OPTIONS]\n\n"
         "Deletes data past its retention schedule, keeps what holds and floors protect, and records every\n"
         "deletion in a tamper-evident ledger.\n\nCommands:\n";
  for (const auto& c : kCommands) {
    std::string name = c.name;
    name.resize(9, ' ');
    out << "  " << name << "  " << c.summary << "\n";
  }
  out << "\nGlobal options (also accepted after the command):\n"
         "  -c, --config PATH   config file (default: $RETENTION_CONFIG, else /etc/retention/retention.toml)\n"
         "  --log-level LEVEL   trace, debug, info, warn, error or off\n"
         "  -q, --quiet         only warnings and errors in the log\n"
         "  -h, --help          this help; `retention COMMAND --help` for a command's options\n"
         "  --version           the version\n\n"
         "Exit codes: 0 success, 1 explain: no such record, 64 usage, 65 invalid config/rules/hold spec, 69 store unavailable,\n"
         "74 I/O error while deleting, 75 locked or stopped early with work left, 76 safety valve,\n"
         "77 clock sanity, 78 audit verification failed.\n";
}

// Journal (priority prefixes), terminal (colour) or plain; see util/logging.h.
void SetUpLogging() {
  SetUpLogger(DetectLogTarget());
  spdlog::set_level(spdlog::level::info);
}

}  // namespace

int RunCommandLine(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  if (!spdlog::get("retention")) SetUpLogging();
  // Global options may come before the command word; they are handed to
  // the command with its own arguments.
  std::vector<std::string> globals;
  size_t i = 0;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--version") {
      out << "retention " << RETENTION_VERSION << "\n";
      return 0;
    }
    if (arg == "--help" || arg == "-h") {
      PrintUsage(out);
      return 0;
    }
    if (arg == "--config" || arg == "-c" || arg == "--log-level") {
      if (i + 1 >= argv.size()) {
        err << "retention: " << arg << " needs a value (try 'retention --help')\n";
        return static_cast<int>(ExitCodeFor(StatusCode::kUsage));
      }
      globals.push_back(arg);
      globals.push_back(argv[++i]);
      continue;
    }
    if (arg.rfind("--config=", 0) == 0 || arg.rfind("--log-level=", 0) == 0 || arg == "--quiet" || arg == "-q") {
      globals.push_back(arg);
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      err << "retention: unknown option '" << arg << "' (try 'retention --help')\n";
      return static_cast<int>(ExitCodeFor(StatusCode::kUsage));
    }
    break;
  }
  if (i >= argv.size()) {
    err << "retention: no command given (try 'retention --help')\n";
    return static_cast<int>(ExitCodeFor(StatusCode::kUsage));
  }
  const std::string command = argv[i];
  for (const auto& c : kCommands) {
    if (command != c.name) continue;
    // The one environment of the process: every command gets it from here.
    const Env env = Env::Default();
    int answer = 0;
    CommandArgs a{command, {argv.begin() + static_cast<long>(i) + 1, argv.end()}, &out, &err, &env, &answer};
    // Global options are appended after the command's own, except for the
    // subcommand groups whose first argument must stay the subcommand.
    a.args.insert(a.args.end(), globals.begin(), globals.end());
    Status s = c.run(a);
    out.flush();
    // Under systemd the final error is a journal event of its own (the
    // refusal's MESSAGE_ID) with its priority: a run that stopped early
    // with work left (75) is a warning, the rest errors.
    if (!s.ok() && CurrentLogTarget() == LogTarget::kJournal)
      LogCommandError(IsRetryLater(s.code()) ? spdlog::level::warn : spdlog::level::err,
                      "retention: " + s.message());
    else if (!s.ok())
      err << "retention: " << RedactSecrets(s.message()) << "\n";
    return s.ok() ? answer : ExitStatusOf(s);
  }
  err << "retention: unknown command '" << command << "' (try 'retention --help')\n";
  return static_cast<int>(ExitCodeFor(StatusCode::kUsage));
}

}  // namespace retention
