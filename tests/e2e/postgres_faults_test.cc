// The PostgreSQL store under faults, through the built binary (issue 14,
// "Tests that must exist"; SPEC 6.2, 6.4): the server going away mid-run, a
// purge killed at each step of the batch protocol, and an application
// writing (moving clocks, holding row locks) while the purge runs. After
// each, the rows gone are read with the test's own SQL and compared with
// what the ledger claims, read by the independent checker.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "support/pg_fixture.h"

namespace retention::pgtest {
namespace {

using e2e::Contains;
using e2e::Describe;

// events(id, at timestamptz, who): `rows` rows, all years old; customer
// "c<i % 10>". Rules: due after 30 days, customer c7 held by the caller.
void MakeDueEvents(PgConnection& conn, int rows) {
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL, who text);"
            "CREATE INDEX events_at ON events (at);"
            "INSERT INTO events SELECT i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 minute', "
            "'c' || (i % 10) FROM generate_series(1, " + std::to_string(rows) + ") AS i");
}

const char* kDueRules = R"(
[events]
description = "test events"
delete_after = "30 days"
[[events.target]]
store = "app"
table = "events"
key = "id"
clock = { column = "at", encoding = "native" }
subject = { kind = "customer", column = "who" }
)";

void HoldCustomer(PgStoreFixture& f, const std::string& id) {
  RunResult r = f.Retention({"hold", "add", "--matter", "m", "--reason", "r", "--by", "test", "--subject",
                             "customer:" + id});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
}

// The ledger claims exactly the rows gone, one claim each, and no held row
// is gone.
void CheckLedgerExact(PgStoreFixture& f, PgConnection& conn, const std::set<std::string>& before) {
  const std::set<std::string> gone = Minus(before, ColumnSet(conn, "SELECT id FROM events"));
  size_t claims = 0;
  const std::set<std::string> claimed = f.LedgerDeleted(&claims);
  CHECK(claimed == gone);
  CHECK(claims == claimed.size());
  CHECK(conn.Scalar("SELECT count(*) FROM events WHERE who = 'c7'") ==
        std::to_string(std::count_if(before.begin(), before.end(), [](const std::string& id) {
          return std::stoll(id) % 10 == 7;
        })));
  RunResult verify = f.Retention({"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
}

TEST_CASE("postgres: the server goes away mid-purge: non-zero exit, 69 while down, exact ledger after restart",
          "[postgres][e2e][faults]") {
  PgCluster cluster;
  PgStoreFixture f(cluster);
  {
    PgConnection conn = f.Connect();
    MakeDueEvents(conn, 3000);
  }
  f.WriteConfig(50);
  f.WriteRules("events", kDueRules);
  HoldCustomer(f, "c7");
  std::set<std::string> before;
  {
    PgConnection conn = f.Connect();
    before = ColumnSet(conn, "SELECT id FROM events");
  }

  // Pause the purge after its 5th delete, stop the server under it, let it go.
  const fs::path go = f.dir() / "go";
  fs::path reached = go;
  reached += ".reached";
  e2e::Spawned purge = e2e::Spawn({"--config", f.config().string(), "purge"},
                                  {std::string(kConninfoEnv) + "=" + f.conninfo,
                                   "RETENTION_PAUSE=after_delete:5:" + go.string()});
  e2e::WaitForPause(purge, reached);
  cluster.Stop();
  e2e::WriteFile(go, "");
  const RunResult cut = purge.Finish();
  INFO(Describe(cut));
  CHECK(cut.exit_code != 0);
  CHECK(cut.exit_code < 128);  // an error, not a crash
  CHECK(Contains(cut.err, "'app'"));

  // While it is down: every command that needs it exits 69 naming the store.
  for (const char* command : {"check", "plan", "purge"}) {
    RunResult r = f.Retention({command});
    INFO(command << ": " << Describe(r));
    CHECK(r.exit_code == 69);
    CHECK(Contains(r.err, "'app'"));
  }

  cluster.Start();
  PgConnection conn = f.Connect();
  const size_t gone_while_cut = before.size() - ColumnSet(conn, "SELECT id FROM events").size();
  CHECK(gone_while_cut >= 5 * 50 - 50);  // at least four batches of the first run went
  CHECK(gone_while_cut < 2700);           // and it stopped short
  RunResult next = f.Retention({"purge"});
  INFO(Describe(next));
  CHECK(next.exit_code == 0);
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "300");  // only c7's rows stay
  CheckLedgerExact(f, conn, before);
}

TEST_CASE("postgres: a purge killed at each step of the batch protocol, the next run reconciles, ledger exact",
          "[postgres][e2e][faults][crash]") {
  for (const char* point : {"after_intent", "before_delete", "after_delete", "after_sync", "after_settle"}) {
    for (int nth : {1, 3}) {
      DYNAMIC_SECTION(point << " #" << nth) {
        PgStoreFixture f;
        PgConnection conn = f.Connect();
        MakeDueEvents(conn, 60);
        f.WriteConfig(7);
        f.WriteRules("events", kDueRules);
        HoldCustomer(f, "c7");
        const std::set<std::string> before = ColumnSet(conn, "SELECT id FROM events");

        RunResult killed = f.Retention({"purge"}, {"RETENTION_FAULT=" + std::string(point) + ":" + std::to_string(nth)});
        INFO(Describe(killed));
        REQUIRE(killed.exit_code == 128 + SIGKILL);
        const size_t after_crash = std::stoul(conn.Scalar("SELECT count(*) FROM events"));
        if (std::string(point) == "after_delete" || std::string(point) == "after_sync")
          CHECK(after_crash <= 60 - 7 * static_cast<size_t>(nth));  // the nth batch's delete committed
        CHECK(after_crash >= 6);                                      // c7's rows

        RunResult next = f.Retention({"purge"});
        INFO(Describe(next));
        CHECK(next.exit_code == 0);
        CHECK(conn.Scalar("SELECT count(*) FROM events") == "6");
        CheckLedgerExact(f, conn, before);
        e2e::Db state(f.state(), true);
        CHECK(state.Int("SELECT count(*) FROM runs WHERE outcome = 'crashed'") == 1);
      }
    }
  }
}

TEST_CASE("postgres: rows the application makes young between selection and delete are kept by the re-check",
          "[postgres][e2e][concurrency]") {
  PgStoreFixture f;
  PgConnection app = f.Connect();
  MakeDueEvents(app, 200);
  f.WriteConfig(20);
  f.WriteRules("events", kDueRules);
  HoldCustomer(f, "c7");
  const std::set<std::string> before = ColumnSet(app, "SELECT id FROM events");

  // Pause the purge with its 2nd batch selected and its intent written,
  // just before the delete.
  const fs::path go = f.dir() / "go";
  fs::path reached = go;
  reached += ".reached";
  e2e::Spawned purge = e2e::Spawn({"--config", f.config().string(), "purge"},
                                  {std::string(kConninfoEnv) + "=" + f.conninfo,
                                   "RETENTION_PAUSE=before_delete:2:" + go.string()});
  e2e::WaitForPause(purge, reached);
  // The candidates of the paused batch, from its intent (independent decoder).
  std::vector<std::string> candidates;
  {
    const checker::State st = checker::ReadState(f.state());
    std::vector<const checker::Entry*> batches;
    for (const checker::Entry& e : st.ledger)
      if (e.kind == "batch") batches.push_back(&e);
    REQUIRE(batches.size() >= 2);
    for (const checker::BatchRec& r : checker::DecodeBatch(batches[1]->payload).records) candidates.push_back(r.key);
  }
  REQUIRE(candidates.size() == 20);
  // The application moves half of them to now (autocommit; it must not wait
  // on the paused purge for long).
  std::set<std::string> young;
  for (size_t i = 0; i < candidates.size(); i += 2) young.insert(candidates[i]);
  std::string ids;
  for (const std::string& id : young) ids += (ids.empty() ? "" : ",") + id;
  app.Exec("SET lock_timeout = '5s'; UPDATE events SET at = now() WHERE id IN (" + ids + ")");
  e2e::WriteFile(go, "");
  const RunResult r = purge.Finish();
  INFO(Describe(r));
  CHECK(r.exit_code == 0);

  const std::set<std::string> remaining = ColumnSet(app, "SELECT id FROM events");
  for (const std::string& id : young) {
    INFO("row " << id << " was made young after its batch was selected");
    CHECK(remaining.count(id) == 1);
  }
  // Everything else due went: only the held customer's rows and the young ones stay.
  std::set<std::string> stay = ColumnSet(app, "SELECT id FROM events WHERE who = 'c7'");
  stay.insert(young.begin(), young.end());
  CHECK(remaining == stay);
  CheckLedgerExact(f, app, before);
}

TEST_CASE("postgres: an application moving clocks and holding row locks during a purge: young rows stay, "
          "no batch waits on a lock, ledger exact",
          "[postgres][e2e][concurrency]") {
  PgStoreFixture f;
  PgConnection setup = f.Connect();
  const int kRows = 3000;
  MakeDueEvents(setup, kRows);
  f.WriteConfig(20);
  f.WriteRules("events", kDueRules);
  HoldCustomer(f, "c7");
  const std::set<std::string> before = ColumnSet(setup, "SELECT id FROM events");

  std::atomic<bool> stop{false};
  std::atomic<bool> first_locks{false};
  std::set<std::string> made_young;  // written by the writer thread only, read after join
  int lock_cycles = 0;
  std::string writer_error;
  std::thread writer([&] {
    try {
      PgConnection app = f.Connect();
      std::mt19937_64 rng(14);
      while (!stop) {
        // Lock 20 rows spread over the table (the purge goes oldest first, so
        // some are in its next batches), make half of them young, hold ~1 s.
        std::string ids;
        const int64_t base = 1 + static_cast<int64_t>(rng() % 200) + 150 * lock_cycles;
        for (int k = 0; k < 20; ++k) ids += (k ? "," : "") + std::to_string((base + k * 13) % kRows + 1);
        app.Exec("BEGIN");
        const auto locked = ColumnSet(app, "SELECT id FROM events WHERE id IN (" + ids + ") ORDER BY id FOR UPDATE");
        std::set<std::string> young;
        for (const std::string& id : locked)
          if (std::stoll(id) % 2 == 0 && std::stoll(id) % 10 != 7) young.insert(id);
        for (const std::string& id : young) app.Exec("UPDATE events SET at = now() WHERE id = " + id);
        for (const std::string& id : locked)
          if (!young.count(id)) app.Exec("UPDATE events SET who = who WHERE id = " + id);
        first_locks = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        app.Exec("COMMIT");
        made_young.insert(young.begin(), young.end());
        ++lock_cycles;
      }
    } catch (const std::exception& e) {
      writer_error = e.what();
      first_locks = true;
    }
  });
  // Samples the age of the purge's writing transactions (application_name
  // retention; holding an xid or waiting on a lock: a long read-only
  // snapshot blocks no application) from the server's own view, every 10 ms.
  std::atomic<double> longest_ms{0};
  std::atomic<int> samples_seen{0};
  std::thread sampler([&] {
    try {
      PgConnection watch = f.Connect();
      while (!stop) {
        const std::string age = watch.Scalar(
            "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start) * 1000), -1) FROM pg_stat_activity "
            "WHERE application_name = 'retention' AND datname = current_database() AND xact_start IS NOT NULL "
            "AND (backend_xid IS NOT NULL OR wait_event_type = 'Lock')");
        const double ms = std::stod(age);
        if (ms >= 0) ++samples_seen;
        if (ms > longest_ms) longest_ms = ms;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    } catch (...) {
    }
  });
  while (!first_locks) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  RunResult purge = f.Retention({"purge"});
  stop = true;
  writer.join();
  sampler.join();
  INFO(Describe(purge));
  INFO("writer: " << writer_error);
  REQUIRE(writer_error.empty());
  CHECK((purge.exit_code == 0 || purge.exit_code == 74));  // 74: a row stayed busy and is reported kept

  const std::set<std::string> remaining = ColumnSet(setup, "SELECT id FROM events");
  for (const std::string& id : made_young) {
    INFO("row " << id << " was made young by the application and must stay");
    CHECK(remaining.count(id) == 1);
  }
  CHECK(lock_cycles >= 1);
  CHECK(!made_young.empty());
  WARN("concurrent writer: " << lock_cycles << " lock cycles of ~1 s, " << made_young.size()
                             << " rows made young, " << (before.size() - remaining.size())
                             << " rows purged, longest purge transaction seen " << longest_ms.load() << " ms over "
                             << samples_seen.load() << " samples, purge exit " << purge.exit_code);
  CHECK(samples_seen > 0);      // the sampler saw the purge at work
  CHECK(longest_ms < 1000.0);   // no batch waited out the application's 1 s locks
  CHECK(before.size() - remaining.size() > kRows / 2);
  CheckLedgerExact(f, setup, before);

  // With the application gone, the next purge takes every row the locks
  // kept from the first: only the held customer's rows and the young ones stay.
  RunResult next = f.Retention({"purge"});
  INFO(Describe(next));
  CHECK(next.exit_code == 0);
  std::set<std::string> stay = ColumnSet(setup, "SELECT id FROM events WHERE who = 'c7'");
  stay.insert(made_young.begin(), made_young.end());
  CHECK(ColumnSet(setup, "SELECT id FROM events") == stay);
  CheckLedgerExact(f, setup, before);
}

}  // namespace
}  // namespace retention::pgtest
