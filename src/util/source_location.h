// Where in an input file something was written, for FILE:LINE:COL messages.
#pragma once

#include <string>

namespace retention {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown

  // "FILE:LINE:COL", or "FILE" when the position is unknown.
  std::string ToString() const {
    if (line <= 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
  }
};

}  // namespace retention
