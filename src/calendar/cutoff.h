// Cutoffs: the instant `now - duration` on the calendar of a time zone.
//
// A record is due when its clock is strictly earlier than the cutoff
// (IsDue). Every rounding choice here makes the cutoff earlier, never later,
// so that when in doubt a record is kept:
//  - seconds, minutes and hours are subtracted from the instant;
//  - days and weeks move the local calendar date back and keep the local
//    time of day; a local time that does not exist (spring-forward gap) or
//    exists twice (fall-back) resolves to the earlier instant;
//  - months and years move the local year/month back and clamp the day to
//    the end of the month as PostgreSQL does (2026-03-31 - 1 month =
//    2026-02-28), keeping the local time of day.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "calendar/duration.h"
#include "calendar/timestamp.h"
#include "util/status.h"

namespace date {
class time_zone;
}

namespace retention {

// A named IANA zone from the operating system's tz database.
class TimeZone {
 public:
  // Loads "UTC", "Europe/Berlin", ... Unknown names are an Invalid status.
  static Result<TimeZone> Load(std::string_view name);
  static TimeZone Utc();

  const std::string& name() const { return name_; }
  // Null only for Utc() when the tz database cannot be read; the calendar
  // code then computes in UTC without it.
  const date::time_zone* zone() const { return zone_; }

  // Local wall-clock time of an instant in this zone.
  using LocalTime = std::chrono::local_time<std::chrono::microseconds>;
  LocalTime ToLocal(Timestamp t) const;

  // The instant of a local wall-clock time. A local time that does not exist
  // (spring-forward gap) or exists twice (fall-back) has two candidate
  // instants, one per UTC offset around the transition: `pick` chooses.
  // Cutoffs take the earlier (keeps more), text clocks the later (a record
  // looks younger). Precondition: t within years -32000..32000.
  enum class Pick { kEarlier, kLater };
  Timestamp FromLocal(LocalTime t, Pick pick) const;

  // Both candidate instants of a local time, and whether it is unique,
  // skipped (gap) or repeated (overlap). Unique: earlier == later.
  struct Readings {
    enum class Kind { kUnique, kGap, kOverlap };
    Kind kind = Kind::kUnique;
    Timestamp earlier{};
    Timestamp later{};
  };
  Readings Resolve(LocalTime t) const;

 private:
  TimeZone(std::string name, const date::time_zone* zone) : name_(std::move(name)), zone_(zone) {}

  std::string name_;
  const date::time_zone* zone_;
};

// The cutoff ComputeCutoff gives when it cannot compute one: the start of
// year -32000, earlier than any clock the engine reads (text clocks start at
// year 1, PostgreSQL's at 4713 BC), so nothing is due. Finite, so that
// `now - cutoff` cannot overflow.
inline constexpr Timestamp kNothingDueCutoff =
    std::chrono::sys_days{std::chrono::year{-32000} / 1 / 1};

// `now - d` as described above. Never throws. A cutoff that would fall
// outside the calendar the tz code handles (only absurd cases such as
// "100000 years", or a `now` beyond year +-30000) is kNothingDueCutoff.
Timestamp ComputeCutoff(Timestamp now, const CalendarDuration& d, const TimeZone& zone);

inline bool IsDue(Timestamp clock, Timestamp cutoff) { return clock < cutoff; }

}  // namespace retention
