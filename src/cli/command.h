// The command-line surface: one function per command, each in its own
// file under cli/, and the shared pieces they use.
#pragma once

#include <atomic>
#include <iosfwd>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "config/config.h"
#include "env/env.h"
#include "rules/rule.h"
#include "util/status.h"

namespace retention {

namespace po = boost::program_options;

// What a command gets: its own arguments (after the command word) and the
// streams to write to, and the environment main built (the clock, the
// state, the locks, the file system: util/env.h). It returns the Status
// whose exit code (cli/exit_codes.h) ends the run; main prints the message
// of a failed one.
struct CommandArgs {
  std::string name;                // "plan", "hold add", ...
  std::vector<std::string> args;
  std::ostream* out;
  std::ostream* err;
  const Env* env;
  // A command whose answer is "no" without anything having gone wrong
  // (explain: no such record) sets this to 1 and returns Ok: SPEC 5's "1
  // where documented", as grep's 1 for "no match". main starts it at 0.
  int* exit_status = nullptr;
};

Status RunCheckCommand(const CommandArgs& a);
Status RunCatRulesCommand(const CommandArgs& a);
Status RunPlanCommand(const CommandArgs& a);
Status RunPurgeCommand(const CommandArgs& a);
Status RunEraseCommand(const CommandArgs& a);
Status RunHoldCommand(const CommandArgs& a);
Status RunAuditCommand(const CommandArgs& a);
Status RunDemoCommand(const CommandArgs& a);
Status RunStatusCommand(const CommandArgs& a);
Status RunReportCommand(const CommandArgs& a);
Status RunExplainCommand(const CommandArgs& a);
Status RunStateCommand(const CommandArgs& a);

// --- shared by the commands (cli_common.cc) ---

// --config, --log-level, --quiet and --help, added to every command.
void AddCommonOptions(po::options_description* desc);

// Parses a command's options. Returns nullopt after printing --help (the
// command then succeeds); a Usage status for unknown or malformed options,
// naming the option and pointing at --help.
Result<std::optional<po::variables_map>> ParseCommandLine(const CommandArgs& a, const po::options_description& desc,
                                                          const po::positional_options_description* positional,
                                                          const std::string& usage);

// Applies --log-level / --quiet to spdlog.
Status ApplyLogOptions(const po::variables_map& vm);

struct Loaded {
  Config config;
  RuleSet rules;
};
// Loads the config named by --config (or the defaults) and its rules.
Result<Loaded> LoadConfigAndRules(const po::variables_map& vm);
Result<Config> LoadConfigOnly(const po::variables_map& vm);

// Parses a moment given on the command line, the one grammar of every
// option that takes one (calendar/moment.h: dates, ISO 8601 / RFC 3339 /
// SQL text, now, today, yesterday, -7d, ...). A local time that the zone
// skips or repeats (DST) resolves to the instant `pick` names, chosen per
// option to keep more; a notice on `notices` says which instant was used.
// A Usage status naming the option and the accepted forms otherwise.
Result<Timestamp> ParseMomentArgument(const std::string& option, const std::string& text, const TimeZone& zone,
                                      TimeZone::Pick pick, Timestamp now, std::ostream& notices);

// The moment of --as-of when given (the earlier instant of a repeated
// local time: as plan, explain and purge take it, deleting less), else now.
Result<Timestamp> AsOfOption(const po::variables_map& vm, const TimeZone& zone, Timestamp now,
                             std::ostream& notices);

// Parses a duration given on the command line, the grammar of rule files
// (calendar/duration.h: "30m", "1h", "90 days", "1 year", ...); a Usage
// status naming the option and the accepted forms otherwise.
Result<CalendarDuration> ParseDurationArgument(const std::string& option, const std::string& text);

// "table" or "json" (or the extra formats allowed).
Result<std::string> FormatOption(const po::variables_map& vm, std::initializer_list<const char*> allowed);

// SIGTERM (systemd stopping the unit) and SIGINT (Ctrl-C) ask a purge or an
// erase to stop: it finishes the batch in flight, closes the run in the
// ledger and exits 75. Installs the handlers; returns the flag they set,
// which the run polls between batches.
const std::atomic<bool>* InstallStopHandlers();

}  // namespace retention
