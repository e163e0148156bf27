// The refusals that protect a run before it deletes anything: the safety
// valve (SPEC 6.6) and the clock sanity check (SPEC 6.7).
#pragma once

#include <optional>

#include "config/config.h"
#include "plan/plan.h"
#include "rules/rule.h"
#include "state/state_db.h"

namespace retention {

// Refuses (SafetyValve, exit 76) a plan that deletes more than
// limits.max_delete records in all, or more than max_delete_fraction (the
// category's override, else the limit) of any target's records, unless
// allowed. The message names every target over its limit.
Status CheckSafetyValve(const Plan& plan, const RuleSet& rules, const Limits& limits, bool allow_mass_delete);

// The same refusal, same message, from each target's cheap bound
// (Store::BoundDue): a target whose bound stays within its limits cannot
// be over them, so only targets whose bound crosses a limit (all of them
// when the bounds' sum crosses max_delete) are measured exactly
// (Store::Measure). `selections` must carry their holds (WithHolds).
Status CheckSafetyValveBound(StoreSet& stores, const std::vector<Selection>& selections, const RuleSet& rules,
                             const Limits& limits, bool allow_mass_delete);

// Refuses (ClockSanity, exit 77) when `now` is earlier than the last run's
// start (unless allow_clock_behind: the operator says that run's clock was
// wrong), or later by more than max_clock_jump (unless allow_clock_jump).
Status CheckClockSanity(const std::optional<RunInfo>& last, Timestamp now, const CalendarDuration& max_jump,
                        bool allow_clock_jump, bool allow_clock_behind);

// In a state a fleet shares: Busy when a run of another host than `host`
// left a batch open (its batch entry, or a pending batch) over the records
// of `target` (RecordsKey, under any target name; a batch of a run under
// other rules than `rules` counts as the same when its store is, since
// only the rules of its run say what its target's name meant): that host was killed
// mid-batch and reconciles the batch at its next start, judging which of
// its candidates are gone. Were this host to delete them first, the ledger
// would claim them twice. The run skips the target, says why, and exits
// 75, as when another host holds it.
Status CheckNoOtherHostsOpenBatch(StateDb& state, const RuleSet& rules, const Target& target,
                                  const std::string& host);

// Refuses (Usage, exit 64) an --as-of later than `now` (purge never deletes
// ahead of time) and a batch size outside 1..100000.
Status CheckRunArguments(Timestamp as_of, Timestamp now, int64_t batch_size);

// CheckClockSanity against the last run the state database recorded; in a
// state a fleet shares, the last run of `only_host` (this host): another
// host's run may have started a moment after this clock was read, and
// another host's clock is not this one's.
Status CheckClockSanity(StateDb& state, const std::optional<std::string>& only_host, Timestamp now,
                        const Limits& limits, bool allow_clock_jump,
                        bool allow_clock_behind);

// Refuses (AuditFailed, exit 78) to extend a chain whose recent history was
// altered: the last entries of the ledger must verify (STYLE: "never
// continue on an unknown state").
Status CheckLedgerTail(StateDb& state);

}  // namespace retention
