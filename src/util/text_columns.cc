#include "util/text_columns.h"

#include <algorithm>

namespace retention {

void PrintColumns(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right, const std::string& indent) {
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - row[i].size(), ' ');
      const bool last = i + 1 == row.size();
      const std::string cell = i < right.size() && right[i] ? pad + row[i] : row[i] + (last ? "" : pad);
      line += (i == 0 ? "" : "  ") + cell;
    }
    out << line << "\n";
  }
}

}  // namespace retention
