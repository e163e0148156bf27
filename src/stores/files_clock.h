// The clock of a file: its mtime, or a date written in its name.
//
// Name patterns (clock = { name = "db-%Y-%m-%d" }) are strftime-like:
//   %Y  four digits     %m %d %H %M %S  two digits each     %%  a '%'
// every other character literal. The pattern is searched for in the file's
// base name, leftmost match first, and need not cover the whole name:
// "db-%Y-%m-%d" dates "db-2026-03-01.sqlite.gz". A field never starts or ends
// inside a longer run of digits ("%Y%m%d" does not read the middle of
// "x120260301"). Missing %H/%M/%S mean 00:00:00, local time in the clock's
// zone (the target's clock.time_zone, else the selection's zone); a local
// time that does not exist or exists twice takes the later instant (the
// file looks younger and is kept longer). A name without a match, a
// calendar-invalid date (2026-02-30, 25:00), a year outside 1900..9999 or a
// field given twice with different values is undated: never due.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>

#include "calendar/cutoff.h"
#include "calendar/timestamp.h"
#include "rules/rule.h"
#include "util/status.h"

namespace retention::files {

class NameDatePattern {
 public:
  // Invalid when %Y, %m or %d is missing, a '%' is followed by anything but
  // Y m d H M S %, or the pattern contains '/' (it matches a base name).
  static Result<NameDatePattern> Compile(std::string_view pattern);

  struct Match {
    bool matched = false;            // the pattern's shape was found
    std::string text;                // the matched part of the name
    std::optional<Timestamp> clock;  // nullopt: no match or not a real date
  };
  Match Find(std::string_view basename, const TimeZone& zone) const;

 private:
  struct Element {
    char field = 0;       // 'Y', 'm', 'd', 'H', 'M', 'S'; 0: literal
    std::string literal;
  };
  // Matches at `start`; on success sets *end and the fields.
  bool MatchAt(std::string_view name, size_t start, size_t* end, int values[6]) const;

  std::vector<Element> elements_;
};

// A file's clock as the ledger records it and the engine compares it.
struct FileClock {
  std::string text;                // FormatTimestamp(mtime), or the name's date text
  std::optional<Timestamp> value;  // nullopt: undated
};

// Reads one ClockSpec's clock from a file's stat and base name.
class FileClockReader {
 public:
  // `default_zone` is used when the spec names no time_zone. Invalid for a
  // column clock, an unusable name pattern or an unknown zone.
  static Result<FileClockReader> Make(const ClockSpec& spec, const TimeZone& default_zone);

  FileClock Read(const struct stat& st, std::string_view basename) const;

 private:
  FileClockReader(ClockSource source, std::optional<NameDatePattern> pattern, TimeZone zone)
      : source_(source), pattern_(std::move(pattern)), zone_(std::move(zone)) {}

  ClockSource source_;
  std::optional<NameDatePattern> pattern_;
  TimeZone zone_;
};

// st_mtim, truncated to microseconds; nullopt outside years 1900..9999.
std::optional<Timestamp> MtimeOf(const struct stat& st);

}  // namespace retention::files
