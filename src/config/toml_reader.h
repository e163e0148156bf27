// Reading TOML tables strictly: typed fields, FILE:LINE:COL errors, and
// every key not read reported as unknown (a typo must never silently
// disable a rule).
//
// toml++ exceptions are caught here and in ParseTomlFile; nothing above this
// adapter sees one.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "calendar/duration.h"
#include "util/source_location.h"
#include "util/status.h"

namespace retention {

// Parses a whole file. Syntax errors become Invalid "FILE:LINE:COL: message";
// an unreadable file becomes Invalid "FILE: cannot read: reason"; a file too
// large or too deeply nested for toml++ (toml_limits.h) is Invalid too.
Result<toml::table> ParseTomlFile(const std::filesystem::path& file);

SourceLocation LocationOf(const std::string& file, const toml::node& node);

// Invalid status "FILE:LINE:COL: message" at a node.
Status ErrorAt(const std::string& file, const toml::node& node, const std::string& message);

// "a string", "an integer", ... for messages.
std::string_view TomlTypeName(const toml::node& node);

// A view of one table that records which keys were read, so that Finish()
// can report the first key nobody asked for.
class TomlTableReader {
 public:
  // `what` names the table in messages: "store 'app'", "category 'x'".
  TomlTableReader(const std::string& file, const toml::table& table, std::string what)
      : file_(file), table_(table), what_(std::move(what)) {}

  const std::string& file() const { return file_; }
  const toml::table& table() const { return table_; }
  SourceLocation location() const { return LocationOf(file_, table_); }

  // Each getter marks the key as read. A missing optional key gives
  // std::nullopt; a key of the wrong type is an error at that key.
  Result<std::optional<std::string>> String(std::string_view key);
  Result<std::optional<int64_t>> Integer(std::string_view key);
  Result<std::optional<double>> Number(std::string_view key);  // int or float
  Result<std::optional<bool>> Boolean(std::string_view key);
  // A duration string such as "90 days" (calendar/duration.h).
  Result<std::optional<CalendarDuration>> Duration(std::string_view key);
  // The node itself (any type), or nullptr.
  const toml::node* Node(std::string_view key);

  // A required string: missing is "missing key 'KEY' in WHAT" at the table.
  Result<std::string> RequiredString(std::string_view key);

  // Error if the table holds a key outside `known`: "unknown key 'KEY' in
  // WHAT (did you mean 'K'?)", at the first such key in the file. Called
  // before the required keys are read, so that a typo ("delete_afer") is
  // reported as itself rather than as the key it was meant to be missing.
  Status CheckKeys(std::initializer_list<std::string_view> known) const;

  // Error if a key was never read: "unknown key 'KEY' in WHAT".
  Status Finish() const;

  Status ErrorAtKey(std::string_view key, const std::string& message) const;
  Status Error(const std::string& message) const { return ErrorAt(file_, table_, message); }

 private:
  std::string file_;
  const toml::table& table_;
  std::string what_;
  std::set<std::string, std::less<>> read_;
};

}  // namespace retention
