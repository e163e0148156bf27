// SPEC 6.4 and issue 3: the purge works beside an application writing to
// the same SQLite file (WAL mode): batches are short transactions, the
// application's inserts never fail for a lock, and the purge never deletes
// the application's fresh rows. (How long the application waits is measured
// by the benchmarks in bench/, never asserted in a test.)
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "e2e/e2e_util.h"
#include "purge/ledger_outcomes.h"
#include "purge/purge_fixture.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;
using e2e::WriteFile;

TEST_CASE("an application keeps writing while a purge runs on the same database", "[purge][e2e]") {
  TempDir dir;
  const int kOld = 5000;
  {
    Db db(dir / "app.db");
    db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER);"
            "CREATE INDEX events_at ON events(at);");
    std::string sql = "BEGIN;";
    for (int i = 1; i <= kOld; ++i) sql += "INSERT INTO events (at) VALUES (" + std::to_string(1500000000 + i) + ");";
    db.Exec(sql + "COMMIT;");
  }
  WriteFile(dir / "rules" / "events.toml", R"(
[events]
delete_after = "30 days"
[[events.target]]
store = "app"
table = "events"
clock = { column = "at", encoding = "unix_seconds" }
)");
  WritePurgeTestConfig(dir, 50);

  std::atomic<bool> stop{false};
  std::atomic<int> inserted{0}, failures{0};
  std::thread writer([&] {
    // The application: its own connection, a busy timeout as any WAL
    // application would set, one short transaction per insert.
    Db app(dir / "app.db");
    while (!stop.load()) {
      try {
        app.Exec("INSERT INTO events (at) VALUES (strftime('%s','now'))");
        ++inserted;
        // An application does other work between writes; a loop that never
        // lets go of the lock would starve any second writer.
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      } catch (const std::exception&) {
        ++failures;
      }
    }
  });
  RunResult purge = RunWith(dir / "retention.toml", {"purge"});
  stop = true;
  writer.join();
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  CHECK(failures.load() == 0);
  CHECK(inserted.load() > 0);

  Db db(dir / "app.db", true);
  CHECK(db.Int("SELECT count(*) FROM events WHERE at < 1600000000") == 0);
  CHECK(db.Int("SELECT count(*) FROM events") == inserted.load());
  const LedgerOutcomes ledger = ReadLedgerOutcomes(dir / "state.db");
  CHECK(ledger.deleted.size() == static_cast<size_t>(kOld));
  CHECK(ledger.open.empty());
  for (const BatchOutcome& b : ledger.batches) CHECK(b.candidates <= 50);
}

}  // namespace
}  // namespace retention
