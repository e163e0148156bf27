// `retention erase`: an erasure request executed (SPEC 5 `erase`). Every
// record of one subject, wherever a target maps the subject's kind, goes
// whatever its age, through the same batch protocol, run lock, safety
// valve and ledger as a purge (purge/run_frame.h, purge/batch_executor.h);
// floors, holds and categories marked `erasable = false` keep theirs. The
// result is an ErasureReceipt of facts (erase/erasure.h); the command
// renders it (erase/erasure_receipt.h).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "env/env.h"
#include "erase/erasure.h"
#include "holds/hold_set.h"
#include "plan/selection.h"
#include "purge/saved_plan.h"
#include "rules/rule.h"
#include "state/state_db.h"
#include "util/status.h"

namespace retention {

// The most bytes of a subject id and of a request reference.
inline constexpr size_t kMaxSubjectIdBytes = 256;
inline constexpr size_t kMaxRequestBytes = 128;

// "KIND:ID" checked against the rules: the kind must be one some target
// maps (Invalid, 65, listing those that are); the id non-empty, at most
// kMaxSubjectIdBytes, with no control character and none of `*`, `?`, `%`
// (what reads as a wildcard to a person, a shell or a LIKE pattern: an
// erasure names one subject, never a pattern). The id is only ever bound
// as a value, so the refusal is for the operator's sake, not the SQL's.
Result<ErasureSubject> ParseErasureSubject(const RuleSet& rules, const std::string& text);

// A request reference: non-empty, printable ASCII, at most kMaxRequestBytes.
Status CheckRequestReference(const std::string& reference);

// The selection of every record of `subject` in each target mapping its
// kind (the purge log's excluded: it maps no subject), without holds.
Result<std::vector<Selection>> ErasureSelections(const Config& config, const RuleSet& rules, Timestamp now,
                                                 const ErasureSubject& subject);

// A request not done (pending, failed, or partial: records still kept) whose
// deadline has passed at `now`: `erase list` flags it, `status` reports it.
// A partial request kept only by floors, holds and exceptions is answered
// (the receipt says until when): only pending and failed ones are late.
inline bool RequestPastDeadline(const ErasureRequest& r, Timestamp now) {
  return (r.outcome == "pending" || r.outcome == "failed") && now >= r.deadline;
}

// An erase plan saved by `erase --dry-run --out`, opened for `erase --plan`:
// the reader, and the subject and request its header names. Invalid (65)
// when the file is not an erase plan (a purge plan, garbage), was made
// under other rules, or names another subject or request than `subject` /
// `request` when those are given (non-empty).
struct OpenedErasePlan {
  std::unique_ptr<SavedPlanReader> reader;
  ErasureSubject subject;
  std::string request;
};
Result<OpenedErasePlan> OpenErasePlan(const RuleSet& rules, const std::filesystem::path& file,
                                      const std::string& subject, const std::string& request);

struct EraseOptions {
  Timestamp now{};  // the real clock at the start
  ErasureSubject subject;
  std::string request;
  // Preview: nothing is written, nothing locked; `preview_state` (may be
  // null: no state database) gives the holds and the request's history.
  bool dry_run = false;
  StateDb* preview_state = nullptr;
  // Dry run: also save the preview as an erase plan (purge/saved_plan.h):
  // every record it would erase, per target, with the request, the
  // subject, the rules hash and the time it was made.
  std::optional<std::filesystem::path> save_plan;
  // Execute exactly the records of this erase plan (opened for this
  // request's subject and rules, see OpenErasePlan), each re-checked inside
  // its delete under the erasure's selection and the holds then; nothing
  // it does not list is deleted.
  SavedPlanReader* plan = nullptr;
  bool allow_mass_delete = false;
  bool allow_clock_jump = false;
  bool allow_clock_behind = false;
  std::optional<int64_t> batch_size;
  std::string command_line;
  const std::atomic<bool>* stop_requested = nullptr;
  Env env;  // required (clock, state, locks, file system)
  // The exit code a run's Status ends with, for its row and run_end.
  std::function<int(const Status&)> exit_code_of;
};

// Executes (or previews) the request. A receipt whenever the run started,
// its outcome saying how it ended ("failed"/"stopped" with the status in
// `*run_status`); an error Status when it could not start (usage, invalid
// subject, lock, safety valve: nothing deleted).
Result<ErasureReceipt> RunErase(const Config& config, const RuleSet& rules, const EraseOptions& options,
                                Status* run_status);

}  // namespace retention
