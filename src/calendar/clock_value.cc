#include "calendar/clock_value.h"

#include <cmath>

#include <date/date.h>

namespace retention {
namespace {

using std::chrono::microseconds;

struct EncodingName {
  ClockEncoding encoding;
  std::string_view name;
};
constexpr EncodingName kEncodingNames[] = {
    {ClockEncoding::kUnixSeconds, "unix_seconds"},
    {ClockEncoding::kUnixMillis, "unix_millis"},
    {ClockEncoding::kText, "text"},
    {ClockEncoding::kNative, "native"},
};

// Reads the fixed-width fields of a text clock left to right.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool AtEnd() const { return s_.empty(); }
  bool Peek(char c) const { return !s_.empty() && s_.front() == c; }

  bool Eat(char c) {
    if (!Peek(c)) return false;
    s_.remove_prefix(1);
    return true;
  }

  // Exactly `n` decimal digits.
  bool Digits(int n, int* out) {
    if (s_.size() < static_cast<size_t>(n)) return false;
    int v = 0;
    for (int i = 0; i < n; ++i) {
      if (s_[i] < '0' || s_[i] > '9') return false;
      v = v * 10 + (s_[i] - '0');
    }
    s_.remove_prefix(n);
    *out = v;
    return true;
  }

  // 1..9 fractional digits as microseconds, rounded up: a clock read a hair
  // later looks younger, so the record is kept. ".9999999" gives 1000000;
  // the caller adds it to the instant, so the carry needs no handling.
  bool Fraction(int64_t* micros) {
    int64_t nanos = 0;
    int n = 0;
    while (n < static_cast<int>(s_.size()) && s_[n] >= '0' && s_[n] <= '9') {
      if (++n > 9) return false;
      nanos = nanos * 10 + (s_[n - 1] - '0');
    }
    if (n == 0) return false;
    for (int i = n; i < 9; ++i) nanos *= 10;
    s_.remove_prefix(n);
    *micros = (nanos + 999) / 1000;
    return true;
  }

 private:
  std::string_view s_;
};

// "Z", "+01:00", "+0100" or "+01", as seconds east of UTC.
bool ParseOffset(Cursor& c, std::chrono::seconds* offset) {
  if (c.Eat('Z') || c.Eat('z')) {
    *offset = std::chrono::seconds{0};
    return true;
  }
  int sign = 0;
  if (c.Eat('+')) sign = 1;
  else if (c.Eat('-')) sign = -1;
  else return false;
  int hours = 0;
  int minutes = 0;
  if (!c.Digits(2, &hours) || hours > 23) return false;
  if (c.Eat(':')) {
    if (!c.Digits(2, &minutes)) return false;
  } else if (!c.AtEnd() && !c.Digits(2, &minutes)) {  // "+0100"; "+01" ends here
    return false;
  }
  if (minutes > 59) return false;
  *offset = sign * (std::chrono::hours{hours} + std::chrono::minutes{minutes});
  return true;
}

// `value` units of `micros_per_unit` microseconds, within years 1900..9999.
// The whole units are scaled in integers: a double times 1000 would already
// blur the microseconds of a millisecond clock in year 9999.
std::optional<Timestamp> ClockFromUnits(double value, int64_t micros_per_unit) {
  constexpr int64_t kFirst = int64_t{-2208988800} * 1000000;  // 1900-01-01T00:00:00Z
  constexpr int64_t kEnd = int64_t{253402300800} * 1000000;   // 10000-01-01T00:00:00Z
  const double approx = value * static_cast<double>(micros_per_unit);
  if (!(approx > -1e18 && approx < 1e18)) return std::nullopt;  // also NaN; int64 math below fits
  const double whole = std::floor(value);
  const int64_t micros = static_cast<int64_t>(whole) * micros_per_unit +
                         std::llround((value - whole) * static_cast<double>(micros_per_unit));
  if (micros < kFirst || micros >= kEnd) return std::nullopt;
  return Timestamp(microseconds(micros));
}

}  // namespace

std::string_view ClockEncodingName(ClockEncoding e) {
  for (const EncodingName& n : kEncodingNames) {
    if (n.encoding == e) return n.name;
  }
  return "unknown";
}

std::optional<ClockEncoding> ClockEncodingFromName(std::string_view name) {
  for (const EncodingName& n : kEncodingNames) {
    if (n.name == name) return n.encoding;
  }
  return std::nullopt;
}

std::optional<ClockTextParts> SplitClockText(std::string_view text) {
  Cursor c(text);
  int year = 0, month = 0, day = 0;
  if (!c.Digits(4, &year) || !c.Eat('-') || !c.Digits(2, &month) || !c.Eat('-') ||
      !c.Digits(2, &day)) {
    return std::nullopt;
  }
  // Year 0 does not exist in SQL; ok() rejects 2026-02-30 and 2026-13-01.
  const date::year_month_day ymd{date::year{year}, date::month(month), date::day(day)};
  if (year == 0 || !ymd.ok()) return std::nullopt;

  int hour = 0, minute = 0, second = 0;
  int64_t micros = 0;
  std::optional<std::chrono::seconds> offset;
  if (c.Eat('T') || c.Eat('t') || c.Eat(' ')) {
    if (!c.Digits(2, &hour) || !c.Eat(':') || !c.Digits(2, &minute)) return std::nullopt;
    if (c.Eat(':')) {
      if (!c.Digits(2, &second)) return std::nullopt;
      if (c.Eat('.') && !c.Fraction(&micros)) return std::nullopt;
    }
    if (!c.AtEnd()) {
      std::chrono::seconds parsed;
      if (!ParseOffset(c, &parsed)) return std::nullopt;
      offset = parsed;
    }
  }
  // No leap seconds and no 24:00: out of range, like trailing text.
  if (!c.AtEnd() || hour > 23 || minute > 59 || second > 59) return std::nullopt;

  const auto local_since_epoch = date::local_days(ymd).time_since_epoch() +
                                 std::chrono::hours{hour} + std::chrono::minutes{minute} +
                                 std::chrono::seconds{second} + microseconds{micros};
  return ClockTextParts{TimeZone::LocalTime(local_since_epoch), offset};
}

std::optional<Timestamp> ParseClockText(std::string_view text, const TimeZone& naive_zone) {
  auto parts = SplitClockText(text);
  if (!parts) return std::nullopt;
  if (parts->offset) return Timestamp(parts->local.time_since_epoch() - *parts->offset);
  return naive_zone.FromLocal(parts->local, TimeZone::Pick::kLater);
}

std::optional<Timestamp> ClockFromUnixSeconds(double seconds) {
  return ClockFromUnits(seconds, 1000000);
}

std::optional<Timestamp> ClockFromUnixMillis(double millis) {
  return ClockFromUnits(millis, 1000);
}

}  // namespace retention
