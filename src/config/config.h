// The configuration file, retention.toml (SPEC section 3).
//
//   rules = "retention-rules"          # directory, relative to this file
//   # or directories merged by file name, later ones replacing earlier
//   # ones' files (rules/rule_overlay.h):
//   # rules = ["/usr/share/retention/rules.d", "/etc/retention/rules.d"]
//   state = "/var/lib/retention/state.db"   # a SQLite file, relative to this file
//   # or, for a fleet sharing one state (issue 15), a PostgreSQL schema:
//   # state = { conninfo_env = "RETENTION_STATE_URL", schema = "retention", host = "web-1" }
//   #   (or service = "retention" for pg_service.conf; schema and host optional)
//   time_zone = "UTC"                  # IANA zone for calendar cutoffs
//   metrics_file = "/var/lib/prometheus/node-exporter/retention.prom"  # optional
//   overdue_grace = "1 day"            # optional: status and the metrics
//
//   [limits]
//   batch_size = 100000                # most records per delete transaction
//                                      # (batches are sized to ~20 ms under it)
//   max_delete = 1000000               # safety valve, records per run
//   max_delete_fraction = 0.5          # safety valve, share of a target
//   max_clock_jump = "31 days"         # clock sanity vs. the last run
//   max_runtime = "4 hours"            # optional default for purge
//   max_erase_records = 10000          # safety valve, records per erasure request
//
//   [erasure]
//   answer_within = "30 days"          # an erasure request's deadline
//
//   [stores.app]                       # one table per store
//   type = "sqlite"                    # sqlite | postgres | files
//   path = "app.db"                    # sqlite: relative to this file
//   # postgres: conninfo_env = "APP_DATABASE_URL"  (a variable holding a
//   #           libpq conninfo or URI; never the conninfo itself here)
//   #           or service = "app"                (pg_service.conf)
//   # files:    root = "/var/log/app"
//   time_zone = "UTC"                  # optional: naive clocks of this store
//
// Unknown keys are errors: a typo must never silently change behaviour.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "calendar/duration.h"
#include "util/source_location.h"
#include "util/status.h"

namespace retention {

// kPurgeLog is built in: the ledger of the state database, present in every
// loaded config under the name kPurgeLogStore (see ledger/anchor.h).
enum class StoreType { kSqlite, kPostgres, kFiles, kPurgeLog };
inline constexpr const char* kPurgeLogStore = "purge-log";

std::string_view StoreTypeName(StoreType t);

// Where the state lives (SPEC section 3): a SQLite file by default, or a
// PostgreSQL schema that every host of a fleet shares.
struct StateConfig {
  std::string path;          // SQLite: absolute after loading; empty for PostgreSQL
  std::string conninfo_env;  // PostgreSQL: variable holding the conninfo or URI
  std::string service;       // PostgreSQL: or a pg_service.conf entry
  std::string schema = "retention";  // PostgreSQL: the schema holding the tables
  std::string host;          // PostgreSQL: this host's name in the fleet; empty: the host name

  bool IsPostgres() const { return !conninfo_env.empty() || !service.empty(); }
  // How messages name it: the SQLite path, or "the PostgreSQL state
  // (RETENTION_STATE_URL), schema retention". Never the conninfo.
  std::string Name() const;
  // A PostgreSQL state without its schema: "the PostgreSQL state
  // (RETENTION_STATE_URL)", or "(service NAME)".
  std::string ServerName() const;
};

struct StoreConfig {
  std::string name;
  StoreType type = StoreType::kSqlite;
  std::filesystem::path path;  // sqlite, purge log: absolute after loading
  std::string conninfo_env;    // postgres: variable holding the conninfo or URI
  std::string service;         // postgres: or a pg_service.conf entry
  std::filesystem::path root;  // files: absolute after loading
  std::string time_zone;       // empty: the config's zone
  StateConfig state;           // purge log: the state whose ledger it is
  SourceLocation where;
};

struct Limits {
  // An upper bound only: purge sizes each batch by time under it
  // (purge/batch_sizer.h), so the default bounds nothing a batch of about
  // 20 ms would reach.
  int64_t batch_size = 100000;
  int64_t max_delete = 1000000;
  double max_delete_fraction = 0.5;
  CalendarDuration max_clock_jump{31, DurationUnit::kDays};
  std::optional<CalendarDuration> max_runtime;
  // `erase`: the most records one request deletes (or reads, judging what
  // stays) without --allow-mass-delete. A subject has few records; many
  // means a mapping or an id that is wrong.
  int64_t max_erase_records = 10000;
};

struct ErasureConfig {
  // An erasure request's deadline: when it was first received plus this
  // (the seed policy answers "within 30 days").
  CalendarDuration answer_within{30, DurationUnit::kDays};
};

struct Config {
  std::filesystem::path file;       // the config file itself (absolute)
  std::filesystem::path rules_dir;  // absolute; the first (or only) rules directory
  // The later directories of `rules = [...]` (absolute), each replacing or
  // masking the files of the same name before it; empty for `rules = "DIR"`.
  std::vector<std::filesystem::path> rules_overlay_dirs;
  StateConfig state;
  std::string time_zone = "UTC";
  // Prometheus textfile written after every purge (absolute); see
  // util/metrics.h. purge --metrics-file overrides it.
  std::optional<std::filesystem::path> metrics_file;
  // How long past its due moment a record waits for the next purge before
  // `status` and the metrics call it overdue (plan/overdue.h); nullopt:
  // one day, the shipped timer's period.
  std::optional<CalendarDuration> overdue_grace;
  Limits limits;
  ErasureConfig erasure;
  std::map<std::string, StoreConfig> stores;
};

// The config path from --config, else $RETENTION_CONFIG, else
// /etc/retention/retention.toml.
std::filesystem::path ResolveConfigPath(const std::string& from_command_line);

// Loads and validates a config file. Errors are Invalid with
// "FILE:LINE:COL: message", or Unavailable/Invalid "FILE: cannot read ...".
Result<Config> LoadConfig(const std::filesystem::path& file);

}  // namespace retention
