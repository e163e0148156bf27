#include "rules/rule_loader.h"

#include <algorithm>
#include <set>

#include "config/toml_reader.h"
#include "rules/rule_overlay.h"

namespace retention {

namespace fs = std::filesystem;

bool IsIgnoredRuleFile(const std::string& name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (name.empty() || name[0] == '.') return true;
  if (ends_with("~") || ends_with(".bak") || ends_with(".swp") || ends_with(".rpmnew") ||
      ends_with(".rpmsave") || name.find(".dpkg-") != std::string::npos)
    return true;
  return !ends_with(".toml");
}

namespace {

// Identifiers in rules name tables, columns, categories and targets. They
// are checked against the live catalog later; here they are held to a
// conservative shape so that messages and the ledger stay readable.
bool IsPlainName(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

// A string field that must be a plain name if present.
Result<std::optional<std::string>> NameField(TomlTableReader& r, std::string_view key) {
  auto v = r.String(key);
  if (!v.ok()) return v.status();
  if (*v && (*v)->empty()) return r.ErrorAtKey(key, "'" + std::string(key) + "' must not be empty");
  return v;
}

// A files pattern stays under the store root: not absolute, and no ".."
// component ("app..log" is a plain name).
bool IsRelativeWithoutDotDot(std::string_view pattern) {
  if (pattern.empty() || pattern.front() == '/') return false;
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t end = pattern.find('/', start);
    if (end == std::string_view::npos) end = pattern.size();
    if (pattern.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

Result<FilterValue> ScalarFilterValue(const std::string& file, const toml::node& node,
                                      const std::string& column) {
  if (auto s = node.as_string()) return FilterValue(s->get());
  if (auto i = node.as_integer()) return FilterValue(i->get());
  if (auto f = node.as_floating_point()) return FilterValue(f->get());
  if (auto b = node.as_boolean()) return FilterValue(b->get());
  return ErrorAt(file, node, "filter '" + column +
                                 "' must be a string, number, boolean, a non-empty array of "
                                 "them, or { null = true|false }");
}

Status LoadFilters(const std::string& file, const toml::node& node, std::vector<Filter>* out) {
  const toml::table* table = node.as_table();
  if (!table) return ErrorAt(file, node, "'where' must be a table of column = value");
  if (table->empty()) return ErrorAt(file, node, "'where' is empty: leave it out instead");
  for (const auto& [key, value] : *table) {
    Filter f;
    f.column = std::string(key.str());
    f.where = LocationOf(file, value);
    if (f.column.empty()) return ErrorAt(file, value, "filter column name is empty");
    if (const toml::array* list = value.as_array()) {
      if (list->empty()) return ErrorAt(file, value, "filter '" + f.column + "' has an empty list");
      f.op = FilterOp::kIn;
      for (const toml::node& item : *list) {
        if (item.is_array() || item.is_table())
          return ErrorAt(file, item, "filter '" + f.column + "' list items must be plain values");
        auto v = ScalarFilterValue(file, item, f.column);
        if (!v.ok()) return v.status();
        f.values.push_back(std::move(*v));
      }
    } else if (const toml::table* t = value.as_table()) {
      TomlTableReader r(file, *t, "filter '" + f.column + "'");
      RETENTION_RETURN_IF_ERROR(r.CheckKeys({"null"}));
      auto is_null = r.Boolean("null");
      if (!is_null.ok()) return is_null.status();
      if (!*is_null) return r.Error("filter '" + f.column + "' must be { null = true } or { null = false }");
      RETENTION_RETURN_IF_ERROR(r.Finish());
      f.op = **is_null ? FilterOp::kIsNull : FilterOp::kIsNotNull;
    } else {
      auto v = ScalarFilterValue(file, value, f.column);
      if (!v.ok()) return v.status();
      f.op = FilterOp::kEquals;
      f.values.push_back(std::move(*v));
    }
    out->push_back(std::move(f));
  }
  // Deterministic order (toml++ tables are maps) that follows the file.
  std::sort(out->begin(), out->end(), [](const Filter& a, const Filter& b) {
    return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
  });
  return Status::Ok();
}

Status LoadSqlClock(TomlTableReader& r, ClockSpec* clock) {
  RETENTION_RETURN_IF_ERROR(r.CheckKeys({"column", "encoding", "time_zone", "join"}));
  auto column = r.RequiredString("column");
  if (!column.ok()) return column.status();
  clock->source = ClockSource::kColumn;
  clock->column = *column;
  auto encoding = r.String("encoding");
  if (!encoding.ok()) return encoding.status();
  if (*encoding) {
    auto e = ClockEncodingFromName(**encoding);
    if (!e)
      return r.ErrorAtKey("encoding", "unknown clock encoding '" + **encoding +
                                          "' (expected text, unix_seconds, unix_millis or native)");
    clock->encoding = *e;
  }
  auto zone = r.String("time_zone");
  if (!zone.ok()) return zone.status();
  if (*zone) {
    if (auto z = TimeZone::Load(**zone); !z.ok()) return r.ErrorAtKey("time_zone", z.status().message());
    clock->time_zone = **zone;
  }
  if (const toml::node* join = r.Node("join")) {
    const toml::table* t = join->as_table();
    if (!t) return ErrorAt(r.file(), *join, "'join' must be { table = ..., key = ..., on = ... }");
    TomlTableReader jr(r.file(), *t, "the clock's join");
    RETENTION_RETURN_IF_ERROR(jr.CheckKeys({"table", "key", "on"}));
    ClockJoin j;
    auto table = jr.RequiredString("table");
    if (!table.ok()) return table.status();
    auto key = jr.RequiredString("key");
    if (!key.ok()) return key.status();
    auto on = jr.RequiredString("on");
    if (!on.ok()) return on.status();
    RETENTION_RETURN_IF_ERROR(jr.Finish());
    clock->join = ClockJoin{*table, *key, *on};
  }
  return r.Finish();
}

Status LoadFileClock(TomlTableReader& r, ClockSpec* clock) {
  RETENTION_RETURN_IF_ERROR(r.CheckKeys({"mtime", "name", "time_zone"}));
  auto mtime = r.Boolean("mtime");
  if (!mtime.ok()) return mtime.status();
  auto name = r.String("name");
  if (!name.ok()) return name.status();
  if (mtime->value_or(false) == name->has_value())
    return r.Error("a files clock is { mtime = true } or { name = \"PATTERN\" }");
  if (*name) {
    const std::string& p = **name;
    // Directives are read left to right, so "%%Y" is a literal "%Y", not a year.
    std::string directives;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] != '%') continue;
      if (i + 1 >= p.size() || std::string_view("YmdHMS%").find(p[i + 1]) == std::string_view::npos)
        return r.ErrorAtKey("name", "name pattern supports only %Y %m %d %H %M %S and %%");
      directives += p[++i];
    }
    if (directives.find('Y') == std::string::npos || directives.find('m') == std::string::npos ||
        directives.find('d') == std::string::npos)
      return r.ErrorAtKey("name", "name pattern must contain %Y, %m and %d");
    clock->source = ClockSource::kFileName;
    clock->name_pattern = p;
  } else {
    clock->source = ClockSource::kFileMtime;
  }
  auto zone = r.String("time_zone");
  if (!zone.ok()) return zone.status();
  if (*zone) {
    if (auto z = TimeZone::Load(**zone); !z.ok()) return r.ErrorAtKey("time_zone", z.status().message());
    clock->time_zone = **zone;
  }
  return r.Finish();
}

// A target on the built-in purge log: its records are the ledger's entries,
// aged by the time they were written, keyed by seq and pruned oldest first
// behind an anchor (ledger/anchor.h). Nothing of it is configurable but the
// name.
Status LoadPurgeLogTarget(TomlTableReader& r, Target* target) {
  for (const char* key : {"table", "key", "paths", "clock", "where", "subject"}) {
    if (r.Node(key))
      return r.ErrorAtKey(key, "'" + std::string(key) + "' does not apply to the purge log: its records are the "
                                   "ledger's entries, aged by the time they were written");
  }
  auto name = NameField(r, "name");
  if (!name.ok()) return name.status();
  target->name = name->value_or(kPurgeLogStore);
  target->clock.source = ClockSource::kLedgerTime;
  if (!IsPlainName(target->name))
    return r.ErrorAtKey("name", "target name '" + target->name + "' may contain only letters, digits, '_', '-' and '.'");
  return r.Finish();
}

Status LoadTarget(const Config& config, const std::string& file, const std::string& category,
                  const toml::node& node, Target* target) {
  const toml::table* table = node.as_table();
  if (!table) return ErrorAt(file, node, "each target of '" + category + "' must be a table ([[" + category + ".target]])");
  TomlTableReader r(file, *table, "a target of '" + category + "'");
  target->where = r.location();
  RETENTION_RETURN_IF_ERROR(
      r.CheckKeys({"name", "store", "table", "key", "paths", "clock", "where", "subject"}));

  auto store_name = r.RequiredString("store");
  if (!store_name.ok()) return store_name.status();
  auto store = config.stores.find(*store_name);
  if (store == config.stores.end()) {
    std::string known;
    for (const auto& [name, s] : config.stores) known += (known.empty() ? "" : ", ") + name;
    return r.ErrorAtKey("store", "unknown store '" + *store_name + "' (the config defines: " + known + ")");
  }
  target->store = *store_name;
  const StoreType type = store->second.type;
  if (type == StoreType::kPurgeLog) return LoadPurgeLogTarget(r, target);
  const bool sql = type != StoreType::kFiles;

  const toml::node* clock_node = r.Node("clock");
  if (!clock_node) return r.Error("missing key 'clock' in a target of '" + category + "'");
  const toml::table* clock_table = clock_node->as_table();
  if (!clock_table)
    return ErrorAt(file, *clock_node, sql ? "'clock' must be { column = ..., encoding = ... }"
                                          : "'clock' must be { mtime = true } or { name = \"PATTERN\" }");
  TomlTableReader cr(file, *clock_table, "the clock");
  target->clock.where = cr.location();

  auto name = NameField(r, "name");
  if (!name.ok()) return name.status();

  if (sql) {
    if (r.Node("paths"))
      return r.ErrorAtKey("paths", "'paths' applies to files stores; store '" + target->store + "' is " +
                                       std::string(StoreTypeName(type)));
    auto tbl = r.RequiredString("table");
    if (!tbl.ok()) return tbl.status();
    target->table = *tbl;
    auto key = NameField(r, "key");
    if (!key.ok()) return key.status();
    target->key = key->value_or("");
    RETENTION_RETURN_IF_ERROR(LoadSqlClock(cr, &target->clock));
    if (const toml::node* where = r.Node("where"))
      RETENTION_RETURN_IF_ERROR(LoadFilters(file, *where, &target->filters));
    if (const toml::node* subject = r.Node("subject")) {
      const toml::table* t = subject->as_table();
      if (!t) return ErrorAt(file, *subject, "'subject' must be { kind = ..., column = ... }");
      TomlTableReader sr(file, *t, "the subject");
      RETENTION_RETURN_IF_ERROR(sr.CheckKeys({"kind", "column"}));
      auto kind = sr.RequiredString("kind");
      if (!kind.ok()) return kind.status();
      // Holds and erasure requests name a subject as KIND:ID.
      if (kind->find(':') != std::string::npos)
        return sr.ErrorAtKey("kind", "subject kind '" + *kind +
                                         "' must not contain ':' (subjects are named KIND:ID)");
      if (!IsPlainName(*kind))
        return sr.ErrorAtKey("kind", "subject kind '" + *kind +
                                         "' may contain only letters, digits, '_', '-' and '.'");
      auto column = sr.RequiredString("column");
      if (!column.ok()) return column.status();
      RETENTION_RETURN_IF_ERROR(sr.Finish());
      target->subject = SubjectSpec{*kind, *column};
    }
    target->name = name->value_or(target->table);
  } else {
    for (const char* key : {"table", "key", "where", "subject"}) {
      if (r.Node(key))
        return r.ErrorAtKey(key, "'" + std::string(key) + "' applies to sql stores; store '" +
                                     target->store + "' is files");
    }
    const toml::node* paths = r.Node("paths");
    if (!paths) return r.Error("missing key 'paths' in a target of '" + category + "'");
    const toml::array* list = paths->as_array();
    if (!list || list->empty())
      return ErrorAt(file, *paths, "'paths' must be a non-empty array of glob patterns");
    for (const toml::node& p : *list) {
      auto s = p.value<std::string>();
      if (!p.is_string() || s->empty()) return ErrorAt(file, p, "each path pattern must be a non-empty string");
      if (!IsRelativeWithoutDotDot(*s))
        return ErrorAt(file, p, "path pattern '" + *s + "' must be relative to the store root, without '..'");
      target->paths.push_back(*s);
    }
    RETENTION_RETURN_IF_ERROR(LoadFileClock(cr, &target->clock));
    if (!name->has_value()) return r.Error("a files target needs a 'name'");
    target->name = **name;
  }
  if (!IsPlainName(target->name))
    return r.ErrorAtKey("name", "target name '" + target->name + "' may contain only letters, digits, '_', '-' and '.'");
  return r.Finish();
}

Status LoadCategory(const Config& config, const std::string& file, const std::string& name,
                    const toml::node& node, Category* category) {
  const toml::table* table = node.as_table();
  if (!table)
    return ErrorAt(file, node, "top-level key '" + name + "' must be a category table ([" + name + "])");
  TomlTableReader r(file, *table, "category '" + name + "'");
  category->name = name;
  category->where = r.location();
  if (!IsPlainName(name))
    return r.Error("category name '" + name + "' may contain only letters, digits, '_', '-' and '.'");
  RETENTION_RETURN_IF_ERROR(r.CheckKeys({"description", "policy", "policy_source", "keep_at_least",
                                         "delete_after", "max_delete_fraction", "erasable", "erasure_exception",
                                         "target"}));

  for (auto [key, field] : {std::pair{"description", &category->description},
                            std::pair{"policy", &category->policy},
                            std::pair{"policy_source", &category->policy_source}}) {
    auto v = r.String(key);
    if (!v.ok()) return v.status();
    *field = v->value_or("");
  }
  auto delete_after = r.Duration("delete_after");
  if (!delete_after.ok()) return delete_after.status();
  auto keep_at_least = r.Duration("keep_at_least");
  if (!keep_at_least.ok()) return keep_at_least.status();
  category->delete_after = *delete_after;
  category->keep_at_least = *keep_at_least;
  if (!category->delete_after && !category->keep_at_least)
    return r.Error("category '" + name + "' needs delete_after, keep_at_least or both");
  if (category->delete_after && category->keep_at_least &&
      !AlwaysAtLeast(*category->delete_after, *category->keep_at_least))
    return r.ErrorAtKey("delete_after", "delete_after (" + category->delete_after->ToString() +
                                            ") can be shorter than keep_at_least (" +
                                            category->keep_at_least->ToString() + ")");

  auto fraction = r.Number("max_delete_fraction");
  if (!fraction.ok()) return fraction.status();
  if (*fraction) {
    if (!(**fraction > 0.0 && **fraction <= 1.0))
      return r.ErrorAtKey("max_delete_fraction", "max_delete_fraction must be in (0, 1]");
    category->max_delete_fraction = **fraction;
  }

  // An exception to erasure without its legal basis, or a basis for an
  // exception that is not there, is a rule file someone misread: refused.
  auto erasable = r.Boolean("erasable");
  if (!erasable.ok()) return erasable.status();
  auto exception = r.String("erasure_exception");
  if (!exception.ok()) return exception.status();
  category->erasable = erasable->value_or(true);
  category->erasure_exception = exception->value_or("");
  if (!category->erasable && category->erasure_exception.empty())
    return r.ErrorAtKey("erasable", "erasable = false needs erasure_exception = \"...\" (the legal basis)");
  if (category->erasable && exception->has_value())
    return r.ErrorAtKey("erasure_exception",
                        "erasure_exception is given but the category is erasable (add erasable = false)");

  const toml::node* targets = r.Node("target");
  if (!targets) return r.Error("category '" + name + "' has no [[" + name + ".target]]");
  const toml::array* list = targets->as_array();
  if (!list || list->empty())
    return ErrorAt(file, *targets, "'target' must be an array of tables ([[" + name + ".target]])");
  std::set<std::string> names;
  for (const toml::node& t : *list) {
    Target target;
    RETENTION_RETURN_IF_ERROR(LoadTarget(config, file, name, t, &target));
    if (!names.insert(target.name).second)
      return ErrorAt(file, t, "target name '" + target.name + "' appears twice in '" + name +
                                  "' (give each a distinct 'name')");
    category->targets.push_back(std::move(target));
  }
  return r.Finish();
}

}  // namespace

Status LoadRuleFile(const Config& config, const fs::path& path, RuleSet* out) {
  auto parsed = ParseTomlFile(path);
  if (!parsed.ok()) return parsed.status();
  const std::string file = path.string();
  if (parsed->empty())
    return ErrorAt(file, *parsed, "the file defines no category (expected one or more [CATEGORY] tables)");
  std::vector<Category> loaded;
  for (const auto& [key, node] : *parsed) {
    Category c;
    RETENTION_RETURN_IF_ERROR(LoadCategory(config, file, std::string(key.str()), node, &c));
    loaded.push_back(std::move(c));
  }
  for (auto& c : loaded) {
    for (const auto& existing : out->categories) {
      if (existing.name == c.name)
        return Status::Invalid(c.where.ToString() + ": category '" + c.name +
                               "' is already defined at " + existing.where.ToString());
    }
    out->categories.push_back(std::move(c));
  }
  // The purge log is pruned as one prefix behind one chain of anchors: one
  // schedule for it, not a contest between several.
  const Target* purge_log = nullptr;
  for (const Category& c : out->categories) {
    for (const Target& t : c.targets) {
      if (t.store != kPurgeLogStore) continue;
      if (purge_log)
        return Status::Invalid(t.where.ToString() + ": the purge log already has a schedule, at " +
                               purge_log->where.ToString() + "; give it one target only");
      purge_log = &t;
    }
  }
  return Status::Ok();
}

Result<RuleSet> LoadRules(const Config& config) {
  auto overlay = ResolveRuleOverlay(config);
  if (!overlay.ok()) return overlay.status();
  RuleSet rules;
  for (const RuleFileOrigin& f : overlay->files) {
    if (f.masked()) continue;
    RETENTION_RETURN_IF_ERROR(LoadRuleFile(config, f.path, &rules));
    rules.files.push_back(f.path.string());
  }
  if (rules.categories.empty()) {
    std::string dirs;
    for (const fs::path& d : overlay->dirs) dirs += (dirs.empty() ? "" : ", ") + d.string();
    return Status::Invalid(dirs + ": no rule files (*.toml) found");
  }
  std::sort(rules.categories.begin(), rules.categories.end(),
            [](const Category& a, const Category& b) { return a.name < b.name; });
  auto hash = EffectiveRulesHash(*overlay);
  if (!hash.ok()) return hash.status();
  rules.hash = *hash;
  return rules;
}

}  // namespace retention
