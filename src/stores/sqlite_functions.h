// The SQL function the sqlite store registers on its connection, so that
// clocks are read inside SQLite's statements (and inside the deleting
// transaction) with the same C++ code the files store and `explain` use:
//
//   retention_clock(value, encoding, zone) -> unix microseconds, or NULL
//       when the value is NULL or does not parse under `encoding` (the
//       integer value of ClockEncoding); `zone` names the zone for naive text.
//
//   retention_canonical(value) -> 1 when value is TEXT in the canonical form
//       "YYYY-MM-DD HH:MM:SS[.f{1,6}]" and names a valid date and time
//       (IsCanonicalClockText), else 0. Such a text is decided by string
//       comparison (sqlite_selection_sql.h, ClockBefore): validity is the
//       one thing SQL cannot tell cheaply (GLOB costs 0.9 us a row,
//       strftime round trips 1.7 us, against 0.55 us for the whole count).
//
//   retention_in_set(set, value) -> 1 when value, as text (as CAST(value AS
//       TEXT) renders it, compared byte for byte), is in `set`, a
//       SqlTextSet bound with sqlite3_bind_pointer (type kSqlTextSetType);
//       0 for NULL. How holds of one kind (subject or key) are tested: one
//       hash lookup per row however many holds, no IN list to build.
//
// All are pure and deterministic: it reads no state, so a selection renders
// the same everywhere (sqlite_selection_sql.h). Text clocks with offsets and
// naive zones cannot be compared exactly in SQL; that is why it exists.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <unordered_set>

#include "util/status.h"

namespace retention {

Status RegisterRetentionFunctions(sqlite3* db);

// The values of a retention_in_set argument. Immutable once bound: a
// statement holds it (through the SqlFragment that bound it) for its life.
struct SqlTextSet {
  std::unordered_set<std::string> values;
};
inline constexpr char kSqlTextSetType[] = "retention_text_set";

// True when `text` is "YYYY-MM-DD HH:MM:SS" with an optional fraction of 1
// to 6 digits, a year from 0001, a real calendar date and time: exactly the
// texts of that shape ParseClockText accepts, whose instant in UTC is the
// text itself.
bool IsCanonicalClockText(std::string_view text);

}  // namespace retention
