// Bounds on the shape of a TOML file, checked before toml++ sees the text.
//
// toml++ builds (and destroys) one nested table per part of a dotted key or
// table header, recursively: a header of 50,000 parts overflows the stack
// (SIGSEGV) before any error can be reported. Its own limit covers nested
// arrays and inline tables only. Rule and config files are small and
// shallow, so a cheap scan refuses anything far outside that shape:
//
//   - a file larger than kMaxTomlFileBytes;
//   - a line longer than kMaxTomlLineBytes;
//   - nesting deeper than kMaxTomlDepth levels, counting together the parts
//     of the current table header, the parts of a dotted key, and each
//     array and inline table a value is inside.
//
// The scan is a lexer, not a parser: it skips strings and comments exactly
// as TOML defines them and counts every dotted run of keys wherever it
// appears, so it can only over-count (a float "1.5" in a value counts as two
// parts). Text it does not understand is left to toml++ to reject.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/status.h"

namespace retention {

inline constexpr size_t kMaxTomlFileBytes = size_t{16} << 20;  // 16 MiB
inline constexpr size_t kMaxTomlLineBytes = size_t{1} << 20;   // 1 MiB
inline constexpr int kMaxTomlDepth = 32;

// Ok, or Invalid "FILE:LINE:COL: message" at the first place the text goes
// beyond a bound above. `file` only names the file in the message.
Status CheckTomlLimits(std::string_view text, const std::string& file);

}  // namespace retention
