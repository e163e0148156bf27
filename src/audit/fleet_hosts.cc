#include "audit/fleet_hosts.h"

#include <map>

namespace retention::audit {

Result<std::vector<FleetHost>> SummarizeFleetHosts(StateDb& state) {
  auto runs = state.ListRuns();  // by id: a later run of a host replaces an earlier
  if (!runs.ok()) return runs.status();
  std::map<std::string, FleetHost> hosts;
  for (RunInfo& run : *runs) {
    FleetHost& h = hosts[run.host];
    h.host = run.host;
    if (run.outcome == "ok") h.last_success = run;
    if (run.outcome == "running") h.running.push_back(std::move(run));
  }
  std::vector<FleetHost> out;
  for (auto& [name, host] : hosts) out.push_back(std::move(host));
  return out;
}

std::vector<std::string> FleetHostWarnings(const FleetHost& host, Timestamp oldest_allowed,
                                           const std::string& max_age_text) {
  std::vector<std::string> out;
  const std::string who = "host '" + host.host + "': ";
  if (!host.last_success) {
    out.push_back(who + "no purge has ever succeeded there: the policy is configured but not applied on that host");
  } else if (!host.last_success->ended_at || *host.last_success->ended_at < oldest_allowed) {
    out.push_back(who + "no purge succeeded within " + max_age_text + " (last success: run " +
                  std::to_string(host.last_success->id) + ", ended " +
                  (host.last_success->ended_at ? FormatTimestamp(*host.last_success->ended_at) : "-") +
                  "): the policy is configured but not applied on that host");
  }
  for (const RunInfo& run : host.running) {
    if (run.started_at >= oldest_allowed) continue;  // may well be at work
    out.push_back(who + "run " + std::to_string(run.id) + " has been running since " +
                  FormatTimestamp(run.started_at) +
                  ": hung, or killed with no purge on that host since to reconcile it (if it will not run again: "
                  "'retention state reconcile --host " + host.host + "')");
  }
  return out;
}

}  // namespace retention::audit
