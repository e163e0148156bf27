// retention audit verify|checkpoint|log|export|runs|show: the auditor's
// side of the purge log (SPEC 5, 6.10). Opens the state database
// read-only and changes nothing.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit/anchor_schedule.h"
#include "audit/checkpoint.h"
#include "audit/evidence_bundle.h"
#include "audit/full_verification.h"
#include "audit/ledger_query.h"
#include "audit/run_history.h"
#include "cli/command.h"
#include "cli/state_access.h"
#include "ledger/anchor.h"
#include "ledger/batch_entry.h"
#include "ledger/ledger.h"
#include "ledger/ledger_payloads.h"
#include "ledger/ledger_reader.h"
#include "ledger/ledger_records.h"
#include "rules/rule_loader.h"
#include "util/atomic_file.h"
#include "util/json_document.h"
#include "util/json_text.h"
#include "util/logging.h"
#include "util/progress.h"

namespace retention {

namespace {

using Json = nlohmann::json;

// The state database for reading, or Unavailable when there is none.
Result<std::unique_ptr<StateDb>> OpenLedger(const Env& env, const Config& config) {
  auto state = OpenStateForReading(env, config, /*warn_if_missing=*/false);
  if (!state.ok()) return state.status();
  if (!*state)
    return Status::Unavailable("state database " + config.state.Name() + " does not exist: there is no ledger yet");
  return std::move(*state);
}

// A progress bar over the ledger's entries, by seq, for long reads
// (verify, export): on a terminal only, never on stdout (it is drawn on
// stderr), and not when `streams_to_terminal` (rows printed on the
// terminal would be torn by the bar). Null otherwise.
std::unique_ptr<ProgressMeter> LedgerMeter(const char* label, StateDb& state, bool streams_to_terminal) {
  if (streams_to_terminal || !ProgressOnTerminal()) return nullptr;
  auto head = state.Head();
  if (!head.ok() || head->seq <= 0) return nullptr;
  return TerminalMeter(label, head->seq);
}

// Reads the ledger through `inner`, moving `meter` (if any) along by seq.
class ProgressReader final : public LedgerReader {
 public:
  ProgressReader(LedgerReader& inner, ProgressMeter* meter) : inner_(inner), meter_(meter) {}
  Status ScanLedger(int64_t from_seq, const std::function<bool(LedgerEntry&)>& visit) override {
    if (meter_ == nullptr) return inner_.ScanLedger(from_seq, visit);
    return inner_.ScanLedger(from_seq, [&](LedgerEntry& e) {
      meter_->Update(e.seq, "");
      return visit(e);
    });
  }
  Result<LedgerHead> Head() override { return inner_.Head(); }

 private:
  LedgerReader& inner_;
  ProgressMeter* meter_;
};

// The `audit log` table shows a unix_seconds / unix_millis clock as stored
// and, beside it, as a time in the config's zone. The ledger keeps a clock
// as the store held it, not its encoding: that is the rules'. So a clock is
// decoded only for entries of runs made under the rules loaded now (the
// run's rules hash is theirs): a rule changed since cannot misread an older
// entry. Any other clock (text, native, another rules version, rules that
// do not load) is shown as stored only. JSON and CSV always keep the stored
// value alone.
class ClockDisplay {
 public:
  static ClockDisplay Load(const Config& config, StateDb& state, TimeZone zone) {
    ClockDisplay d(std::move(zone));
    auto rules = LoadRules(config);
    if (!rules.ok()) return d;
    auto runs = state.ListRuns();
    if (!runs.ok()) return d;
    for (const RunInfo& r : *runs)
      if (r.rules_hash == rules->hash) d.runs_.insert(r.id);
    for (const Category& c : rules->categories)
      for (const Target& t : c.targets)
        if (t.clock.source == ClockSource::kColumn &&
            (t.clock.encoding == ClockEncoding::kUnixSeconds || t.clock.encoding == ClockEncoding::kUnixMillis))
          d.encodings_[{c.name, t.name}] = t.clock.encoding;
    return d;
  }

  // `e` with its clock shown as stored and as a local time, where that is
  // known to be right.
  const LedgerEntry& Show(const LedgerEntry& e) {
    if (e.clock.empty() || !runs_.count(e.run_id)) return e;
    auto it = encodings_.find({e.category, e.target});
    if (it == encodings_.end()) return e;
    auto t = Decode(e.clock, it->second);
    if (!t) return e;
    shown_ = e;
    shown_.clock = e.clock + " (" + audit::LocalTimeText(*t, zone_) + ")";
    return shown_;
  }

  const TimeZone& zone() const { return zone_; }

 private:
  static std::optional<Timestamp> Decode(const std::string& raw, ClockEncoding encoding) {
    // Digits, and for seconds a fraction: what a store writes for these
    // encodings; anything else is shown as stored.
    bool digits = !raw.empty(), dot = false;
    for (char c : raw) {
      if (c == '.' && encoding == ClockEncoding::kUnixSeconds && !dot) dot = true;
      else if (c < '0' || c > '9') digits = false;
    }
    if (!digits || raw.size() > 20 || raw.front() == '.' || raw.back() == '.') return std::nullopt;
    const double v = std::strtod(raw.c_str(), nullptr);
    return encoding == ClockEncoding::kUnixMillis ? ClockFromUnixMillis(v) : ClockFromUnixSeconds(v);
  }

  explicit ClockDisplay(TimeZone zone) : zone_(std::move(zone)) {}

  TimeZone zone_;
  std::set<int64_t> runs_;
  std::map<std::pair<std::string, std::string>, ClockEncoding> encodings_;
  LedgerEntry shown_;
};

// A ledger verified as `audit verify` and `audit checkpoint` do it
// (audit/full_verification.h), with a progress bar on a terminal.
Result<audit::FullVerification> VerifyFully(const Config& config, StateDb& state, const audit::Checkpoint* checkpoint,
                                            bool accept_anchor_schedules) {
  std::unique_ptr<ProgressMeter> meter = LedgerMeter("verify", state, /*streams_to_terminal=*/false);
  ProgressReader reader(state, meter.get());
  auto v = audit::VerifyFully(config, state, reader, checkpoint, accept_anchor_schedules);
  if (meter) {
    if (v.ok()) meter->Finish(v->report.head_seq, v->report.ok ? "" : "verification failed");
    else meter->Finish();
  }
  return v;
}

constexpr const char* kAcceptAnchorSchedulesHelp =
    "accept anchors that pruned under a schedule shorter than the purge log's schedule in the rules now (the policy "
    "really was shorter then): a warning each, not a failure";

// `audit verify --bundle DIR`: an evidence bundle, offline. Reads only
// DIR and the key (audit/evidence_bundle.h): no config, no rules, no state
// database, so that an auditor runs it with the binary alone.
Status VerifyBundle(const CommandArgs& a, const po::variables_map& vm, const std::string& format) {
  for (const char* o : {"against", "accept-anchor-schedules"})
    if (vm.count(o)) return Status::Usage(std::string("--") + o + " does not go with --bundle");
  RETENTION_RETURN_IF_ERROR(ApplyLogOptions(vm));
  const std::string dir = vm["bundle"].as<std::string>();
  std::optional<std::filesystem::path> key;
  if (vm.count("verify-key")) key = vm["verify-key"].as<std::string>();
  auto v = audit::VerifyEvidenceBundle(dir, key, a.env->Now());
  if (!v.ok()) return v.status();
  std::string signer = v->signed_by.empty() ? std::string() : v->signed_by;
  if (format == "json") {
    PrintJsonDocument(*a.out, "bundle-verify",
                      Json{{"ok", v->ok},
                            {"bundle", dir},
                            {"entries", v->count},
                            {"first_seq", v->first_seq},
                            {"last_seq", v->last_seq},
                            {"first_prev_hash", v->first_prev_hash},
                            {"head_hash", v->head_hash},
                            {"head_at", v->head_at},
                            {"records", v->records},
                            {"open_batches", v->open_batches},
                            {"created_at", v->created_at},
                            {"tool_version", v->tool_version},
                            {"rules_hashes", v->rules_hashes},
                            {"anchor_seq", v->has_anchor ? Json(v->anchor_seq) : Json(nullptr)},
                            {"signed", v->is_signed},
                            {"signature_checked", v->signature_checked},
                            {"signed_by", signer.empty() ? Json(nullptr) : Json(signer)},
                            {"problems", v->problems}});
  } else if (v->ok) {
    std::ostream& out = *a.out;
    out << "Bundle OK: " << v->count << " entries, " << v->first_seq << ".." << v->last_seq << " (" << v->records
        << " records";
    if (v->open_batches > 0) out << ", " << v->open_batches << " batches not yet settled";
    out << ")\n";
    out << "  head       " << v->last_seq << " " << v->head_hash << " (" << v->head_at << ")\n";
    out << "  follows    " << v->first_prev_hash
        << (v->first_seq == 1 ? " (the start of the ledger)" : " (the hash of entry " + std::to_string(v->first_seq - 1) + ")")
        << "\n";
    if (v->has_anchor)
      out << "  anchor     entries 1.." << v->anchor_through << " were pruned by the purge log's retention (anchor entry "
          << v->anchor_seq << ")\n";
    out << "  created    " << v->created_at << " by retention " << v->tool_version << "\n";
    std::string rules;
    for (const std::string& h : v->rules_hashes) rules += (rules.empty() ? "" : ", ") + h;
    out << "  rules      " << (rules.empty() ? "(no run starts in the range)" : rules) << "\n";
    if (v->signature_checked)
      out << "  signed by  " << signer << " (verified with " << vm["verify-key"].as<std::string>() << ")\n";
    else if (v->is_signed)
      out << "  signed by  " << (signer.empty() ? "(unreadable public key)" : signer)
          << " (NOT checked: pass --verify-key with the signer's public key)\n";
    else
      out << "  signed by  nobody (not signed)\n";
  }
  if (!v->ok) {
    std::string what;
    for (const std::string& p : v->problems) what += "\n  " + p;
    return Status::AuditFailed("bundle " + dir + " verification FAILED:" + what);
  }
  return Status::Ok();
}

Status AuditVerify(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("format", po::value<std::string>()->value_name("FORMAT"), "table or json")(
      "against", po::value<std::string>()->value_name("FILE"),
      "a checkpoint file (audit checkpoint): also detect a ledger cut back past it or rewritten up to it")(
      "verify-key", po::value<std::string>()->value_name("PEM"),
      "Ed25519 public key: the checkpoint must carry a valid signature by it")(
      "accept-anchor-schedules", kAcceptAnchorSchedulesHelp)(
      "bundle", po::value<std::string>()->value_name("DIR"),
      "verify an evidence bundle (audit export --bundle) instead, offline: reads no config, rules or state; with "
      "--verify-key its signature must verify");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr,
                             "retention audit verify [--against FILE [--verify-key PEM]] [--accept-anchor-schedules] "
                             "[--format table|json]\n       retention audit verify --bundle DIR [--verify-key PEM] "
                             "[--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  if ((*vm)->count("bundle")) return VerifyBundle(a, **vm, *format);
  if ((*vm)->count("verify-key") && !(*vm)->count("against"))
    return Status::Usage("--verify-key needs --against FILE (or --bundle DIR)");
  std::optional<audit::Checkpoint> checkpoint;
  if ((*vm)->count("against")) {
    auto cp = audit::ReadCheckpointFile((**vm)["against"].as<std::string>());
    if (!cp.ok()) return cp.status();
    if ((*vm)->count("verify-key"))
      RETENTION_RETURN_IF_ERROR(audit::VerifyCheckpointSignature((**vm)["verify-key"].as<std::string>(), *cp));
    checkpoint = std::move(*cp);
  }
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = OpenLedger(*a.env, *config);
  if (!state.ok()) return state.status();
  auto verified = VerifyFully(*config, **state, checkpoint ? &*checkpoint : nullptr,
                              (*vm)->count("accept-anchor-schedules") > 0);
  if (!verified.ok()) return verified.status();
  const VerifyReport* report = &verified->report;
  std::string schedule_warning;
  for (const std::string& w : verified->warnings) {
    *a.err << "warning: " << w << "\n";
    schedule_warning += (schedule_warning.empty() ? "" : "; ") + w;
  }
  if (*format == "json") {
    PrintJsonDocument(*a.out, "verify",
                      Json{{"ok", report->ok},
                            {"entries", report->entries},
                            {"records", report->records},
                            {"open_batches", report->open_batches},
                            {"head_seq", report->head_seq},
                            {"head_hash", report->head_hash},
                            {"head_at", report->head_at ? Json(FormatTimestamp(*report->head_at)) : Json(nullptr)},
                            {"first_seq", report->first_seq},
                            {"pruned_by_anchor", report->anchor ? Json(report->anchor_seq) : Json(nullptr)},
                            {"checkpoint_seq", checkpoint ? Json(checkpoint->seq) : Json(nullptr)},
                            {"warning", schedule_warning.empty() ? Json(nullptr) : Json(schedule_warning)},
                            {"first_bad_seq", report->first_bad_seq ? Json(*report->first_bad_seq) : Json(nullptr)},
                            {"problem", report->problem.empty() ? Json(nullptr) : Json(report->problem)}});
  } else if (report->ok) {
    *a.out << "Ledger OK: " << report->entries << " entries (" << report->records << " records";
    if (report->open_batches > 0) *a.out << ", " << report->open_batches << " batches not yet settled";
    *a.out << "), head " << report->head_seq << " " << report->head_hash << "\n";
    if (report->anchor)
      *a.out << "Entries 1.." << report->first_seq - 1 << " were pruned by the purge log's retention: anchor entry "
             << report->anchor_seq << " accounts for them (written before " << FormatTimestamp(report->anchor->cutoff)
             << ", delete after " << report->anchor->delete_after.ToString() << ")\n";
    if (checkpoint && checkpoint->seq < report->first_seq && checkpoint->seq > 0)
      *a.out << "Checkpoint OK: entry " << checkpoint->seq << " was pruned as its retention allowed"
             << (checkpoint->signature.empty() ? "" : " (signed)") << "\n";
    else if (checkpoint)
      *a.out << "Checkpoint OK: entry " << checkpoint->seq << " still has hash " << checkpoint->hash
             << (checkpoint->signature.empty() ? "" : " (signed)") << "\n";
  }
  if (!report->ok) {
    // Past the head: the chain itself verified (a cut tail found otherwise).
    const std::string good = report->head_seq >= report->first_seq && report->first_bad_seq.value_or(0) > report->head_seq
                                 ? " (entries " + std::to_string(report->first_seq) + ".." +
                                       std::to_string(report->head_seq) + " verify)"
                                 : "";
    return Status::AuditFailed("ledger verification FAILED at entry " +
                               std::to_string(report->first_bad_seq.value_or(0)) + ": " + report->problem + good);
  }
  return Status::Ok();
}

Status AuditCheckpoint(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("out", po::value<std::string>()->value_name("FILE"), "write it to FILE (default: stdout)")(
      "sign-key", po::value<std::string>()->value_name("PEM"), "sign it with this Ed25519 private key")(
      "accept-anchor-schedules", kAcceptAnchorSchedulesHelp);
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr,
                             "retention audit checkpoint [--out FILE] [--sign-key PEM] [--accept-anchor-schedules]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = OpenLedger(*a.env, *config);
  if (!state.ok()) return state.status();
  // A checkpoint pins the purge log's schedule in the rules: they must load.
  auto rules = LoadRules(*config);
  if (!rules.ok())
    return rules.status().WithContext("no checkpoint taken: it pins the purge log's schedule from the rules");
  // A checkpoint vouches for the chain up to its head: take it only from a
  // ledger that verifies, as `audit verify` would.
  auto verified = VerifyFully(*config, **state, nullptr, (*vm)->count("accept-anchor-schedules") > 0);
  if (!verified.ok()) return verified.status();
  const VerifyReport* report = &verified->report;
  if (!report->ok) {
    return Status::AuditFailed("no checkpoint taken: ledger verification FAILED at entry " +
                               std::to_string(report->first_bad_seq.value_or(0)) + ": " + report->problem);
  }
  for (const std::string& w : verified->warnings) *a.err << "warning: " << w << "\n";
  audit::Checkpoint cp;
  cp.schedule = audit::PurgeLogScheduleOf(*rules, *config);
  cp.rules_hash = rules->hash;
  cp.seq = report->head_seq;
  cp.hash = report->head_hash;
  if (report->head_at) cp.head_at = FormatTimestamp(*report->head_at);
  cp.time = FormatTimestamp(std::chrono::floor<std::chrono::seconds>(a.env->Now()));
  if ((*vm)->count("sign-key"))
    RETENTION_RETURN_IF_ERROR(audit::SignCheckpoint((**vm)["sign-key"].as<std::string>(), &cp));
  const std::string text = cp.ToJson();
  if ((*vm)->count("out")) {
    const std::string file = (**vm)["out"].as<std::string>();
    RETENTION_RETURN_IF_ERROR(WriteFileAtomically(file, text));
    *a.err << "Checkpoint of entry " << cp.seq << " written to " << file << "\n";
  } else {
    *a.out << text;
  }
  return Status::Ok();
}

// The filters shared by `audit log` and `audit export`.
void AddFilterOptions(po::options_description* desc) {
  desc->add_options()("since", po::value<std::string>()->value_name("TIME"), "entries appended at or after TIME")(
      "until", po::value<std::string>()->value_name("TIME"), "entries appended before TIME")(
      "run", po::value<int64_t>()->value_name("ID"), "entries of this run")(
      "category", po::value<std::string>()->value_name("NAME"), "entries of this category")(
      "store", po::value<std::string>()->value_name("NAME"), "entries of this store")(
      "target", po::value<std::string>()->value_name("NAME"), "entries of this target")(
      "key", po::value<std::string>()->value_name("KEY"), "entries of this record key")(
      "subject", po::value<std::string>()->value_name("KIND:ID"), "entries of this data subject, e.g. customer:42")(
      "kind", po::value<std::string>()->value_name("KINDS"),
      "comma-separated: run_start, run_end, delete, hold_placed, hold_released, reconciled, kept, batch");
}

Result<audit::LedgerFilter> FilterFromOptions(const po::variables_map& vm, const Config& config, Timestamp now,
                                              std::ostream& notices) {
  audit::LedgerFilter f;
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  for (const char* name : {"since", "until"}) {
    if (!vm.count(name)) continue;
    // Around a DST change the window widens: --since earlier, --until later.
    const auto pick = std::string(name) == "since" ? TimeZone::Pick::kEarlier : TimeZone::Pick::kLater;
    auto t = ParseMomentArgument(std::string("--") + name, vm[name].as<std::string>(), *zone, pick, now, notices);
    if (!t.ok()) return t.status();
    (std::string(name) == "since" ? f.since : f.until) = *t;
  }
  if (vm.count("run")) f.run_id = vm["run"].as<int64_t>();
  if (vm.count("category")) f.category = vm["category"].as<std::string>();
  if (vm.count("store")) f.store = vm["store"].as<std::string>();
  if (vm.count("target")) f.target = vm["target"].as<std::string>();
  if (vm.count("key")) f.key = vm["key"].as<std::string>();
  if (vm.count("subject")) f.subject = vm["subject"].as<std::string>();
  if (vm.count("kind")) RETENTION_RETURN_IF_ERROR(audit::ParseKinds(vm["kind"].as<std::string>(), &f.kinds));
  return f;
}

// `audit export --bundle DIR`: an evidence bundle (audit/evidence_bundle.h)
// of a contiguous range of a ledger whose chain verifies.
Status ExportBundle(const CommandArgs& a, const po::variables_map& vm) {
  for (const char* o : {"run", "category", "store", "target", "key", "subject", "kind", "format", "out"})
    if (vm.count(o))
      return Status::Usage(std::string("--") + o +
                           " does not go with --bundle: a bundle is a contiguous range of entries, so that its chain "
                           "can be re-checked (choose it with --since, --until, --from-seq, --to-seq)");
  audit::BundleRange range;
  for (const char* o : {"from-seq", "to-seq"})
    if (vm.count(o) && vm[o].as<int64_t>() < 1) return Status::Usage(std::string("--") + o + " must be 1 or more");
  if (vm.count("from-seq")) range.from_seq = vm["from-seq"].as<int64_t>();
  if (vm.count("to-seq")) range.to_seq = vm["to-seq"].as<int64_t>();
  if (range.from_seq && range.to_seq && *range.from_seq > *range.to_seq)
    return Status::Usage("--from-seq is after --to-seq");
  // Refused before anything is read or written.
  const std::filesystem::path dir = vm["bundle"].as<std::string>();
  std::error_code ec;
  const bool existed = std::filesystem::exists(dir, ec);
  if (existed && !std::filesystem::is_directory(dir, ec))
    return Status::Usage(dir.string() + " exists and is not a directory: no bundle written");
  if (existed && !std::filesystem::is_empty(dir, ec))
    return Status::Usage(dir.string() + " exists and is not empty: a bundle goes into a new or empty directory; "
                                        "nothing written");
  auto config = LoadConfigOnly(vm);
  if (!config.ok()) return config.status();
  auto filter = FilterFromOptions(vm, *config, a.env->Now(), *a.err);
  if (!filter.ok()) return filter.status();
  range.since = filter->since;
  range.until = filter->until;
  auto state = OpenLedger(*a.env, *config);
  if (!state.ok()) return state.status();
  // A bundle vouches for the chain it holds: take it only from a ledger
  // that verifies, as a checkpoint is.
  std::unique_ptr<ProgressMeter> meter = LedgerMeter("verify", **state, /*streams_to_terminal=*/false);
  ProgressReader reader(**state, meter.get());
  auto report = VerifyLedger(reader, (*state)->Now());
  if (meter) meter->Finish();
  if (!report.ok()) return report.status();
  if (!report->ok)
    return Status::AuditFailed("no bundle written: ledger verification FAILED at entry " +
                               std::to_string(report->first_bad_seq.value_or(0)) + ": " + report->problem);
  if (!existed) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create " + dir.string() + ": " + ec.message());
  }
  audit::BundleWriteOptions opt;
  opt.dir = dir;
  opt.range = range;
  if (vm.count("sign-key")) opt.sign_key = vm["sign-key"].as<std::string>();
  opt.created_at = std::chrono::floor<std::chrono::seconds>(a.env->Now());
  auto written = audit::WriteEvidenceBundle(**state, *report, opt);
  if (!written.ok()) {
    if (!existed) std::filesystem::remove(dir, ec);  // ours, and empty again
    return written.status();
  }
  *a.err << "Bundle of " << written->count << " entries (" << written->first_seq << ".." << written->last_seq
         << ", head " << written->head_hash << ") written to " << dir.string();
  if (!written->signed_by.empty()) *a.err << ", signed by " << written->signed_by;
  *a.err << "\n";
  return Status::Ok();
}

// audit log (formats table|json|jsonl|csv) and audit export (jsonl|csv).
Status AuditLog(const CommandArgs& a, bool export_mode) {
  po::options_description desc("Options");
  AddFilterOptions(&desc);
  desc.add_options()("format", po::value<std::string>()->value_name("FORMAT"),
                     export_mode ? "jsonl (default) or csv" : "table (default), json (one document), jsonl or csv");
  if (export_mode)
    desc.add_options()("out", po::value<std::string>()->value_name("FILE"), "write to FILE (default: stdout)")(
        "bundle", po::value<std::string>()->value_name("DIR"),
        "write an evidence bundle into DIR (new or empty): the entries, lossless, and a manifest that `audit verify "
        "--bundle` checks offline; a contiguous range (--since, --until, --from-seq, --to-seq)")(
        "sign-key", po::value<std::string>()->value_name("PEM"),
        "with --bundle: sign the manifest with this Ed25519 private key")(
        "from-seq", po::value<int64_t>()->value_name("SEQ"), "with --bundle: start at entry SEQ")(
        "to-seq", po::value<int64_t>()->value_name("SEQ"), "with --bundle: end at entry SEQ");
  AddCommonOptions(&desc);
  const std::string usage =
      std::string("retention audit ") + (export_mode ? "export" : "log") +
      " [--since TIME] [--until TIME] [--run ID] [--category NAME] [--store NAME] [--target NAME] [--key KEY] "
      "[--subject KIND:ID] [--kind KINDS] " +
      (export_mode ? "[--format jsonl|csv] [--out FILE]\n       retention audit export --bundle DIR [--sign-key PEM] "
                     "[--since TIME] [--until TIME] [--from-seq SEQ] [--to-seq SEQ]"
                   : "[--format table|json|jsonl|csv]");
  auto vm = ParseCommandLine(a, desc, nullptr, usage);
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  if (export_mode && (*vm)->count("bundle")) return ExportBundle(a, **vm);
  for (const char* o : {"sign-key", "from-seq", "to-seq"})
    if (export_mode && (*vm)->count(o)) return Status::Usage(std::string("--") + o + " goes with --bundle DIR");
  std::string format = export_mode ? "jsonl" : "table";
  if ((*vm)->count("format")) {
    format = (**vm)["format"].as<std::string>();
    const bool ok = export_mode ? (format == "jsonl" || format == "csv")
                                : (format == "table" || format == "json" || format == "jsonl" || format == "csv");
    if (!ok)
      return Status::Usage("--format: '" + format + "' is not one of " +
                           (export_mode ? "jsonl, csv" : "table, json, jsonl, csv"));
  }
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto filter = FilterFromOptions(**vm, *config, a.env->Now(), *a.err);
  if (!filter.ok()) return filter.status();
  auto state = OpenLedger(*a.env, *config);
  if (!state.ok()) return state.status();

  std::unique_ptr<AtomicFile> file;
  std::ostream* out = a.out;
  std::string dest;
  if (export_mode && (*vm)->count("out")) {
    dest = (**vm)["out"].as<std::string>();
    auto created = AtomicFile::Create(dest);
    if (!created.ok()) return created.status();
    file = std::move(*created);
    out = &file->out();
  }
  int64_t n = 0;
  if (format == "csv") audit::WriteCsvHeader(*out);
  // --format json: one document (util/json_document.h), written as the scan
  // goes so that memory does not grow with the ledger; its entries are the
  // objects `jsonl` prints one a line, without their null members.
  if (format == "json") *out << "{\"format\": \"retention-log/1\", \"entries\": [\n";
  std::optional<ClockDisplay> clocks;
  if (format == "table") {
    audit::WriteTableHeader(*out);
    auto zone = TimeZone::Load(config->time_zone);
    if (!zone.ok()) return zone.status();
    clocks = ClockDisplay::Load(*config, **state, std::move(*zone));
  }
  std::unique_ptr<ProgressMeter> meter =
      LedgerMeter(export_mode ? "export" : "log", **state, dest.empty() && ::isatty(STDOUT_FILENO));
  int64_t last_seq = 0;
  // Rows: entries, and records (per-record entries and batch entries'
  // candidates), audit/ledger_query.h.
  Status st = audit::ScanRows(**state, *filter, [&](const LedgerEntry& e, const LedgerRecord* record) {
    if (format == "csv") {
      audit::WriteCsvRow(e, *out, record);
    } else if (format == "table") {
      audit::WriteTableRow(clocks->Show(e), *out, clocks->zone());
    } else if (format == "json") {
      Json entry = audit::EntryToJson(e, record);
      DropNullMembers(&entry);
      *out << (n == 0 ? "" : ",\n") << DumpJson(entry);
    } else {
      audit::WriteJsonLine(e, *out, record);
    }
    ++n;
    if (meter) meter->Update(last_seq = e.seq, "");
    return static_cast<bool>(*out);
  });
  if (meter) {
    // A filter may stop short of the head: the scan still read to it.
    auto head = (*state)->Head();
    if (st.ok()) meter->Finish(head.ok() ? std::max(last_seq, head->seq) : last_seq, "");
    else meter->Finish();
  }
  if (!st.ok()) return st;
  if (format == "json") *out << (n == 0 ? "" : "\n") << "]}\n";
  out->flush();
  if (!*out) return Status::IoError(dest.empty() ? "cannot write to stdout" : "cannot write " + file->tmp_path().string());
  if (!dest.empty()) {
    RETENTION_RETURN_IF_ERROR(file->Commit());
    *a.err << "Exported " << n << " entries to " << dest << "\n";
  } else if (format == "table") {
    *a.err << n << " entries\n";
  }
  return Status::Ok();
}

std::string Short(const std::string& hash) { return hash.substr(0, 12); }

Status AuditRuns(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("format", po::value<std::string>()->value_name("FORMAT"), "table or json")(
      "last", po::value<int>()->value_name("N"), "only the last N runs");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr, "retention audit runs [--last N] [--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = OpenLedger(*a.env, *config);
  if (!state.ok()) return state.status();
  std::optional<size_t> last;
  if ((*vm)->count("last")) {
    if ((**vm)["last"].as<int>() < 0) return Status::Usage("--last must not be negative");
    last = static_cast<size_t>((**vm)["last"].as<int>());
  }
  // From the runs table, each run told by its own entries (audit/run_history.h).
  auto runs = audit::SummarizeRuns(**state, last);
  if (!runs.ok()) return runs.status();
  const size_t first = 0;
  if (*format == "json") {
    Json arr = Json::array();
    for (size_t i = first; i < runs->size(); ++i) arr.push_back((*runs)[i].ToJson());
    // A summary, not the entries: a name that is not UTF-8 is shown
    // replaced (`audit export` keeps its bytes).
    PrintJsonDocument(*a.out, "runs", {{"runs", std::move(arr)}});
    return Status::Ok();
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-5s %-20s %-20s %-10s %-12s %-8s %-12s %-20s %8s %5s %-8s %s\n", "RUN", "START",
                "END", "USER", "HOST", "VERSION", "RULES", "AS-OF", "DELETED", "KEPT", "OUTCOME", "EXIT");
  *a.out << line;
  for (size_t i = first; i < runs->size(); ++i) {
    const audit::RunSummary& r = (*runs)[i];
    // "2026-11-22T03:00:00.123Z" -> "2026-11-22 03:00:00": seconds are enough here.
    auto trim = [](std::string s) {
      if (s.size() > 19) s.resize(19);
      if (s.size() > 10 && s[10] == 'T') s[10] = ' ';
      return s;
    };
    std::snprintf(line, sizeof line, "%-5lld %-20s %-20s %-10s %-12s %-8s %-12s %-20s %8lld %5lld %-8s %s\n",
                  static_cast<long long>(r.id), r.start_pruned ? "(pruned)" : trim(r.started_at).c_str(),
                  r.ended_at.empty() ? "-" : trim(r.ended_at).c_str(), r.user.c_str(), r.host.c_str(),
                  r.version.c_str(), Short(r.rules_hash).c_str(), trim(r.as_of).c_str(),
                  static_cast<long long>(r.deleted), static_cast<long long>(r.kept), r.outcome.c_str(),
                  r.exit_code ? std::to_string(*r.exit_code).c_str() : "-");
    *a.out << line;
    if (!r.deleted_by_category.empty()) {
      std::string per;
      for (const auto& [c, count] : r.deleted_by_category) per += (per.empty() ? "" : ", ") + c + " " + std::to_string(count);
      *a.out << "      deleted: " << per;
      if (r.kept_by_hold) *a.out << "; kept by a hold: " << r.kept_by_hold;
      *a.out << "\n";
    }
    if (r.pruned) *a.out << "      pruned from the purge log: " << r.pruned << " entries\n";
    if (r.undeletable) {
      std::string per;
      for (const auto& [t, count] : r.undeletable_by_target)
        per += (per.empty() ? "" : ", ") + t + " " + std::to_string(count);
      *a.out << "      could not be deleted (kept): " << per << "\n";
    }
  }
  return Status::Ok();
}

// `audit show --entry SEQ`: one ledger entry; for a batch entry, its
// records decoded (key, clock, subject, identity) with their outcome, and
// its settlement: the entry that settled it, and the records it kept with
// their reasons. The records come from the record view
// (ledger/ledger_records.h), which decodes the payload and applies the
// settlement, so this reads them as `audit log` does.
Status ShowEntry(const CommandArgs& a, StateDb& state, int64_t seq, const std::string& format) {
  auto read = state.ReadEntry(seq);
  if (!read.ok()) return read.status();
  if (!*read)
    return Status::Usage("entry " + std::to_string(seq) +
                         " is not in the ledger (not written yet, or pruned behind an anchor)");
  const LedgerEntry& entry = **read;
  std::vector<LedgerRecord> records;
  size_t wanted = 0;
  if (entry.kind == LedgerKind::kBatch) {
    auto payload = DecodeBatchPayload(entry.payload);
    if (!payload.ok()) return payload.status().WithContext("batch entry " + std::to_string(seq));
    wanted = payload->records.size();
    // Its records are emitted at the entry that settles it, or as pending
    // when the ledger ends first.
    RecordStream stream([&](const LedgerRecord& r) {
      if (r.batch_seq == seq) records.push_back(r);
      return true;
    }, [&](const LedgerEntry& e) { return e.seq == seq; });
    Status bad = Status::Ok();
    RETENTION_RETURN_IF_ERROR(state.ScanLedger(seq, [&](const LedgerEntry& e) {
      auto added = stream.Add(e);
      if (!added.ok()) {
        bad = added.status();
        return false;
      }
      return records.size() < wanted;
    }));
    RETENTION_RETURN_IF_ERROR(bad);
    if (records.size() < wanted) (void)stream.Finish();
  }
  std::optional<LedgerEntry> settler;
  if (!records.empty() && records.front().settled_seq != 0) {
    auto s = state.ReadEntry(records.front().settled_seq);
    if (!s.ok()) return s.status();
    settler = std::move(*s);
  }
  std::map<std::string, int64_t> counts;
  for (const LedgerRecord& r : records) ++counts[r.OutcomeName()];

  if (format == "json") {
    Json j;
    Json e = audit::EntryToJson(entry);
    e.erase("payload");  // decoded below
    j["entry"] = e;
    if (entry.kind == LedgerKind::kBatch) {
      if (settler) {
        j["settlement"] = {{"seq", settler->seq},
                           {"kind", std::string(LedgerKindName(settler->kind))},
                           {"at", FormatTimestamp(settler->at)},
                           {"reconciled", records.front().reconciled}};
      } else {
        j["settlement"] = nullptr;
      }
      Json c = Json::object();
      for (const char* k : {"deleted", "kept", "replaced", "pending"}) c[k] = counts[k];
      j["counts"] = c;
      Json rs = Json::array();
      for (const LedgerRecord& r : records) {
        Json x = {{"index", r.index},
                  {"key", TextJson(r.entry.record_key)},
                  {"clock", TextJson(r.entry.clock)},
                  {"subject", TextJson(r.entry.subject)},
                  {"identity", r.identity ? TextJson(*r.identity) : Json(nullptr)},
                  {"outcome", r.OutcomeName()}};
        if (r.outcome == LedgerRecord::Outcome::kKept) {
          Json why = Json::parse(r.entry.detail, nullptr, false);
          x["kept"] = why.is_discarded() ? Json(TextJson(r.entry.detail)) : why;
        }
        rs.push_back(std::move(x));
      }
      j["records"] = rs;
    }
    PrintJsonDocument(*a.out, "entry", std::move(j));
    return Status::Ok();
  }
  std::ostream& out = *a.out;
  out << "Entry " << entry.seq << ": " << LedgerKindName(entry.kind) << ", written " << FormatTimestamp(entry.at)
      << "\n";
  out << "  run       " << entry.run_id << "\n";
  if (!entry.category.empty()) out << "  category  " << entry.category << "\n";
  if (!entry.store.empty()) out << "  target    " << entry.store << "/" << entry.target << "\n";
  if (!entry.rule.empty()) out << "  rule      " << entry.rule << "\n";
  if (!entry.cutoff.empty()) out << "  cutoff    " << entry.cutoff << "\n";
  if (entry.kind == LedgerKind::kBatch) out << "  batch     " << entry.batch << "\n";
  if (!entry.record_key.empty()) out << "  key       " << entry.record_key << "\n";
  if (!entry.detail.empty()) out << "  detail    " << entry.detail << "\n";
  out << "  hash      " << entry.hash << "\n";
  if (entry.kind != LedgerKind::kBatch) return Status::Ok();
  if (settler) {
    out << "  settled   by entry " << settler->seq << " (" << LedgerKindName(settler->kind) << ", "
        << FormatTimestamp(settler->at) << ")" << (records.front().reconciled ? ", by reconciliation after a crash" : "")
        << "\n";
  } else {
    out << "  settled   not yet: the batch is open (in flight, or left by a crash for the next purge to reconcile); "
           "it claims nothing\n";
  }
  out << "\nRecords: " << records.size() << " (" << counts["deleted"] << " deleted, " << counts["replaced"]
      << " replaced, " << counts["kept"] << " kept, " << counts["pending"] << " pending)\n";
  out << "  index  key  clock  subject  identity  outcome  reason\n";
  for (const LedgerRecord& r : records) {
    out << "  " << r.index << "  " << r.entry.record_key << "  " << r.entry.clock << "  "
        << (r.entry.subject.empty() ? "-" : r.entry.subject) << "  "
        << (r.identity ? (r.identity->empty() ? "\"\"" : *r.identity) : "-") << "  " << r.OutcomeName();
    if (r.outcome == LedgerRecord::Outcome::kKept) out << "  " << audit::DetailString(r.entry.detail, "reason");
    out << "\n";
  }
  return Status::Ok();
}

Status AuditShow(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("run", po::value<int64_t>()->value_name("ID"), "the run")(
      "entry", po::value<int64_t>()->value_name("SEQ"),
      "one ledger entry instead of a run; a batch entry with its records and settlement")(
      "format", po::value<std::string>()->value_name("FORMAT"), "table or json")(
      "max-kept", po::value<int64_t>()->value_name("N")->default_value(100), "list at most N kept entries");
  AddCommonOptions(&desc);
  po::positional_options_description pos;
  pos.add("run", 1);
  auto vm = ParseCommandLine(a, desc, &pos,
                             "retention audit show RUN|--entry SEQ [--format table|json] [--max-kept N]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  const bool entry = (*vm)->count("entry") > 0;
  if (entry && (*vm)->count("run")) return Status::Usage("audit show takes a run id or --entry SEQ, not both");
  if (!entry && !(*vm)->count("run"))
    return Status::Usage("audit show needs a run id (see `retention audit runs`) or --entry SEQ");
  if (entry && (**vm)["entry"].as<int64_t>() < 1)
    return Status::Usage("--entry must be a ledger entry's seq (1 or more)");
  const int64_t max_kept = (**vm)["max-kept"].as<int64_t>();
  if (max_kept < 0) return Status::Usage("--max-kept must not be negative");
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto config = LoadConfigOnly(**vm);
  if (!config.ok()) return config.status();
  auto state = OpenLedger(*a.env, *config);
  if (!state.ok()) return state.status();
  if (entry) return ShowEntry(a, **state, (**vm)["entry"].as<int64_t>(), *format);
  const int64_t run = (**vm)["run"].as<int64_t>();

  std::optional<LedgerEntry> start, end;
  std::map<std::pair<std::string, std::string>, int64_t> deleted;  // (category, store/target)
  std::map<std::pair<std::string, std::string>, int64_t> reconciled_deletes;
  std::vector<LedgerEntry> kept, reconciled, anchors;
  std::vector<Json> kept_json;  // as audit export prints them (with the record's fields)
  int64_t kept_total = 0, total_deleted = 0;
  audit::LedgerFilter filter;
  filter.run_id = run;
  // Records (per-record entries, batch entries' settled candidates) and
  // the run's other entries (audit/ledger_query.h ROWS).
  Status st = audit::ScanRows(**state, filter, [&](const LedgerEntry& e, const LedgerRecord* record) {
    if (record != nullptr && record->outcome == LedgerRecord::Outcome::kPending) return true;
    switch (e.kind) {
      case LedgerKind::kRunStart: start = e; break;
      case LedgerKind::kRunEnd: end = e; break;
      case LedgerKind::kDelete:
        ++total_deleted;
        ++deleted[{e.category, e.store + "/" + e.target}];
        if ((record != nullptr && record->reconciled) ||
            e.detail.find("\"reconciled\":true") != std::string::npos)
          ++reconciled_deletes[{e.category, e.store + "/" + e.target}];
        break;
      case LedgerKind::kKept:
        if (kept_total++ < max_kept) {
          kept.push_back(e);
          kept_json.push_back(audit::EntryToJson(e, record));
        }
        break;
      case LedgerKind::kReconciled: reconciled.push_back(e); break;
      case LedgerKind::kAnchor: anchors.push_back(e); break;
      default: break;
    }
    return true;
  });
  if (!st.ok()) return st;
  if (!start && !end && deleted.empty() && kept_total == 0 && reconciled.empty() && anchors.empty())
    return Status::Usage("run " + std::to_string(run) + " is not in the ledger (see `retention audit runs`)");

  auto detail = [](const std::optional<LedgerEntry>& e) -> Json {
    if (!e) return nullptr;
    Json j = Json::parse(e->detail, nullptr, false);
    return j.is_discarded() ? Json(e->detail) : j;
  };
  if (*format == "json") {
    Json j;
    j["run"] = run;
    j["start"] = start ? audit::EntryToJson(*start) : Json(nullptr);
    j["end"] = end ? audit::EntryToJson(*end) : Json(nullptr);
    Json per = Json::array();
    for (const auto& [k, n] : deleted) {
      auto r = reconciled_deletes.find(k);
      // k.second is "store/target"; a store's name has no '/'.
      const size_t slash = k.second.find('/');
      per.push_back({{"category", TextJson(k.first)},
                     {"store", TextJson(k.second.substr(0, slash))},
                     {"target", TextJson(slash == std::string::npos ? "" : k.second.substr(slash + 1))},
                     {"deleted", n},
                     {"reconciled", r == reconciled_deletes.end() ? 0 : r->second}});
    }
    j["deleted"] = per;
    j["deleted_total"] = total_deleted;
    j["kept_total"] = kept_total;
    Json ks = Json::array();
    for (auto& k : kept_json) ks.push_back(std::move(k));
    j["kept"] = ks;
    Json rs = Json::array();
    for (const auto& e : reconciled) rs.push_back(audit::EntryToJson(e));
    j["reconciliations"] = rs;
    Json as = Json::array();
    for (const auto& e : anchors) as.push_back(audit::EntryToJson(e));
    j["purge_log_anchors"] = as;
    // Every text here went through TextJson or a JSON parser, so nothing
    // is replaced; `replace` only guards against a throw.
    PrintJsonDocument(*a.out, "run", std::move(j));
    return Status::Ok();
  }
  std::ostream& out = *a.out;
  out << "Run " << run << "\n";
  if (start) {
    const Json d = detail(start);
    out << "  started   " << FormatTimestamp(start->at) << " (ledger entry " << start->seq << ")\n";
    for (const char* k : {"user", "host", "version", "rules_hash", "as_of", "command"})
      if (d.is_object() && d.contains(k))
        out << "  " << k << std::string(10 - std::min<size_t>(9, std::strlen(k)), ' ')
            << PayloadText(d, k) << "\n";
  } else {
    out << "  (no run_start entry in the ledger: pruned with the purge log's oldest entries, or never written)\n";
  }
  if (end) {
    const Json d = detail(end);
    out << "  ended     " << FormatTimestamp(end->at) << " (ledger entry " << end->seq << ")\n";
    for (const char* k : {"outcome", "exit_code", "error", "note"})
      if (d.is_object() && d.contains(k))
        out << "  " << k << std::string(10 - std::min<size_t>(9, std::strlen(k)), ' ')
            << PayloadText(d, k) << "\n";
  } else {
    out << "  (no run_end entry: still running, or the process died and no later run has noticed yet)\n";
  }
  out << "\nDeleted: " << total_deleted << "\n";
  for (const auto& [k, n] : deleted) {
    out << "  " << k.first << "  " << k.second << "  " << n;
    auto r = reconciled_deletes.find(k);
    if (r != reconciled_deletes.end()) out << " (" << r->second << " settled by reconciliation)";
    out << "\n";
  }
  for (const auto& e : anchors) {
    if (auto anchor = ReadAnchor(e); anchor.ok())
      out << "\nPruned from the purge log: entries " << anchor->from << " to " << anchor->through
          << ", written before " << e.cutoff << " (anchor entry " << e.seq << ")\n";
  }
  out << "\nKept at delete time: " << kept_total << "\n";
  for (const auto& e : kept)
    out << "  #" << e.seq << " " << e.category << "  " << e.store << "/" << e.target << "/" << e.record_key << ": "
        << audit::DetailString(e.detail, "reason") << "\n";
  if (kept_total > static_cast<int64_t>(kept.size()))
    out << "  ... " << kept_total - static_cast<int64_t>(kept.size())
        << " more (retention audit log --run " << run << " --kind kept)\n";
  out << "\nReconciliations: " << reconciled.size() << "\n";
  for (const auto& e : reconciled)
    out << "  #" << e.seq << " " << e.category << "  " << e.store << "/" << e.target << ": " << e.detail << "\n";
  return Status::Ok();
}

constexpr const char* kAuditHelp =
    "Usage: retention audit SUBCOMMAND [OPTIONS]\n"
    "  verify      check the ledger's hash chain, the anchors' schedules and the state's tables against it\n"
    "              (--against CHECKPOINT, --accept-anchor-schedules); exit 78 if it was altered;\n"
    "              --bundle DIR [--verify-key PEM]: an evidence bundle, offline (no config, no state)\n"
    "  checkpoint  write the ledger's head (seq, hash, time) and the purge log's schedule as JSON,\n"
    "              optionally Ed25519-signed\n"
    "  log         print entries, filtered (--since --until --run --category --store --target --key\n"
    "              --subject --kind), --format table|json|csv\n"
    "  export      the same filters, --format jsonl (lossless) or csv (for people), --out FILE;\n"
    "              --bundle DIR [--sign-key PEM]: an evidence bundle that `verify --bundle DIR` checks offline\n"
    "  runs        one line per run: who, when, rules, as-of, deleted, outcome, exit code\n"
    "  show RUN    one run's story: its start and end, deletions per target, kept records and why\n"
    "  show --entry SEQ\n"
    "              one ledger entry; a batch entry with its records decoded and its settlement\n";

}  // namespace

Status RunAuditCommand(const CommandArgs& a) {
  if (a.args.empty())
    return Status::Usage("audit needs a subcommand: verify, checkpoint, log, export, runs or show (try 'retention audit --help')");
  if (a.args[0] == "--help" || a.args[0] == "-h") {
    *a.out << kAuditHelp;
    return Status::Ok();
  }
  CommandArgs sub = a;
  sub.name = "audit " + a.args[0];
  sub.args.erase(sub.args.begin());
  const std::string& s = a.args[0];
  if (s == "verify") return AuditVerify(sub);
  if (s == "checkpoint") return AuditCheckpoint(sub);
  if (s == "log") return AuditLog(sub, /*export_mode=*/false);
  if (s == "export") return AuditLog(sub, /*export_mode=*/true);
  if (s == "runs") return AuditRuns(sub);
  if (s == "show") return AuditShow(sub);
  return Status::Usage("unknown audit subcommand '" + s + "' (verify, checkpoint, log, export, runs, show)");
}

}  // namespace retention
