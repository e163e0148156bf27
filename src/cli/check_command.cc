// retention check: config and rules, checked against the live stores.
#include <cstdio>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/state_access.h"
#include "plan/selection.h"
#include "plan/plan.h"
#include "plan/target_checks.h"
#include "rules/rule_overlay.h"
#include "state/sqlite_state_db.h"
#include "stores/store_set.h"
#include "util/json_document.h"
#include "util/json_text.h"

namespace retention {

namespace {

std::string TargetSummary(const Target& t) {
  if (!t.paths.empty()) {
    std::string globs;
    for (const auto& p : t.paths) globs += (globs.empty() ? "" : ",") + p;
    return t.store + ":" + globs;
  }
  if (t.table.empty()) return t.store;  // the purge log
  return t.store + ":" + t.table;
}

}  // namespace

Status RunCheckCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()("format", po::value<std::string>()->value_name("FORMAT"), "table or json");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr, "retention check [--config PATH] [--format table|json]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto loaded = LoadConfigAndRules(**vm);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;
  const RuleSet& rules = loaded->rules;
  if (!StateExistsAt(config.state)) WarnNoStateDatabase(config);

  StoreSet stores(config, /*read_only=*/true, a.env->file_system);
  TargetChecks checks;
  RETENTION_RETURN_IF_ERROR(CheckTargets(config, AllTargets(rules), stores, CheckDepth::kFull, &checks));
  std::vector<std::string>& errors = checks.errors;
  std::vector<std::string>& warnings = checks.warnings;
  std::set<std::string> used;
  for (const Category& c : rules.categories)
    for (const Target& t : c.targets) used.insert(t.store);
  for (const auto& [name, store] : config.stores)
    if (!used.count(name) && store.type != StoreType::kPurgeLog) warnings.push_back(store.where.ToString() + ": store '" + name + "' is not used by any rule");

  // Overlaps: several targets over the same records (SPEC 4).
  std::vector<std::string> overlaps;
  std::vector<std::pair<const Category*, const Target*>> all;
  for (const Category& c : rules.categories)
    for (const Target& t : c.targets) all.emplace_back(&c, &t);
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = i + 1; j < all.size(); ++j) {
      const auto [c1, t1] = all[i];
      const auto [c2, t2] = all[j];
      if (!SameRecords(*t1, *t2)) continue;
      overlaps.push_back(c1->name + "/" + t1->name + " (" + ScheduleText(*c1) + ") and " + c2->name + "/" +
                         t2->name + " (" + ScheduleText(*c2) + ") cover " + TargetSummary(*t1) +
                         ": a hold beats both, the longest floor wins, else either makes a record due");
    }
  }

  // A state `state migrate` moved refuses every purge: the config that
  // still names it is wrong, whatever the stores say.
  if (!config.state.IsPostgres() && StateExistsAt(config.state)) {
    auto moved = SqliteStateMovedTo(config.state.path);
    if (!moved.ok()) return moved.status();
    if (*moved) errors.push_back("state " + config.state.Name() + " was moved to " + **moved + ": name that state");
  }

  for (const auto& w : warnings) *a.err << "warning: " << w << "\n";
  for (const auto& e : errors) *a.err << "error: " << e << "\n";

  std::vector<std::string> rules_dirs;
  for (const auto& d : RulesDirs(config)) rules_dirs.push_back(d.string());

  if (*format == "json") {
    nlohmann::json categories = nlohmann::json::array();
    for (const Category& c : rules.categories) {
      nlohmann::json targets = nlohmann::json::array();
      for (const Target& t : c.targets) {
        nlohmann::json target = {{"store", t.store}, {"target", t.name}, {"rule", t.where.ToString()}};
        if (!t.table.empty()) target["table"] = t.table;
        if (!t.paths.empty()) target["paths"] = t.paths;
        targets.push_back(std::move(target));
      }
      categories.push_back({{"category", c.name},
                            {"description", c.description},
                            {"schedule", ScheduleText(c)},
                            {"policy", c.policy},
                            {"policy_source", c.policy_source},
                            {"targets", targets}});
    }
    PrintJsonDocument(*a.out, "check",
                      {{"config", config.file.string()},
                       {"rules", config.rules_dir.string()},
                       {"rules_dirs", rules_dirs},
                       {"rules_hash", rules.hash},
                       {"categories", categories},
                       {"overlaps", overlaps},
                       {"warnings", warnings},
                       {"errors", errors}});
  } else {
    std::string dirs;
    for (const std::string& d : rules_dirs) dirs += (dirs.empty() ? "" : " + ") + d;
    *a.out << "Config " << config.file.string() << ", rules " << dirs << " ("
           << rules.files.size() << " files, " << rules.categories.size() << " categories)\n\n";
    char line[1024];
    std::snprintf(line, sizeof line, "%-18s %-44s %-36s %s\n", "CATEGORY", "SCHEDULE", "TARGETS", "POLICY");
    *a.out << line;
    for (const Category& c : rules.categories) {
      for (size_t i = 0; i < c.targets.size(); ++i) {
        std::string policy = i == 0 ? c.policy : "";
        if (policy.size() > 60) policy = policy.substr(0, 59) + "~";
        std::snprintf(line, sizeof line, "%-18s %-44s %-36s %s\n", i == 0 ? c.name.c_str() : "",
                      i == 0 ? ScheduleText(c).c_str() : "", TargetSummary(c.targets[i]).c_str(), policy.c_str());
        *a.out << line;
      }
    }
    if (!overlaps.empty()) {
      *a.out << "\nOverlaps:\n";
      for (const auto& o : overlaps) *a.out << "  " << o << "\n";
    }
    *a.out << "\n" << errors.size() << " error" << (errors.size() == 1 ? "" : "s") << ", " << warnings.size()
           << " warning" << (warnings.size() == 1 ? "" : "s") << "\n";
  }
  if (!errors.empty())
    return Status::Invalid(std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors") +
                           ": the rules do not match the live stores (see above)");
  return Status::Ok();
}

}  // namespace retention
