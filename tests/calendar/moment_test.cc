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
    auto m = ParseMoment(c.text, Zone(c.zone), c.pick);
    REQUIRE(m.has_value());
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
  for (const char* text : {"", "yesterday", "2026-02-30", "2026-03-29 24:00", "2026-03-29 02:30 CET",
                           "2026-03-29T02:30:00+25:00"}) {
    INFO(text);
    CHECK(!ParseMoment(text, berlin, kEarlier).has_value());
  }
}

}  // namespace
}  // namespace retention
