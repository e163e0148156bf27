// retention audit verify: the ledger's hash chain (SPEC 6.10).
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/state_access.h"
#include "ledger/ledger.h"

namespace retention {

namespace {

Status AuditVerify(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("format", po::value<std::string>()->value_name("FORMAT"), "table or json");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr, "retention audit verify [--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = OpenStateForReading(*config);
  if (!state.ok()) return state.status();
  if (!*state)
    return Status::Unavailable("state database " + config->state + " does not exist: there is no ledger to verify yet");
  auto report = VerifyLedger(**state);
  if (!report.ok()) return report.status();
  if (*format == "json") {
    *a.out << nlohmann::json{{"ok", report->ok},
                             {"entries", report->entries},
                             {"head_seq", report->head_seq},
                             {"head_hash", report->head_hash},
                             {"first_bad_seq", report->first_bad_seq ? nlohmann::json(*report->first_bad_seq)
                                                                     : nlohmann::json(nullptr)},
                             {"problem", report->problem}}
                  .dump(2)
           << "\n";
  } else if (report->ok) {
    *a.out << "Ledger OK: " << report->entries << " entries, head " << report->head_seq << " " << report->head_hash
           << "\n";
  }
  if (!report->ok) {
    return Status::AuditFailed("ledger verification FAILED at entry " +
                               std::to_string(report->first_bad_seq.value_or(0)) + ": " + report->problem +
                               " (entries 1.." + std::to_string(report->head_seq) + " verify)");
  }
  return Status::Ok();
}

}  // namespace

Status RunAuditCommand(const CommandArgs& a) {
  if (a.args.empty()) return Status::Usage("audit needs a subcommand: verify (try 'retention audit --help')");
  if (a.args[0] == "--help" || a.args[0] == "-h") {
    *a.out << "Usage: retention audit verify [--format table|json]\n"
              "  verify    check the ledger's hash chain; exit 78 if it was altered\n";
    return Status::Ok();
  }
  CommandArgs sub = a;
  sub.name = "audit " + a.args[0];
  sub.args.erase(sub.args.begin());
  if (a.args[0] == "verify") return AuditVerify(sub);
  return Status::Usage("unknown audit subcommand '" + a.args[0] + "' (verify)");
}

}  // namespace retention
