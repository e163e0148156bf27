// retention state init: creates the state database.
//
// Nothing else creates it (except `retention demo`, for its own demo): the
// state database holds the legal holds and the purge log, so a missing or
// empty one is refused by every command that writes, never silently
// replaced by a new, empty one in which no hold is in force.
#include <iostream>

#include "cli/command.h"
#include "cli/state_access.h"
#include "state/sqlite_state_db.h"

namespace retention {

namespace {

Status StateInit(const CommandArgs& a) {
  po::options_description desc("Options");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr, "retention state init [--config PATH]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = CreateState(*a.env, *config);
  if (!state.ok()) return state.status();
  *a.out << "Created the state database " << config->state << " (schema version " << kStateSchemaVersion
         << ", mode 0640).\n"
         << "It will hold the legal holds and the purge log: back it up with the rest of the system.\n"
         << "If it is ever lost, restore it from a backup; retention refuses to run without it.\n";
  return Status::Ok();
}

}  // namespace

Status RunStateCommand(const CommandArgs& a) {
  static const char* kUsage =
      "Usage: retention state init [--config PATH]\n"
      "  init   create the state database named by the config (refused if a file is already there)\n";
  if (a.args.empty()) return Status::Usage("state needs a subcommand: init (try 'retention state --help')");
  if (a.args[0] == "--help" || a.args[0] == "-h") {
    *a.out << kUsage;
    return Status::Ok();
  }
  CommandArgs sub = a;
  sub.name = "state " + a.args[0];
  sub.args.erase(sub.args.begin());
  if (a.args[0] == "init") return StateInit(sub);
  return Status::Usage("unknown state subcommand '" + a.args[0] + "' (init)");
}

}  // namespace retention
