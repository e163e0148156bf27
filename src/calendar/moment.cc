#include "calendar/moment.h"

#include <algorithm>
#include <cctype>

#include <date/date.h>

#include "calendar/clock_value.h"

namespace retention {

const char kMomentForms[] =
    "2026-11-22, 2026-11-22T03:00:00Z, 2026-11-22T03:00:00+01:00, 2026-11-22 03:00, now, today, yesterday, "
    "tomorrow, -7d, -90 days, +2 weeks";

namespace {

using std::chrono::microseconds;
using DateLocalTime = date::local_time<microseconds>;

// Years a relative moment may reach: those the text forms can name.
constexpr int kFirstYear = 1;
constexpr int kLastYear = 9999;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The instant of a local time, the picked reading when the zone skips or
// repeats it, with the notice that says so.
Moment Resolve(std::string_view text, TimeZone::LocalTime local, const TimeZone& zone, TimeZone::Pick pick) {
  const TimeZone::Readings r = zone.Resolve(local);
  const bool earlier = pick == TimeZone::Pick::kEarlier;
  Moment m;
  m.instant = earlier ? r.earlier : r.later;
  if (r.kind == TimeZone::Readings::Kind::kUnique) return m;
  m.notice = "'" + std::string(text) + "' " +
             (r.kind == TimeZone::Readings::Kind::kGap ? "does not exist in " + zone.name() + " (the clocks skip it)"
                                                       : "occurs twice in " + zone.name() + " (the clocks go back)") +
             "; using " + FormatTimestamp(m.instant) + ", the " + (earlier ? "earlier" : "later") + " reading (the " +
             (earlier ? "later" : "earlier") + " is " + FormatTimestamp(earlier ? r.later : r.earlier) + ")";
  return m;
}

bool InRange(date::year y) { return y >= date::year{kFirstYear} && y <= date::year{kLastYear}; }

// `now` moved by `sign` * `d` on the calendar of `zone`.
Result<Moment> Shift(std::string_view text, Timestamp now, int sign, const CalendarDuration& d, const TimeZone& zone,
                     TimeZone::Pick pick) {
  const auto out_of_range = [&] {
    return Status::Invalid("'" + std::string(text) + "' is outside years " + std::to_string(kFirstYear) + ".." +
                           std::to_string(kLastYear));
  };
  if (d.unit == DurationUnit::kSeconds || d.unit == DurationUnit::kMinutes || d.unit == DurationUnit::kHours) {
    const int64_t seconds = d.amount * (d.unit == DurationUnit::kHours ? 3600 : d.unit == DurationUnit::kMinutes ? 60 : 1);
    Moment m;
    m.instant = now + std::chrono::seconds{sign * seconds};
    if (!InRange(date::year_month_day(date::floor<date::days>(m.instant)).year())) return out_of_range();
    return m;
  }
  const DateLocalTime local(zone.ToLocal(now).time_since_epoch());
  const date::local_days day = date::floor<date::days>(local);
  const microseconds time_of_day = local - day;
  const date::year_month_day ymd(day);
  date::local_days target;
  if (d.unit == DurationUnit::kDays || d.unit == DurationUnit::kWeeks) {
    const int64_t days = d.unit == DurationUnit::kWeeks ? d.amount * 7 : d.amount;  // at most 700000
    target = day + date::days{static_cast<int>(sign * days)};
    if (!InRange(date::year_month_day(target).year())) return out_of_range();
  } else {
    const int64_t months = d.unit == DurationUnit::kYears ? d.amount * 12 : d.amount;  // at most 1.2 million
    const int64_t total = int64_t{static_cast<int>(ymd.year())} * 12 + (static_cast<unsigned>(ymd.month()) - 1) +
                          sign * months;
    const int64_t year = total >= 0 ? total / 12 : -((-total + 11) / 12);
    if (year < kFirstYear || year > kLastYear) return out_of_range();
    const date::year_month ym(date::year{static_cast<int>(year)},
                              date::month{static_cast<unsigned>(total - year * 12 + 1)});
    target = date::local_days{ym / std::min(ymd.day(), (ym / date::last).day())};
  }
  return Resolve(text, TimeZone::LocalTime((target + time_of_day).time_since_epoch()), zone, pick);
}

}  // namespace

Result<Moment> ParseMoment(std::string_view text, const TimeZone& zone, TimeZone::Pick pick, Timestamp now) {
  const std::string_view t = Trim(text);
  if (t.empty()) return Status::Invalid("an empty moment");
  const std::string word = Lower(t);
  if (word == "now") return Moment{now, ""};
  for (auto [name, days] : {std::pair{"today", 0}, std::pair{"yesterday", -1}, std::pair{"tomorrow", 1}}) {
    if (word != name) continue;
    const date::local_days today = date::floor<date::days>(DateLocalTime(zone.ToLocal(now).time_since_epoch()));
    return Resolve(t, TimeZone::LocalTime((today + date::days{days}).time_since_epoch()), zone, pick);
  }
  if (t.front() == '-' || t.front() == '+') {
    auto d = ParseDuration(t.substr(1));
    if (!d.ok()) return Status::Invalid("'" + std::string(t) + "' is not a duration before or after now: " +
                                        d.status().message());
    return Shift(t, now, t.front() == '-' ? -1 : 1, *d, zone, pick);
  }
  auto parts = SplitClockText(t);
  if (!parts) return Status::Invalid("cannot read '" + std::string(t) + "' as a moment");
  if (parts->offset) return Moment{Timestamp(parts->local.time_since_epoch() - *parts->offset), ""};
  return Resolve(t, parts->local, zone, pick);
}

}  // namespace retention
