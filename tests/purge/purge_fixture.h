// Shared by the purge tests: the config they use (rules in DIR/rules, state
// in DIR/state.db, the safety valve open: these tests delete most of a
// small table on purpose, and one store), and a purge killed at a fault point.
#pragma once

#include <stdlib.h>

#include <string>

#include "e2e/e2e_util.h"
#include "state/sqlite_state_db.h"

namespace retention {

// `store` is "sqlite" (DIR/app.db, store "app") or "files" (DIR/logs,
// store "logs"); batch_size 0 keeps the default.
inline void WritePurgeTestConfig(const e2e::TempDir& dir, int batch_size, const std::string& store = "sqlite") {
  std::string text = "rules = \"rules\"\nstate = \"state.db\"\n[limits]\nmax_delete_fraction = 1.0\n";
  if (batch_size > 0) text += "batch_size = " + std::to_string(batch_size) + "\n";
  text += store == "files" ? "[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n"
                           : "[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n";
  e2e::WriteFile(dir / "retention.toml", text);
  // What `retention state init` does: a purge never creates the state.
  if (!std::filesystem::exists(dir / "state.db")) {
    auto created = CreateSqliteStateDb(dir / "state.db");
    if (!created.ok()) throw std::runtime_error(created.status().message());
  }
}

// `retention purge` with RETENTION_FAULT=`fault` ("POINT:N", see
// util/fault_point.h): killed at that point.
inline e2e::RunResult PurgeWithFault(const e2e::TempDir& dir, const std::string& fault) {
  ::setenv("RETENTION_FAULT", fault.c_str(), 1);
  e2e::RunResult r = e2e::RunWith(dir / "retention.toml", {"purge"});
  ::unsetenv("RETENTION_FAULT");
  return r;
}

}  // namespace retention
