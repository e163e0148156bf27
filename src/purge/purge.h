// `retention purge`: executes the plan in batches, every deletion in the
// ledger (SPEC 5, 6.1-6.7).
//
// The protocol for one batch, which makes the ledger exact after a crash or
// a power loss at any point (SPEC 6.2; the argument is at the top of
// batch_executor.cc):
//   1. pick up to the batch's size of candidates (a short read; sized by
//      time, batch_sizer.h);
//   2. commit its intent, one `batch` ledger entry packing every candidate
//      (ledger/batch_entry.h), durably;
//   3. take the hold barrier shared and re-read the holds in force;
//   4. in one target transaction, delete those candidates that are still
//      deletable under the fresh holds, floors and cutoff; commit;
//   5. make that commit durable (Store::Sync);
//   6. queue the settlement (what stayed, with reasons): it rides in the
//      run's next entry (the next batch entry, or run_end).
// While 3-6 run for one batch, 1-2 run for the next on a second thread.
// A batch left open (a crash between 2 and 6's entry) is reconciled by the
// next run before anything else: after a Sync, each candidate is judged by
// identity, absent ones deleted, present ones kept (reconcile.h).
// batch_executor.h runs steps 2 to 6 for every kind of target; purge.cc is
// the run around it.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "env/env.h"
#include "rules/rule.h"
#include "util/status.h"

namespace retention {

// Where a run stands, after each batch (for progress bars and log lines).
struct PurgeProgress {
  int64_t deletable_total = 0;  // the plan measured at the start; 0: not measured
  int64_t deleted = 0;          // so far, all targets
  // Deleted, or kept at delete time (held since, changed, undeletable): the
  // part of the plan's deletable records the run is done with.
  int64_t settled = 0;
  int64_t batches = 0;          // so far, all targets
  std::string category;         // the target being purged (reported also as it starts)
  std::string target;

  void Add(const std::string& of_category, const std::string& of_target, int64_t went, int64_t kept,
           int64_t in_batches) {
    deleted += went;
    settled += went + kept;
    batches += in_batches;
    category = of_category;
    target = of_target;
  }
};

// One target as the plan measured it at the start of the run (metrics:
// due and held per category).
struct PlannedTarget {
  std::string category;
  std::string target;
  int64_t due = 0;
  int64_t held = 0;
  int64_t floor_protected = 0;
  int64_t deletable = 0;
};

struct PurgeOptions {
  Timestamp now{};                  // the real clock at the start
  std::optional<Timestamp> as_of;   // default: now; never later than now
  std::string category;             // empty: all
  std::optional<int64_t> batch_size;
  std::optional<std::chrono::seconds> max_runtime;
  bool allow_mass_delete = false;
  bool allow_clock_jump = false;
  bool allow_clock_behind = false;
  std::optional<std::filesystem::path> plan_file;
  // Measure the plan at the start (due, held, floor-protected, deletable per
  // target: PurgeReport::planned, the metrics, the progress total): a pass
  // over every due record. Off, the safety valve reads the stores' cheap
  // bounds only (run_guards.h) and `planned` stays empty.
  bool measure_plan = true;
  std::string command_line;         // for the run's ledger entry
  // Polled between batches: SIGTERM/SIGINT ask the run to stop.
  const std::atomic<bool>* stop_requested = nullptr;
  // The clock (max_runtime), the state, the locks and the file system
  // (util/env.h): required; the command passes the one main built.
  Env env;
  // The exit code a run's Status ends with (cli/exit_codes.h): recorded in
  // the run's row and its run_end entry. Required; injected so that purge/
  // does not reach up into cli/.
  std::function<int(const Status&)> exit_code_of;
  // Optional hooks; they observe and never change what the run does.
  // After each settled batch, and as each target starts (no batch yet).
  std::function<void(const PurgeProgress&)> on_batch;
};

struct TargetOutcome {
  std::string category;
  std::string target;
  std::string store;
  int64_t deleted = 0;
  int64_t batches = 0;
  int64_t kept_changed = 0;  // selected, but no longer deletable at delete time
  // Due and deletable, but the store could not remove them (an immutable
  // file, a mount point...): kept with a ledger entry saying why (SPEC 6.14).
  int64_t undeletable = 0;
  // Not purged at all, and why: another host sharing the state was purging
  // it (StateLocks::LockTarget). The run ends with work left (exit 75).
  std::string skipped = {};
};

struct PurgeReport {
  int64_t run_id = 0;
  Timestamp as_of{};
  std::string outcome;  // "ok", "stopped", "failed"
  Status status;        // the exit code of the run
  int64_t reconciled = 0;
  std::vector<TargetOutcome> targets;
  std::string head_hash;  // the ledger head after the run
  std::vector<PlannedTarget> planned;  // the plan measured before deleting (measure_plan)

  int64_t TotalDeleted() const;
};

// Runs a purge. A report is returned whenever the run started (even when it
// failed part way, report.status says how); an error Status when it could
// not start (lock held, clock sanity, safety valve, bad plan file).
Result<PurgeReport> RunPurge(const Config& config, const RuleSet& rules, const PurgeOptions& options);

}  // namespace retention
