// The purge log's schedule, and the schedules anchors claim to have pruned
// under (SPEC 6.10; ledger/anchor.h).
//
// An anchor proves which entries went and that each was older than the
// cutoff it names, measured by the schedule it names. It cannot prove that
// schedule was the policy: a forger who deletes entries 1..N by hand can
// chain on an anchor claiming "delete after 1 hour" that passes every check
// of the chain. So `audit verify` compares each anchor's schedule with the
// policy from outside the state database:
//
//   - a checkpoint (format 3, audit/checkpoint.h) pins the schedule in
//     force when it was taken: every anchor appended after it (a seq past
//     the checkpoint's, or dated after the checkpoint was taken) must claim
//     a schedule at least as long, and cut off no later than the pinned
//     schedule allowed at the anchor's time; when the pin is "none" (no
//     rule pruned the log), any such anchor fails. No flag relaxes this:
//     after a policy change, take a new checkpoint.
//   - the rules now: every anchor in the ledger must claim a schedule at
//     least as long as the rules' purge-log schedule (any anchor fails when
//     no rule prunes the log), unless the auditor accepts the anchors'
//     schedules (--accept-anchor-schedules: the policy really was shorter
//     when they were written); then each is a warning.
//
// Durations compare soundly (AlwaysAtLeast): "12 months" covers "365 days",
// not the other way round.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calendar/duration.h"
#include "config/config.h"
#include "ledger/ledger.h"
#include "rules/rule.h"
#include "util/status.h"

namespace retention::audit {

struct PurgeLogSchedule {
  // Unset: no rule prunes the purge log ("none"); also when its category has
  // only a floor, under which nothing is ever due.
  std::optional<CalendarDuration> delete_after;
  std::optional<CalendarDuration> keep_at_least;
  std::string time_zone = "UTC";  // the calendar its cutoffs are computed on
  std::string rule;               // "FILE:LINE" of the target; "" when none

  bool prunes() const { return delete_after.has_value(); }
  // "delete after 12 months, keep at least 30 days, UTC" or "none".
  std::string ToString() const;
  bool operator==(const PurgeLogSchedule& o) const {
    return delete_after == o.delete_after && keep_at_least == o.keep_at_least && time_zone == o.time_zone;
  }
};

// The schedule the rules give the purge log (the target on the store
// "purge-log", at most one), on the config's time zone.
PurgeLogSchedule PurgeLogScheduleOf(const RuleSet& rules, const Config& config);

// When the anchor's claimed schedule is shorter than `policy` (or the
// policy prunes nothing), what is wrong in words naming the anchor and both
// schedules, with `whose` saying where the policy came from ("the
// checkpoint's", "the rules'"); else "".
std::string AnchorShorterThan(const AnchorInLedger& a, const PurgeLogSchedule& policy, const std::string& whose);

struct ScheduleFindings {
  // The first anchor that fails: its seq and what is wrong. Unset: none.
  std::optional<int64_t> bad_seq;
  std::string problem;
  // Anchors shorter than the rules, accepted by the auditor.
  std::vector<std::string> warnings;
};

struct PinnedSchedule {
  PurgeLogSchedule schedule;
  int64_t checkpoint_seq = 0;
  std::optional<Timestamp> taken_at;  // when the checkpoint was taken
};

// Compares every anchor of `report` with the checkpoint's pin (when given)
// and with `rules` (when given; nullopt: the rules were not loaded, which
// the caller allows only when there is no anchor to compare).
ScheduleFindings CheckAnchorSchedules(const VerifyReport& report, const std::optional<PinnedSchedule>& pin,
                                      const std::optional<PurgeLogSchedule>& rules, bool accept_anchor_schedules);

}  // namespace retention::audit
