#include "audit/anchor_schedule.h"

#include "calendar/cutoff.h"

namespace retention::audit {

std::string PurgeLogSchedule::ToString() const {
  if (!delete_after) return "none";
  std::string s = "delete after " + delete_after->ToString();
  if (keep_at_least) s += ", keep at least " + keep_at_least->ToString();
  return s + ", " + time_zone;
}

PurgeLogSchedule PurgeLogScheduleOf(const RuleSet& rules, const Config& config) {
  PurgeLogSchedule s;
  s.time_zone = config.time_zone;
  for (const Category& c : rules.categories) {
    for (const Target& t : c.targets) {
      if (t.store != kPurgeLogStore) continue;
      s.delete_after = c.delete_after;
      s.keep_at_least = c.keep_at_least;
      s.rule = t.where.ToString();
      return s;
    }
  }
  return s;
}

std::string AnchorShorterThan(const AnchorInLedger& a, const PurgeLogSchedule& policy, const std::string& whose) {
  const std::string anchor = "anchor entry " + std::to_string(a.seq) + " (written " + FormatTimestamp(a.at) +
                             ") pruned entries " + std::to_string(a.anchor.from) + " to " +
                             std::to_string(a.anchor.through) + " under 'delete after " +
                             a.anchor.delete_after.ToString() + "'";
  const std::string where = policy.rule.empty() ? "" : " (" + policy.rule + ")";
  if (!policy.prunes())
    return anchor + ", but " + whose + " purge log schedule is none: no rule prunes the purge log" + where;
  // The anchor's schedule must reach back at least as far as each of the
  // policy's durations, from any instant (AlwaysAtLeast is sound across
  // units: "12 months" covers "365 days", not the other way round).
  for (const CalendarDuration* d : {&*policy.delete_after, policy.keep_at_least ? &*policy.keep_at_least : nullptr}) {
    if (d == nullptr || AlwaysAtLeast(a.anchor.delete_after, *d)) continue;
    return anchor + ", shorter than " + whose + " purge log schedule (" + policy.ToString() + ")" + where;
  }
  // The same schedule on another calendar could still reach younger
  // entries: the cutoff it applied must be no later than the policy's at the
  // anchor's own time.
  auto zone = TimeZone::Load(policy.time_zone);
  if (!zone.ok()) return anchor + ", and " + whose + " purge log schedule names an unknown time zone '" +
                         policy.time_zone + "'";
  const Timestamp latest = ComputeCutoff(a.at, *policy.delete_after, *zone);
  if (a.anchor.cutoff > latest)
    return anchor + " with the cutoff " + FormatTimestamp(a.anchor.cutoff) + ", later than " + whose +
           " purge log schedule (" + policy.ToString() + ") allowed at that time (" + FormatTimestamp(latest) + ")" +
           where;
  return "";
}

ScheduleFindings CheckAnchorSchedules(const VerifyReport& report, const std::optional<PinnedSchedule>& pin,
                                      const std::optional<PurgeLogSchedule>& rules, bool accept_anchor_schedules) {
  ScheduleFindings f;
  auto fail = [&](int64_t seq, std::string problem) {
    if (f.bad_seq) return;
    f.bad_seq = seq;
    f.problem = std::move(problem);
  };
  for (const AnchorInLedger& a : report.anchors) {
    // Appended after the checkpoint (its seq is the witness; its date could
    // be forged earlier, so either one counts).
    if (pin && (a.seq > pin->checkpoint_seq || (pin->taken_at && a.at > *pin->taken_at))) {
      if (std::string why = AnchorShorterThan(a, pin->schedule, "the checkpoint's"); !why.empty())
        fail(a.seq, why + ": the checkpoint of entry " + std::to_string(pin->checkpoint_seq) +
                        " pinned that schedule, so entries were removed before their retention ran out (a "
                        "forged anchor?); after a real change of policy, verify against a checkpoint taken since");
    }
    if (rules) {
      if (std::string why = AnchorShorterThan(a, *rules, "the rules'"); !why.empty()) {
        if (accept_anchor_schedules)
          f.warnings.push_back(why + " (accepted: --accept-anchor-schedules)");
        else
          fail(a.seq, why + ": a forged anchor, or a policy lengthened since (if the policy really was shorter "
                            "then, pass --accept-anchor-schedules)");
      }
    }
  }
  return f;
}

}  // namespace retention::audit
