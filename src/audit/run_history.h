// The runs as the purge log tells them: `audit runs` and `audit show RUN`.
//
// Built from the ledger alone (run_start / run_end details, and the
// delete, kept and reconciled entries of each run), not from the runs
// table, so that an auditor relies only on what the hash chain covers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "state/state_db.h"
#include "util/status.h"

namespace retention::audit {

struct RunSummary {
  int64_t id = 0;
  int64_t start_seq = 0;  // 0 when the run_start entry is missing
  int64_t end_seq = 0;    // 0 while running (or when the process died unnoticed)
  std::string started_at, ended_at;  // entry times (FormatTimestamp); "" when absent
  std::optional<Timestamp> ended;    // the run_end entry's time
  std::string user, host, version, rules_hash, as_of, command;
  // run_end's outcome; "running" without one, "pruned" when its start and
  // end are both gone with the purge log's oldest entries.
  std::string outcome = "running";
  std::optional<int> exit_code;
  int64_t deleted = 0;
  std::map<std::string, int64_t> deleted_by_category;
  int64_t kept = 0;          // kept entries
  int64_t kept_by_hold = 0;  // of which the reason is a hold
  int64_t reconciled = 0;
  // Due records the run could not delete (kept: immutable, a mount point...),
  // per "category/target", from run_end's detail (SPEC 6.14).
  int64_t undeletable = 0;
  std::map<std::string, int64_t> undeletable_by_target;
  // The categories whose targets the run went through, from run_end's
  // detail (every selected target is listed, deletions or not): what a
  // successful run applied (`report`). Not in ToJson.
  std::set<std::string> categories;
  // Purge log entries the run anchored for pruning (its own retention).
  int64_t pruned = 0;
  // The run_start entry is gone because the purge log's retention pruned it.
  bool start_pruned = false;
  std::string error;         // run_end detail.error

  nlohmann::json ToJson() const;
};

// Every run in the ledger, oldest first. One pass over the ledger; memory
// grows with the number of runs only.
Result<std::vector<RunSummary>> SummarizeRuns(StateDb& state);

}  // namespace retention::audit
