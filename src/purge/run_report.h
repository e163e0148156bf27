// What a purge run says when it ends: the run's ledger entry detail and the
// log lines per target.
#pragma once

#include <string>

#include "plan/plan.h"
#include "purge/purge.h"
#include "state/state_db.h"

namespace retention {

// The plan as measured before deleting, per target (metrics).
std::vector<PlannedTarget> PlannedTargets(const Plan& plan);

// The run's start entry: who ran what, where, when, as of when, under which
// rules. `host` is this host's name in the state (HostNameInState).
RunInfo StartInfo(Timestamp now, Timestamp as_of, const std::string& rules_hash, const std::string& command,
                  const std::string& host);

// The run's outcome ("ok", "stopped", "failed") and exit status from how
// its targets went: `failure` the first error, `stopped` out of time.
void SetOutcome(const Status& failure, bool stopped, PurgeReport* report);

// The detail of the run's end entry: per target what went and what stayed,
// the total, the error when it failed (compact JSON).
std::string RunEndDetail(const PurgeReport& report);

// The log lines of one target's outcome: debug, and a warning for the
// records it could not delete.
void LogTargetOutcome(const TargetOutcome& outcome, int64_t run_id);

}  // namespace retention
