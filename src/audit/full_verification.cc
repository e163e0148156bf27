#include "audit/full_verification.h"

#include <optional>

#include "audit/anchor_schedule.h"
#include "audit/state_cross_check.h"
#include "rules/rule_loader.h"

namespace retention::audit {

Result<FullVerification> VerifyFully(const Config& config, StateDb& state, LedgerReader& reader,
                                     const Checkpoint* checkpoint, bool accept_anchor_schedules) {
  // Read before the ledger: see state_cross_check.h.
  auto tables = ReadStateTables(state);
  if (!tables.ok()) return tables.status();
  auto report = checkpoint ? VerifyLedger(reader, checkpoint->head(), state.Now()) : VerifyLedger(reader, state.Now());
  if (!report.ok()) return report.status();
  FullVerification v{std::move(*report), {}};
  VerifyReport& r = v.report;
  if (!r.ok) return v;
  auto fail = [&](int64_t seq, std::string problem) {
    r.ok = false;
    r.first_bad_seq = seq;
    r.problem = std::move(problem);
  };
  if (!r.anchors.empty()) {
    std::optional<PurgeLogSchedule> policy;
    auto rules = LoadRules(config);
    if (rules.ok()) {
      policy = PurgeLogScheduleOf(*rules, config);
    } else if (!accept_anchor_schedules) {
      return rules.status().WithContext(
          "cannot compare the purge log's anchors with its schedule in the rules (or pass --accept-anchor-schedules)");
    } else {
      v.warnings.push_back("the rules do not load, so the anchors' schedules were not compared with them: " +
                           rules.status().message());
    }
    const ScheduleFindings found =
        CheckAnchorSchedules(r, checkpoint ? checkpoint->pin() : std::nullopt, policy, accept_anchor_schedules);
    for (const std::string& w : found.warnings) v.warnings.push_back(w);
    if (found.bad_seq) {
      fail(*found.bad_seq, found.problem);
      return v;
    }
  }
  const CrossCheckFinding cross = CrossCheckState(*tables, r);
  if (cross.bad_seq) {
    fail(*cross.bad_seq, cross.problem);
    return v;
  }
  // The lookup indexes (schema 6) against the entries they name.
  auto subjects = CrossCheckSubjectIndex(state, *tables, r);
  if (!subjects.ok()) return subjects.status();
  if (subjects->bad_seq) fail(*subjects->bad_seq, subjects->problem);
  return v;
}

}  // namespace retention::audit
