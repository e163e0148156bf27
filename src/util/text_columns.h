// Rows of text cells printed as aligned columns, for the tables commands
// print on a terminal (`erase list`, the erasure receipt).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace retention {

// Each column as wide as its widest cell (in bytes: the cells are ASCII
// words, numbers and timestamps), two spaces between columns, `indent`
// before each line; a column whose `right[i]` is set (numbers) is aligned
// right. The last column is not padded.
void PrintColumns(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right, const std::string& indent = "");

}  // namespace retention
