// retention plan: the dry run. Opens stores and state read-only.
#include <iostream>

#include "calendar/cutoff.h"
#include "cli/command.h"
#include "cli/measure_meter.h"
#include "cli/state_access.h"
#include "plan/selection.h"
#include "plan/plan.h"
#include "purge/saved_plan.h"
#include "stores/store_set.h"
#include "util/json_document.h"
#include "util/json_text.h"

namespace retention {

Status RunPlanCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()
      ("as-of", po::value<std::string>()->value_name("TIME"), "preview the plan at another moment, past or future")
      ("category", po::value<std::string>()->value_name("NAME"), "only this category")
      ("format", po::value<std::string>()->value_name("FORMAT"), "table or json")
      ("out", po::value<std::string>()->value_name("FILE"),
       "also save the plan, with every deletable key, for `purge --plan FILE`");
  AddCommonOptions(&desc);
  auto vm = ParseCommandLine(a, desc, nullptr,
                             "retention plan [--as-of TIME] [--category NAME] [--format table|json] [--out FILE]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  auto format = FormatOption(**vm, {"table", "json"});
  if (!format.ok()) return format.status();
  auto loaded = LoadConfigAndRules(**vm);
  if (!loaded.ok()) return loaded.status();
  const Config& config = loaded->config;

  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  const Timestamp now = a.env->Now();
  auto as_of_option = AsOfOption(**vm, *zone, now, *a.err);
  if (!as_of_option.ok()) return as_of_option.status();
  const Timestamp as_of = *as_of_option;

  auto state = OpenStateForReading(*a.env, config);
  if (!state.ok()) return state.status();
  // Holds in force now: a hold placed today protects records whatever
  // moment the plan previews.
  auto holds = LoadHoldSet(state->get(), now);
  if (!holds.ok()) return holds.status();
  const std::string category = (*vm)->count("category") ? (**vm)["category"].as<std::string>() : "";
  auto selections = MakeSelections(config, loaded->rules, as_of, category);
  if (!selections.ok()) return selections.status();
  const std::vector<Selection> held = WithHolds(std::move(*selections), *holds);

  StoreSet stores(config, /*read_only=*/true, a.env->file_system);
  MeasureMeter meter("plan");
  auto plan = MakePlan(held, stores, as_of, now, loaded->rules.hash, *holds, meter.Progress());
  meter.Clear();
  if (!plan.ok()) return plan.status();
  if (*format == "json") {
    PrintJsonDocument(*a.out, "plan", PlanToJson(*plan));
  } else {
    PrintPlanTable(*plan, *a.out);
  }
  if ((*vm)->count("out")) {
    const std::string file = (**vm)["out"].as<std::string>();
    RETENTION_RETURN_IF_ERROR(SavePlan(*plan, held, stores, file));
    *a.err << "Saved the plan with " << plan->TotalDeletable() << " keys to " << file << "\n";
  }
  return Status::Ok();
}

}  // namespace retention
