// The independent checker's view (support/ledger_checker.h) of the events
// table of purge_fixture.h's fixtures, and a purge of them killed part way:
// shared by the tests that judge a run on those fixtures by the checker.
#pragma once

#include <csignal>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"
#include "purge/purge_fixture.h"
#include "support/ledger_checker.h"

namespace retention {

// events(id, at TEXT, who) in `app_db`: key id, clock `at`, customer `who`.
inline checker::StoreSpec EventsSpec(const std::filesystem::path& app_db) {
  checker::StoreSpec spec;
  spec.sqlite.push_back({"app", "events", app_db,
                         "SELECT id, at, CAST(strftime('%s', at) AS INTEGER) * 1000000, who FROM events", "customer",
                         ""});
  return spec;
}

// The ids left in DIR/app.db's events.
inline std::set<std::string> EventIds(const e2e::TempDir& dir) {
  e2e::Db db(dir / "app.db", true);
  auto ids = db.Column("SELECT id FROM events");
  return {ids.begin(), ids.end()};
}

// Purges DIR killed at `fault` (RETENTION_FAULT, e.g. "after_delete:2"),
// leaving open batches for the next start; returns the checker's snapshot
// from before it.
inline checker::Snapshot KilledPurge(const e2e::TempDir& dir, const std::string& fault) {
  const checker::Snapshot before = checker::TakeSnapshot(EventsSpec(dir / "app.db"), dir / "state.db");
  e2e::RunResult killed = PurgeWithFault(dir, fault);
  INFO(e2e::Describe(killed));
  REQUIRE(killed.exit_code == 128 + SIGKILL);
  return before;
}

}  // namespace retention
