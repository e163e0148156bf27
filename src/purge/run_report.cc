#include "purge/run_report.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "util/identity.h"
#include "util/json_text.h"

namespace retention {

int64_t PurgeReport::TotalDeleted() const {
  int64_t n = 0;
  for (const auto& t : targets) n += t.deleted;
  return n;
}

std::vector<PlannedTarget> PlannedTargets(const Plan& plan) {
  std::vector<PlannedTarget> out;
  for (const TargetPlan& t : plan.targets)
    out.push_back({t.category, t.target, t.stats.due, t.stats.held, t.stats.floor_protected, t.stats.deletable});
  return out;
}

RunInfo StartInfo(Timestamp now, Timestamp as_of, const std::string& rules_hash, const std::string& command,
                  const std::string& host) {
  RunInfo info;
  info.started_at = now;
  info.as_of = as_of;
  info.user = InvokingUser();
  info.host = host;
  info.version = RETENTION_VERSION;
  info.rules_hash = rules_hash;
  info.command = command;
  return info;
}

void SetOutcome(const Status& failure, bool stopped, PurgeReport* report) {
  if (!failure.ok()) {
    report->outcome = "failed";
    report->status = failure;
  } else if (stopped) {
    report->outcome = "stopped";
    report->status = Status::Stopped("stopped early (max runtime or signal) with work left");
  } else if (std::any_of(report->targets.begin(), report->targets.end(),
                         [](const TargetOutcome& t) { return !t.skipped.empty(); })) {
    report->outcome = "stopped";
    report->status = Status::Stopped("work left: a target was skipped because another host was purging it");
  } else {
    report->outcome = "ok";
  }
}

std::string RunEndDetail(const PurgeReport& report) {
  nlohmann::json detail = nlohmann::json::object();
  nlohmann::json per_target = nlohmann::json::array();
  for (const auto& t : report.targets)
    per_target.push_back({{"category", t.category},
                          {"target", t.target},
                          {"deleted", t.deleted},
                          {"batches", t.batches},
                          {"kept_changed", t.kept_changed},
                          {"undeletable", t.undeletable}});
  for (size_t i = 0; i < report.targets.size(); ++i)
    if (!report.targets[i].skipped.empty()) per_target[i]["skipped"] = report.targets[i].skipped;
  detail["targets"] = per_target;
  detail["deleted"] = report.TotalDeleted();
  if (!report.status.ok()) detail["error"] = report.status.message();
  return DumpJson(detail);
}

void LogTargetOutcome(const TargetOutcome& outcome, int64_t run_id) {
  // Debug: the command's report and its per-category log lines say what a
  // target's line would (man/retention.8, OUTPUT).
  spdlog::debug("{}/{}: deleted {} in {} batches{}", outcome.category, outcome.target, outcome.deleted,
               outcome.batches,
               outcome.kept_changed ? fmt::format(", {} kept (changed since selection)", outcome.kept_changed)
                                    : std::string());
  if (!outcome.skipped.empty())
    spdlog::warn("{}/{}: skipped, not purged: {}", outcome.category, outcome.target, outcome.skipped);
  if (outcome.undeletable)
    spdlog::warn("{}/{}: {} due records could not be deleted (kept; see `retention audit log --run {} "
                 "--kind kept`)",
                 outcome.category, outcome.target, outcome.undeletable, run_id);
}

}  // namespace retention
