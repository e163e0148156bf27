// Reconciliation judges a batch only over the table it was written over
// (purge/reconcile.h, ledger/batch_entry.h STORE IDENTITY), in process
// against a real PostgreSQL server: a batch entry that recorded another
// store identity, or (for another host) none at all, as an older version
// wrote them, refuses the whole reconciliation before anything is settled.
// The end-to-end cases, a store's conninfo naming another database, are in
// tests/e2e/postgres_fleet_test.cc.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include "config/config.h"
#include "e2e/e2e_util.h"
#include "ledger/batch_entry.h"
#include "purge/reconcile.h"
#include "rules/rule_loader.h"
#include "state/postgres_state_db.h"
#include "state/state_ops.h"
#include "stores/file_system.h"
#include "stores/store_set.h"
#include "support/pg_fixture.h"

namespace retention {
namespace {

constexpr const char* kStoreEnv = "RECONCILE_STORE_IDENTITY_TEST_URL";

// Host-b's config and rules over the test database's public.events, and a
// state in its schema "retention" (created by `state init`).
struct Fleet {
  Fleet() {
    conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz);"
              "INSERT INTO events SELECT i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 minute' "
              "FROM generate_series(1, 10) AS i");
    ::setenv(kStoreEnv, db.Conninfo().c_str(), 1);
    e2e::WriteFile(dir / "rules" / "events.toml", R"(
[events]
description = "test events"
delete_after = "30 days"
[[events.target]]
name = "events"
store = "app"
table = "public.events"
key = "id"
clock = { column = "at", encoding = "native" }
)");
    e2e::WriteFile(dir / "retention.toml", "rules = \"rules\"\n"
                                           "state = { conninfo_env = \"" + std::string(kStoreEnv) +
                                               "\", host = \"host-b\" }\n"
                                               "[stores.app]\ntype = \"postgres\"\nconninfo_env = \"" +
                                               std::string(kStoreEnv) + "\"\n");
    const e2e::RunResult init = e2e::Spawn({"--config", (dir / "retention.toml").string(), "state", "init"}).Finish();
    INFO(e2e::Describe(init));
    REQUIRE(init.exit_code == 0);
    auto c = LoadConfig(dir / "retention.toml");
    REQUIRE(c.ok());
    config = std::move(*c);
    auto r = LoadRules(config);
    REQUIRE(r.ok());
    rules = std::move(*r);
    PostgresStateDbOptions o;
    o.conninfo = db.Conninfo();
    o.create_if_missing = false;
    o.host = "host-a";
    auto s = OpenPostgresStateDb(o);
    INFO(s.status().message());
    REQUIRE(s.ok());
    state = std::move(*s);
  }
  ~Fleet() { ::unsetenv(kStoreEnv); }

  // A run of host-a under these rules that crashed with one open batch over
  // events 1..3, rows 1 and 2 gone since; its batch entry's detail is
  // `detail` (what a version with or without store identities wrote).
  int64_t CrashedBatch(const std::string& detail) {
    RunInfo info;
    info.host = "host-a";
    info.user = "test";
    info.version = "test";
    info.command = "purge";
    info.rules_hash = rules.hash;
    auto run = BeginRun(*state, info);
    REQUIRE(run.ok());
    BatchPayload payload;
    for (const char* key : {"1", "2", "3"}) {
      const std::string clock = conn.Scalar("SELECT at::text FROM events WHERE id = " + std::string(key));
      payload.records.push_back({key, clock, "", std::string()});
    }
    auto bytes = EncodeBatchPayload(payload);
    REQUIRE(bytes.ok());
    LedgerEntry e;
    e.kind = LedgerKind::kBatch;
    e.run_id = *run;
    e.category = "events";
    e.store = "app";
    e.target = "events";
    e.batch = 1;
    e.payload = *bytes;
    e.detail = detail;
    const BatchKeyRange range = KeyRangeOf(payload);
    auto seq = AppendBatch(*state, e, BatchIndexRow{"app", "events", range.lo, range.hi, range.integer_keys}, {});
    REQUIRE(seq.ok());
    conn.Exec("DELETE FROM events WHERE id IN (1, 2)");
    return *seq;
  }

  std::string Entries() { return conn.Scalar("SELECT count(*) FROM retention.ledger"); }

  // The identity host-b's store "app" has for the events target.
  std::string IdentityHere() {
    StoreSet stores(config, /*read_only=*/true, files::PosixFileSystem());
    auto store = stores.Get("app");
    REQUIRE(store.ok());
    auto id = (*store)->Identity(rules.categories.at(0).targets.at(0));
    INFO(id.status().message());
    REQUIRE(id.ok());
    REQUIRE(id->has_value());
    return **id;
  }

  pgtest::PgTestDatabase db;
  pgtest::PgConnection conn = db.Connect();
  e2e::TempDir dir;
  Config config;
  RuleSet rules;
  std::unique_ptr<StateDb> state;
};

TEST_CASE("the PostgreSQL store's identity names its cluster, database and table", "[postgres][reconcile]") {
  Fleet f;
  const std::string id = f.IdentityHere();
  CHECK(id == f.conn.Scalar("SELECT 'postgres cluster ' || (SELECT system_identifier FROM pg_control_system()) || "
                            "', database \"' || current_database() || '\" (oid ' || (SELECT oid FROM pg_database "
                            "WHERE datname = current_database()) || '), table \"public\".\"events\" (oid ' || "
                            "'public.events'::regclass::oid || ')'"));
  // The same table dropped and created again is another table.
  f.conn.Exec("DROP TABLE events; CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz)");
  CHECK(f.IdentityHere() != id);
}

TEST_CASE("another host's batch entry without a store identity is refused, nothing settled, and its own host judges it",
          "[postgres][reconcile][fleet]") {
  Fleet f;
  f.CrashedBatch("");
  StoreSet stores(f.config, /*read_only=*/false, files::PosixFileSystem());
  const std::string before = f.Entries();
  auto refused = ReconcileHost(*f.state, stores, f.config, f.rules, "host-a", "host-b");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalid);
  CHECK(e2e::Contains(refused.status().message(), "records no store identity"));
  CHECK(e2e::Contains(refused.status().message(), "store 'app'"));
  CHECK(f.Entries() == before);

  // Host-a's own reconciliation judges it as before.
  auto own = ReconcileHost(*f.state, stores, f.config, f.rules, "host-a", "host-a");
  INFO(own.status().message());
  REQUIRE(own.ok());
  CHECK(own->deleted == 2);
}

TEST_CASE("a batch entry over another table's identity is refused by every host, nothing settled",
          "[postgres][reconcile][fleet]") {
  Fleet f;
  const std::string here = f.IdentityHere();
  const std::string elsewhere = "postgres cluster 1, database \"app\" (oid 1), table \"public\".\"events\" (oid 2)";
  f.CrashedBatch(nlohmann::json{{kStoreIdentityMember, elsewhere}}.dump());
  StoreSet stores(f.config, /*read_only=*/false, files::PosixFileSystem());
  const std::string before = f.Entries();
  for (const char* by : {"host-b", "host-a"}) {
    INFO("reconciled by " << by);
    auto refused = ReconcileHost(*f.state, stores, f.config, f.rules, "host-a", by);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == StatusCode::kInvalid);
    CHECK(e2e::Contains(refused.status().message(), elsewhere));
    CHECK(e2e::Contains(refused.status().message(), here));
    CHECK(f.Entries() == before);
  }
  // The purge's own reconciliation refuses too.
  auto purge_start = Reconcile(*f.state, stores, f.rules, std::string("host-a"));
  REQUIRE_FALSE(purge_start.ok());
  CHECK(purge_start.status().code() == StatusCode::kInvalid);
  CHECK(f.Entries() == before);

  // A second open batch over this store's own identity: still refused as a
  // whole, since the first is not judgeable here.
  f.conn.Exec("INSERT INTO events VALUES (1, timestamptz '2020-01-01 00:01:00+00'), "
              "(2, timestamptz '2020-01-01 00:02:00+00')");
  f.CrashedBatch(nlohmann::json{{kStoreIdentityMember, here}}.dump());
  const std::string two = f.Entries();
  auto still = ReconcileHost(*f.state, stores, f.config, f.rules, "host-a", "host-b");
  REQUIRE_FALSE(still.ok());
  CHECK(f.Entries() == two);
}

TEST_CASE("another host's batch entry over this store's identity is judged here", "[postgres][reconcile][fleet]") {
  Fleet f;
  f.CrashedBatch(nlohmann::json{{kStoreIdentityMember, f.IdentityHere()}}.dump());
  StoreSet stores(f.config, /*read_only=*/false, files::PosixFileSystem());
  auto done = ReconcileHost(*f.state, stores, f.config, f.rules, "host-a", "host-b");
  INFO(done.status().message());
  REQUIRE(done.ok());
  CHECK(done->batches == 1);
  CHECK(done->deleted == 2);
}

}  // namespace
}  // namespace retention
