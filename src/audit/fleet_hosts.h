// The hosts of a state a fleet shares (issue 15), as `status` shows them:
// per host, its last successful run and the runs it left "running". A host
// whose timer stopped, or that crashed and never started again, is
// "configured but not applied" on that host, though every other host
// purges on time.
//
// Read from the state's runs table, which names each run's host: a host
// appears once it has run. Not evidence (the chain does not cover the runs
// table; `audit runs` reads the ledger): a monitoring view.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calendar/timestamp.h"
#include "state/state_db.h"
#include "util/status.h"

namespace retention::audit {

struct FleetHost {
  std::string host;
  std::optional<RunInfo> last_success;  // the newest run whose outcome is "ok"
  std::vector<RunInfo> running;         // runs left "running", oldest first
};

// Every host that has run, by name.
Result<std::vector<FleetHost>> SummarizeFleetHosts(StateDb& state);

// What is wrong with `host` at `now`, in `status`'s words (empty: nothing):
// no success since `oldest_allowed`, or a run still "running" that started
// before it (hung, or crashed with no purge since on that host to
// reconcile it).
std::vector<std::string> FleetHostWarnings(const FleetHost& host, Timestamp oldest_allowed,
                                           const std::string& max_age_text);

}  // namespace retention::audit
