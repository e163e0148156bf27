// The holds as `retention hold list` prints them: one line each, columns
// aligned whatever the widths of their values.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "calendar/timestamp.h"
#include "holds/hold.h"

namespace retention {

// "category=c target=t subject=customer:42", or the words that say the
// hold freezes everything.
std::string HoldScopeText(const HoldScope& scope);

// A header line (ID STATE PLACED EXPIRES BY MATTER SCOPE REASON) and a
// line per hold, each column as wide as its widest value (counted in
// characters, not bytes), STATE as of `now`, EXPIRES "never" when unset.
// REASON comes last and is cut to `reason_width` characters with "..."
// when longer, for a terminal; 0 keeps it whole (a pipe, a file: nothing
// a reader of the output relies on is lost).
std::string FormatHoldTable(const std::vector<Hold>& holds, Timestamp now, size_t reason_width);

}  // namespace retention
