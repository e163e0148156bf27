// The grace of "overdue" (plan/overdue.h): its grammar and the moment it
// measures from.
#include <catch2/catch.hpp>

#include "plan/overdue.h"

namespace retention {
namespace {

TEST_CASE("ParseGrace: zero in any unit, durations and their short forms", "[plan][overdue]") {
  for (const char* zero : {"0", "0s", "0 seconds", "0m", "0 hours", "00d", " 0 days "}) {
    INFO(zero);
    auto g = ParseGrace(zero);
    REQUIRE(g.ok());
    CHECK(g->amount == 0);
    CHECK(GraceText(*g) == "none");
  }
  CHECK(*ParseGrace("1 day") == CalendarDuration{1, DurationUnit::kDays});
  CHECK(*ParseGrace("36 hours") == CalendarDuration{36, DurationUnit::kHours});
  CHECK(*ParseGrace("36h") == CalendarDuration{36, DurationUnit::kHours});
  CHECK(*ParseGrace("2d") == CalendarDuration{2, DurationUnit::kDays});
  CHECK(*ParseGrace("1w") == CalendarDuration{1, DurationUnit::kWeeks});
  CHECK(*ParseGrace("90m") == CalendarDuration{90, DurationUnit::kMinutes});
  CHECK(GraceText(*ParseGrace("1 day")) == "1 day");
  for (const char* bad : {"", "soon", "-1 day", "1.5 days", "0 fortnights", "1x"}) {
    INFO(bad);
    auto g = ParseGrace(bad);
    REQUIRE_FALSE(g.ok());
    CHECK(g.status().code() == StatusCode::kUsage);
  }
}

TEST_CASE("OverdueAsOf: now less the grace, now itself for no grace", "[plan][overdue]") {
  const Timestamp now = FromUnixMicros(int64_t{1'780'000'000} * 1'000'000);
  CHECK(OverdueAsOf(now, {0, DurationUnit::kHours}, TimeZone::Utc()) == now);
  CHECK(OverdueAsOf(now, {1, DurationUnit::kDays}, TimeZone::Utc()) == now - std::chrono::hours(24));
  CHECK(OverdueAsOf(now, {36, DurationUnit::kHours}, TimeZone::Utc()) == now - std::chrono::hours(36));
  Config config;
  CHECK(ConfiguredGrace(config) == kDefaultOverdueGrace);
  config.overdue_grace = CalendarDuration{1, DurationUnit::kHours};
  CHECK(ConfiguredGrace(config) == CalendarDuration{1, DurationUnit::kHours});
}

}  // namespace
}  // namespace retention
