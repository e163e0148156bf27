// Reading a record's clock from the value a store holds.
//
// Each target declares how its clock column is encoded. A value that is
// NULL, of the wrong type or cannot be parsed yields std::nullopt: the record
// is "undated" and is never due.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "calendar/cutoff.h"
#include "calendar/timestamp.h"

namespace retention {

enum class ClockEncoding {
  kUnixSeconds,  // integer (or real) seconds since the epoch
  kUnixMillis,   // integer milliseconds since the epoch
  kText,         // ISO-8601 / SQL text, see ParseClockText
  kNative,       // the store's own timestamp type (PostgreSQL timestamptz)
};

// Name used in rule files: "unix_seconds", "unix_millis", "text", "native".
std::string_view ClockEncodingName(ClockEncoding e);
std::optional<ClockEncoding> ClockEncodingFromName(std::string_view name);

// Parses text clocks. Accepted forms:
//   2026-11-22T15:12:25Z             ISO-8601, UTC
//   2026-11-22T15:12:25+01:00        ISO-8601 with offset (also +0100, +01)
//   2026-11-22T15:12:25.123456Z      fractional seconds, up to 9 digits
//   2026-11-22 15:12:25[.fff]        SQL text (space instead of T)
//   2026-11-22T15:12                 minutes only
//   2026-11-22                       date only: local midnight
// Text without an offset is local time in `naive_zone`; a nonexistent or
// ambiguous local time resolves to the later instant (the record looks
// younger, so it is kept longer). Calendar-invalid dates (2026-02-30),
// out-of-range fields, trailing garbage, empty text: std::nullopt.
std::optional<Timestamp> ParseClockText(std::string_view text, const TimeZone& naive_zone);

// The same text before a zone is applied: the wall-clock time it names and
// the offset it gives, if any. For callers that resolve a naive time their
// own way (a moment typed on the command line, see calendar/moment.h).
struct ClockTextParts {
  TimeZone::LocalTime local;
  std::optional<std::chrono::seconds> offset;
};
std::optional<ClockTextParts> SplitClockText(std::string_view text);

// Seconds or milliseconds since the epoch. Values outside years 1900..9999
// are treated as unparseable.
std::optional<Timestamp> ClockFromUnixSeconds(double seconds);
std::optional<Timestamp> ClockFromUnixMillis(double millis);

}  // namespace retention
