// A moment a person types: on the command line (--as-of, --since, --until,
// a hold's --from/--until/--expires, ...), the one grammar of every option
// that takes one. The forms:
//   2026-11-22                      a date: local midnight
//   2026-11-22T15:12:25Z            ISO 8601 / RFC 3339, with a zone ...
//   2026-11-22T15:12:25+01:00       ... or an offset (also +0100, +01)
//   2026-11-22 15:12[:25[.123]]     ... or without: local time (SQL text too)
//   now, today, yesterday, tomorrow now, and local midnights
//   -7d, -90 days, +2 weeks, +1y    now minus or plus a duration (duration.h)
//
// Local means the configured zone, and around a DST change a local time
// may not exist (spring forward) or exist twice (fall back). Each option
// says which of the two instants it takes: the one that keeps more (purge
// --as-of the earlier, a hold's --until the later, ...), and the person is
// told which one was used. Relative moments move the calendar as cutoffs
// do (cutoff.h): days keep the local time of day, months clamp the day to
// the month's end (2026-03-31 -1mo = 2026-02-28).
#pragma once

#include <string>
#include <string_view>

#include "calendar/cutoff.h"
#include "calendar/timestamp.h"
#include "util/status.h"

namespace retention {

struct Moment {
  Timestamp instant{};
  // Empty unless the wall-clock time was skipped or repeated in the zone;
  // then a sentence naming both instants and the one used.
  std::string notice;
};

// The forms above, for messages: "2026-11-22, 2026-11-22T03:00:00Z, ...".
extern const char kMomentForms[];

// An Invalid status when the text is not a moment, saying why (without the
// option's name, which the caller adds). `pick` applies only to a local
// time that falls in a gap or an overlap of `zone`; `now` anchors the
// relative forms.
Result<Moment> ParseMoment(std::string_view text, const TimeZone& zone, TimeZone::Pick pick, Timestamp now);

}  // namespace retention
