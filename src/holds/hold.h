// Legal holds: what they cover, as stored in the state database.
//
// A hold's scope is any combination of category, target, subject, record
// key and clock range; every given field must match (AND). A hold with an
// empty scope freezes all deletion and can only be placed with an explicit
// flag. Holds are never deleted, only released with a reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "calendar/timestamp.h"

namespace retention {

struct HoldScope {
  std::optional<std::string> category;
  std::optional<std::string> target;        // target name
  std::optional<std::string> subject_kind;  // with subject_id: "customer"
  std::optional<std::string> subject_id;    //                  "42"
  std::optional<std::string> key;           // a record key, as text
  std::optional<Timestamp> clock_from;      // clock >= clock_from
  std::optional<Timestamp> clock_until;     // clock <  clock_until

  bool empty() const {
    return !category && !target && !subject_kind && !key && !clock_from && !clock_until;
  }
};

struct Hold {
  int64_t id = 0;
  std::string matter;  // the case or request it belongs to
  std::string reason;
  std::string author;
  Timestamp placed_at{};
  std::optional<Timestamp> expires_at;
  HoldScope scope;
  std::optional<Timestamp> released_at;
  std::string released_by;
  std::string release_reason;

  // In force at `t`: placed, not released and not expired by then.
  bool ActiveAt(Timestamp t) const {
    if (t < placed_at) return false;
    if (released_at && *released_at <= t) return false;
    if (expires_at && *expires_at <= t) return false;
    return true;
  }
};

}  // namespace retention
