// `retention demo DIR`: a demo application database and a config that
// points the shipped retention-rules/ at it (SPEC section 5).
//
// DIR/retention.toml:
//
//   # written by `retention demo`
//   rules = "<absolute rules_dir>"
//   state = "state.db"
//   time_zone = "UTC"
//   [limits]
//   batch_size = 1000
//   max_delete = 10000000
//   max_delete_fraction = 0.9       # the first purge removes ~85% of request_logs
//   [stores.app]
//   type = "sqlite"
//   path = "app.db"
//   [stores.logs]                   # DIR/logs, DIR/backups: see demo_files.h
//   type = "files"
//   root = "logs"
//   [stores.backups]
//   type = "files"
//   root = "backups"
//
// DIR/app.db (SQLite, WAL mode): the schema is written out in
// demo/app_database.h. Its data covers the three years before `now`, is a
// pure function of (rows, now, seed), and is modelled on the seed privacy
// policy (seeds/001, section 4).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "calendar/timestamp.h"
#include "util/status.h"

namespace retention {

struct DemoOptions {
  std::filesystem::path dir;        // created if missing; must be empty or missing unless force
  int64_t rows = 300000;            // approximate total rows across tables
  Timestamp now;                    // the demo data is spread over the 3 years before `now`
  std::filesystem::path rules_dir;  // the shipped retention-rules/ (made absolute)
  uint64_t seed = 42;
  bool force = false;               // overwrite an existing demo in dir
};

struct DemoSummary {
  std::filesystem::path config;    // DIR/retention.toml
  std::filesystem::path database;  // DIR/app.db
  std::filesystem::path state;     // DIR/state.db, new and empty
  std::vector<std::pair<std::string, int64_t>> rows_per_table;  // in creation order
};

// Creates the demo. Refuses (Invalid) when DIR is not a directory, or is a
// non-empty directory and `force` is false. With `force`, the files a demo
// writes (app.db, retention.toml and state.db, each with its -wal/-shm/
// -journal companions) are removed first; nothing else in DIR is touched.
// The database is built under a temporary name and renamed into place, so a
// failed run leaves no half-written app.db behind. Last, it creates the
// demo's state database (no holds, an empty purge log).
Result<DemoSummary> CreateDemo(const DemoOptions& options);

}  // namespace retention
