#include "calendar/moment.h"

#include "calendar/clock_value.h"

namespace retention {

std::optional<Moment> ParseMoment(std::string_view text, const TimeZone& zone, TimeZone::Pick pick) {
  auto parts = SplitClockText(text);
  if (!parts) return std::nullopt;
  Moment m;
  if (parts->offset) {
    m.instant = Timestamp(parts->local.time_since_epoch() - *parts->offset);
    return m;
  }
  const TimeZone::Readings r = zone.Resolve(parts->local);
  const bool earlier = pick == TimeZone::Pick::kEarlier;
  m.instant = earlier ? r.earlier : r.later;
  if (r.kind == TimeZone::Readings::Kind::kUnique) return m;
  m.notice = "'" + std::string(text) + "' " +
             (r.kind == TimeZone::Readings::Kind::kGap ? "does not exist in " + zone.name() + " (the clocks skip it)"
                                                       : "occurs twice in " + zone.name() + " (the clocks go back)") +
             "; using " + FormatTimestamp(m.instant) + ", the " + (earlier ? "earlier" : "later") + " reading (the " +
             (earlier ? "later" : "earlier") + " is " + FormatTimestamp(earlier ? r.later : r.earlier) + ")";
  return m;
}

}  // namespace retention
