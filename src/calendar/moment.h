// A moment a person types on the command line: "2026-03-29 02:30", a date,
// or text with an offset (clock_value.h lists the forms).
//
// Without an offset the text is a wall-clock time in the configured zone,
// and around a DST change that time may not exist (spring forward) or exist
// twice (fall back). Each option says which of the two instants it takes:
// the one that keeps more (purge --as-of the earlier, a hold's --until the
// later, ...), and the person is told which one was used.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "calendar/cutoff.h"
#include "calendar/timestamp.h"

namespace retention {

struct Moment {
  Timestamp instant{};
  // Empty unless the wall-clock time was skipped or repeated in the zone;
  // then a sentence naming both instants and the one used.
  std::string notice;
};

// nullopt when the text is not a moment. `pick` applies only to a naive
// time that falls in a gap or an overlap of `zone`.
std::optional<Moment> ParseMoment(std::string_view text, const TimeZone& zone, TimeZone::Pick pick);

}  // namespace retention
