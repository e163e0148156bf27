#include <cstdint>
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <date/tz.h>

#include "calendar/cutoff.h"
#include "erase/erasure_receipt.h"

namespace retention {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Timestamp At(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return Timestamp(std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}}) +
         hours{hh} + minutes{mm} + seconds{ss};
}

bool Due(Timestamp now, Timestamp clock, const CalendarDuration& d, const TimeZone& zone) {
  return ComputeCutoff(now, d, zone) > clock;
}

// The brute force: `t` is due, t - 1s is not, and no earlier instant in a
// window wider than any calendar unit's slack is: hour by hour from 60 days
// before, then minute by minute over the last 4 days, then second by second
// over the last two hours and the two hours before each DST change in it.
void CheckFirstDue(Timestamp clock, const CalendarDuration& d, const TimeZone& zone) {
  const Timestamp t = FirstDueAt(clock, d, zone);
  INFO("clock " << FormatTimestamp(clock) << " + " << d.ToString() << " in " << zone.name() << " -> "
                << FormatTimestamp(t));
  REQUIRE(t != kNeverDue);
  REQUIRE(std::chrono::floor<seconds>(t) == t);
  REQUIRE(Due(t, clock, d, zone));
  REQUIRE_FALSE(Due(t - seconds{1}, clock, d, zone));
  for (Timestamp s = t - hours{24 * 60}; s < t - hours{24 * 4}; s += hours{1})
    REQUIRE_FALSE(Due(s, clock, d, zone));
  for (Timestamp s = t - hours{24 * 4}; s < t; s += minutes{1}) {
    // A fall-back an hour after `s` can make `s .. s + 1h` due for seconds
    // only: every second of such a minute is looked at.
    REQUIRE_FALSE(Due(s, clock, d, zone));
    if (zone.zone() != nullptr) {
      const auto info = zone.zone()->get_info(std::chrono::floor<seconds>(s));
      if (info.end - std::chrono::floor<seconds>(s) <= minutes{1})
        for (Timestamp x = s; x < s + minutes{1} && x < t; x += seconds{1}) REQUIRE_FALSE(Due(x, clock, d, zone));
    }
  }
  for (Timestamp s = t - hours{2}; s < t; s += seconds{1}) REQUIRE_FALSE(Due(s, clock, d, zone));
}

TEST_CASE("FirstDueAt: hand-computed answers across month ends and Feb 29", "[erase]") {
  const TimeZone utc = TimeZone::Utc();
  // 2026-03-29..31 minus a month clamp to 02-28 00:00: a record of 02-28
  // is first due on 03-28.
  CHECK(FirstDueAt(At(2026, 2, 28), {1, DurationUnit::kMonths}, utc) == At(2026, 3, 28, 0, 0, 1));
  CHECK(FirstDueAt(At(2026, 2, 28, 12), {1, DurationUnit::kMonths}, utc) == At(2026, 3, 28, 12, 0, 1));
  // Jan 31 + 1 month: 02-28 minus a month is 01-28, 03-01 minus one is 02-01.
  CHECK(FirstDueAt(At(2026, 1, 31, 12), {1, DurationUnit::kMonths}, utc) == At(2026, 3, 1));
  // Feb 29 + 7 years: 2031-02-28 reaches back to 2024-02-28 only.
  CHECK(FirstDueAt(At(2024, 2, 29, 12), {7, DurationUnit::kYears}, utc) == At(2031, 3, 1));
  CHECK(FirstDueAt(At(2024, 2, 29, 12), {8, DurationUnit::kYears}, utc) == At(2032, 2, 29, 12, 0, 1));
  CHECK(FirstDueAt(At(2026, 5, 1, 10, 30, 15), {36, DurationUnit::kHours}, utc) == At(2026, 5, 2, 22, 30, 16));
  CHECK(FirstDueAt(At(2026, 5, 1, 10, 30, 15) + std::chrono::microseconds{5}, {90, DurationUnit::kMinutes}, utc) ==
        At(2026, 5, 1, 12, 0, 16));
  // 90 days in Berlin across the spring change: 13:00 CET stays 13:00, CEST.
  const TimeZone berlin = *TimeZone::Load("Europe/Berlin");
  CHECK(FirstDueAt(At(2026, 2, 1, 12), {90, DurationUnit::kDays}, berlin) == At(2026, 5, 2, 11, 0, 1));
  // A fall-back's repeated hour: due for its last second before the clock
  // goes back (a reading of the later day's 02:59:59 CEST).
  CHECK(FirstDueAt(At(2026, 10, 24, 0, 59, 58), {1, DurationUnit::kDays}, berlin) == At(2026, 10, 25, 0, 59, 59));
}

TEST_CASE("FirstDueAt against brute force: random clocks and durations, four zones", "[erase]") {
  const char* kZones[] = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"};
  const CalendarDuration kDurations[] = {
      {1, DurationUnit::kDays},   {30, DurationUnit::kDays},  {90, DurationUnit::kDays}, {1, DurationUnit::kWeeks},
      {6, DurationUnit::kWeeks},  {1, DurationUnit::kMonths}, {3, DurationUnit::kMonths}, {13, DurationUnit::kMonths},
      {1, DurationUnit::kYears},  {7, DurationUnit::kYears},  {36, DurationUnit::kHours}, {90, DurationUnit::kMinutes}};
  // Month ends, Feb 28/29, and the DST changes of the zones (Berlin: last
  // Sundays of March and October; New York: second Sunday of March, first
  // of November; Lord Howe: first Sundays of April and October, 30 minutes).
  const Timestamp kAnchors[] = {At(2024, 1, 31, 23), At(2024, 2, 28, 12), At(2024, 2, 29, 6), At(2025, 3, 31, 22),
                                At(2026, 3, 29, 1),  At(2026, 10, 25, 1), At(2026, 3, 8, 7),  At(2026, 11, 1, 6),
                                At(2026, 4, 4, 15),  At(2026, 10, 3, 15), At(2027, 12, 31, 23), At(2026, 1, 29, 12)};
  std::mt19937_64 rng(20261130);
  for (const char* name : kZones) {
    const TimeZone zone = *TimeZone::Load(name);
    for (int i = 0; i < 40; ++i) {
      const Timestamp anchor = kAnchors[rng() % std::size(kAnchors)];
      const CalendarDuration d = kDurations[rng() % std::size(kDurations)];
      // Within three days of an anchor, at any second; sometimes with
      // sub-seconds.
      Timestamp clock = anchor + seconds{static_cast<int64_t>(rng() % (6 * 86400)) - 3 * 86400};
      if (rng() % 4 == 0) clock += std::chrono::microseconds{static_cast<int64_t>(rng() % 1000000)};
      CheckFirstDue(clock, d, zone);
      // And the record whose clock lands on a DST change after the duration
      // runs: the anchor itself moved back by it.
      const Timestamp back = ComputeCutoff(anchor, d, zone);
      CheckFirstDue(back, d, zone);
      CheckFirstDue(back - seconds{1}, d, zone);
    }
  }
}

TEST_CASE("FirstDueAt: no instant in the calendar makes a record due", "[erase]") {
  CHECK(FirstDueAt(At(2026, 1, 1), {100000, DurationUnit::kYears}, TimeZone::Utc()) == kNeverDue);
}

}  // namespace
}  // namespace retention
