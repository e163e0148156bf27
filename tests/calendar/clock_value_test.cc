#include "calendar/clock_value.h"

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

namespace retention {
namespace {

// Expected instants are written as the text FormatTimestamp gives, which
// its own test pins down against Unix microseconds.
std::string Fmt(std::optional<Timestamp> t) { return t ? FormatTimestamp(*t) : "nullopt"; }

TimeZone Berlin() {
  Result<TimeZone> z = TimeZone::Load("Europe/Berlin");
  REQUIRE(z.ok());
  return *z;
}

TEST_CASE("FormatTimestamp and Unix microseconds", "[calendar]") {
  struct Case {
    int64_t micros;
    std::string_view text;
  };
  const Case cases[] = {
      {0, "1970-01-01T00:00:00Z"},
      {1, "1970-01-01T00:00:00.000001Z"},
      {-1, "1969-12-31T23:59:59.999999Z"},
      {1795360345000000, "2026-11-22T15:12:25Z"},
      {1795360345123456, "2026-11-22T15:12:25.123456Z"},
      {951782400000000, "2000-02-29T00:00:00Z"},
      {-2208988800000000, "1900-01-01T00:00:00Z"},
      {253402300799000000, "9999-12-31T23:59:59Z"},
      {-62135596800000000, "0001-01-01T00:00:00Z"},
      {std::numeric_limits<int64_t>::min(), "-290308-12-21T19:59:05.224192Z"},
  };
  for (const Case& c : cases) {
    CHECK(FormatTimestamp(FromUnixMicros(c.micros)) == c.text);
    CHECK(ToUnixMicros(FromUnixMicros(c.micros)) == c.micros);
  }
  const Timestamp now = SystemNow();
  CHECK(FormatTimestamp(now).size() >= 20);
  CHECK(now > FromUnixMicros(1767225600000000));  // after 2026-01-01
}

TEST_CASE("Clock encoding names", "[calendar]") {
  for (ClockEncoding e : {ClockEncoding::kUnixSeconds, ClockEncoding::kUnixMillis,
                          ClockEncoding::kText, ClockEncoding::kNative}) {
    CHECK(ClockEncodingFromName(ClockEncodingName(e)) == e);
  }
  CHECK(ClockEncodingName(ClockEncoding::kUnixSeconds) == "unix_seconds");
  CHECK(ClockEncodingName(ClockEncoding::kUnixMillis) == "unix_millis");
  CHECK(ClockEncodingName(ClockEncoding::kText) == "text");
  CHECK(ClockEncodingName(ClockEncoding::kNative) == "native");
  for (std::string_view bad : {"", "seconds", "Unix_Seconds", "text ", "iso8601"}) {
    CHECK_FALSE(ClockEncodingFromName(bad).has_value());
  }
}

TEST_CASE("Clocks in Unix seconds and milliseconds", "[calendar]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    double value;
    std::string_view want;  // "nullopt" when unparseable
  };
  const Case seconds[] = {
      {0, "1970-01-01T00:00:00Z"},
      {1795360345, "2026-11-22T15:12:25Z"},
      {1795360345.5, "2026-11-22T15:12:25.500000Z"},
      {1.1, "1970-01-01T00:00:01.100000Z"},
      {-1, "1969-12-31T23:59:59Z"},
      {-86400.25, "1969-12-30T23:59:59.750000Z"},
      {-2208988800, "1900-01-01T00:00:00Z"},
      {-2208988801, "nullopt"},
      {253402300799, "9999-12-31T23:59:59Z"},
      {253402300800, "nullopt"},
      {1e20, "nullopt"},
      {-1e20, "nullopt"},
      {1e308, "nullopt"},
      {nan, "nullopt"},
      {inf, "nullopt"},
      {-inf, "nullopt"},
  };
  for (const Case& c : seconds) {
    INFO("seconds " << c.value);
    CHECK(Fmt(ClockFromUnixSeconds(c.value)) == c.want);
  }
  const Case millis[] = {
      {0, "1970-01-01T00:00:00Z"},
      {1795360345123, "2026-11-22T15:12:25.123000Z"},
      {-1, "1969-12-31T23:59:59.999000Z"},
      {1795360345000.5, "2026-11-22T15:12:25.000500Z"},
      {-2208988800000, "1900-01-01T00:00:00Z"},
      {-2208988800001, "nullopt"},
      {253402300799999, "9999-12-31T23:59:59.999000Z"},
      {253402300800000, "nullopt"},
      {1795360345, "1970-01-21T18:42:40.345000Z"},  // seconds read as millis: still valid
      {1e30, "nullopt"},
      {nan, "nullopt"},
      {-inf, "nullopt"},
  };
  for (const Case& c : millis) {
    INFO("millis " << c.value);
    CHECK(Fmt(ClockFromUnixMillis(c.value)) == c.want);
  }
}

TEST_CASE("ParseClockText accepts the documented forms", "[calendar]") {
  const TimeZone utc = TimeZone::Utc();
  const TimeZone berlin = Berlin();
  struct Case {
    std::string_view text;
    const TimeZone* zone;  // for text without an offset
    std::string_view want;
  };
  const Case cases[] = {
      {"2026-11-22T15:12:25Z", &utc, "2026-11-22T15:12:25Z"},
      {"2026-11-22T15:12:25Z", &berlin, "2026-11-22T15:12:25Z"},
      {"2026-11-22t15:12:25z", &utc, "2026-11-22T15:12:25Z"},
      {"2026-11-22T15:12:25+01:00", &utc, "2026-11-22T14:12:25Z"},
      {"2026-11-22T15:12:25+0100", &utc, "2026-11-22T14:12:25Z"},
      {"2026-11-22T15:12:25+01", &utc, "2026-11-22T14:12:25Z"},
      {"2026-11-22T15:12:25-05:30", &utc, "2026-11-22T20:42:25Z"},
      {"2026-11-22T15:12:25-0530", &berlin, "2026-11-22T20:42:25Z"},
      {"2026-11-22T15:12:25+00:00", &berlin, "2026-11-22T15:12:25Z"},
      {"2026-11-22T15:12:25-00", &berlin, "2026-11-22T15:12:25Z"},
      {"2026-11-22T00:30:00+01:00", &utc, "2026-11-21T23:30:00Z"},
      {"2026-11-22T15:12:25.123456Z", &utc, "2026-11-22T15:12:25.123456Z"},
      {"2026-11-22T15:12:25.1Z", &utc, "2026-11-22T15:12:25.100000Z"},
      {"2026-11-22T15:12:25.123Z", &utc, "2026-11-22T15:12:25.123000Z"},
      // Beyond microseconds: rounded up, toward a younger clock.
      {"2026-11-22T15:12:25.123456001Z", &utc, "2026-11-22T15:12:25.123457Z"},
      {"2026-11-22T15:12:25.999999999Z", &utc, "2026-11-22T15:12:26Z"},
      {"2026-12-31T23:59:59.9999999Z", &utc, "2027-01-01T00:00:00Z"},
      {"2026-11-22T15:12:25.5+01:00", &utc, "2026-11-22T14:12:25.500000Z"},
      {"2026-11-22 15:12:25", &utc, "2026-11-22T15:12:25Z"},
      {"2026-11-22 15:12:25.250", &utc, "2026-11-22T15:12:25.250000Z"},
      {"2026-11-22 15:12:25+01", &utc, "2026-11-22T14:12:25Z"},
      {"2026-11-22T15:12", &utc, "2026-11-22T15:12:00Z"},
      {"2026-11-22 15:12Z", &berlin, "2026-11-22T15:12:00Z"},
      {"2026-11-22T15:12+01:00", &utc, "2026-11-22T14:12:00Z"},
      {"2026-11-22", &utc, "2026-11-22T00:00:00Z"},
      {"2024-02-29", &utc, "2024-02-29T00:00:00Z"},
      {"0001-01-01T00:00:00Z", &utc, "0001-01-01T00:00:00Z"},
      {"9999-12-31T23:59:59Z", &utc, "9999-12-31T23:59:59Z"},
      // Naive text is local time in the given zone.
      {"2026-11-22 15:12:25", &berlin, "2026-11-22T14:12:25Z"},           // CET
      {"2026-07-01 12:00:00", &berlin, "2026-07-01T10:00:00Z"},           // CEST
      {"2026-11-22 15:12:25.5", &berlin, "2026-11-22T14:12:25.500000Z"},
      {"2026-11-22T15:12", &berlin, "2026-11-22T14:12:00Z"},
      {"2026-11-22", &berlin, "2026-11-21T23:00:00Z"},                     // local midnight
      {"2026-07-01", &berlin, "2026-06-30T22:00:00Z"},
      // 02:30 on 2026-03-29 does not exist in Berlin: the later reading,
      // with the CET offset, as PostgreSQL does.
      {"2026-03-29 02:30:00", &berlin, "2026-03-29T01:30:00Z"},
      {"2026-03-29 01:59:59", &berlin, "2026-03-29T00:59:59Z"},
      {"2026-03-29 03:00:00", &berlin, "2026-03-29T01:00:00Z"},
      // 02:30 on 2026-10-25 happens twice: the later one, CET.
      {"2026-10-25 02:30:00", &berlin, "2026-10-25T01:30:00Z"},
      {"2026-10-25 01:59:59", &berlin, "2026-10-24T23:59:59Z"},
      {"2026-10-25 03:00:00", &berlin, "2026-10-25T02:00:00Z"},
      // An explicit offset wins over the zone, even inside its gap.
      {"2026-03-29T02:30:00+02:00", &berlin, "2026-03-29T00:30:00Z"},
  };
  for (const Case& c : cases) {
    INFO("\"" << c.text << "\" in " << c.zone->name());
    CHECK(Fmt(ParseClockText(c.text, *c.zone)) == c.want);
  }
}

TEST_CASE("ParseClockText rejects invalid text", "[calendar]") {
  const TimeZone utc = TimeZone::Utc();
  const TimeZone berlin = Berlin();
  const std::string_view cases[] = {
      "",
      "garbage",
      "2026-02-30",
      "2025-02-29",
      "2026-04-31",
      "2026-13-01",
      "2026-00-10",
      "2026-11-00",
      "0000-01-01",
      "2026-11-22T25:00",
      "2026-11-22T24:00:00",
      "2026-11-22T15:60",
      "2026-11-22T15:12:60Z",
      "2026-11-22T15:12:61Z",
      "2026-11-22T15:12:25Zjunk",
      "2026-11-22T15:12:25Z ",
      "2026-11-22T15:12:25 ",
      " 2026-11-22",
      "2026-11-22 junk",
      "2026-11-22x",
      "2026-11-22T",
      "2026-11-22 ",
      "2026-11-22T15",
      "2026-11-22T15:",
      "2026-11-22T15:12:",
      "2026-11-22T15:12:2",
      "2026-11-22T15:12:25.",
      "2026-11-22T15:12:25.Z",
      "2026-11-22T15:12:25.1234567890Z",
      "2026-11-22T15:12.5",
      "2026-11-22T15:12:25+1",
      "2026-11-22T15:12:25+01:0",
      "2026-11-22T15:12:25+01:",
      "2026-11-22T15:12:25+010",
      "2026-11-22T15:12:25+24:00",
      "2026-11-22T15:12:25+01:60",
      "2026-11-22T15:12:25 +01:00",
      "2026-11-22T15:12:25UTC",
      "2026-11-22Z",
      "26-11-22",
      "2026-1-22",
      "2026-11-2",
      "2026/11/22",
      "20261122",
      "+2026-11-22",
      "-2026-11-22",
      "１２３４-11-22",
      std::string_view("2026-11-22\0", 11),
  };
  for (std::string_view text : cases) {
    INFO("\"" << text << "\"");
    CHECK(Fmt(ParseClockText(text, utc)) == "nullopt");
    CHECK(Fmt(ParseClockText(text, berlin)) == "nullopt");
  }
}

}  // namespace
}  // namespace retention
