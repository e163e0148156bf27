#include "config/toml_reader.h"

#include <fstream>
#include <sstream>

namespace retention {

Result<toml::table> ParseTomlFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::error_code ec(errno, std::generic_category());
    return Status::Invalid(file.string() + ": cannot read: " + ec.message());
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return toml::parse(text.str(), file.string());
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

namespace {

std::string_view TypeName(const toml::node& node) {
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
                                   std::string(TypeName(*node)));
}

Result<std::optional<int64_t>> TomlTableReader::Integer(std::string_view key) {
  const toml::node* node = Node(key);
  if (!node) return std::optional<int64_t>();
  if (node->is_integer()) return std::optional<int64_t>(*node->value<int64_t>());
  return ErrorAt(file_, *node, "'" + std::string(key) + "' must be an integer, not " +
                                   std::string(TypeName(*node)));
}

Result<std::optional<double>> TomlTableReader::Number(std::string_view key) {
  const toml::node* node = Node(key);
  if (!node) return std::optional<double>();
  if (node->is_number()) return std::optional<double>(*node->value<double>());
  return ErrorAt(file_, *node, "'" + std::string(key) + "' must be a number, not " +
                                   std::string(TypeName(*node)));
}

Result<std::optional<bool>> TomlTableReader::Boolean(std::string_view key) {
  const toml::node* node = Node(key);
  if (!node) return std::optional<bool>();
  if (node->is_boolean()) return std::optional<bool>(*node->value<bool>());
  return ErrorAt(file_, *node, "'" + std::string(key) + "' must be true or false, not " +
                                   std::string(TypeName(*node)));
}

Result<std::string> TomlTableReader::RequiredString(std::string_view key) {
  auto v = String(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Error("missing key '" + std::string(key) + "' in " + what_);
  if ((*v)->empty()) return ErrorAtKey(key, "'" + std::string(key) + "' must not be empty");
  return std::move(**v);
}

Status TomlTableReader::Finish() const {
  // Report the unknown key that comes first in the file, not in key order,
  // at the position of the key itself.
  const toml::key* first = nullptr;
  for (const auto& [key, node] : table_) {
    if (read_.count(key.str())) continue;
    const auto& pos = key.source().begin;
    if (!first || std::pair(pos.line, pos.column) <
                      std::pair(first->source().begin.line, first->source().begin.column)) {
      first = &key;
    }
  }
  if (!first) return Status::Ok();
  SourceLocation where{file_, static_cast<int>(first->source().begin.line),
                       static_cast<int>(first->source().begin.column)};
  return Status::Invalid(where.ToString() + ": unknown key '" + std::string(first->str()) +
                         "' in " + what_);
}

}  // namespace retention
