#include "calendar/timestamp.h"

#include <cinttypes>
#include <cstdio>

namespace retention {
namespace {

struct CivilDate {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Howard Hinnant's civil_from_days, in 64 bits so that every Timestamp, even
// Timestamp::min() (the "nothing is due" cutoff), formats without overflow;
// date::year stops at +-32767.
CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);                   // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (month <= 2), month, day};
}

}  // namespace

std::string FormatTimestamp(Timestamp t) {
  constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;
  const int64_t micros = ToUnixMicros(t);
  // Remainder first: days * kMicrosPerDay would overflow for an instant
  // within a day of INT64_MIN (a tampered state database can hold one).
  int64_t days = micros / kMicrosPerDay;
  int64_t in_day = micros % kMicrosPerDay;
  if (in_day < 0) {
    in_day += kMicrosPerDay;  // [0, kMicrosPerDay)
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  const int64_t secs = in_day / 1000000;
  const int64_t sub = in_day % 1000000;

  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d", date.year,
                        date.month, date.day, static_cast<int>(secs / 3600),
                        static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  if (sub != 0) n += std::snprintf(buf + n, sizeof buf - n, ".%06d", static_cast<int>(sub));
  std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

int64_t ToUnixMicros(Timestamp t) { return t.time_since_epoch().count(); }

Timestamp FromUnixMicros(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

Timestamp SystemNow() {
  return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace retention
