#include "stores/files_clock.h"

#include <date/date.h>

namespace retention::files {
namespace {

constexpr std::string_view kFields = "YmdHMS";

int FieldIndex(char f) { return static_cast<int>(kFields.find(f)); }
size_t FieldWidth(char f) { return f == 'Y' ? 4 : 2; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<NameDatePattern> NameDatePattern::Compile(std::string_view pattern) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("name pattern '" + std::string(pattern) + "': " + why);
  };
  if (pattern.find('/') != std::string_view::npos)
    return bad("it is matched against the file name and cannot contain '/'");
  NameDatePattern p;
  bool seen[6] = {};
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) p.elements_.push_back(Element{0, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      literal += pattern[i];
      continue;
    }
    if (i + 1 >= pattern.size()) return bad("ends with a lone '%'");
    const char f = pattern[++i];
    if (f == '%') {
      literal += '%';
      continue;
    }
    if (kFields.find(f) == std::string_view::npos)
      return bad(std::string("%") + f + " is not supported (use %Y %m %d %H %M %S %%)");
    flush();
    seen[FieldIndex(f)] = true;
    p.elements_.push_back(Element{f, {}});
  }
  flush();
  if (!seen[0] || !seen[1] || !seen[2]) return bad("must contain %Y, %m and %d");
  return p;
}

bool NameDatePattern::MatchAt(std::string_view name, size_t start, size_t* end, int values[6]) const {
  for (int i = 0; i < 6; ++i) values[i] = -1;
  size_t pos = start;
  for (const Element& e : elements_) {
    if (e.field == 0) {
      if (name.compare(pos, e.literal.size(), e.literal) != 0) return false;
      pos += e.literal.size();
      continue;
    }
    const size_t width = FieldWidth(e.field);
    if (pos + width > name.size()) return false;
    int v = 0;
    for (size_t k = 0; k < width; ++k) {
      if (!IsDigit(name[pos + k])) return false;
      v = v * 10 + (name[pos + k] - '0');
    }
    int& slot = values[FieldIndex(e.field)];
    if (slot >= 0 && slot != v) return false;  // the same field twice, differently
    slot = v;
    pos += width;
  }
  *end = pos;
  return true;
}

NameDatePattern::Match NameDatePattern::Find(std::string_view name, const TimeZone& zone) const {
  Match m;
  const bool starts_with_field = !elements_.empty() && elements_.front().field != 0;
  const bool ends_with_field = !elements_.empty() && elements_.back().field != 0;
  int v[6];
  size_t end = 0;
  size_t start = 0;
  for (; start < name.size(); ++start) {
    if (starts_with_field && start > 0 && IsDigit(name[start - 1])) continue;
    if (!MatchAt(name, start, &end, v)) continue;
    if (ends_with_field && end < name.size() && IsDigit(name[end])) continue;
    break;
  }
  if (start >= name.size()) return m;
  m.matched = true;
  m.text = std::string(name.substr(start, end - start));

  const int year = v[0], month = v[1], day = v[2];
  const int hour = v[3] < 0 ? 0 : v[3], minute = v[4] < 0 ? 0 : v[4], second = v[5] < 0 ? 0 : v[5];
  if (year < 1900 || year > 9999 || hour > 23 || minute > 59 || second > 59) return m;
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return m;
  const auto local = date::local_days{ymd} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
                     std::chrono::seconds{second};
  m.clock = zone.FromLocal(TimeZone::LocalTime(std::chrono::duration_cast<std::chrono::microseconds>(
                               local.time_since_epoch())),
                           TimeZone::Pick::kLater);
  return m;
}

std::optional<Timestamp> MtimeOf(const struct stat& st) {
  // Years 1900..9999, as ClockFromUnixSeconds: a zero or absurd mtime from a
  // broken copy is undated rather than ancient.
  constexpr int64_t kMin = -2208988800;   // 1900-01-01
  constexpr int64_t kMax = 253402300800;  // 10000-01-01
  const int64_t sec = st.st_mtim.tv_sec;
  if (sec < kMin || sec >= kMax) return std::nullopt;
  return FromUnixMicros(sec * 1000000 + st.st_mtim.tv_nsec / 1000);
}

Result<FileClockReader> FileClockReader::Make(const ClockSpec& spec, const TimeZone& default_zone) {
  TimeZone zone = default_zone;
  if (!spec.time_zone.empty()) {
    auto z = TimeZone::Load(spec.time_zone);
    if (!z.ok()) return z.status();
    zone = *z;
  }
  switch (spec.source) {
    case ClockSource::kFileMtime:
      return FileClockReader(spec.source, std::nullopt, zone);
    case ClockSource::kFileName: {
      auto p = NameDatePattern::Compile(spec.name_pattern);
      if (!p.ok()) return p.status();
      return FileClockReader(spec.source, std::move(*p), zone);
    }
    case ClockSource::kColumn:
    case ClockSource::kLedgerTime:
      break;
  }
  return Status::Invalid("a files target's clock is { mtime = true } or { name = \"PATTERN\" }, not a column");
}

FileClock FileClockReader::Read(const struct stat& st, std::string_view basename) const {
  FileClock c;
  if (source_ == ClockSource::kFileMtime) {
    c.value = MtimeOf(st);
    c.text = c.value ? FormatTimestamp(*c.value) : std::to_string(st.st_mtim.tv_sec);
    return c;
  }
  NameDatePattern::Match m = pattern_->Find(basename, zone_);
  c.text = m.matched ? std::move(m.text) : std::string(basename);
  c.value = m.clock;
  return c;
}

}  // namespace retention::files
