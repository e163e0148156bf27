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

// DIR/rules/events.toml: category "events", due after 30 days, one target
// on app.events aged by its text column `at`, `who` the customer subject;
// `target_extra` adds lines to the target (a `where`).
inline void WriteEventsRules(const e2e::TempDir& dir, const std::string& target_extra = "") {
  e2e::WriteFile(dir / "rules" / "events.toml", R"(
[events]
description = "test events"
delete_after = "30 days"
[[events.target]]
store = "app"
table = "events"
clock = { column = "at", encoding = "text" }
subject = { kind = "customer", column = "who" }
)" + target_extra);
}

// A SQLite store (DIR/app.db) with one table, events(id, at TEXT, who), of
// kDueEventRows rows all long due, rules for it with `who` as the customer
// subject, and the purge test config with batches of 7.
inline constexpr int kDueEventRows = 60;
inline void WriteDueEventsFixture(const e2e::TempDir& dir) {
  {
    e2e::Db db(dir / "app.db");
    db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT, who INTEGER);"
            "CREATE INDEX events_at ON events(at);");
    std::string sql = "BEGIN;";
    for (int i = 1; i <= kDueEventRows; ++i)
      sql += "INSERT INTO events VALUES (" + std::to_string(i) + ", '2020-01-" +
             (i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1) + " 10:00:00', " + std::to_string(i % 5) + ");";
    db.Exec(sql + "COMMIT;");
  }
  WriteEventsRules(dir);
  WritePurgeTestConfig(dir, 7);
}

// The same rules over five events: 1 to 4 long due (customers 1 to 4), 5
// due in 2099; default batches.
inline void WriteFiveEventsFixture(const e2e::TempDir& dir) {
  e2e::Db db(dir / "app.db");
  db.Exec("CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT, who INTEGER);"
          "CREATE INDEX events_at ON events(at);"
          "INSERT INTO events VALUES (1, '2020-01-01 00:00:00', 1), (2, '2020-01-02 00:00:00', 2),"
          " (3, '2020-01-03 00:00:00', 3), (4, '2020-01-04 00:00:00', 4), (5, '2099-01-01 00:00:00', 5);");
  WriteEventsRules(dir);
  WritePurgeTestConfig(dir, 0);
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
