// retention report: the auditor's compliance report (report/report.h), one
// section per policy line, in Markdown, HTML or JSON. Opens stores and
// state read-only and changes nothing, as `status` does.
//
// Exit codes: 0 when the report was written, whatever its verdicts (a
// report is evidence, not a monitor: `status --check` is that); 78 when
// the ledger does not verify (after writing the report, which says so at
// the top), as `audit verify` exits; 64 for bad options; 74 when --out
// cannot be written; 65 and 69 as every command for config, rules and
// stores.
#include <fstream>
#include <iostream>
#include <optional>

#include "audit/checkpoint.h"
#include "audit/full_verification.h"
#include "audit/run_history.h"
#include "cli/command.h"
#include "cli/state_access.h"
#include "plan/overdue.h"
#include "report/report.h"
#include "report/report_render.h"
#include "stores/store_set.h"
#include "util/atomic_file.h"
#include "util/json_text.h"

namespace retention {

Status RunReportCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("as-of", po::value<std::string>()->value_name("TIME"),
                     "report as of this moment (default: now): cutoffs, overdue and the runs counted")(
      "format", po::value<std::string>()->value_name("FORMAT")->default_value("md"), "md, html or json")(
      "out", po::value<std::string>()->value_name("FILE"), "write the report to FILE (default: standard output)")(
      "period", po::value<std::string>()->value_name("DURATION")->default_value("30 days"),
      "the reporting period ending at the report's moment: deletions counted in it")(
      "max-age", po::value<std::string>()->value_name("DURATION")->default_value("2 days"),
      "a line is 'not applied' when no successful purge went through it within this long")(
      "grace", po::value<std::string>()->value_name("DURATION"),
      "a record is overdue only this long past its due moment (default: config overdue_grace, else 1 day)")(
      "against", po::value<std::string>()->value_name("FILE"),
      "a checkpoint file (audit checkpoint): verify the ledger against it and name it in the report")(
      "verify-key", po::value<std::string>()->value_name("PEM"),
      "Ed25519 public key: the checkpoint must carry a valid signature by it");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr,
                             "retention report [--as-of TIME] [--format md|html|json] [--out FILE] [--period DURATION]\n"
                             "       [--max-age DURATION] [--grace DURATION] [--against FILE [--verify-key PEM]]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"md", "html", "json"});
  if (!format.ok()) return format.status();
  report::ReportOptions options;
  auto period = ParseDurationArgument("--period", (**vm)["period"].as<std::string>());
  if (!period.ok()) return period.status();
  options.period = *period;
  auto max_age = ParseDurationArgument("--max-age", (**vm)["max-age"].as<std::string>());
  if (!max_age.ok()) return max_age.status();
  options.max_age = *max_age;
  std::optional<CalendarDuration> grace;
  if ((*vm)->count("grace")) {
    auto g = ParseGrace((**vm)["grace"].as<std::string>());
    if (!g.ok()) return Status::Usage("--grace: " + g.status().message());
    grace = *g;
  }
  if ((*vm)->count("verify-key") && !(*vm)->count("against"))
    return Status::Usage("--verify-key needs --against FILE");

  report::ReportInputs in;
  if ((*vm)->count("against")) {
    in.checkpoint_file = (**vm)["against"].as<std::string>();
    auto cp = audit::ReadCheckpointFile(in.checkpoint_file);
    if (!cp.ok()) return cp.status();
    if ((*vm)->count("verify-key")) {
      RETENTION_RETURN_IF_ERROR(audit::VerifyCheckpointSignature((**vm)["verify-key"].as<std::string>(), *cp));
      in.checkpoint_signature_checked = true;
    }
    in.checkpoint = std::move(*cp);
  }

  auto loaded = LoadConfigAndRules(**vm);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  options.now = a.env->Now();
  auto as_of = AsOfOption(**vm, *zone, options.now, *a.err);
  if (!as_of.ok()) return as_of.status();
  options.as_of = *as_of;
  options.grace = grace.value_or(ConfiguredGrace(config));

  // Opened before anything is measured, so that an unwritable FILE fails
  // at once, and written whole or not at all.
  std::unique_ptr<AtomicFile> file;
  if ((*vm)->count("out")) {
    const std::string out = (**vm)["out"].as<std::string>();
    auto f = AtomicFile::Create(out);
    if (!f.ok()) return f.status().WithContext("--out " + out);
    file = std::move(*f);
  }

  auto state = OpenStateForReading(*a.env, config);
  if (!state.ok()) return state.status();
  if (*state) {
    auto runs = audit::SummarizeRuns(**state);
    if (!runs.ok()) return runs.status();
    in.runs = std::move(*runs);
    auto requests = (*state)->ListErasureRequests();
    if (!requests.ok()) return requests.status();
    in.requests = std::move(*requests);
    auto verified = audit::VerifyFully(config, **state, **state, in.checkpoint ? &*in.checkpoint : nullptr,
                                       /*accept_anchor_schedules=*/false);
    if (!verified.ok()) return verified.status();
    in.verification = std::move(*verified);
  }
  // Holds in force now, as `plan` and `status` read them.
  auto holds = LoadHoldSet(state->get(), options.now);
  if (!holds.ok()) return holds.status();
  StoreSet stores(config, /*read_only=*/true, a.env->file_system);
  in.config = &config;
  in.rules = &loaded->rules;
  in.holds = &*holds;
  in.stores = &stores;
  auto report = report::GatherReport(std::move(in), options);
  if (!report.ok()) return report.status();

  std::ostream& out = file ? file->out() : *a.out;
  if (*format == "json") out << DumpJson(report::ReportToJson(*report), 2) << "\n";
  else if (*format == "html") report::RenderHtml(*report, out);
  else report::RenderMarkdown(*report, out);
  if (file) {
    RETENTION_RETURN_IF_ERROR(file->Commit());
    *a.err << "Wrote the report to " << (**vm)["out"].as<std::string>() << "\n";
  }
  const report::LedgerFacts& l = report->ledger;
  if (l.state_present && !l.ok)
    return Status::AuditFailed("the report was written, but ledger verification FAILED at entry " +
                               std::to_string(l.first_bad_seq.value_or(0)) + ": " + l.problem);
  return Status::Ok();
}

}  // namespace retention
