#include "config/config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "calendar/cutoff.h"
#include "config/toml_reader.h"

namespace retention {

std::string StateConfig::ServerName() const {
  return "the PostgreSQL state (" + (conninfo_env.empty() ? "service " + service : conninfo_env) + ")";
}

std::string StateConfig::Name() const { return IsPostgres() ? ServerName() + ", schema " + schema : path; }

namespace fs = std::filesystem;

std::string_view StoreTypeName(StoreType t) {
  switch (t) {
    case StoreType::kSqlite: return "sqlite";
    case StoreType::kPostgres: return "postgres";
    case StoreType::kFiles: return "files";
    case StoreType::kPurgeLog: return "purge log";
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
  RETENTION_RETURN_IF_ERROR(r.CheckKeys(
      {"batch_size", "max_delete", "max_delete_fraction", "max_clock_jump", "max_runtime", "max_erase_records"}));
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
  auto jump = r.Duration("max_clock_jump");
  if (!jump.ok()) return jump.status();
  if (*jump) limits->max_clock_jump = **jump;
  auto runtime = r.Duration("max_runtime");
  if (!runtime.ok()) return runtime.status();
  limits->max_runtime = *runtime;
  auto erase = r.Integer("max_erase_records");
  if (!erase.ok()) return erase.status();
  if (*erase) {
    if (**erase < 0) return r.ErrorAtKey("max_erase_records", "max_erase_records must not be negative");
    limits->max_erase_records = **erase;
  }
  return r.Finish();
}

// Directories a files store must not take as its root: a rule such as
// paths = ["**"] under one would age out the system itself. Compared after
// resolving symlinks and "..", so that "/var/../etc" or a link to /usr is
// seen for what it is (on merged-/usr systems /bin is /usr/bin).
bool IsSystemRoot(const std::string& p) {
  static const char* const kRoots[] = {
      "/",         "/bin",      "/boot",    "/dev",       "/etc",      "/home",       "/lib",
      "/lib32",    "/lib64",    "/libx32",  "/proc",      "/root",     "/run",        "/sbin",
      "/sys",      "/usr",      "/var",     "/usr/bin",   "/usr/sbin", "/usr/lib",    "/usr/lib32",
      "/usr/lib64", "/usr/libx32", "/usr/local", "/usr/share"};
  for (const char* r : kRoots)
    if (p == r) return true;
  return false;
}

std::string WithoutTrailingSlash(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// The system directory a root names, as written (made absolute and normal)
// or as it resolves; nullopt for an ordinary root.
std::optional<std::string> SystemRootOf(const fs::path& root) {
  const std::string written = WithoutTrailingSlash(root.lexically_normal().string());
  if (IsSystemRoot(written)) return written;
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(root, ec);
  if (!ec) {
    const std::string text = WithoutTrailingSlash(resolved.lexically_normal().string());
    if (IsSystemRoot(text)) return text;
  }
  return std::nullopt;
}

// A POSIX environment variable name: conninfo_env holds one, never the
// conninfo it names.
bool IsEnvironmentName(std::string_view s) {
  if (s.empty() || s.size() > 128 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

bool IsPlainStoreName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

Status LoadStore(const std::string& file, const fs::path& base_dir, const std::string& name,
                 const toml::node& node, StoreConfig* store) {
  const toml::table* table = node.as_table();
  if (!table) return ErrorAt(file, node, "store '" + name + "' must be a table");
  TomlTableReader r(file, *table, "store '" + name + "'");
  store->name = name;
  store->where = r.location();
  // Rules, holds and `explain STORE/TARGET/KEY` name stores: keep the names
  // plain so that they never need quoting or splitting.
  if (!IsPlainStoreName(name))
    return r.Error("store name '" + name + "' may contain only letters, digits, '_' and '-'");
  if (name == kPurgeLogStore)
    return r.Error("store name '" + name + "' is reserved: it names retention's own purge log (the ledger in "
                   "the state database), which rules may give a schedule");
  RETENTION_RETURN_IF_ERROR(
      r.CheckKeys({"type", "path", "root", "allow_system_root", "conninfo", "conninfo_env", "service", "time_zone"}));
  auto type = r.RequiredString("type");
  if (!type.ok()) return type.status();
  if (*type == "sqlite") store->type = StoreType::kSqlite;
  else if (*type == "postgres") store->type = StoreType::kPostgres;
  else if (*type == "files") store->type = StoreType::kFiles;
  else
    return r.ErrorAtKey("type", "unknown store type '" + *type + "' (supported: sqlite, postgres, files)");

  auto zone = r.String("time_zone");
  if (!zone.ok()) return zone.status();
  if (*zone) {
    if (auto z = TimeZone::Load(**zone); !z.ok()) return r.ErrorAtKey("time_zone", z.status().message());
    store->time_zone = **zone;
  }

  // Keys of the other store types are mistakes, not options.
  for (auto [key, owner] : {std::pair{"path", StoreType::kSqlite}, std::pair{"root", StoreType::kFiles},
                            std::pair{"allow_system_root", StoreType::kFiles},
                            std::pair{"conninfo", StoreType::kPostgres},
                            std::pair{"conninfo_env", StoreType::kPostgres},
                            std::pair{"service", StoreType::kPostgres}}) {
    if (owner != store->type && table->contains(key))
      return r.ErrorAtKey(key, "'" + std::string(key) + "' applies to " + std::string(StoreTypeName(owner)) +
                                   " stores; store '" + name + "' is " +
                                   std::string(StoreTypeName(store->type)));
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
      auto allow = r.Boolean("allow_system_root");
      if (!allow.ok()) return allow.status();
      if (!allow->value_or(false)) {
        if (auto system = SystemRootOf(store->root)) {
          const std::string written = WithoutTrailingSlash(store->root.string());
          const std::string shown = *system == written ? written : written + " (which is " + *system + ")";
          return r.ErrorAtKey("root", "store '" + name + "': root " + shown +
                                          " is a system directory; name the directory that holds the data, or "
                                          "set allow_system_root = true if you really mean it");
        }
      }
      break;
    }
    case StoreType::kPostgres: {
      // A config file is readable by whoever may read the rules: the
      // connection string, which may hold a password, lives in the
      // environment (conninfo_env) or in pg_service.conf (service).
      if (table->contains("conninfo"))
        return r.ErrorAtKey("conninfo", "store '" + name + "': a conninfo may hold a password and must not be "
                                        "written in the config; put it in an environment variable and name "
                                        "that with conninfo_env, or use service (pg_service.conf)");
      auto env = r.String("conninfo_env");
      if (!env.ok()) return env.status();
      auto service = r.String("service");
      if (!service.ok()) return service.status();
      if (env->has_value() == service->has_value())
        return r.Error("store '" + name + "': give exactly one of conninfo_env (the name of an environment "
                       "variable holding a libpq conninfo or URI) and service (a pg_service.conf entry)");
      if (*env) {
        if (!IsEnvironmentName(**env))
          return r.ErrorAtKey("conninfo_env", "store '" + name + "': conninfo_env names an environment "
                                              "variable (letters, digits, '_'), such as APP_DATABASE_URL; "
                                              "not the conninfo itself");
        store->conninfo_env = **env;
      } else {
        if ((*service)->empty() || !IsPlainStoreName(**service))
          return r.ErrorAtKey("service", "store '" + name + "': service names a pg_service.conf entry "
                                         "(letters, digits, '_' and '-')");
        store->service = **service;
      }
      break;
    }
    case StoreType::kPurgeLog:
      break;  // never parsed from a config
  }
  return r.Finish();
}


// `state = "PATH"` (a SQLite file) or `state = { conninfo_env = ... }` (a
// PostgreSQL schema a fleet shares). As for a postgres store, the conninfo
// itself never stands in the config: it may hold a password.
Status LoadPostgresState(const std::string& file, const toml::table& table, StateConfig* state) {
  TomlTableReader r(file, table, "'state'");
  RETENTION_RETURN_IF_ERROR(r.CheckKeys({"conninfo_env", "service", "schema", "host", "conninfo"}));
  if (table.contains("conninfo"))
    return r.ErrorAtKey("conninfo", "a conninfo may hold a password and must not be written in the config; put it "
                                    "in an environment variable and name that with conninfo_env, or use service "
                                    "(pg_service.conf)");
  auto env = r.String("conninfo_env");
  if (!env.ok()) return env.status();
  auto service = r.String("service");
  if (!service.ok()) return service.status();
  if (env->has_value() == service->has_value())
    return r.Error("'state': give exactly one of conninfo_env (the name of an environment variable holding a libpq "
                   "conninfo or URI) and service (a pg_service.conf entry)");
  if (*env) {
    if (!IsEnvironmentName(**env))
      return r.ErrorAtKey("conninfo_env", "'state': conninfo_env names an environment variable (letters, digits, "
                                          "'_'), such as RETENTION_STATE_URL; not the conninfo itself");
    state->conninfo_env = **env;
  } else {
    if (!IsPlainStoreName(**service))
      return r.ErrorAtKey("service", "'state': service names a pg_service.conf entry (letters, digits, '_' and '-')");
    state->service = **service;
  }
  auto schema = r.String("schema");
  if (!schema.ok()) return schema.status();
  if (*schema) {
    const std::string& s = **schema;
    const bool plain = !s.empty() && s.size() <= 63 && !std::isdigit(static_cast<unsigned char>(s[0])) &&
                       std::all_of(s.begin(), s.end(), [](char c) {
                         return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                                c == '_';
                       });
    if (!plain)
      return r.ErrorAtKey("schema", "'state': schema '" + s + "' is not a plain schema name (lower-case letters, "
                                    "digits and '_', at most 63, not starting with a digit)");
    state->schema = s;
  }
  auto host = r.String("host");
  if (!host.ok()) return host.status();
  if (*host) {
    const std::string& h = **host;
    const bool plain = !h.empty() && h.size() <= 255 && std::all_of(h.begin(), h.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
    if (!plain)
      return r.ErrorAtKey("host", "'state': host '" + h + "' is not a host name (letters, digits, '.', '_' and "
                                  "'-'); leave it out to use this machine's host name");
    state->host = h;
  }
  return r.Finish();
}

Status LoadState(TomlTableReader& r, const fs::path& base_dir, StateConfig* state) {
  const toml::node* node = r.Node("state");
  if (!node) {
    state->path = "/var/lib/retention/state.db";
    return Status::Ok();
  }
  if (const toml::table* table = node->as_table()) return LoadPostgresState(r.file(), *table, state);
  const auto* text = node->as_string();
  if (!text)
    return r.ErrorAtKey("state", "'state' is a SQLite file path, or a table naming a PostgreSQL state: "
                                 "state = { conninfo_env = \"RETENTION_STATE_URL\" }");
  const std::string& value = text->get();
  if (value.rfind("postgresql://", 0) == 0 || value.rfind("postgres://", 0) == 0 ||
      value.find('=') != std::string::npos) {
    return r.ErrorAtKey("state", "a conninfo may hold a password and must not be written in the config; name "
                                 "the environment variable holding it: state = { conninfo_env = "
                                 "\"RETENTION_STATE_URL\" }");
  }
  if (value.empty()) return r.ErrorAtKey("state", "'state' must not be empty");
  state->path = Resolve(base_dir, value).string();
  return Status::Ok();
}

// Floors and holds guard the records of one store (plan/selection.h,
// SameRecords matches targets by store name): a second store over the same
// database, or over a directory tree that overlaps another files store's,
// would let its rules delete what a floor or a hold keeps under the first.
bool WithinTree(const fs::path& inner, const fs::path& outer) {
  const fs::path rel = inner.lexically_relative(outer);
  return !rel.empty() && *rel.begin() != "..";
}

Status CheckDistinctData(const std::string& file, const toml::node& node, const StoreConfig& store,
                         const std::map<std::string, StoreConfig>& earlier, const fs::path& state) {
  const bool sqlite = store.type == StoreType::kSqlite;
  if (!sqlite && store.type != StoreType::kFiles) return Status::Ok();
  std::error_code ec;
  const fs::path mine = fs::weakly_canonical(sqlite ? store.path : store.root, ec).lexically_normal();
  if (ec) return Status::Ok();  // opening the store reports it
  // The state database as a store: its rules could delete pending batches
  // (reconciliation's only record of a batch in flight) or runs.
  if (const toml::table* table = node.as_table(); sqlite && table && !state.empty()) {
    const fs::path state_path = fs::weakly_canonical(state, ec).lexically_normal();
    if (!ec && state_path == mine) {
      const toml::node* at = table->get("path");
      return ErrorAt(file, at ? *at : node,
                     "store '" + store.name + "': names the state database (" + state.string() +
                         "); the ledger, holds and pending batches are not a store's records");
    }
  }
  for (const auto& [other_name, other] : earlier) {
    if (other.type != store.type) continue;
    const fs::path theirs = fs::weakly_canonical(sqlite ? other.path : other.root, ec).lexically_normal();
    if (ec) continue;
    const bool overlap = sqlite ? mine == theirs : WithinTree(mine, theirs) || WithinTree(theirs, mine);
    if (!overlap) continue;
    const toml::table* table = node.as_table();
    const toml::node* at = table ? table->get(sqlite ? "path" : "root") : nullptr;
    return ErrorAt(file, at ? *at : node,
                   "store '" + store.name + "': " +
                       (sqlite ? "names the same database as" : "root overlaps the root of") + " store '" +
                       other_name + "'; floors and holds under one store do not guard the other's records: use "
                       "one store (a target's clock can give its own time_zone)");
  }
  return Status::Ok();
}

// `rules = "DIR"`, or `rules = ["DIR", ...]`: the overlay, lowest
// priority first (rules/rule_overlay.h).
Status LoadRulesDirs(TomlTableReader& r, const fs::path& base_dir, Config* config) {
  const toml::node* node = r.Node("rules");
  if (!node || node->is_string()) {
    auto dir = r.RequiredString("rules");
    if (!dir.ok()) return dir.status();
    if (dir->empty()) return r.ErrorAtKey("rules", "'rules' must not be empty");
    config->rules_dir = Resolve(base_dir, *dir);
    return Status::Ok();
  }
  const toml::array* list = node->as_array();
  const std::string shape =
      "'rules' is a directory or a list of directories, later ones replacing files of the same name: "
      "[\"/usr/share/retention/rules.d\", \"/etc/retention/rules.d\"]";
  if (!list || list->empty()) return ErrorAt(r.file(), *node, shape);
  std::vector<fs::path> dirs;
  for (const toml::node& item : *list) {
    const auto* dir = item.as_string();
    if (!dir || dir->get().empty()) return ErrorAt(r.file(), item, shape);
    const fs::path resolved = Resolve(base_dir, dir->get());
    for (const fs::path& earlier : dirs) {
      if (earlier == resolved) return ErrorAt(r.file(), item, "rules directory " + resolved.string() + " is listed twice");
    }
    dirs.push_back(resolved);
  }
  config->rules_dir = dirs.front();
  config->rules_overlay_dirs.assign(dirs.begin() + 1, dirs.end());
  return Status::Ok();
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
  RETENTION_RETURN_IF_ERROR(r.CheckKeys({"rules", "state", "time_zone", "metrics_file", "overdue_grace", "limits", "erasure",
                                         "stores"}));

  Config config;
  config.file = file;

  RETENTION_RETURN_IF_ERROR(LoadRulesDirs(r, base_dir, &config));

  RETENTION_RETURN_IF_ERROR(LoadState(r, base_dir, &config.state));

  auto zone = r.String("time_zone");
  if (!zone.ok()) return zone.status();
  if (*zone) {
    if (auto z = TimeZone::Load(**zone); !z.ok()) return r.ErrorAtKey("time_zone", z.status().message());
    config.time_zone = **zone;
  }

  auto metrics = r.String("metrics_file");
  if (!metrics.ok()) return metrics.status();
  if (*metrics) {
    if ((*metrics)->empty()) return r.ErrorAtKey("metrics_file", "'metrics_file' must not be empty");
    config.metrics_file = Resolve(base_dir, **metrics);
  }

  auto grace = r.Duration("overdue_grace");
  if (!grace.ok()) return grace.status();
  config.overdue_grace = *grace;

  if (const toml::node* limits = r.Node("limits")) {
    const toml::table* t = limits->as_table();
    if (!t) return ErrorAt(name, *limits, "'limits' must be a table");
    TomlTableReader lr(name, *t, "[limits]");
    RETENTION_RETURN_IF_ERROR(LoadLimits(lr, &config.limits));
  }

  if (const toml::node* erasure = r.Node("erasure")) {
    const toml::table* t = erasure->as_table();
    if (!t) return ErrorAt(name, *erasure, "'erasure' must be a table");
    TomlTableReader er(name, *t, "[erasure]");
    RETENTION_RETURN_IF_ERROR(er.CheckKeys({"answer_within"}));
    auto within = er.Duration("answer_within");
    if (!within.ok()) return within.status();
    if (*within) {
      // A deadline is days to months away; a year is the most any law
      // gives (GDPR: one month, three at most), and a longer one would
      // leave the calendar arithmetic of a request's deadline.
      const CalendarDuration year{1, DurationUnit::kYears};
      if (!AlwaysAtLeast(year, **within))
        return er.ErrorAtKey("answer_within", "answer_within is " + (*within)->ToString() +
                                                  ": at most 1 year (an erasure request's answer time)");
      config.erasure.answer_within = **within;
    }
    RETENTION_RETURN_IF_ERROR(er.Finish());
  }

  if (const toml::node* stores = r.Node("stores")) {
    const toml::table* t = stores->as_table();
    if (!t) return ErrorAt(name, *stores, "'stores' must be a table of [stores.NAME] tables");
    for (const auto& [key, node] : *t) {
      StoreConfig store;
      RETENTION_RETURN_IF_ERROR(LoadStore(name, base_dir, std::string(key.str()), node, &store));
      RETENTION_RETURN_IF_ERROR(CheckDistinctData(name, node, store, config.stores, config.state.path));
      config.stores.emplace(store.name, std::move(store));
    }
  }
  if (config.stores.empty()) return r.Error("the config defines no [stores.NAME]");
  // The purge log is a store of every config: rules may give it a schedule
  // like any other audit log (ledger/anchor.h).
  StoreConfig purge_log;
  purge_log.name = kPurgeLogStore;
  purge_log.type = StoreType::kPurgeLog;
  purge_log.path = config.state.path;
  purge_log.state = config.state;
  config.stores.emplace(purge_log.name, std::move(purge_log));
  RETENTION_RETURN_IF_ERROR(r.Finish());
  return config;
}

}  // namespace retention
