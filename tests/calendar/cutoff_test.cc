#include "calendar/cutoff.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace retention {
namespace {

// ---------------------------------------------------------------------------
// An independent model of the calendar, written out here so that the tests
// share no code with the implementation: Hinnant's days_from_civil /
// civil_from_days on 64-bit integers, hand-made month clamping, and the
// DST rules of the three zones under test as their laws state them (valid
// for 2008 onwards). Instants are microseconds since the epoch.

constexpr int64_t kSecond = 1000000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t y;
  int m;
  int d;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

bool IsLeap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kLengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kLengths[m - 1];
}

int Weekday(int64_t days) { return static_cast<int>((days % 7 + 11) % 7); }  // 0 = Sunday

int64_t LastSunday(int64_t y, int m) {
  const int64_t last = DaysFromCivil(y, m, DaysInMonth(y, m));
  return last - Weekday(last);
}

int64_t NthSunday(int64_t y, int m, int n) {
  const int64_t first = DaysFromCivil(y, m, 1);
  return first + (7 - Weekday(first)) % 7 + 7 * (n - 1);
}

// An instant from UTC fields.
int64_t At(int64_t y, int m, int d, int hh = 0, int mm = 0, int ss = 0, int64_t us = 0) {
  return DaysFromCivil(y, m, d) * kDay + hh * kHour + mm * kMinute + ss * kSecond + us;
}

// A zone with one DST rule; DST begins at start(y) and ends at end(y), UTC.
struct DstZone {
  const char* name;
  int64_t std_offset;
  int64_t dst_offset;
  bool southern;  // DST spans the new year
  int64_t (*start)(int64_t year);
  int64_t (*end)(int64_t year);
};

const DstZone kBerlin{"Europe/Berlin", 1 * kHour, 2 * kHour, false,
                      [](int64_t y) { return LastSunday(y, 3) * kDay + 1 * kHour; },
                      [](int64_t y) { return LastSunday(y, 10) * kDay + 1 * kHour; }};
const DstZone kNewYork{"America/New_York", -5 * kHour, -4 * kHour, false,
                       [](int64_t y) { return NthSunday(y, 3, 2) * kDay + 7 * kHour; },
                       [](int64_t y) { return NthSunday(y, 11, 1) * kDay + 6 * kHour; }};
// Lord Howe: +10:30, DST +11:00 from 02:00 standard time on the first
// Sunday of October to 02:00 DST on the first Sunday of April.
const DstZone kLordHowe{"Australia/Lord_Howe", 10 * kHour + 30 * kMinute, 11 * kHour, true,
                        [](int64_t y) { return NthSunday(y, 10, 1) * kDay + 2 * kHour - (10 * kHour + 30 * kMinute); },
                        [](int64_t y) { return NthSunday(y, 4, 1) * kDay + 2 * kHour - 11 * kHour; }};
const DstZone kUtc{"UTC", 0, 0, false, [](int64_t) { return int64_t{0}; },
                   [](int64_t) { return int64_t{0}; }};

int64_t OffsetAt(const DstZone& z, int64_t t) {
  const int64_t y = CivilFromDays(FloorDiv(t, kDay)).y;
  const bool dst = z.southern ? (t < z.end(y) || t >= z.start(y)) : (t >= z.start(y) && t < z.end(y));
  return dst ? z.dst_offset : z.std_offset;
}

// Local time to instant; a gap or overlap takes the earlier of the readings
// with the standard and the DST offset.
int64_t EarliestInstant(const DstZone& z, int64_t local) {
  const int64_t by_std = local - z.std_offset;
  const int64_t by_dst = local - z.dst_offset;
  const bool std_ok = OffsetAt(z, by_std) == z.std_offset;
  const bool dst_ok = OffsetAt(z, by_dst) == z.dst_offset;
  if (std_ok != dst_ok) return std_ok ? by_std : by_dst;
  return std::min(by_std, by_dst);  // both valid (overlap) or neither (gap)
}

int64_t ExpectedCutoff(const DstZone& z, int64_t now, const CalendarDuration& d) {
  if (d.unit == DurationUnit::kHours) return now - d.amount * kHour;
  const int64_t local = now + OffsetAt(z, now);
  const int64_t day = FloorDiv(local, kDay);
  const int64_t time_of_day = local - day * kDay;
  int64_t target = 0;
  switch (d.unit) {
    case DurationUnit::kDays: target = day - d.amount; break;
    case DurationUnit::kWeeks: target = day - 7 * d.amount; break;
    default: {
      const int64_t months = d.unit == DurationUnit::kYears ? 12 * d.amount : d.amount;
      const Civil c = CivilFromDays(day);
      const int64_t total = c.y * 12 + (c.m - 1) - months;
      const int64_t y = FloorDiv(total, 12);
      const int m = static_cast<int>(total - y * 12) + 1;
      target = DaysFromCivil(y, m, std::min(c.d, DaysInMonth(y, m)));
    }
  }
  return EarliestInstant(z, target * kDay + time_of_day);
}

// ---------------------------------------------------------------------------

Timestamp T(int64_t micros) { return FromUnixMicros(micros); }
std::string F(int64_t micros) { return FormatTimestamp(T(micros)); }

CalendarDuration D(std::string_view text) {
  Result<CalendarDuration> r = ParseDuration(text);
  REQUIRE(r.ok());
  return *r;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "\n  " + l;
  return out;
}

TimeZone Zone(std::string_view name) {
  Result<TimeZone> z = TimeZone::Load(name);
  INFO(name << ": " << z.status().message());
  REQUIRE(z.ok());
  return *z;
}

TEST_CASE("The test's own calendar model agrees with known dates", "[calendar]") {
  CHECK(DaysFromCivil(1970, 1, 1) == 0);
  CHECK(DaysFromCivil(2000, 3, 1) == 11017);
  CHECK(Weekday(DaysFromCivil(2026, 3, 29)) == 0);
  const Civil c = CivilFromDays(DaysFromCivil(2024, 2, 29));
  CHECK((c.y == 2024 && c.m == 2 && c.d == 29));
  CHECK(DaysInMonth(2100, 2) == 28);
  CHECK(DaysInMonth(2000, 2) == 29);
  // 2026 transitions, from the published tables.
  CHECK(kBerlin.start(2026) == At(2026, 3, 29, 1));
  CHECK(kBerlin.end(2026) == At(2026, 10, 25, 1));
  CHECK(kNewYork.start(2026) == At(2026, 3, 8, 7));
  CHECK(kNewYork.end(2026) == At(2026, 11, 1, 6));
  CHECK(kLordHowe.end(2026) == At(2026, 4, 4, 15));
  CHECK(kLordHowe.start(2026) == At(2026, 10, 3, 15, 30));
}

TEST_CASE("The test's DST rules match the tz database for 2023-2029", "[calendar]") {
  for (const DstZone* z : {&kBerlin, &kNewYork, &kLordHowe}) {
    const TimeZone zone = Zone(z->name);
    int mismatches = 0;
    for (int64_t t = At(2023, 1, 1); t < At(2030, 1, 1); t += 30 * kMinute) {
      const int64_t offset = ToUnixMicros(Timestamp(zone.ToLocal(T(t)).time_since_epoch())) - t;
      if (offset != OffsetAt(*z, t) && ++mismatches <= 5) FAIL_CHECK(z->name << " at " << F(t));
    }
    CHECK(mismatches == 0);
  }
}

// Checks ComputeCutoff against the model for every day of 2024-2028.
void Sweep(const DstZone& z, const std::vector<int64_t>& times_of_day) {
  const TimeZone zone = Zone(z.name);
  const std::vector<CalendarDuration> durations = {
      D("1 month"), D("12 months"), D("24 months"), D("1 year"), D("2 years"),
      D("1 day"),   D("1 week"),    D("30 days"),   D("90 days"), D("36 hours")};
  const int64_t first = DaysFromCivil(2024, 1, 1);
  const int64_t last = DaysFromCivil(2028, 12, 31);
  int64_t checked = 0;
  std::vector<std::string> mismatches;
  for (int64_t day = first; day <= last; ++day) {
    for (int64_t tod : times_of_day) {
      const int64_t now = day * kDay + tod;
      for (const CalendarDuration& d : durations) {
        const int64_t want = ExpectedCutoff(z, now, d);
        const int64_t got = ToUnixMicros(ComputeCutoff(T(now), d, zone));
        ++checked;
        if (got != want && mismatches.size() < 10) {
          mismatches.push_back(F(now) + " - " + d.ToString() + ": got " + F(got) + ", want " + F(want));
        }
      }
    }
  }
  INFO(z.name << Joined(mismatches));
  CHECK(mismatches.empty());
  CHECK(checked == (last - first + 1) * static_cast<int64_t>(times_of_day.size() * durations.size()));
}

TEST_CASE("UTC cutoffs match an independent computation for every day of 2024-2028",
          "[calendar]") {
  Sweep(kUtc, {0, 13 * kHour + 45 * kMinute + 10 * kSecond, kDay - 1});
}

TEST_CASE("Cutoffs across DST match an independent computation for every day of 2024-2028",
          "[calendar]") {
  // UTC times of day that land in or next to each zone's gap and overlap.
  const std::vector<int64_t> times = {
      0,                        30 * kMinute,  1 * kHour + 30 * kMinute,
      5 * kHour + 30 * kMinute, 6 * kHour + 30 * kMinute, 7 * kHour + 30 * kMinute,
      13 * kHour + 45 * kMinute + 10 * kSecond, 14 * kHour + 45 * kMinute,
      15 * kHour + 15 * kMinute, 15 * kHour + 45 * kMinute};
  Sweep(kBerlin, times);
  Sweep(kNewYork, times);
  Sweep(kLordHowe, times);
}

TEST_CASE("Months and years clamp the end of the month like PostgreSQL", "[calendar]") {
  struct Case {
    int64_t now;
    std::string_view duration;
    int64_t want;
  };
  const Case cases[] = {
      {At(2026, 3, 31, 12), "1 month", At(2026, 2, 28, 12)},
      {At(2024, 3, 31, 12), "1 month", At(2024, 2, 29, 12)},
      {At(2024, 2, 29, 8), "1 year", At(2023, 2, 28, 8)},
      {At(2024, 2, 29, 8), "12 months", At(2023, 2, 28, 8)},
      {At(2028, 2, 29), "4 years", At(2024, 2, 29)},
      {At(2025, 3, 1), "1 year", At(2024, 3, 1)},
      {At(2026, 5, 31), "1 month", At(2026, 4, 30)},
      {At(2026, 7, 31), "1 month", At(2026, 6, 30)},
      {At(2026, 8, 31), "1 month", At(2026, 7, 31)},
      {At(2026, 8, 31), "6 months", At(2026, 2, 28)},
      {At(2026, 10, 31), "1 month", At(2026, 9, 30)},
      {At(2026, 12, 31), "1 month", At(2026, 11, 30)},
      {At(2026, 1, 31), "2 months", At(2025, 11, 30)},
      {At(2026, 1, 15), "1 month", At(2025, 12, 15)},
      {At(2026, 3, 31, 12, 0, 0, 1), "1 month", At(2026, 2, 28, 12, 0, 0, 1)},
      // One step of two months, not two steps of one (which give Jan 28).
      {At(2026, 3, 31), "2 months", At(2026, 1, 31)},
      {At(2024, 3, 1), "1 day", At(2024, 2, 29)},
      {At(2025, 3, 1), "1 day", At(2025, 2, 28)},
      {At(2026, 1, 1), "1 day", At(2025, 12, 31)},
      {At(2026, 3, 31), "2 weeks", At(2026, 3, 17)},
      {At(2026, 3, 31, 10), "36 hours", At(2026, 3, 29, 22)},
  };
  const TimeZone utc = TimeZone::Utc();
  for (const Case& c : cases) {
    INFO(F(c.now) << " - " << c.duration);
    CHECK(FormatTimestamp(ComputeCutoff(T(c.now), D(c.duration), utc)) == F(c.want));
  }
}

TEST_CASE("Days follow DST - gaps and overlaps resolve to the earlier instant", "[calendar]") {
  struct Case {
    std::string_view zone;
    int64_t now;
    std::string_view duration;
    int64_t want;
    int64_t elapsed;  // now - cutoff
  };
  const Case cases[] = {
      // Berlin springs forward 2026-03-29 02:00 -> 03:00, falls back 10-25 03:00 -> 02:00.
      // 03-30 02:30 CEST - 1 day = 03-29 02:30, in the gap: read as CEST, 01:30 CET.
      {"Europe/Berlin", At(2026, 3, 30, 0, 30), "1 day", At(2026, 3, 29, 0, 30), 24 * kHour},
      {"Europe/Berlin", At(2026, 3, 29, 10), "1 day", At(2026, 3, 28, 11), 23 * kHour},
      {"Europe/Berlin", At(2026, 3, 29, 10), "24 hours", At(2026, 3, 28, 10), 24 * kHour},
      {"Europe/Berlin", At(2026, 10, 25, 11), "1 day", At(2026, 10, 24, 10), 25 * kHour},
      // 10-26 02:30 CET - 1 day = 10-25 02:30, twice: the CEST one.
      {"Europe/Berlin", At(2026, 10, 26, 1, 30), "1 day", At(2026, 10, 25, 0, 30), 25 * kHour},
      {"Europe/Berlin", At(2026, 4, 5, 0, 30), "1 week", At(2026, 3, 29, 0, 30), 7 * 24 * kHour},
      {"Europe/Berlin", At(2026, 4, 29, 0, 30), "1 month", At(2026, 3, 29, 0, 30), 31 * 24 * kHour},
      {"Europe/Berlin", At(2026, 5, 1, 10), "90 days", At(2026, 1, 31, 11), 90 * 24 * kHour - kHour},
      {"Europe/Berlin", At(2026, 3, 31, 10), "1 month", At(2026, 2, 28, 11), 31 * 24 * kHour - kHour},
      // New York springs forward 2026-03-08 02:00 -> 03:00, falls back 11-01 02:00 -> 01:00.
      {"America/New_York", At(2026, 3, 9, 6, 30), "1 day", At(2026, 3, 8, 6, 30), 24 * kHour},
      {"America/New_York", At(2026, 3, 8, 16), "1 day", At(2026, 3, 7, 17), 23 * kHour},
      {"America/New_York", At(2026, 11, 2, 6, 30), "1 day", At(2026, 11, 1, 5, 30), 25 * kHour},
      {"America/New_York", At(2026, 11, 1, 17), "1 day", At(2026, 10, 31, 16), 25 * kHour},
      // Lord Howe: half-hour DST. 2026-10-04 02:00 -> 02:30; 04-05 02:00 -> 01:30.
      {"Australia/Lord_Howe", At(2026, 10, 4, 15, 15), "1 day", At(2026, 10, 3, 15, 15), 24 * kHour},
      {"Australia/Lord_Howe", At(2026, 10, 4, 1), "1 day", At(2026, 10, 3, 1, 30),
       23 * kHour + 30 * kMinute},
      {"Australia/Lord_Howe", At(2026, 4, 5, 15, 15), "1 day", At(2026, 4, 4, 14, 45),
       24 * kHour + 30 * kMinute},
      {"Australia/Lord_Howe", At(2026, 4, 5, 1, 30), "1 day", At(2026, 4, 4, 1),
       24 * kHour + 30 * kMinute},
  };
  for (const Case& c : cases) {
    INFO(c.zone << ": " << F(c.now) << " - " << c.duration);
    const Timestamp cutoff = ComputeCutoff(T(c.now), D(c.duration), Zone(c.zone));
    CHECK(FormatTimestamp(cutoff) == F(c.want));
    CHECK(c.now - c.want == c.elapsed);
  }
}

TEST_CASE("IsDue is strict at the cutoff", "[calendar]") {
  const TimeZone berlin = Zone("Europe/Berlin");
  for (int64_t now : {At(2026, 6, 1, 13, 45, 10, 123456), At(2026, 3, 30, 0, 30)}) {
    for (std::string_view d : {"90 days", "1 day", "1 month", "36 hours"}) {
      INFO(F(now) << " - " << d);
      const Timestamp cutoff = ComputeCutoff(T(now), D(d), berlin);
      const auto us = std::chrono::microseconds(1);
      CHECK_FALSE(IsDue(cutoff, cutoff));
      CHECK(IsDue(cutoff - us, cutoff));
      CHECK_FALSE(IsDue(cutoff + us, cutoff));
    }
  }
}

TEST_CASE("AlwaysAtLeast is sound against the cutoffs it predicts", "[calendar]") {
  std::vector<CalendarDuration> ds;
  for (std::string_view s :
       {"22 hours", "23 hours", "24 hours", "25 hours", "26 hours", "157 hours", "168 hours",
        "630 hours", "791 hours", "1 day", "7 days", "1 week", "2 weeks", "14 days", "28 days",
        "29 days", "30 days", "31 days", "59 days", "62 days", "89 days", "90 days", "365 days",
        "366 days", "1 month", "2 months", "3 months", "12 months", "1 year"}) {
    ds.push_back(D(s));
  }
  std::vector<std::pair<size_t, size_t>> claims;  // (a, b): AlwaysAtLeast(a, b)
  for (size_t a = 0; a < ds.size(); ++a) {
    for (size_t b = 0; b < ds.size(); ++b) {
      if (AlwaysAtLeast(ds[a], ds[b])) claims.emplace_back(a, b);
    }
  }
  REQUIRE(claims.size() > ds.size());
  std::vector<std::string> violations;
  for (std::string_view name : {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"}) {
    const TimeZone zone = Zone(name);
    for (int64_t day = DaysFromCivil(2024, 1, 1); day <= DaysFromCivil(2028, 12, 31); ++day) {
      for (int64_t tod : {30 * kMinute, 15 * kHour + 15 * kMinute}) {
        const Timestamp now = T(day * kDay + tod);
        std::vector<Timestamp> cutoffs;
        for (const CalendarDuration& d : ds) cutoffs.push_back(ComputeCutoff(now, d, zone));
        for (const auto& [a, b] : claims) {
          if (cutoffs[a] > cutoffs[b] && violations.size() < 10) {
            violations.push_back(std::string(name) + " " + FormatTimestamp(now) + ": " +
                                 ds[a].ToString() + " >= " + ds[b].ToString());
          }
        }
      }
    }
  }
  INFO(Joined(violations));
  CHECK(violations.empty());
}

TEST_CASE("Pairs AlwaysAtLeast refuses have a witness", "[calendar]") {
  struct Case {
    std::string_view zone;
    int64_t now;
    std::string_view a;  // cutoff(a) ends up later than cutoff(b)
    std::string_view b;
  };
  const Case cases[] = {
      {"Europe/Berlin", At(2026, 3, 29, 10), "1 day", "24 hours"},   // a 23-hour day
      {"Europe/Berlin", At(2026, 10, 25, 11), "24 hours", "1 day"},  // a 25-hour day
      {"UTC", At(2025, 1, 1), "365 days", "1 year"},
      {"UTC", At(2026, 5, 1), "3 months", "90 days"},
  };
  for (const Case& c : cases) {
    INFO(c.zone << " " << F(c.now) << ": " << c.a << " vs " << c.b);
    const TimeZone zone = Zone(c.zone);
    CHECK(ComputeCutoff(T(c.now), D(c.a), zone) > ComputeCutoff(T(c.now), D(c.b), zone));
    CHECK_FALSE(AlwaysAtLeast(D(c.a), D(c.b)));
  }
}

TEST_CASE("Absurd inputs give the cutoff at which nothing is due", "[calendar]") {
  const TimeZone utc = TimeZone::Utc();
  const Timestamp now = T(At(2026, 3, 31, 12));
  CHECK(ToUnixMicros(kNothingDueCutoff) == At(-32000, 1, 1));
  CHECK(kNothingDueCutoff < T(At(-4713, 1, 1)));  // PostgreSQL's earliest timestamptz
  // 100000 years leaves every calendar the tz code handles.
  CHECK(ComputeCutoff(now, D("100000 years"), utc) == kNothingDueCutoff);
  CHECK(ComputeCutoff(now, {-1, DurationUnit::kDays}, utc) == kNothingDueCutoff);
  CHECK(ComputeCutoff(now, {kMaxDurationAmount + 1, DurationUnit::kHours}, utc) == kNothingDueCutoff);
  CHECK(ComputeCutoff(Timestamp::max(), D("1 day"), utc) == kNothingDueCutoff);
  CHECK(ComputeCutoff(Timestamp::min(), D("1 hour"), utc) == kNothingDueCutoff);
  // The cutoff never overflows `now - cutoff` for a sane now.
  CHECK((now - ComputeCutoff(now, D("100000 years"), utc)).count() > 0);
  // The largest amounts that still fit are computed, not clamped.
  CHECK(ToUnixMicros(ComputeCutoff(now, D("100000 months"), utc)) ==
        ExpectedCutoff(kUtc, At(2026, 3, 31, 12), D("100000 months")));
  CHECK(ToUnixMicros(ComputeCutoff(now, D("100000 weeks"), utc)) ==
        At(2026, 3, 31, 12) - 700000 * kDay);
  CHECK(ToUnixMicros(ComputeCutoff(now, D("100000 hours"), utc)) ==
        At(2026, 3, 31, 12) - 100000 * kHour);
}

TEST_CASE("TimeZone::Load", "[calendar]") {
  for (std::string_view name : {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"}) {
    CHECK(Zone(name).name() == name);
    CHECK(Zone(name).zone() != nullptr);
  }
  CHECK(TimeZone::Utc().name() == "UTC");
  CHECK(TimeZone::Utc().zone() != nullptr);

  for (std::string_view name : {"Mars/Olympus", "", "utc", "Europe/berlin", "../etc/passwd"}) {
    INFO("zone: \"" << name << "\"");
    Result<TimeZone> z = TimeZone::Load(name);
    REQUIRE_FALSE(z.ok());
    CHECK(z.status().code() == StatusCode::kInvalid);
    CHECK(z.status().message() ==
          "unknown time zone \"" + std::string(name) +
              "\" (expected an IANA name such as \"UTC\" or \"Europe/Berlin\")");
  }
}

}  // namespace
}  // namespace retention
