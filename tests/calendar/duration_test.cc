#include "calendar/duration.h"

#include <catch2/catch.hpp>

namespace retention {
namespace {

CalendarDuration D(std::string_view text) {
  Result<CalendarDuration> r = ParseDuration(text);
  INFO(text << ": " << r.status().message());
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("ParseDuration accepts an integer and a unit", "[calendar]") {
  struct Case {
    std::string_view text;
    CalendarDuration want;
  };
  const Case cases[] = {
      {"90 days", {90, DurationUnit::kDays}},
      {"1 day", {1, DurationUnit::kDays}},
      {"1 days", {1, DurationUnit::kDays}},
      {"2 day", {2, DurationUnit::kDays}},
      {"36 hours", {36, DurationUnit::kHours}},
      {"1 hour", {1, DurationUnit::kHours}},
      {"2 weeks", {2, DurationUnit::kWeeks}},
      {"1 week", {1, DurationUnit::kWeeks}},
      {"12 months", {12, DurationUnit::kMonths}},
      {"1 month", {1, DurationUnit::kMonths}},
      {"7 years", {7, DurationUnit::kYears}},
      {"1 year", {1, DurationUnit::kYears}},
      {"90 DAYS", {90, DurationUnit::kDays}},
      {"90 Days", {90, DurationUnit::kDays}},
      {"3 WeEkS", {3, DurationUnit::kWeeks}},
      {"1 Year", {1, DurationUnit::kYears}},
      {"90  days", {90, DurationUnit::kDays}},
      {"90\tdays", {90, DurationUnit::kDays}},
      {"  90 days  ", {90, DurationUnit::kDays}},
      {"007 days", {7, DurationUnit::kDays}},
      {"100000 hours", {100000, DurationUnit::kHours}},
      {"100000 years", {100000, DurationUnit::kYears}},
      // The compact forms of every option (issue 18): one grammar.
      {"30m", {30, DurationUnit::kMinutes}},
      {"30 min", {30, DurationUnit::kMinutes}},
      {"1 minute", {1, DurationUnit::kMinutes}},
      {"45 minutes", {45, DurationUnit::kMinutes}},
      {"90s", {90, DurationUnit::kSeconds}},
      {"90 sec", {90, DurationUnit::kSeconds}},
      {"1 second", {1, DurationUnit::kSeconds}},
      {"1h", {1, DurationUnit::kHours}},
      {"36h", {36, DurationUnit::kHours}},
      {"2 H", {2, DurationUnit::kHours}},
      {"1d", {1, DurationUnit::kDays}},
      {"90d", {90, DurationUnit::kDays}},
      {"90 d", {90, DurationUnit::kDays}},
      {"90days", {90, DurationUnit::kDays}},
      {"2w", {2, DurationUnit::kWeeks}},
      {"6mo", {6, DurationUnit::kMonths}},
      {"6 MO", {6, DurationUnit::kMonths}},
      {"1y", {1, DurationUnit::kYears}},
      {"7 y", {7, DurationUnit::kYears}},
      {"1Y", {1, DurationUnit::kYears}},
  };
  for (const Case& c : cases) {
    INFO("text: \"" << c.text << "\"");
    Result<CalendarDuration> r = ParseDuration(c.text);
    REQUIRE(r.ok());
    CHECK(r->amount == c.want.amount);
    CHECK(r->unit == c.want.unit);
  }
}

TEST_CASE("ParseDuration rejects bad text with a message naming the problem", "[calendar]") {
  const std::string units =
      "(expected seconds, minutes, hours, days, weeks, months or years, e.g. \"90 days\", \"30m\", \"1y\")";
  struct Case {
    std::string_view text;
    std::string message;
  };
  const Case cases[] = {
      {"", "empty duration (expected e.g. \"90 days\")"},
      {"   ", "empty duration (expected e.g. \"90 days\")"},
      {"90", "invalid duration \"90\": missing unit after the amount " + units},
      {"90 ", "invalid duration \"90 \": missing unit after the amount " + units},
      {"days", "invalid duration \"days\": expected a whole number first, as in \"90 days\" or \"30m\""},
      {"-1 days",
       "invalid duration \"-1 days\": the amount must be a positive whole number, without a sign"},
      {"+1 days",
       "invalid duration \"+1 days\": the amount must be a positive whole number, without a sign"},
      {"0 days", "invalid duration \"0 days\": the amount must be positive"},
      {"000 days", "invalid duration \"000 days\": the amount must be positive"},
      {"1.5 days",
       "invalid duration \"1.5 days\": the amount must be a whole number; use a smaller unit "
       "instead of a fraction"},
      {"1,5 days",
       "invalid duration \"1,5 days\": the amount must be a whole number; use a smaller unit "
       "instead of a fraction"},
      {"90 dayz", "invalid duration \"90 dayz\": unknown unit \"dayz\" " + units},
      {"90 Dayz", "invalid duration \"90 Dayz\": unknown unit \"Dayz\" " + units},
      {"1 fortnight", "invalid duration \"1 fortnight\": unknown unit \"fortnight\" " + units},
      {"4 hrs", "invalid duration \"4 hrs\": unknown unit \"hrs\" " + units},
      {"90 x", "invalid duration \"90 x\": unknown unit \"x\" " + units},
      {"6M", "invalid duration \"6M\": \"M\" is ambiguous: write \"min\" for minutes or \"mo\" for months"},
      {"6 M", "invalid duration \"6 M\": \"M\" is ambiguous: write \"min\" for minutes or \"mo\" for months"},
      {"1 hour30m", "invalid duration \"1 hour30m\": unexpected text after the unit: \"30m\""},
      {"99999999999999999999 days",
       "invalid duration \"99999999999999999999 days\": the amount must be at most 100000"},
      {"100001 days", "invalid duration \"100001 days\": the amount must be at most 100000"},
      {"90 days ago", "invalid duration \"90 days ago\": unexpected text after the unit: \"ago\""},
      {"90 days.", "invalid duration \"90 days.\": unexpected text after the unit: \".\""},
      {"1 day 3 hours",
       "invalid duration \"1 day 3 hours\": unexpected text after the unit: \"3 hours\""},
      {"1e3 days", "invalid duration \"1e3 days\": unknown unit \"e\" " + units},
      {"90 5 days", "invalid duration \"90 5 days\": missing unit after the amount " + units},
  };
  for (const Case& c : cases) {
    INFO("text: \"" << c.text << "\"");
    Result<CalendarDuration> r = ParseDuration(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalid);
    CHECK(r.status().message() == c.message);
  }
}

TEST_CASE("CalendarDuration::ToString is canonical and parses back", "[calendar]") {
  struct Case {
    CalendarDuration d;
    std::string_view text;
  };
  const Case cases[] = {
      {{90, DurationUnit::kDays}, "90 days"},     {{1, DurationUnit::kDays}, "1 day"},
      {{1, DurationUnit::kHours}, "1 hour"},      {{36, DurationUnit::kHours}, "36 hours"},
      {{2, DurationUnit::kWeeks}, "2 weeks"},     {{1, DurationUnit::kMonths}, "1 month"},
      {{12, DurationUnit::kMonths}, "12 months"}, {{7, DurationUnit::kYears}, "7 years"},
      {{1, DurationUnit::kYears}, "1 year"},
      {{30, DurationUnit::kMinutes}, "30 minutes"}, {{1, DurationUnit::kSeconds}, "1 second"},
  };
  for (const Case& c : cases) {
    CHECK(c.d.ToString() == c.text);
    CHECK(D(c.d.ToString()) == c.d);
  }
}

TEST_CASE("AlwaysAtLeast compares soundly across units", "[calendar]") {
  struct Case {
    std::string_view a;
    std::string_view b;
    bool want;
  };
  // Calendar days of one span against another are exact; a calendar day is
  // 22.5 h .. 25.5 h against hours (duration.h).
  const Case cases[] = {
      // Same family: exact.
      {"1 year", "12 months", true},
      {"12 months", "1 year", true},
      {"13 months", "1 year", true},
      {"11 months", "1 year", false},
      {"2 weeks", "14 days", true},
      {"14 days", "2 weeks", true},
      {"2 weeks", "15 days", false},
      {"1 week", "7 days", true},
      {"90 days", "30 days", true},
      {"30 days", "90 days", false},
      {"36 hours", "36 hours", true},
      {"60 minutes", "1 hour", true},
      {"1h", "61m", false},
      {"3600s", "1h", true},
      {"3599s", "1 hour", false},
      {"1 day", "1350 minutes", true},  // 22.5 h
      {"1 day", "1351 minutes", false},
      // Months against days: the shortest and longest month spans.
      {"12 months", "365 days", true},
      {"365 days", "12 months", false},
      {"366 days", "12 months", true},
      {"1 year", "365 days", true},
      {"1 year", "366 days", false},
      {"1 month", "28 days", true},
      {"1 month", "29 days", false},
      {"31 days", "1 month", true},
      {"30 days", "1 month", false},
      {"2 months", "59 days", true},  // Jan + Feb
      {"2 months", "60 days", false},
      {"62 days", "2 months", true},  // Jul + Aug
      {"61 days", "2 months", false},
      {"3 months", "89 days", true},  // Feb + Mar + Apr
      {"3 months", "90 days", false},
      {"4 years", "1460 days", true},  // 2097..2100 has no leap day
      {"48 months", "1461 days", false},
      {"1461 days", "4 years", true},
      {"1460 days", "4 years", false},
      {"100000 years", "100000 months", true},
      {"100000 months", "100000 years", false},
      // Days against hours: DST makes a day 23 or 25 hours (24.5 on Lord Howe).
      {"24 hours", "1 day", false},
      {"1 day", "24 hours", false},
      {"25 hours", "1 day", false},
      {"26 hours", "1 day", true},
      {"1 day", "22 hours", true},
      {"1 day", "23 hours", false},
      {"1 week", "157 hours", true},
      {"1 week", "168 hours", false},
      {"1 month", "630 hours", true},
      {"1 month", "631 hours", false},
      {"791 hours", "1 month", true},
      {"790 hours", "1 month", false},
      {"100000 hours", "1 year", true},
  };
  for (const Case& c : cases) {
    INFO(c.a << " >= " << c.b);
    CHECK(AlwaysAtLeast(D(c.a), D(c.b)) == c.want);
  }
}

TEST_CASE("AlwaysAtLeast is reflexive and refuses amounts ParseDuration never makes",
          "[calendar]") {
  for (std::string_view s : {"1 hour", "3 days", "2 weeks", "5 months", "10 years"}) {
    CHECK(AlwaysAtLeast(D(s), D(s)));
  }
  CHECK_FALSE(AlwaysAtLeast({-1, DurationUnit::kDays}, {1, DurationUnit::kDays}));
  CHECK_FALSE(AlwaysAtLeast({1, DurationUnit::kDays}, {kMaxDurationAmount + 1, DurationUnit::kDays}));
}

}  // namespace
}  // namespace retention
