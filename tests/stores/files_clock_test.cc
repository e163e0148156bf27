#include "stores/files_clock.h"

#include <catch2/catch.hpp>

#include <string>

using retention::FormatTimestamp;
using retention::TimeZone;
using retention::files::NameDatePattern;

namespace {

NameDatePattern Pattern(const char* p) {
  auto r = NameDatePattern::Compile(p);
  REQUIRE(r.ok());
  return *r;
}

TimeZone Zone(const char* name) {
  auto z = TimeZone::Load(name);
  REQUIRE(z.ok());
  return *z;
}

// The clock as text, or "undated" / "no match".
std::string Read(const char* pattern, const char* name, const TimeZone& zone) {
  auto m = Pattern(pattern).Find(name, zone);
  if (!m.matched) return "no match";
  if (!m.clock) return "undated:" + m.text;
  return FormatTimestamp(*m.clock);
}

}  // namespace

TEST_CASE("name dates parse across month ends", "[files]") {
  const TimeZone utc = TimeZone::Utc();
  struct {
    const char* pattern;
    const char* name;
    const char* clock;
  } cases[] = {
      {"db-%Y-%m-%d", "db-2026-03-01.sqlite.gz", "2026-03-01T00:00:00Z"},
      {"db-%Y-%m-%d", "db-2026-01-31.sqlite.gz", "2026-01-31T00:00:00Z"},
      {"db-%Y-%m-%d", "db-2026-12-31.sqlite.gz", "2026-12-31T00:00:00Z"},
      {"db-%Y-%m-%d", "db-2024-02-29.sqlite.gz", "2024-02-29T00:00:00Z"},  // leap year
      {"db-%Y-%m-%d", "db-2026-02-29.sqlite.gz", "undated:db-2026-02-29"},
      {"db-%Y-%m-%d", "db-2026-04-31.sqlite.gz", "undated:db-2026-04-31"},
      {"db-%Y-%m-%d", "db-2026-13-01.sqlite.gz", "undated:db-2026-13-01"},
      {"db-%Y-%m-%d", "db-2026-00-10.sqlite.gz", "undated:db-2026-00-10"},
      {"db-%Y-%m-%d", "db-2026-01-00.sqlite.gz", "undated:db-2026-01-00"},
      {"db-%Y-%m-%d", "db-1899-12-31.sqlite.gz", "undated:db-1899-12-31"},
      {"db-%Y-%m-%d", "db-latest.sqlite.gz", "no match"},
      {"db-%Y-%m-%d", "db-2026-3-01.sqlite.gz", "no match"},  // fixed widths
      {"db-%Y-%m-%d", "old-db-2026-03-01.sqlite.gz", "2026-03-01T00:00:00Z"},  // a substring
      {"db-%Y-%m-%d", "db-2026-03-011.sqlite.gz", "no match"},  // not inside a longer number
      {"access.log-%Y%m%d", "access.log-20260301.gz", "2026-03-01T00:00:00Z"},
      {"%Y%m%d", "access.log-20260301.gz", "2026-03-01T00:00:00Z"},
      {"%Y%m%d", "x120260301", "no match"},  // never starts inside a number
      {"%Y%m%d", "2026030112", "no match"},  // nor ends inside one
      {"%Y%m%d-%H%M%S", "dump-20260301-235959.tar", "2026-03-01T23:59:59Z"},
      {"%Y%m%d-%H%M%S", "dump-20260301-240000.tar", "undated:20260301-240000"},
      {"%Y%m%d-%H%M%S", "dump-20260301-236000.tar", "undated:20260301-236000"},
      {"%Y-%m-%d_%H", "x-2026-03-01_07", "2026-03-01T07:00:00Z"},
      {"100%%-%Y-%m-%d", "100%-2026-03-01", "2026-03-01T00:00:00Z"},
  };
  for (const auto& c : cases) {
    INFO(c.pattern << " on " << c.name);
    CHECK(Read(c.pattern, c.name, utc) == c.clock);
  }
}

TEST_CASE("a field given twice must agree", "[files]") {
  const TimeZone utc = TimeZone::Utc();
  CHECK(Read("%Y-%m-%d.%Y", "2026-03-01.2026", utc) == "2026-03-01T00:00:00Z");
  CHECK(Read("%Y-%m-%d.%Y", "2026-03-01.2025", utc) == "no match");
}

TEST_CASE("name dates are local times of the clock's zone", "[files]") {
  // Berlin is UTC+1 in winter, UTC+2 in summer.
  const TimeZone berlin = Zone("Europe/Berlin");
  CHECK(Read("db-%Y-%m-%d", "db-2026-03-01.gz", berlin) == "2026-02-28T23:00:00Z");
  CHECK(Read("db-%Y-%m-%d", "db-2026-07-01.gz", berlin) == "2026-06-30T22:00:00Z");
  CHECK(Read("db-%Y-%m-%d", "db-2026-01-01.gz", berlin) == "2025-12-31T23:00:00Z");
  const TimeZone tokyo = Zone("Asia/Tokyo");
  CHECK(Read("db-%Y-%m-%d", "db-2026-03-01.gz", tokyo) == "2026-02-28T15:00:00Z");
  const TimeZone ny = Zone("America/New_York");
  // 2026-03-08 02:30 does not exist in New York: the later reading (the file
  // looks younger).
  CHECK(Read("%Y-%m-%d %H%M", "2026-03-08 0230", ny) == "2026-03-08T07:30:00Z");
  // 2026-11-01 01:30 exists twice: the later instant (EST, UTC-5).
  CHECK(Read("%Y-%m-%d %H%M", "2026-11-01 0130", ny) == "2026-11-01T06:30:00Z");
}

TEST_CASE("bad name patterns are rejected", "[files]") {
  const std::pair<const char*, const char*> bad[] = {
      {"db-%Y-%m", "must contain %Y, %m and %d"},
      {"db-%m-%d", "must contain %Y, %m and %d"},
      {"db-%Y-%m-%d-%j", "%j is not supported"},
      {"db-%Y-%m-%d%", "lone '%'"},
      {"backups/db-%Y-%m-%d", "cannot contain '/'"},
      {"", "must contain"},
  };
  for (auto [pattern, message] : bad) {
    INFO(pattern);
    auto p = NameDatePattern::Compile(pattern);
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.status().message(), Catch::Contains(message));
  }
}
