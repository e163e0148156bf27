#include "calendar/duration.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <vector>

#include <date/date.h>

namespace retention {
namespace {

constexpr std::string_view kUnitList =
    "seconds, minutes, hours, days, weeks, months or years, e.g. \"90 days\", \"30m\", \"1y\"";

// Every spelling of a unit, lower case; the first is the canonical name.
struct UnitName {
  DurationUnit unit;
  std::string_view singular;
  std::string_view aliases[3];
};
constexpr UnitName kUnitNames[] = {
    {DurationUnit::kSeconds, "second", {"s", "sec", "seconds"}},
    {DurationUnit::kMinutes, "minute", {"m", "min", "minutes"}},
    {DurationUnit::kHours, "hour", {"h", "hours"}},
    {DurationUnit::kDays, "day", {"d", "days"}},
    {DurationUnit::kWeeks, "week", {"w", "weeks"}},
    {DurationUnit::kMonths, "month", {"mo", "months"}},
    {DurationUnit::kYears, "year", {"y", "years"}},
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Takes the longest prefix of `s` whose characters satisfy `pred`.
template <typename Pred>
std::string_view TakeWhile(std::string_view& s, Pred pred) {
  size_t n = 0;
  while (n < s.size() && pred(s[n])) ++n;
  std::string_view taken = s.substr(0, n);
  s.remove_prefix(n);
  return taken;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The three families whose amounts convert exactly into each other.
enum class Family { kExact, kDays, kMonths };

Family FamilyOf(DurationUnit u) {
  switch (u) {
    case DurationUnit::kSeconds:
    case DurationUnit::kMinutes:
    case DurationUnit::kHours: return Family::kExact;
    case DurationUnit::kDays:
    case DurationUnit::kWeeks: return Family::kDays;
    case DurationUnit::kMonths:
    case DurationUnit::kYears: return Family::kMonths;
  }
  return Family::kExact;
}

// Amount in the family's base unit: seconds, days or months.
int64_t BaseAmount(const CalendarDuration& d) {
  switch (d.unit) {
    case DurationUnit::kMinutes: return d.amount * 60;
    case DurationUnit::kHours: return d.amount * 3600;
    case DurationUnit::kWeeks: return d.amount * 7;
    case DurationUnit::kYears: return d.amount * 12;
    default: return d.amount;
  }
}

struct Range {
  int64_t lo;
  int64_t hi;
};

// The Gregorian calendar repeats every 400 years: 4800 months, 146097 days.
constexpr int kCycleMonths = 4800;
constexpr int64_t kCycleDays = 146097;

// First day of each month of two 400-year cycles, counted from the first.
const std::vector<int64_t>& MonthStarts() {
  static const std::vector<int64_t> starts = [] {
    std::vector<int64_t> v;
    const date::sys_days origin{date::year{2000} / 1 / 1};
    for (int k = 0; k <= 2 * kCycleMonths; ++k) {
      const date::year_month ym = date::year{2000} / date::January + date::months{k};
      v.push_back((date::sys_days{ym / 1} - origin).count());
    }
    return v;
  }();
  return starts;
}

// Shortest and longest span, in calendar days, of going back `months` months
// from any date with end-of-month clamping (cutoff.h). From day 1 of month M
// the span is the lengths of the `months` months before M; from a day the
// target month lacks, clamping makes it the lengths of the months up to and
// including M. Either way a run of consecutive months, so the extremes are
// those of such runs. Whole 400-year cycles add a fixed count, and one cycle
// of starting months covers every case.
Range MonthSpanDays(int64_t months) {
  const std::vector<int64_t>& starts = MonthStarts();
  const int64_t cycles = months / kCycleMonths;
  const int rest = static_cast<int>(months % kCycleMonths);

  Range r{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  for (int from = kCycleMonths; from < 2 * kCycleMonths; ++from) {
    const int64_t span = starts[from] - starts[from - rest];
    r.lo = std::min(r.lo, span);
    r.hi = std::max(r.hi, span);
  }
  return {r.lo + cycles * kCycleDays, r.hi + cycles * kCycleDays};
}

// Span in calendar days of a days- or months-family duration.
Range CalendarDays(const CalendarDuration& d) {
  if (FamilyOf(d.unit) == Family::kDays) return {BaseAmount(d), BaseAmount(d)};
  return MonthSpanDays(BaseAmount(d));
}

// Elapsed seconds: a calendar day lasts 22.5 h to 25.5 h (duration.h).
Range Seconds(const CalendarDuration& d) {
  if (FamilyOf(d.unit) == Family::kExact) return {BaseAmount(d), BaseAmount(d)};
  const Range days = CalendarDays(d);
  return {days.lo * (22 * 3600 + 1800), days.hi * (25 * 3600 + 1800)};
}

}  // namespace

std::string CalendarDuration::ToString() const {
  std::string_view name = "day";
  for (const UnitName& u : kUnitNames) {
    if (u.unit == unit) name = u.singular;
  }
  std::string out = std::to_string(amount) + " " + std::string(name);
  if (amount != 1) out += "s";
  return out;
}

Result<CalendarDuration> ParseDuration(std::string_view text) {
  const auto invalid = [text](std::string_view why) {
    return Status::Invalid("invalid duration \"" + std::string(text) + "\": " + std::string(why));
  };
  const std::string units_hint = "(expected " + std::string(kUnitList) + ")";

  std::string_view rest = TrimBlanks(text);
  if (rest.empty()) return Status::Invalid("empty duration (expected e.g. \"90 days\")");
  if (rest.front() == '-' || rest.front() == '+') {
    return invalid("the amount must be a positive whole number, without a sign");
  }
  const std::string_view digits = TakeWhile(rest, IsDigit);
  if (digits.empty()) return invalid("expected a whole number first, as in \"90 days\" or \"30m\"");
  if (!rest.empty() && (rest.front() == '.' || rest.front() == ',')) {
    return invalid("the amount must be a whole number; use a smaller unit instead of a fraction");
  }

  // Accumulate while small, so huge digit strings cannot overflow.
  int64_t amount = 0;
  for (char c : digits) {
    amount = amount * 10 + (c - '0');
    if (amount > kMaxDurationAmount) {
      return invalid("the amount must be at most " + std::to_string(kMaxDurationAmount));
    }
  }
  if (amount == 0) return invalid("the amount must be positive");

  if (rest.empty()) return invalid("missing unit after the amount " + units_hint);
  TakeWhile(rest, IsBlank);
  const std::string_view word = TakeWhile(rest, IsAlpha);
  if (word.empty()) return invalid("missing unit after the amount " + units_hint);
  // "m" is minutes (systemd, Go, and `--max-runtime 30m` always). systemd
  // reads "M" as months: a shift key away from minutes, so "M" alone is
  // refused rather than read either way.
  if (word == "M") return invalid("\"M\" is ambiguous: write \"min\" for minutes or \"mo\" for months");
  const std::string lower = Lower(word);
  const UnitName* found = nullptr;
  for (const UnitName& u : kUnitNames) {
    if (lower == u.singular) found = &u;
    for (std::string_view alias : u.aliases)
      if (!alias.empty() && lower == alias) found = &u;
  }
  if (found == nullptr) return invalid("unknown unit \"" + std::string(word) + "\" " + units_hint);
  if (!rest.empty()) {
    return invalid("unexpected text after the unit: \"" + std::string(TrimBlanks(rest)) + "\"");
  }
  return CalendarDuration{amount, found->unit};
}

bool AlwaysAtLeast(const CalendarDuration& a, const CalendarDuration& b) {
  // Amounts ParseDuration never produces: answer the cautious "no".
  for (const CalendarDuration* d : {&a, &b}) {
    if (d->amount < 0 || d->amount > kMaxDurationAmount) return false;
  }
  const Family fa = FamilyOf(a.unit);
  const Family fb = FamilyOf(b.unit);
  if (fa == fb) return BaseAmount(a) >= BaseAmount(b);
  // Days and months both move the local calendar date and keep the time of
  // day, so they compare in whole calendar days, free of DST.
  if (fa != Family::kExact && fb != Family::kExact) {
    return CalendarDays(a).lo >= CalendarDays(b).hi;
  }
  return Seconds(a).lo >= Seconds(b).hi;
}

}  // namespace retention
