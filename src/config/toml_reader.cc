#include "config/toml_reader.h"

#include "config/toml_limits.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <vector>

namespace retention {

Result<toml::table> ParseTomlFile(const std::filesystem::path& file) {
  // An ifstream opens a directory and then reads nothing: say so instead of
  // parsing it as an empty file.
  std::error_code dir_ec;
  if (std::filesystem::is_directory(file, dir_ec))
    return Status::Invalid(file.string() + ": cannot read: " +
                           std::error_code(EISDIR, std::generic_category()).message());
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::error_code ec(errno, std::generic_category());
    return Status::Invalid(file.string() + ": cannot read: " + ec.message());
  }
  // Read at most one chunk past the cap, so that /dev/zero or a huge file
  // is refused without being read whole.
  std::string text;
  char chunk[65536];
  while (text.size() <= kMaxTomlFileBytes && in.read(chunk, sizeof chunk).gcount() > 0)
    text.append(chunk, static_cast<size_t>(in.gcount()));
  if (in.bad()) {
    std::error_code ec(errno, std::generic_category());
    return Status::Invalid(file.string() + ": cannot read: " + ec.message());
  }
  // toml++ recurses once per level of nesting: bound it first.
  RETENTION_RETURN_IF_ERROR(CheckTomlLimits(text, file.string()));
  try {
    return toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    SourceLocation where{file.string(), static_cast<int>(begin.line), static_cast<int>(begin.column)};
    return Status::Invalid(where.ToString() + ": " + std::string(e.description()));
  }
}

SourceLocation LocationOf(const std::string& file, const toml::node& node) {
  const auto& begin = node.source().begin;
  return SourceLocation{file, static_cast<int>(begin.line), static_cast<int>(begin.column)};
}

Status ErrorAt(const std::string& file, const toml::node& node, const std::string& message) {
  return Status::Invalid(LocationOf(file, node).ToString() + ": " + message);
}

std::string_view TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

namespace {

// Optimal string alignment distance: edits, with a swap of two neighbours
// counting as one ("tabel" is one edit from "table").
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// The key of `table` that comes first in the file among those `skip` does
// not accept, or nullptr.
template <typename Skip>
const toml::key* FirstKeyNotIn(const toml::table& table, Skip skip) {
  const toml::key* first = nullptr;
  for (const auto& [key, node] : table) {
    if (skip(key.str())) continue;
    const auto& pos = key.source().begin;
    if (!first || std::pair(pos.line, pos.column) <
                      std::pair(first->source().begin.line, first->source().begin.column)) {
      first = &key;
    }
  }
  return first;
}

Status UnknownKey(const std::string& file, const toml::key& key, const std::string& what,
                  std::string_view suggestion) {
  SourceLocation where{file, static_cast<int>(key.source().begin.line),
                       static_cast<int>(key.source().begin.column)};
  std::string message = where.ToString() + ": unknown key '" + std::string(key.str()) + "' in " + what;
  if (!suggestion.empty()) message += " (did you mean '" + std::string(suggestion) + "'?)";
  return Status::Invalid(message);
}

}  // namespace

const toml::node* TomlTableReader::Node(std::string_view key) {
  read_.insert(std::string(key));
  return table_.get(key);
}

Status TomlTableReader::ErrorAtKey(std::string_view key, const std::string& message) const {
  const toml::node* node = table_.get(key);
  return node ? ErrorAt(file_, *node, message) : Error(message);
}

Result<std::optional<std::string>> TomlTableReader::String(std::string_view key) {
  const toml::node* node = Node(key);
  if (!node) return std::optional<std::string>();
  if (auto v = node->value<std::string>(); v && node->is_string()) return std::optional<std::string>(*v);
  return ErrorAt(file_, *node, "'" + std::string(key) + "' must be a string, not " +
                                   std::string(TomlTypeName(*node)));
}

Result<std::optional<int64_t>> TomlTableReader::Integer(std::string_view key) {
  const toml::node* node = Node(key);
  if (!node) return std::optional<int64_t>();
  if (node->is_integer()) return std::optional<int64_t>(*node->value<int64_t>());
  return ErrorAt(file_, *node, "'" + std::string(key) + "' must be an integer, not " +
                                   std::string(TomlTypeName(*node)));
}

Result<std::optional<double>> TomlTableReader::Number(std::string_view key) {
  const toml::node* node = Node(key);
  if (!node) return std::optional<double>();
  if (node->is_number()) return std::optional<double>(*node->value<double>());
  return ErrorAt(file_, *node, "'" + std::string(key) + "' must be a number, not " +
                                   std::string(TomlTypeName(*node)));
}

Result<std::optional<bool>> TomlTableReader::Boolean(std::string_view key) {
  const toml::node* node = Node(key);
  if (!node) return std::optional<bool>();
  if (node->is_boolean()) return std::optional<bool>(*node->value<bool>());
  return ErrorAt(file_, *node, "'" + std::string(key) + "' must be true or false, not " +
                                   std::string(TomlTypeName(*node)));
}

Result<std::optional<CalendarDuration>> TomlTableReader::Duration(std::string_view key) {
  const toml::node* node = Node(key);
  if (!node) return std::optional<CalendarDuration>();
  const std::string name(key);
  if (!node->is_string())
    return ErrorAt(file_, *node, "'" + name + "' must be a duration string such as \"90 days\", not " +
                                     std::string(TomlTypeName(*node)));
  auto d = ParseDuration(node->as_string()->get());
  if (!d.ok()) return ErrorAt(file_, *node, name + ": " + d.status().message());
  return std::optional<CalendarDuration>(*d);
}

Result<std::string> TomlTableReader::RequiredString(std::string_view key) {
  auto v = String(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Error("missing key '" + std::string(key) + "' in " + what_);
  if ((*v)->empty()) return ErrorAtKey(key, "'" + std::string(key) + "' must not be empty");
  return std::move(**v);
}

Status TomlTableReader::CheckKeys(std::initializer_list<std::string_view> known) const {
  const toml::key* first = FirstKeyNotIn(table_, [&](std::string_view k) {
    return std::find(known.begin(), known.end(), k) != known.end();
  });
  if (!first) return Status::Ok();
  // Suggest the closest known key when it is plausibly a typo of it.
  std::string_view best;
  size_t best_distance = 3;
  for (std::string_view k : known) {
    const size_t d = EditDistance(first->str(), k);
    if (d < best_distance && 2 * d < k.size()) {
      best = k;
      best_distance = d;
    }
  }
  return UnknownKey(file_, *first, what_, best);
}

Status TomlTableReader::Finish() const {
  // Report the unknown key that comes first in the file, not in key order,
  // at the position of the key itself.
  const toml::key* first = FirstKeyNotIn(table_, [&](std::string_view k) { return read_.count(k) > 0; });
  if (!first) return Status::Ok();
  return UnknownKey(file_, *first, what_, "");
}

}  // namespace retention
