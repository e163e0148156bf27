// retention cat-rules: the effective rule set after the overlay
// (rules/rule_overlay.h), each file with its origin, as
// `systemd-tmpfiles --cat-config` prints tmpfiles.d:
//
//   # /etc/retention/rules.d/support.toml (overrides /usr/share/retention/rules.d/support.toml)
//   [support_tickets]
//   ...
//
//   # /usr/share/retention/rules.d/usage.toml (masked by /etc/retention/rules.d/usage.toml)
//
//   # rules hash 3f1c... (the `rules hash` of `audit runs`)
//
// The files are printed as they are, not parsed: cat-rules shows what a run
// would read even when a file in it does not load. `--categories` and
// `--targets` list the names the rules define, one a line (they do load the
// rules), for scripts and the bash completion. Changes nothing.
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "rules/rule_overlay.h"
#include "util/file_util.h"
#include "util/json_text.h"

namespace retention {

namespace {

constexpr const char* kUsage =
    "retention cat-rules [--config PATH] [--format text|json] [--categories | --targets]";

std::string Joined(const std::vector<std::filesystem::path>& paths) {
  std::string s;
  for (const auto& p : paths) s += (s.empty() ? "" : ", ") + p.string();
  return s;
}

std::string Header(const RuleFileOrigin& f) {
  if (f.masked()) {
    if (f.overridden.empty())
      return "# " + f.masked_by->string() + " (masks " + f.name + ", which no earlier directory has)";
    return "# " + f.overridden.back().string() + " (masked by " + f.masked_by->string() + ")";
  }
  if (f.overridden.empty()) return "# " + f.path.string();
  return "# " + f.path.string() + " (overrides " + Joined(f.overridden) + ")";
}

nlohmann::json FileJson(const RuleFileOrigin& f, const std::string& content) {
  nlohmann::json overridden = nlohmann::json::array();
  for (const auto& p : f.overridden) overridden.push_back(p.string());
  nlohmann::json j = {{"name", f.name}, {"overrides", overridden}};
  if (f.masked()) {
    j["masked_by"] = f.masked_by->string();
  } else {
    j["path"] = f.path.string();
    j["content"] = content;
  }
  return j;
}

// The names the loaded rules define: categories, or targets (each once).
Status PrintNames(const CommandArgs& a, const po::variables_map& vm, bool targets) {
  auto loaded = LoadConfigAndRules(vm);
  if (!loaded.ok()) return loaded.status();
  std::set<std::string> names;
  for (const Category& c : loaded->rules.categories) {
    if (!targets) names.insert(c.name);
    for (const Target& t : c.targets)
      if (targets) names.insert(t.name);
  }
  for (const std::string& n : names) *a.out << n << "\n";
  return Status::Ok();
}

}  // namespace

Status RunCatRulesCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("format", po::value<std::string>()->value_name("FORMAT"), "text (default) or json")(
      "categories", po::bool_switch(), "only the names of the categories the rules define, one a line")(
      "targets", po::bool_switch(), "only the names of the targets the rules define, one a line");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr, kUsage);
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  const po::variables_map& v = **vm;
  const bool categories = v["categories"].as<bool>(), targets = v["targets"].as<bool>();
  if (categories && targets) return Status::Usage("--categories and --targets do not go together");
  if ((categories || targets) && v.count("format"))
    return Status::Usage("--format does not go with --categories or --targets (they print names, one a line)");
  if (categories || targets) return PrintNames(a, v, targets);
  const std::string format = v.count("format") ? v["format"].as<std::string>() : "text";
  if (format != "text" && format != "json")
    return Status::Usage("--format: unknown format '" + format + "' (expected text, json)");

  auto config = LoadConfigOnly(v);
  if (!config.ok()) return config.status();
  auto overlay = ResolveRuleOverlay(*config);
  if (!overlay.ok()) return overlay.status();
  auto hash = EffectiveRulesHash(*overlay);
  if (!hash.ok()) return hash.status();

  nlohmann::json files = nlohmann::json::array();
  for (const RuleFileOrigin& f : overlay->files) {
    const std::string content = f.masked() ? "" : ReadFileBytes(f.path);
    if (format == "json") {
      files.push_back(FileJson(f, content));
      continue;
    }
    *a.out << Header(f) << "\n" << content;
    if (!content.empty() && content.back() != '\n') *a.out << "\n";
    *a.out << "\n";
  }
  if (format == "json") {
    nlohmann::json dirs = nlohmann::json::array();
    for (const auto& d : overlay->dirs) dirs.push_back(d.string());
    *a.out << DumpJson({{"format", "retention-rules/1"},
                        {"config", config->file.string()},
                        {"dirs", dirs},
                        {"files", files},
                        {"rules_hash", *hash}},
                       2)
           << "\n";
  } else {
    *a.out << "# rules hash " << *hash << " (the rules hash of `retention audit runs`)\n";
  }
  return Status::Ok();
}

}  // namespace retention
