#include "calendar/cutoff.h"

#include <algorithm>

#include <date/tz.h>

namespace retention {
namespace {

using std::chrono::microseconds;
using DateLocalTime = date::local_time<microseconds>;

// date::year holds +-32767. A `now` within +-30000 years, moved back by at
// most 100000 weeks (~1917 years), stays inside it and after
// kNothingDueCutoff; months and years are checked against kMinTargetYear.
constexpr int kMaxNowYear = 30000;
constexpr int64_t kMinTargetYear = -32000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// date::locate_zone throws std::runtime_error for unknown names, and a zone's
// file is read lazily on first use, which can throw too. Reading it once here
// means later lookups on a TimeZone we hand out cannot throw.
const date::time_zone* LocateAndLoad(const std::string& name) {
  const date::time_zone* zone = date::locate_zone(name);
  (void)zone->get_info(date::sys_seconds{});
  return zone;
}

}  // namespace

Result<TimeZone> TimeZone::Load(std::string_view name) {
  const std::string owned(name);
  try {
    return TimeZone(owned, LocateAndLoad(owned));
  } catch (...) {  // unknown name, or an unreadable tz database
  }
  return Status::Invalid("unknown time zone \"" + owned +
                         "\" (expected an IANA name such as \"UTC\" or \"Europe/Berlin\")");
}

TimeZone TimeZone::Utc() {
  // Without a readable tz database UTC still works: zone_ null means UTC.
  static const date::time_zone* const utc = []() -> const date::time_zone* {
    try {
      return LocateAndLoad("UTC");
    } catch (...) {
      return nullptr;
    }
  }();
  return TimeZone("UTC", utc);
}

TimeZone::LocalTime TimeZone::ToLocal(Timestamp t) const {
  if (zone_ == nullptr) return LocalTime(t.time_since_epoch());
  const date::sys_info info = zone_->get_info(std::chrono::floor<std::chrono::seconds>(t));
  return LocalTime(t.time_since_epoch() + info.offset);
}

TimeZone::Readings TimeZone::Resolve(LocalTime t) const {
  Readings r;
  if (zone_ == nullptr) {
    r.earlier = r.later = Timestamp(t.time_since_epoch());
    return r;
  }
  const date::local_info info =
      zone_->get_info(date::local_seconds(std::chrono::floor<std::chrono::seconds>(t.time_since_epoch())));
  const Timestamp first(t.time_since_epoch() - info.first.offset);
  if (info.result == date::local_info::unique) {
    r.earlier = r.later = first;
    return r;
  }
  // Gap or overlap: one reading per offset around the transition.
  const Timestamp second(t.time_since_epoch() - info.second.offset);
  r.kind = info.result == date::local_info::nonexistent ? Readings::Kind::kGap : Readings::Kind::kOverlap;
  r.earlier = std::min(first, second);
  r.later = std::max(first, second);
  return r;
}

Timestamp TimeZone::FromLocal(LocalTime t, Pick pick) const {
  const Readings r = Resolve(t);
  return pick == Pick::kEarlier ? r.earlier : r.later;
}

Timestamp ComputeCutoff(Timestamp now, const CalendarDuration& d, const TimeZone& zone) {
  // Amounts ParseDuration never produces; a negative one would move the
  // cutoff into the future and make everything due.
  if (d.amount < 0 || d.amount > kMaxDurationAmount) return kNothingDueCutoff;
  if (now < date::sys_days{date::year{-kMaxNowYear} / 1 / 1} ||
      now >= date::sys_days{date::year{kMaxNowYear} / 1 / 1}) {
    return kNothingDueCutoff;
  }
  if (d.unit == DurationUnit::kHours) return now - std::chrono::hours{d.amount};
  if (d.unit == DurationUnit::kMinutes) return now - std::chrono::minutes{d.amount};
  if (d.unit == DurationUnit::kSeconds) return now - std::chrono::seconds{d.amount};

  const DateLocalTime local(zone.ToLocal(now).time_since_epoch());
  const date::local_days day = date::floor<date::days>(local);
  const microseconds time_of_day = local - day;

  date::local_days target;
  if (d.unit == DurationUnit::kDays || d.unit == DurationUnit::kWeeks) {
    const int64_t days = d.unit == DurationUnit::kWeeks ? d.amount * 7 : d.amount;
    target = day - date::days{static_cast<int>(days)};
  } else {
    // Months and years: move the year/month back in 64 bits (100000 years
    // leaves date::year's range), then clamp the day to the target month's
    // end, as PostgreSQL does.
    const int64_t months = d.unit == DurationUnit::kYears ? d.amount * 12 : d.amount;
    const date::year_month_day ymd(day);
    const int64_t total = int64_t{static_cast<int>(ymd.year())} * 12 +
                          (static_cast<unsigned>(ymd.month()) - 1) - months;
    const int64_t year = FloorDiv(total, 12);
    if (year < kMinTargetYear) return kNothingDueCutoff;
    const date::year_month ym(date::year{static_cast<int>(year)},
                              date::month{static_cast<unsigned>(total - year * 12 + 1)});
    target = date::local_days{ym / std::min(ymd.day(), (ym / date::last).day())};
  }
  // Keep the local time of day; in a gap or overlap take the earlier instant.
  return zone.FromLocal(TimeZone::LocalTime((target + time_of_day).time_since_epoch()),
                        TimeZone::Pick::kEarlier);
}

}  // namespace retention
