// Durations, the one grammar of every option and rule key: "90 days",
// "12 months", "7 years", "36 hours", "30m", "1h", "1d", "2w", "1y".
//
// An integer and a unit. Seconds, minutes and hours are exact; days and
// weeks are calendar days
// of the configured zone (23 to 25 hours across DST); months and years are
// calendar months, end of month clamped (see cutoff.h). Because a day or a
// month has no fixed length, durations of different families are compared
// soundly: AlwaysAtLeast(a, b) holds only when a is at least b from every
// possible starting instant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace retention {

enum class DurationUnit { kHours, kDays, kWeeks, kMonths, kYears, kMinutes, kSeconds };

// Largest amount ParseDuration accepts, in any unit.
inline constexpr int64_t kMaxDurationAmount = 100000;

struct CalendarDuration {
  int64_t amount = 0;
  DurationUnit unit = DurationUnit::kDays;

  // Canonical text: "90 days", "1 month".
  std::string ToString() const;
  bool operator==(const CalendarDuration&) const = default;
};

// Parses "<integer>[blanks]<unit>". Units, case-insensitive:
//   s, sec, second, seconds            m, min, minute, minutes
//   h, hour, hours                     d, day, days
//   w, week, weeks                     mo, month, months
//   y, year, years
// "m" is minutes, as in systemd and Go; "M" alone is refused as ambiguous
// (a month or a minute?) rather than guessed. A bare number is refused:
// seconds or days is a guess too. The integer is positive and at most
// 100000. The error message names what is wrong and the accepted forms,
// without a location (the caller adds the option or FILE:LINE:COL).
Result<CalendarDuration> ParseDuration(std::string_view text);

// True when, from any instant in any zone, going back by `a` reaches at
// least as far as going back by `b`. Within a family the amounts compare
// exactly (1 week = 7 days, 1 year = 12 months, 1 hour = 60 minutes);
// across families the shortest possible `a` is compared with the longest
// possible `b`:
//   seconds, minutes, hours: exact; day: 22.5 h .. 25.5 h (whole-hour and Lord Howe's
//   half-hour DST, with margin); month: 28 .. 31 days; year: 365 .. 366 days.
// So "12 months" >= "365 days" holds, "365 days" >= "12 months" does not.
bool AlwaysAtLeast(const CalendarDuration& a, const CalendarDuration& b);

}  // namespace retention
