// The runs as the purge log tells them: `audit runs` and `audit show RUN`.
//
// Which runs there are comes from the runs table (never pruned) and the
// ledger; what each run did comes from the ledger (run_start / run_end
// details, and the delete, kept and reconciled entries and settled batch
// records of each run), read through the run index (StateDb::LookupEntries)
// so that a summary costs the run's own entries, not the whole ledger. The
// record counts come from the run tally index (ledger/run_tally.h, checked
// against the entries by `audit verify`) while a run's entries are all
// there. A run whose entries the purge log's retention pruned is listed as
// "pruned".
#pragma once

#include <cstdint>
#include <functional>
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
  // end are both gone with the purge log's oldest entries, "missing" for a
  // run of the runs table the ledger, never pruned, has no entry of.
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

// The runs, oldest first. With the run tally index (state schema version
// 8), the runs table's runs (the last `last` of them), each from its own
// events and its tally rows. Without it: with `last`, the last that many,
// each read through the run index (up to 64 of them); else, or without the
// run index (an older database opened read-only), every run
// SummarizeRunsByScan finds and every run of the table (those with no
// entry left: "pruned" or "missing"), cut to `last`.
Result<std::vector<RunSummary>> SummarizeRuns(StateDb& state, std::optional<size_t> last = std::nullopt);

// The newest run of the runs table that `table_says` picks and whose
// summary from the ledger `ledger_says` confirms, or nullopt: for `status`'s
// last successful and last ended runs, without reading every run.
Result<std::optional<RunSummary>> NewestRun(StateDb& state, const std::function<bool(const RunInfo&)>& table_says,
                                            const std::function<bool(const RunSummary&)>& ledger_says);

// Every run the ledger names, oldest first, in one pass over every entry;
// memory grows with the number of runs only.
Result<std::vector<RunSummary>> SummarizeRunsByScan(StateDb& state);

}  // namespace retention::audit
