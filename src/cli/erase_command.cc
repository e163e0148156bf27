// retention erase: answers an erasure request (erase/erase_run.h) and
// prints its receipt (erase/erasure_receipt.h).
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/state_access.h"
#include "erase/erase_run.h"
#include "erase/erasure_receipt.h"
#include "util/atomic_file.h"
#include "util/json_document.h"
#include "util/json_text.h"
#include "util/text_columns.h"

namespace retention {

namespace {

constexpr const char* kUsage =
    "retention erase --subject KIND:ID --request REF [--dry-run [--out FILE]] [--format table|json|md]\n"
    "                [--receipt FILE] [--allow-mass-delete] [--batch-size N]\n"
    "       retention erase --plan FILE [--subject KIND:ID --request REF] [...]";

// `erase list`: the requests the state remembers, oldest first.
Status EraseList(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("format", po::value<std::string>()->value_name("FORMAT"), "table or json");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr, "retention erase list [--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = OpenStateForReading(*a.env, *config);
  if (!state.ok()) return state.status();
  std::vector<ErasureRequest> requests;
  if (*state) {
    auto list = (*state)->ListErasureRequests();
    if (!list.ok()) return list.status();
    requests = std::move(*list);
  }
  const Timestamp now = a.env->Now();
  if (*format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const ErasureRequest& r : requests)
      list.push_back({{"reference", r.reference},
                     {"subject", r.subject},
                     {"received", FormatTimestamp(r.received)},
                     {"deadline", FormatTimestamp(r.deadline)},
                     {"past_deadline", RequestPastDeadline(r, now)},
                     {"executed", r.executed ? nlohmann::json(FormatTimestamp(*r.executed)) : nlohmann::json()},
                     {"outcome", r.outcome},
                     {"erased", r.erased},
                     {"kept", r.kept},
                     {"last_run_id", r.last_run_id}});
    PrintJsonDocument(*a.out, "erasure-requests", {{"requests", std::move(list)}});
    return Status::Ok();
  }
  if (requests.empty()) {
    *a.out << "No erasure requests recorded.\n";
    return Status::Ok();
  }
  // To the second: the JSON form has the stored microseconds.
  auto when = [](Timestamp t) { return FormatTimestamp(std::chrono::floor<std::chrono::seconds>(t)); };
  std::vector<std::vector<std::string>> rows{
      {"REFERENCE", "SUBJECT", "RECEIVED", "DEADLINE", "EXECUTED", "OUTCOME", "ERASED", "KEPT"}};
  for (const ErasureRequest& r : requests)
    rows.push_back({r.reference, r.subject, when(r.received),
                    when(r.deadline) + (RequestPastDeadline(r, now) ? " PAST DEADLINE" : ""),
                    r.executed ? when(*r.executed) : "-", r.outcome, std::to_string(r.erased),
                    std::to_string(r.kept)});
  PrintColumns(*a.out, rows, {false, false, false, false, false, false, true, true});
  return Status::Ok();
}

}  // namespace

Status RunEraseCommand(const CommandArgs& a) {
  if (!a.args.empty() && a.args[0] == "list") {
    CommandArgs sub = a;
    sub.name = "erase list";
    sub.args.erase(sub.args.begin());
    return EraseList(sub);
  }
  po::options_description desc("Options");
  desc.add_options()
      ("subject", po::value<std::string>()->value_name("KIND:ID"), "the data subject, e.g. customer:42")
      ("request", po::value<std::string>()->value_name("REF"), "the deletion request's reference")
      ("dry-run", po::bool_switch(), "preview: what would go and what stays, nothing deleted")
      ("out", po::value<std::string>()->value_name("FILE"),
       "with --dry-run: also save the preview, every record it would erase, for `erase --plan FILE`")
      ("plan", po::value<std::string>()->value_name("FILE"),
       "execute exactly the records of a plan saved by `erase --dry-run --out FILE`")
      ("format", po::value<std::string>()->value_name("FORMAT"), "the receipt: table, json or md")
      ("receipt", po::value<std::string>()->value_name("FILE"), "also save the receipt to FILE")
      ("allow-mass-delete", po::bool_switch(), "pass the safety valve ([limits] max_erase_records)")
      ("allow-clock-jump", po::bool_switch(), "as purge")
      ("allow-clock-behind", po::bool_switch(), "as purge")
      ("batch-size", po::value<int64_t>()->value_name("N"), "most records per delete transaction");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr, kUsage);
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  const po::variables_map& v = **vm;
  const bool from_plan = v.count("plan") > 0;
  if (!from_plan && !v.count("subject"))
    return Status::Usage("erase needs --subject KIND:ID (usage: " + std::string(kUsage) + ")");
  if (!from_plan && !v.count("request"))
    return Status::Usage("erase needs --request REF (usage: " + std::string(kUsage) + ")");
  if (v.count("out") && !v["dry-run"].as<bool>())
    return Status::Usage("--out FILE saves a preview: it needs --dry-run (--receipt FILE saves the receipt)");
  if (from_plan && v["dry-run"].as<bool>())
    return Status::Usage("--plan executes a saved preview: it does not go with --dry-run");
  const std::string format_name = v.count("format") ? v["format"].as<std::string>() : "table";
  auto format = ParseReceiptFormat(format_name);
  if (!format.ok()) return Status::Usage("--format: " + format.status().message());
  auto loaded = LoadConfigAndRules(v);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;

  EraseOptions options;
  const std::string given_request = v.count("request") ? v["request"].as<std::string>() : "";
  const std::string given_subject = v.count("subject") ? v["subject"].as<std::string>() : "";
  std::unique_ptr<SavedPlanReader> plan;
  if (from_plan) {
    // The plan names its subject and request; given ones must be the same.
    if (v.count("request")) RETENTION_RETURN_IF_ERROR(CheckRequestReference(given_request));
    auto opened = OpenErasePlan(loaded->rules, v["plan"].as<std::string>(), given_subject, given_request);
    if (!opened.ok()) return opened.status();
    plan = std::move(opened->reader);
    options.subject = opened->subject;
    options.request = opened->request;
    options.plan = plan.get();
  } else {
    RETENTION_RETURN_IF_ERROR(CheckRequestReference(given_request));
    auto subject = ParseErasureSubject(loaded->rules, given_subject);
    if (!subject.ok()) return subject.status();
    options.subject = *subject;
    options.request = given_request;
  }
  if (v.count("out")) options.save_plan = v["out"].as<std::string>();
  options.dry_run = v["dry-run"].as<bool>();
  options.allow_mass_delete = v["allow-mass-delete"].as<bool>();
  options.allow_clock_jump = v["allow-clock-jump"].as<bool>();
  options.allow_clock_behind = v["allow-clock-behind"].as<bool>();
  if (v.count("batch-size")) options.batch_size = v["batch-size"].as<int64_t>();
  options.env = *a.env;
  options.now = a.env->Now();
  options.exit_code_of = ExitStatusOf;
  options.command_line = "erase";
  for (const auto& arg : a.args) options.command_line += " " + arg;

  std::unique_ptr<StateDb> preview;
  if (options.dry_run) {
    auto state = OpenStateForReading(*a.env, config);
    if (!state.ok()) return state.status();
    preview = std::move(*state);
    options.preview_state = preview.get();
  } else {
    options.stop_requested = InstallStopHandlers();
  }

  Status run_status;
  auto receipt = RunErase(config, loaded->rules, options, &run_status);
  if (!receipt.ok()) return receipt.status();
  WriteReceipt(*receipt, config, loaded->rules, *format, *a.out);
  if (options.save_plan)
    *a.err << "Saved the erase plan with " << receipt->TotalErased() << " records to " << options.save_plan->string()
           << "\n";
  if (v.count("receipt")) {
    std::ostringstream text;
    WriteReceipt(*receipt, config, loaded->rules, *format, text);
    RETENTION_RETURN_IF_ERROR(WriteFileAtomically(v["receipt"].as<std::string>(), text.str()));
  }
  return run_status;
}

}  // namespace retention
