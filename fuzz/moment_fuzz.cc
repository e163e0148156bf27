// libFuzzer harness: moments and durations as the command line and the
// rules give them. The input, split at '\n': a duration ("90 days"), a
// time zone name, then moments (--as-of, --from, --until, --expires, and
// text clocks read from stores); the first 8 bytes of the input also serve
// as a number read as a unix-seconds / -millis clock. Never a crash or
// undefined behaviour, and:
//   - a duration parsed is printed back as text that parses to itself;
//   - a moment parsed is printed back (FormatTimestamp) as text that
//     parses to the same instant;
//   - a cutoff is never later than `now` (rounding keeps more).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>

#include "calendar/clock_value.h"
#include "calendar/cutoff.h"
#include "calendar/duration.h"
#include "calendar/timestamp.h"
#include "cli/command.h"
#include "fuzz_util.h"

using namespace retention;

namespace {

// Text clocks have four-digit years; an offset can carry a local time of
// 9999-12-31 into year 10000 UTC, which prints with five digits and does
// not read back (fuzz/crashes-open/moment-offset-past-year-9999, reported).
// The round trip is checked inside the printable range.
constexpr Timestamp kFirstPrintable = std::chrono::sys_days{std::chrono::year{1} / 1 / 2};
constexpr Timestamp kPastLastPrintable = std::chrono::sys_days{std::chrono::year{9999} / 12 / 31};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto fields = fuzz::SplitFields(input, 6);

  std::optional<CalendarDuration> duration;
  if (auto d = ParseDuration(fields[0]); d.ok()) {
    auto again = ParseDuration(d->ToString());
    if (!again.ok() || !(*again == *d))
      fuzz::Violated("duration '" + std::string(fields[0]) + "' prints as '" + d->ToString() +
                     "', which does not parse back to it");
    duration = *d;
  }

  TimeZone zone = TimeZone::Utc();
  if (fields.size() > 1) {
    if (auto z = TimeZone::Load(fields[1]); z.ok()) zone = *z;
  }

  std::vector<Timestamp> moments;
  for (size_t i = 2; i < fields.size(); ++i) {
    // Both readings of a skipped or repeated local time: the earlier never
    // comes after the later.
    std::ostringstream notices;
    const Timestamp now = SystemNow();  // what "now" reads as
    auto earlier = ParseMomentArgument("--as-of", fields[i], zone, TimeZone::Pick::kEarlier, now, notices);
    auto later = ParseMomentArgument("--until", fields[i], zone, TimeZone::Pick::kLater, now, notices);
    if (earlier.ok() != later.ok() || (earlier.ok() && *earlier > *later))
      fuzz::Violated("moment '" + fields[i] + "': its earlier reading is not before its later one");
    if (earlier.ok()) moments.push_back(*earlier);
    if (auto t = ParseClockText(fields[i], zone); t && *t >= kFirstPrintable && *t < kPastLastPrintable) {
      const std::string text = FormatTimestamp(*t);
      auto back = ParseClockText(text, zone);
      if (!back || *back != *t)
        fuzz::Violated("moment '" + fields[i] + "' prints as '" + text + "', which does not read back the same");
    }
  }
  if (size >= 8) {
    double number;
    std::memcpy(&number, data, sizeof number);
    if (auto t = ClockFromUnixSeconds(number)) moments.push_back(*t);
    if (auto t = ClockFromUnixMillis(number)) moments.push_back(*t);
    int64_t micros;
    std::memcpy(&micros, data, sizeof micros);
    // Any instant prints, INT64_MIN included (a tampered state database can
    // hold one; tests/fixtures/fuzz/moment/moment-format-int64-min).
    (void)FormatTimestamp(FromUnixMicros(micros));
  }

  if (duration) {
    for (Timestamp now : moments) {
      const Timestamp cutoff = ComputeCutoff(now, *duration, zone);
      if (cutoff > now)
        fuzz::Violated("cutoff " + FormatTimestamp(cutoff) + " of " + duration->ToString() + " is later than now " +
                       FormatTimestamp(now));
    }
    (void)AlwaysAtLeast(*duration, CalendarDuration{30, DurationUnit::kDays});
    (void)AlwaysAtLeast(CalendarDuration{1, DurationUnit::kMonths}, *duration);
  }
  return 0;
}
