// The compact duration forms (issue 18: "30m", "1d", "1mo", "1y") keep
// the calendar meaning of the words: a cutoff from "1d" is the cutoff from
// "1 day" across DST, "1mo" clamps to the end of the month as "1 month"
// does, and minutes and seconds are exact.
#include <catch2/catch.hpp>

#include "calendar/cutoff.h"
#include "calendar/duration.h"

namespace retention {
namespace {

Timestamp At(const char* text) {
  // "2026-03-29T12:00:00Z" -> instant, by hand to stay independent of the
  // parsers under test.
  int y, mo, d, h, mi, s;
  REQUIRE(std::sscanf(text, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) == 6);
  const auto day = std::chrono::sys_days{std::chrono::year{y} / mo / d};
  return Timestamp(day.time_since_epoch() + std::chrono::hours{h} + std::chrono::minutes{mi} +
                   std::chrono::seconds{s});
}

CalendarDuration D(const char* text) {
  auto d = ParseDuration(text);
  INFO(text << ": " << d.status().message());
  REQUIRE(d.ok());
  return *d;
}

TimeZone Zone(const char* name) {
  auto z = TimeZone::Load(name);
  REQUIRE(z.ok());
  return *z;
}

TEST_CASE("duration grammar: compact forms give the cutoffs of the words", "[calendar][grammar]") {
  const TimeZone berlin = Zone("Europe/Berlin");
  const TimeZone utc = TimeZone::Utc();
  struct Pair {
    const char* compact;
    const char* words;
  };
  for (const Pair& p : {Pair{"1d", "1 day"}, Pair{"90d", "90 days"}, Pair{"2w", "2 weeks"}, Pair{"1mo", "1 month"},
                        Pair{"6mo", "6 months"}, Pair{"1y", "1 year"}, Pair{"36h", "36 hours"}}) {
    INFO(p.compact);
    CHECK(D(p.compact) == D(p.words));
    // Just after Berlin springs forward, and on a month's end.
    for (const char* now : {"2026-03-29T12:00:00Z", "2026-03-31T10:00:00Z", "2024-02-29T23:30:00Z"}) {
      CHECK(ComputeCutoff(At(now), D(p.compact), berlin) == ComputeCutoff(At(now), D(p.words), berlin));
    }
  }
  // A calendar day across the spring-forward change is 23 hours; "24h" is
  // exact.
  CHECK(ComputeCutoff(At("2026-03-29T12:00:00Z"), D("1d"), berlin) == At("2026-03-28T13:00:00Z"));
  CHECK(ComputeCutoff(At("2026-03-29T12:00:00Z"), D("24h"), berlin) == At("2026-03-28T12:00:00Z"));
  // Months clamp to the month's end: 31 March less a month is 28 February.
  CHECK(ComputeCutoff(At("2026-03-31T10:00:00Z"), D("1mo"), utc) == At("2026-02-28T10:00:00Z"));
  CHECK(ComputeCutoff(At("2024-02-29T10:00:00Z"), D("1y"), utc) == At("2023-02-28T10:00:00Z"));
  // Minutes and seconds are exact, whatever the zone.
  CHECK(ComputeCutoff(At("2026-03-29T01:10:00Z"), D("30m"), berlin) == At("2026-03-29T00:40:00Z"));
  CHECK(ComputeCutoff(At("2026-03-29T01:10:00Z"), D("90s"), berlin) == At("2026-03-29T01:08:30Z"));
}

}  // namespace
}  // namespace retention
