// retention.toml (format in config/config.h): a table of malformed configs
// with the exact message each must produce, a good config and its model,
// and where the config is looked for.
#include "config/config.h"

#include <stdlib.h>

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "config/loader_test_support.h"

namespace retention {
namespace {

using loader_test::ScratchDir;
using loader_test::WithDir;
using loader_test::WriteFile;

struct BadCase {
  const char* what;
  std::string text;
  std::string message;  // "$D" is the config's directory
};

const BadCase kBadCases[] = {
    {"TOML syntax error", "rules = \"rules\n",
     "$D/retention.toml:1:15: Error while parsing string: unescaped control characters other than TAB "
     "(U+0009) are explicitly prohibited"},
    {"empty file", "", "$D/retention.toml:1:1: missing key 'rules' in the config"},
    {"missing rules",
     "state = \"state.db\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n",
     "$D/retention.toml:1:1: missing key 'rules' in the config"},
    {"rules misspelled: the typo is reported, not a missing key",
     "rule = \"rules\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n",
     "$D/retention.toml:1:1: unknown key 'rule' in the config (did you mean 'rules'?)"},
    {"empty rules", "rules = \"\"\n", "$D/retention.toml:1:9: 'rules' must not be empty"},
    {"rules neither a directory nor a list", "rules = 1\n",
     "$D/retention.toml:1:9: 'rules' is a directory or a list of directories, later ones replacing files of the "
     "same name: [\"/usr/share/retention/rules.d\", \"/etc/retention/rules.d\"]"},
    {"unknown key at top level",
     "rules = \"rules\"\ndry_run = true\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n",
     "$D/retention.toml:2:1: unknown key 'dry_run' in the config"},
    {"unknown key in [limits]",
     "rules = \"rules\"\n[limits]\nbatch_size = 10\nmax_deletes = 5\n[stores.app]\ntype = \"sqlite\"\n"
     "path = \"app.db\"\n",
     "$D/retention.toml:4:1: unknown key 'max_deletes' in [limits] (did you mean 'max_delete'?)"},
    {"unknown key in a store",
     "rules = \"rules\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\nreadonly = true\n",
     "$D/retention.toml:5:1: unknown key 'readonly' in store 'app'"},
    {"store key misspelled",
     "rules = \"rules\"\n[stores.app]\ntype = \"sqlite\"\npaht = \"app.db\"\n",
     "$D/retention.toml:4:1: unknown key 'paht' in store 'app' (did you mean 'path'?)"},
    {"a files key on a sqlite store",
     "rules = \"rules\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\nroot = \"/var/log\"\n",
     "$D/retention.toml:5:8: 'root' applies to files stores; store 'app' is sqlite"},
    {"a sqlite key on a files store",
     "rules = \"rules\"\n[stores.logs]\ntype = \"files\"\nroot = \"logs\"\npath = \"app.db\"\n",
     "$D/retention.toml:5:8: 'path' applies to sqlite stores; store 'logs' is files"},
    {"bad store type",
     "rules = \"rules\"\n[stores.app]\ntype = \"mysql\"\npath = \"app.db\"\n",
     "$D/retention.toml:3:8: unknown store type 'mysql' (supported: sqlite, postgres, files)"},
    {"postgres store with the conninfo written in the config",
     "rules = \"rules\"\n[stores.app]\ntype = \"postgres\"\nconninfo = \"host=db password=secret\"\n",
     "$D/retention.toml:4:12: store 'app': a conninfo may hold a password and must not be written in the "
     "config; put it in an environment variable and name that with conninfo_env, or use service "
     "(pg_service.conf)"},
    {"postgres store with conninfo_env holding a conninfo",
     "rules = \"rules\"\n[stores.app]\ntype = \"postgres\"\nconninfo_env = \"host=db dbname=app\"\n",
     "$D/retention.toml:4:16: store 'app': conninfo_env names an environment variable (letters, digits, '_'), "
     "such as APP_DATABASE_URL; not the conninfo itself"},
    {"postgres store with neither conninfo_env nor service",
     "rules = \"rules\"\n[stores.app]\ntype = \"postgres\"\n",
     "$D/retention.toml:2:1: store 'app': give exactly one of conninfo_env (the name of an environment "
     "variable holding a libpq conninfo or URI) and service (a pg_service.conf entry)"},
    {"postgres store with both conninfo_env and service",
     "rules = \"rules\"\n[stores.app]\ntype = \"postgres\"\nconninfo_env = \"APP_DB\"\nservice = \"app\"\n",
     "$D/retention.toml:2:1: store 'app': give exactly one of conninfo_env (the name of an environment "
     "variable holding a libpq conninfo or URI) and service (a pg_service.conf entry)"},
    {"a sqlite key on a postgres store",
     "rules = \"rules\"\n[stores.app]\ntype = \"postgres\"\nservice = \"app\"\npath = \"app.db\"\n",
     "$D/retention.toml:5:8: 'path' applies to sqlite stores; store 'app' is postgres"},
    {"a postgres key on a sqlite store",
     "rules = \"rules\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\nservice = \"app\"\n",
     "$D/retention.toml:5:11: 'service' applies to postgres stores; store 'app' is sqlite"},
    {"store without type", "rules = \"rules\"\n[stores.app]\npath = \"app.db\"\n",
     "$D/retention.toml:2:1: missing key 'type' in store 'app'"},
    {"sqlite store without path", "rules = \"rules\"\n[stores.app]\ntype = \"sqlite\"\n",
     "$D/retention.toml:2:1: missing key 'path' in store 'app'"},
    {"files store without root", "rules = \"rules\"\n\n[stores.logs]\ntype = \"files\"\n",
     "$D/retention.toml:3:1: missing key 'root' in store 'logs'"},
    {"files store with empty root", "rules = \"rules\"\n[stores.logs]\ntype = \"files\"\nroot = \"\"\n",
     "$D/retention.toml:4:8: 'root' must not be empty"},
    {"store name with a slash",
     "rules = \"rules\"\n[stores.\"app/db\"]\ntype = \"sqlite\"\npath = \"app.db\"\n",
     "$D/retention.toml:2:1: store name 'app/db' may contain only letters, digits, '_' and '-'"},
    {"store not a table", "rules = \"rules\"\n[stores]\napp = \"app.db\"\n",
     "$D/retention.toml:3:7: store 'app' must be a table"},
    {"stores not a table", "rules = \"rules\"\nstores = \"app\"\n",
     "$D/retention.toml:2:10: 'stores' must be a table of [stores.NAME] tables"},
    {"no stores", "rules = \"rules\"\n", "$D/retention.toml:1:1: the config defines no [stores.NAME]"},
    {"empty [stores]", "rules = \"rules\"\n[stores]\n", "$D/retention.toml:1:1: the config defines no [stores.NAME]"},
    {"invalid store time_zone",
     "rules = \"rules\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\ntime_zone = \"CEST\"\n",
     "$D/retention.toml:5:13: unknown time zone \"CEST\" (expected an IANA name such as \"UTC\" or "
     "\"Europe/Berlin\")"},
    {"invalid time_zone", "rules = \"rules\"\ntime_zone = \"Europe/Paaris\"\n",
     "$D/retention.toml:2:13: unknown time zone \"Europe/Paaris\" (expected an IANA name such as \"UTC\" or "
     "\"Europe/Berlin\")"},
    {"PostgreSQL state as a URI", "rules = \"rules\"\nstate = \"postgresql://db/retention\"\n",
     "$D/retention.toml:2:9: a conninfo may hold a password and must not be written in the config; name the "
     "environment variable holding it: state = { conninfo_env = \"RETENTION_STATE_URL\" }"},
    {"PostgreSQL state as a key=value conninfo", "rules = \"rules\"\nstate = \"host=db dbname=retention\"\n",
     "$D/retention.toml:2:9: a conninfo may hold a password and must not be written in the config; name the "
     "environment variable holding it: state = { conninfo_env = \"RETENTION_STATE_URL\" }"},
    {"PostgreSQL state with the conninfo written in the config",
     "rules = \"rules\"\nstate = { conninfo = \"host=db password=x\" }\n",
     "$D/retention.toml:2:22: a conninfo may hold a password and must not be written in the config; put it in an "
     "environment variable and name that with conninfo_env, or use service (pg_service.conf)"},
    {"PostgreSQL state with conninfo_env holding a conninfo",
     "rules = \"rules\"\nstate = { conninfo_env = \"host=db\" }\n",
     "$D/retention.toml:2:26: 'state': conninfo_env names an environment variable (letters, digits, '_'), such as "
     "RETENTION_STATE_URL; not the conninfo itself"},
    {"PostgreSQL state with both conninfo_env and service",
     "rules = \"rules\"\nstate = { conninfo_env = \"A\", service = \"b\" }\n",
     "$D/retention.toml:2:9: 'state': give exactly one of conninfo_env (the name of an environment variable "
     "holding a libpq conninfo or URI) and service (a pg_service.conf entry)"},
    {"PostgreSQL state with neither", "rules = \"rules\"\nstate = { schema = \"retention\" }\n",
     "$D/retention.toml:2:9: 'state': give exactly one of conninfo_env (the name of an environment variable "
     "holding a libpq conninfo or URI) and service (a pg_service.conf entry)"},
    {"PostgreSQL state with a schema that is no plain name",
     "rules = \"rules\"\nstate = { conninfo_env = \"A\", schema = \"Fleet-B\" }\n",
     "$D/retention.toml:2:40: 'state': schema 'Fleet-B' is not a plain schema name (lower-case letters, digits "
     "and '_', at most 63, not starting with a digit)"},
    {"PostgreSQL state with a host that is no host name",
     "rules = \"rules\"\nstate = { conninfo_env = \"A\", host = \"web 1\" }\n",
     "$D/retention.toml:2:38: 'state': host 'web 1' is not a host name (letters, digits, '.', '_' and '-'); leave "
     "it out to use this machine's host name"},
    {"PostgreSQL state with a misspelt key", "rules = \"rules\"\nstate = { conninfo_env = \"A\", shema = \"x\" }\n",
     "$D/retention.toml:2:31: unknown key 'shema' in 'state' (did you mean 'schema'?)"},
    {"state neither a path nor a table", "rules = \"rules\"\nstate = 5\n",
     "$D/retention.toml:2:9: 'state' is a SQLite file path, or a table naming a PostgreSQL state: state = { "
     "conninfo_env = \"RETENTION_STATE_URL\" }"},
    {"empty state", "rules = \"rules\"\nstate = \"\"\n", "$D/retention.toml:2:9: 'state' must not be empty"},
    {"limits not a table", "rules = \"rules\"\nlimits = 5\n", "$D/retention.toml:2:10: 'limits' must be a table"},
    {"batch_size 0", "rules = \"rules\"\n[limits]\nbatch_size = 0\n",
     "$D/retention.toml:3:14: batch_size must be between 1 and 100000"},
    {"batch_size too large", "rules = \"rules\"\n[limits]\nbatch_size = 1000000\n",
     "$D/retention.toml:3:14: batch_size must be between 1 and 100000"},
    {"batch_size one over the bound", "rules = \"rules\"\n[limits]\nbatch_size = 100001\n",
     "$D/retention.toml:3:14: batch_size must be between 1 and 100000"},
    {"batch_size a float", "rules = \"rules\"\n[limits]\nbatch_size = 10.5\n",
     "$D/retention.toml:3:14: 'batch_size' must be an integer, not a float"},
    {"max_delete negative", "rules = \"rules\"\n[limits]\nmax_delete = -1\n",
     "$D/retention.toml:3:14: max_delete must not be negative"},
    {"max_delete_fraction 1.5", "rules = \"rules\"\n[limits]\nmax_delete_fraction = 1.5\n",
     "$D/retention.toml:3:23: max_delete_fraction must be in (0, 1]"},
    {"max_delete_fraction 0", "rules = \"rules\"\n[limits]\nmax_delete_fraction = 0.0\n",
     "$D/retention.toml:3:23: max_delete_fraction must be in (0, 1]"},
    {"bad max_clock_jump", "rules = \"rules\"\n[limits]\nmax_clock_jump = \"a month\"\n",
     "$D/retention.toml:3:18: max_clock_jump: invalid duration \"a month\": expected a whole number first, "
     "as in \"90 days\" or \"30m\""},
    {"max_clock_jump without unit", "rules = \"rules\"\n[limits]\nmax_clock_jump = 31\n",
     "$D/retention.toml:3:18: 'max_clock_jump' must be a duration string such as \"90 days\", not an integer"},
    {"bad max_runtime", "rules = \"rules\"\n[limits]\nmax_runtime = \"4 hrs\"\n",
     "$D/retention.toml:3:15: max_runtime: invalid duration \"4 hrs\": unknown unit \"hrs\" (expected seconds, "
     "minutes, hours, days, weeks, months or years, e.g. \"90 days\", \"30m\", \"1y\")"},
    // A deadline beyond the calendar arithmetic's reach read as year -29046.
    {"an erasure answer time of years", "rules = \"rules\"\n[erasure]\nanswer_within = \"100000 years\"\n",
     "$D/retention.toml:3:17: answer_within is 100000 years: at most 1 year (an erasure request's answer time)"},
    {"an erasure answer time of 400 days", "rules = \"rules\"\n[erasure]\nanswer_within = \"400 days\"\n",
     "$D/retention.toml:3:17: answer_within is 400 days: at most 1 year (an erasure request's answer time)"},
    // Floors and holds guard the records of one store: a second store over
    // the same data let its rules delete what they keep under the first.
    {"two sqlite stores over one database",
     "rules = \"rules\"\n[stores.a]\ntype = \"sqlite\"\npath = \"app.db\"\n[stores.b]\ntype = \"sqlite\"\n"
     "path = \"./sub/../app.db\"\n",
     "$D/retention.toml:7:8: store 'b': names the same database as store 'a'; floors and holds under one store do "
     "not guard the other's records: use one store (a target's clock can give its own time_zone)"},
    {"the state database as a store",
     "rules = \"rules\"\nstate = \"state.db\"\n[stores.app]\ntype = \"sqlite\"\npath = \"state.db\"\n",
     "$D/retention.toml:5:8: store 'app': names the state database ($D/state.db); the ledger, holds and pending "
     "batches are not a store's records"},
    {"a files store inside another's root",
     "rules = \"rules\"\n[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n[stores.nginx]\ntype = \"files\"\n"
     "root = \"logs/nginx/\"\n",
     "$D/retention.toml:7:8: store 'nginx': root overlaps the root of store 'logs'; floors and holds under one store "
     "do not guard the other's records: use one store (a target's clock can give its own time_zone)"},
};

TEST_CASE("Malformed configs are refused with FILE:LINE:COL and a clear message", "[config]") {
  for (const BadCase& c : kBadCases) {
    ScratchDir dir;
    WriteFile(dir / "retention.toml", c.text);
    Result<Config> config = LoadConfig(dir / "retention.toml");
    INFO("case: " << c.what);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == StatusCode::kInvalid);
    CHECK(config.status().message() == WithDir(c.message, dir.path()));
  }
}

TEST_CASE("Stores over different data load, even when one root's name starts with another's", "[config]") {
  ScratchDir dir;
  WriteFile(dir / "retention.toml",
            "rules = \"rules\"\n[stores.a]\ntype = \"sqlite\"\npath = \"app.db\"\n[stores.b]\ntype = \"sqlite\"\n"
            "path = \"app.db2\"\n[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n[stores.logs2]\n"
            "type = \"files\"\nroot = \"logs2\"\n");
  Result<Config> config = LoadConfig(dir / "retention.toml");
  INFO(config.status().message());
  CHECK(config.ok());
}

TEST_CASE("A missing config file is refused and names the ways to give one", "[config]") {
  ScratchDir dir;
  Result<Config> config = LoadConfig(dir / "missing.toml");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == StatusCode::kInvalid);
  CHECK(config.status().message() ==
        (dir / "missing.toml").string() +
            ": config file does not exist (use --config PATH or set RETENTION_CONFIG)");
}

TEST_CASE("A directory given as the config is refused", "[config]") {
  ScratchDir dir;
  Result<Config> config = LoadConfig(dir.path());
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == StatusCode::kInvalid);
  CHECK(config.status().message() == dir.path().string() + ": cannot read: Is a directory");
}

TEST_CASE("A good config loads, with relative paths resolved against its directory", "[config]") {
  ScratchDir dir;
  WriteFile(dir / "etc" / "retention.toml", R"toml(# the example of config.h
rules = "retention-rules"
state = "../var/state.db"
time_zone = "Europe/Berlin"

[limits]
batch_size = 500
max_delete = 20000
max_delete_fraction = 0.25
max_clock_jump = "2 days"
max_runtime = "4 hours"

[stores.app]
type = "sqlite"
path = "data/app.db"
time_zone = "America/New_York"

[stores.logs]
type = "files"
root = "/var/log/app"

[stores.backups]
type = "files"
root = "./backups/"
)toml");
  // A relative --config path is made absolute too.
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  Result<Config> loaded = LoadConfig("etc/retention.toml");
  std::filesystem::current_path(cwd);
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  const Config& config = *loaded;

  const std::filesystem::path etc = dir / "etc";
  CHECK(config.file == etc / "retention.toml");
  CHECK(config.rules_dir == etc / "retention-rules");
  CHECK(config.state.path == (dir / "var" / "state.db").string());
  CHECK(config.time_zone == "Europe/Berlin");

  CHECK(config.limits.batch_size == 500);
  CHECK(config.limits.max_delete == 20000);
  CHECK(config.limits.max_delete_fraction == 0.25);
  CHECK(config.limits.max_clock_jump == CalendarDuration{2, DurationUnit::kDays});
  REQUIRE(config.limits.max_runtime);
  CHECK(*config.limits.max_runtime == CalendarDuration{4, DurationUnit::kHours});

  REQUIRE(config.stores.size() == 4);  // three, and the built-in purge log
  CHECK(config.stores.at("purge-log").type == StoreType::kPurgeLog);
  CHECK(config.stores.at("purge-log").path == config.state.path);
  const StoreConfig& app = config.stores.at("app");
  CHECK(app.name == "app");
  CHECK(app.type == StoreType::kSqlite);
  CHECK(app.path == etc / "data" / "app.db");
  CHECK(app.time_zone == "America/New_York");
  CHECK(app.where.file == (etc / "retention.toml").string());
  CHECK(app.where.line == 13);

  const StoreConfig& logs = config.stores.at("logs");
  CHECK(logs.type == StoreType::kFiles);
  CHECK(logs.root == "/var/log/app");  // absolute paths are kept
  CHECK(logs.time_zone.empty());       // the config's zone applies

  const StoreConfig& backups = config.stores.at("backups");
  CHECK(backups.root == (etc / "backups" / ""));  // normalized
}

TEST_CASE("A PostgreSQL state loads from its table, and the purge log reads it", "[config]") {
  ScratchDir dir;
  WriteFile(dir / "retention.toml",
                 "rules = \"rules\"\n"
                 "state = { conninfo_env = \"RETENTION_STATE_URL\", schema = \"fleet_b\", host = \"web-1\" }\n"
                 "[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n");
  Result<Config> loaded = LoadConfig(dir / "retention.toml");
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  const StateConfig& state = loaded->state;
  CHECK(state.IsPostgres());
  CHECK(state.path.empty());
  CHECK(state.conninfo_env == "RETENTION_STATE_URL");
  CHECK(state.service.empty());
  CHECK(state.schema == "fleet_b");
  CHECK(state.host == "web-1");
  CHECK(state.Name() == "the PostgreSQL state (RETENTION_STATE_URL), schema fleet_b");
  const StoreConfig& log = loaded->stores.at("purge-log");
  CHECK(log.state.IsPostgres());
  CHECK(log.state.schema == "fleet_b");

  WriteFile(dir / "retention.toml",
                 "rules = \"rules\"\nstate = { service = \"retention\" }\n"
                 "[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n");
  loaded = LoadConfig(dir / "retention.toml");
  REQUIRE(loaded.ok());
  CHECK(loaded->state.service == "retention");
  CHECK(loaded->state.schema == "retention");  // the default
  CHECK(loaded->state.host.empty());           // the machine's name, when opened
  CHECK(loaded->state.Name() == "the PostgreSQL state (service retention), schema retention");
}

TEST_CASE("Omitted settings take their documented defaults", "[config]") {
  ScratchDir dir;
  WriteFile(dir / "retention.toml", "rules = \"/etc/retention/rules\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n");
  Result<Config> loaded = LoadConfig(dir / "retention.toml");
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  CHECK(loaded->rules_dir == "/etc/retention/rules");
  CHECK(loaded->state.path == "/var/lib/retention/state.db");
  CHECK(loaded->time_zone == "UTC");
  CHECK(loaded->limits.batch_size == 100000);
  CHECK(loaded->limits.max_delete == 1000000);
  CHECK(loaded->limits.max_delete_fraction == 0.5);
  CHECK(loaded->limits.max_clock_jump == CalendarDuration{31, DurationUnit::kDays});
  CHECK_FALSE(loaded->limits.max_runtime);
}

// Sets or unsets an environment variable for one scope, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_CASE("ResolveConfigPath: --config, then RETENTION_CONFIG, then /etc", "[config]") {
  struct Case {
    const char* command_line;
    const char* env;  // nullptr: unset
    const char* want;
  };
  const Case cases[] = {
      {"/srv/a.toml", "/srv/env.toml", "/srv/a.toml"},
      {"rel/a.toml", nullptr, "rel/a.toml"},
      {"", "/srv/env.toml", "/srv/env.toml"},
      {"", nullptr, "/etc/retention/retention.toml"},
      {"", "", "/etc/retention/retention.toml"},  // set but empty: as if unset
  };
  for (const Case& c : cases) {
    INFO("--config '" << c.command_line << "', RETENTION_CONFIG " << (c.env ? c.env : "(unset)"));
    ScopedEnv env("RETENTION_CONFIG", c.env);
    CHECK(ResolveConfigPath(c.command_line) == std::filesystem::path(c.want));
  }
}

}  // namespace
}  // namespace retention
