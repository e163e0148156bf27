// Overdue: a record past its due moment by more than a grace (issue 18).
//
// A purge runs once a timer period (a day by default), so a record that
// became due a minute after the last run is not late: the next run takes
// it. `status` (and `status --check`) and the metric
// retention_overdue_records count a record as overdue only once it is past
// its due moment + grace. That is measured as the plan as of now - grace:
// cutoffs and floors move with as_of, so what that plan finds deletable is
// what was already due grace ago and is kept by nothing now (holds are
// those in force now).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calendar/cutoff.h"
#include "calendar/duration.h"
#include "config/config.h"
#include "holds/hold_set.h"
#include "plan/selection.h"
#include "rules/rule.h"
#include "stores/store_set.h"
#include "util/status.h"

namespace retention {

// One timer period of the shipped unit.
inline constexpr CalendarDuration kDefaultOverdueGrace{1, DurationUnit::kDays};

// "0", "0s", "0 hours" (no grace), a duration ParseDuration reads
// ("1 day", "36 hours") or its short form ("36h", "2d", "1w").
Result<CalendarDuration> ParseGrace(std::string_view text);

// "1 day"; "none" for a zero grace.
std::string GraceText(const CalendarDuration& grace);

// The grace `status` and the metrics use when no option names one: the
// config's overdue_grace, else kDefaultOverdueGrace.
CalendarDuration ConfiguredGrace(const Config& config);

// A record is overdue at `now` when it was due at this moment.
Timestamp OverdueAsOf(Timestamp now, const CalendarDuration& grace, const TimeZone& zone);

struct CategoryMeasure {
  std::string category;
  TargetStats due_now;  // summed over the category's targets, as of `as_of`
  int64_t overdue = 0;  // deletable as of OverdueAsOf(now, grace)
  std::optional<Timestamp> oldest_overdue;
  bool complete = true;  // every target of the category was measured
};

// The same for one target (`report` shows each target of a policy line).
struct TargetMeasure {
  TargetStats due_now;
  int64_t overdue = 0;
  std::optional<Timestamp> oldest_overdue;
  bool complete = true;  // both passes measured
};

struct OverdueMeasure {
  std::vector<CategoryMeasure> categories;  // in the rules' order
  std::vector<std::pair<std::string, std::string>> targets;  // (category, target), in order
  std::vector<TargetMeasure> per_target;  // parallel to targets
  std::vector<std::string> errors;  // one per target that could not be measured
};

struct MeasureOptions {
  Timestamp now{};
  Timestamp as_of{};  // of due_now (a purge's --as-of); usually now
  CalendarDuration grace = kDefaultOverdueGrace;
  std::string category;  // empty: all
  bool measure_due_now = true;  // false: only the overdue pass
  // false: the first store error is returned; true: the target is left out,
  // its category marked incomplete and the error listed (metrics).
  bool tolerate_store_errors = false;
  // Told before each target is measured (status's progress bar).
  MeasureProgress progress;
};

// Measures every target of the selected categories on `stores` (opened
// read-only by the caller): reads only, one counting pass per plan.
Result<OverdueMeasure> MeasureOverdue(const Config& config, const RuleSet& rules, const HoldSet& holds,
                                      StoreSet& stores, const MeasureOptions& options);

}  // namespace retention
