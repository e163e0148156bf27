#include "config/config.h"

#include <cstdlib>

#include "calendar/cutoff.h"
#include "config/toml_reader.h"

namespace retention {

namespace fs = std::filesystem;

std::string_view StoreTypeName(StoreType t) {
  switch (t) {
    case StoreType::kSqlite: return "sqlite";
    case StoreType::kPostgres: return "postgres";
    case StoreType::kFiles: return "files";
  }
  return "?";
}

fs::path ResolveConfigPath(const std::string& from_command_line) {
  if (!from_command_line.empty()) return from_command_line;
  if (const char* env = std::getenv("RETENTION_CONFIG"); env && *env) return env;
  return "/etc/retention/retention.toml";
}

namespace {

// Relative paths in the config are relative to the config file's directory.
fs::path Resolve(const fs::path& base_dir, const std::string& p) {
  fs::path path(p);
  return (path.is_absolute() ? path : base_dir / path).lexically_normal();
}

Status LoadLimits(TomlTableReader& r, Limits* limits) {
  auto batch = r.Integer("batch_size");
  if (!batch.ok()) return batch.status();
  if (*batch) {
    if (**batch < 1 || **batch > 100000)
      return r.ErrorAtKey("batch_size", "batch_size must be between 1 and 100000");
    limits->batch_size = **batch;
  }
  auto max_delete = r.Integer("max_delete");
  if (!max_delete.ok()) return max_delete.status();
  if (*max_delete) {
    if (**max_delete < 0) return r.ErrorAtKey("max_delete", "max_delete must not be negative");
    limits->max_delete = **max_delete;
  }
  auto fraction = r.Number("max_delete_fraction");
  if (!fraction.ok()) return fraction.status();
  if (*fraction) {
    if (!(**fraction > 0.0 && **fraction <= 1.0))
      return r.ErrorAtKey("max_delete_fraction", "max_delete_fraction must be in (0, 1]");
    limits->max_delete_fraction = **fraction;
  }
  for (const char* key : {"max_clock_jump", "max_runtime"}) {
    auto text = r.String(key);
    if (!text.ok()) return text.status();
    if (!*text) continue;
    auto d = ParseDuration(**text);
    if (!d.ok()) return r.ErrorAtKey(key, std::string(key) + ": " + d.status().message());
    if (std::string_view(key) == "max_clock_jump") limits->max_clock_jump = *d;
    else limits->max_runtime = *d;
  }
  return r.Finish();
}

Status LoadStore(const std::string& file, const fs::path& base_dir, const std::string& name,
                 const toml::node& node, StoreConfig* store) {
  const toml::table* table = node.as_table();
  if (!table) return ErrorAt(file, node, "store '" + name + "' must be a table");
  TomlTableReader r(file, *table, "store '" + name + "'");
  store->name = name;
  store->where = r.location();
  auto type = r.RequiredString("type");
  if (!type.ok()) return type.status();
  if (*type == "sqlite") store->type = StoreType::kSqlite;
  else if (*type == "postgres") store->type = StoreType::kPostgres;
  else if (*type == "files") store->type = StoreType::kFiles;
  else
    return r.ErrorAtKey("type", "unknown store type '" + *type +
                                    "' (expected sqlite, postgres or files)");

  auto zone = r.String("time_zone");
  if (!zone.ok()) return zone.status();
  if (*zone) {
    if (auto z = TimeZone::Load(**zone); !z.ok()) return r.ErrorAtKey("time_zone", z.status().message());
    store->time_zone = **zone;
  }

  switch (store->type) {
    case StoreType::kSqlite: {
      auto path = r.RequiredString("path");
      if (!path.ok()) return path.status();
      store->path = Resolve(base_dir, *path);
      break;
    }
    case StoreType::kFiles: {
      auto root = r.RequiredString("root");
      if (!root.ok()) return root.status();
      store->root = Resolve(base_dir, *root);
      break;
    }
    case StoreType::kPostgres:
      // Parsed so the message can be precise; the backend is not built yet.
      return r.ErrorAtKey("type", "store type 'postgres' is not supported by this version "
                                  "(supported: sqlite, files)");
  }
  return r.Finish();
}

}  // namespace

Result<Config> LoadConfig(const fs::path& file_arg) {
  std::error_code ec;
  fs::path file = fs::absolute(file_arg, ec).lexically_normal();
  if (ec) file = file_arg;
  if (!fs::exists(file, ec))
    return Status::Invalid(file.string() + ": config file does not exist (use --config PATH or "
                                           "set RETENTION_CONFIG)");
  auto parsed = ParseTomlFile(file);
  if (!parsed.ok()) return parsed.status();
  const std::string name = file.string();
  const fs::path base_dir = file.parent_path();
  TomlTableReader r(name, *parsed, "the config");

  Config config;
  config.file = file;

  auto rules = r.RequiredString("rules");
  if (!rules.ok()) return rules.status();
  config.rules_dir = Resolve(base_dir, *rules);

  auto state = r.String("state");
  if (!state.ok()) return state.status();
  if (!*state) {
    config.state = "/var/lib/retention/state.db";
  } else if (state->value().rfind("postgresql://", 0) == 0 ||
             state->value().rfind("postgres://", 0) == 0) {
    return r.ErrorAtKey("state",
                        "a PostgreSQL state database is not supported by this version; "
                        "use a SQLite file path");
  } else if (state->value().empty()) {
    return r.ErrorAtKey("state", "'state' must not be empty");
  } else {
    config.state = Resolve(base_dir, **state).string();
  }

  auto zone = r.String("time_zone");
  if (!zone.ok()) return zone.status();
  if (*zone) {
    if (auto z = TimeZone::Load(**zone); !z.ok()) return r.ErrorAtKey("time_zone", z.status().message());
    config.time_zone = **zone;
  }

  if (const toml::node* limits = r.Node("limits")) {
    const toml::table* t = limits->as_table();
    if (!t) return ErrorAt(name, *limits, "'limits' must be a table");
    TomlTableReader lr(name, *t, "[limits]");
    RETENTION_RETURN_IF_ERROR(LoadLimits(lr, &config.limits));
  }

  if (const toml::node* stores = r.Node("stores")) {
    const toml::table* t = stores->as_table();
    if (!t) return ErrorAt(name, *stores, "'stores' must be a table of [stores.NAME] tables");
    for (const auto& [key, node] : *t) {
      StoreConfig store;
      RETENTION_RETURN_IF_ERROR(LoadStore(name, base_dir, std::string(key.str()), node, &store));
      config.stores.emplace(store.name, std::move(store));
    }
  }
  if (config.stores.empty()) return r.Error("the config defines no [stores.NAME]");
  RETENTION_RETURN_IF_ERROR(r.Finish());
  return config;
}

}  // namespace retention
