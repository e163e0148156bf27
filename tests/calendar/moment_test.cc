// Moments typed on the command line (calendar/moment.h): around the 2026 DST
// changes of New York and Berlin a naive time takes the reading the caller
// picks, and says so; elsewhere, and with an offset, there is one reading.
#include "calendar/moment.h"

#include <catch2/catch.hpp>

#include <string>

namespace retention {
namespace {

TimeZone Zone(const char* name) {
  Result<TimeZone> z = TimeZone::Load(name);
  REQUIRE(z.ok());
  return *z;
}

struct Case {
  const char* zone;
  const char* text;
  TimeZone::Pick pick;
  const char* instant;  // FormatTimestamp of the result
  const char* notice;   // a part of the notice; empty: no notice
};

constexpr auto kEarlier = TimeZone::Pick::kEarlier;
constexpr auto kLater = TimeZone::Pick::kLater;

const Case kCases[] = {
    // New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 is
    // skipped, read as EST (07:30Z) or EDT (06:30Z).
    {"America/New_York", "2026-03-08 02:30", kEarlier, "2026-03-08T06:30:00Z",
     "'2026-03-08 02:30' does not exist in America/New_York (the clocks skip it); using 2026-03-08T06:30:00Z, the "
     "earlier reading (the later is 2026-03-08T07:30:00Z)"},
    {"America/New_York", "2026-03-08T02:30:00", kLater, "2026-03-08T07:30:00Z",
     "using 2026-03-08T07:30:00Z, the later reading (the earlier is 2026-03-08T06:30:00Z)"},
    // ... and falls back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice.
    {"America/New_York", "2026-11-01 01:30", kEarlier, "2026-11-01T05:30:00Z", "occurs twice in America/New_York"},
    {"America/New_York", "2026-11-01 01:30", kLater, "2026-11-01T06:30:00Z", "the later reading"},
    // Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
    {"Europe/Berlin", "2026-03-29 02:15", kEarlier, "2026-03-29T00:15:00Z", "does not exist in Europe/Berlin"},
    {"Europe/Berlin", "2026-03-29 02:15", kLater, "2026-03-29T01:15:00Z", "does not exist in Europe/Berlin"},
    {"Europe/Berlin", "2026-10-25 02:30", kEarlier, "2026-10-25T00:30:00Z", "occurs twice in Europe/Berlin"},
    {"Europe/Berlin", "2026-10-25 02:30", kLater, "2026-10-25T01:30:00Z", "occurs twice in Europe/Berlin"},
    // Just outside the transitions, and with an offset: one reading, no notice.
    {"Europe/Berlin", "2026-03-29 01:59:59", kLater, "2026-03-29T00:59:59Z", ""},
    {"Europe/Berlin", "2026-03-29 03:00", kEarlier, "2026-03-29T01:00:00Z", ""},
    {"Europe/Berlin", "2026-10-25 03:00", kEarlier, "2026-10-25T02:00:00Z", ""},
    {"Europe/Berlin", "2026-10-25T02:30:00+02:00", kLater, "2026-10-25T00:30:00Z", ""},
    {"America/New_York", "2026-11-01T01:30:00Z", kEarlier, "2026-11-01T01:30:00Z", ""},
    {"America/New_York", "2026-11-01", kLater, "2026-11-01T04:00:00Z", ""},
    {"UTC", "2026-03-08 02:30", kLater, "2026-03-08T02:30:00Z", ""},
};

TEST_CASE("moment: a skipped or repeated local time takes the picked reading and says so", "[calendar][moment]") {
  for (const Case& c : kCases) {
    INFO(c.zone << " " << c.text);
    auto m = ParseMoment(c.text, Zone(c.zone), c.pick, Timestamp{});
    REQUIRE(m.ok());
    CHECK(FormatTimestamp(m->instant) == c.instant);
    if (*c.notice == '\0') {
      CHECK(m->notice.empty());
    } else {
      CHECK(m->notice.find(c.notice) != std::string::npos);
    }
  }
}

TEST_CASE("moment: text that is not a moment is refused", "[calendar][moment]") {
  const TimeZone berlin = Zone("Europe/Berlin");
  for (const char* text : {"", "  ", "next tuesday", "2026-02-30", "2026-03-29 24:00", "2026-03-29 02:30 CET",
                           "2026-03-29T02:30:00+25:00", "-", "-7", "7d", "-0d", "--7d", "-7 fortnights", "-1.5d",
                           "-6M", "+100001d", "-100000y", "+100000y", "yesterday 10:00", "nowish"}) {
    INFO(text);
    auto m = ParseMoment(text, berlin, kEarlier, Timestamp{});
    CHECK(!m.ok());
    CHECK(m.status().code() == StatusCode::kInvalid);
  }
  // The reason is said: a relative moment's duration error is passed on.
  CHECK(ParseMoment("-7 fortnights", berlin, kEarlier, Timestamp{}).status().message().find("unknown unit") !=
        std::string::npos);
}

// 2026-11-22 10:15:00 UTC, a Sunday; Berlin is at +01:00 then.
Timestamp Now() { return Timestamp(std::chrono::sys_days{std::chrono::year{2026} / 11 / 22}.time_since_epoch() +
                                   std::chrono::hours{10} + std::chrono::minutes{15}); }

TEST_CASE("moment: now, today, yesterday, tomorrow and -7d are relative to now", "[calendar][moment]") {
  struct RelCase {
    const char* zone;
    const char* text;
    const char* instant;
  };
  const RelCase cases[] = {
      {"UTC", "now", "2026-11-22T10:15:00Z"},
      {"UTC", "NOW", "2026-11-22T10:15:00Z"},
      {"UTC", " today ", "2026-11-22T00:00:00Z"},
      {"Europe/Berlin", "today", "2026-11-21T23:00:00Z"},
      {"Europe/Berlin", "Yesterday", "2026-11-20T23:00:00Z"},
      {"Europe/Berlin", "tomorrow", "2026-11-22T23:00:00Z"},
      {"UTC", "-7d", "2026-11-15T10:15:00Z"},
      {"UTC", "-7 days", "2026-11-15T10:15:00Z"},
      {"UTC", "+2 weeks", "2026-12-06T10:15:00Z"},
      {"UTC", "-30m", "2026-11-22T09:45:00Z"},
      {"UTC", "-36h", "2026-11-20T22:15:00Z"},
      {"UTC", "+90s", "2026-11-22T10:16:30Z"},
      {"UTC", "-1y", "2025-11-22T10:15:00Z"},
      {"UTC", "-9mo", "2026-02-22T10:15:00Z"},
      // Days keep the local time of day across DST: 11:15 in Berlin, which
      // was 09:15 UTC in summer.
      {"Europe/Berlin", "-60d", "2026-09-23T09:15:00Z"},
      {"Europe/Berlin", "-1 month", "2026-10-22T09:15:00Z"},
      {"Europe/Berlin", "-24h", "2026-11-21T10:15:00Z"},
      // The ISO and SQL forms do not depend on now.
      {"UTC", "2026-11-22", "2026-11-22T00:00:00Z"},
      {"Europe/Berlin", "2026-11-22", "2026-11-21T23:00:00Z"},
      {"Europe/Berlin", "2026-11-22T03:00:00Z", "2026-11-22T03:00:00Z"},
      {"Europe/Berlin", "2026-11-22t03:00:00z", "2026-11-22T03:00:00Z"},
      {"Europe/Berlin", "2026-11-22T03:00:00+01:00", "2026-11-22T02:00:00Z"},
      {"Europe/Berlin", "2026-11-22 03:00", "2026-11-22T02:00:00Z"},
  };
  for (const RelCase& c : cases) {
    INFO(c.zone << " " << c.text);
    auto m = ParseMoment(c.text, Zone(c.zone), kEarlier, Now());
    REQUIRE(m.ok());
    CHECK(FormatTimestamp(m->instant) == c.instant);
    CHECK(m->notice.empty());
  }
}

TEST_CASE("moment: relative moments clamp month ends and pick a reading in a DST gap", "[calendar][moment]") {
  // 2026-03-31 10:00 UTC less a month is 2026-02-28 (as cutoffs clamp).
  const Timestamp march31(std::chrono::sys_days{std::chrono::year{2026} / 3 / 31}.time_since_epoch() +
                          std::chrono::hours{10});
  auto m = ParseMoment("-1mo", TimeZone::Utc(), kEarlier, march31);
  REQUIRE(m.ok());
  CHECK(FormatTimestamp(m->instant) == "2026-02-28T10:00:00Z");
  m = ParseMoment("+11mo", TimeZone::Utc(), kEarlier, march31);
  REQUIRE(m.ok());
  CHECK(FormatTimestamp(m->instant) == "2027-02-28T10:00:00Z");
  // New York, 2026-03-09 02:30 EDT; a day earlier 02:30 does not exist:
  // the picked reading, and a notice.
  const Timestamp ny(std::chrono::sys_days{std::chrono::year{2026} / 3 / 9}.time_since_epoch() + std::chrono::hours{6} +
                     std::chrono::minutes{30});
  m = ParseMoment("-1d", Zone("America/New_York"), kEarlier, ny);
  REQUIRE(m.ok());
  CHECK(FormatTimestamp(m->instant) == "2026-03-08T06:30:00Z");
  CHECK(m->notice.find("does not exist in America/New_York") != std::string::npos);
  m = ParseMoment("-1d", Zone("America/New_York"), kLater, ny);
  REQUIRE(m.ok());
  CHECK(FormatTimestamp(m->instant) == "2026-03-08T07:30:00Z");
}

}  // namespace
}  // namespace retention
