// `retention state migrate` through the built binary (issue 15): a host's
// SQLite state, after holds and a purge, copied into PostgreSQL. The copy
// is judged with the test's own reads: every ledger row equal to the
// SQLite state's, field by field and payload byte by byte, the chain
// re-hashed by the independent checker (support/ledger_checker.h), the
// holds with their ids; never by the engine's verify alone.
#include <catch2/catch.hpp>

#include "support/ledger_checker.h"
#include "support/pg_fixture.h"
#include "support/pg_ledger_rows.h"

namespace retention::pgtest {
namespace {

using e2e::Contains;
using e2e::Describe;

constexpr const char* kStateEnv = "RETENTION_STATE_URL";

const char* kMigrateRules = R"(
[events]
description = "test events"
delete_after = "30 days"
[[events.target]]
name = "events"
store = "app"
table = "public.events"
key = "id"
clock = { column = "at", encoding = "native" }
subject = { kind = "customer", column = "who" }
)";

// An entry as one line of every field the chain covers.
std::string EntryLine(const checker::Entry& e) {
  return std::to_string(e.seq) + "|" + std::to_string(e.at) + "|" + e.kind + "|" + std::to_string(e.run_id) + "|" +
         e.category + "|" + e.store + "|" + e.target + "|" + e.record_key + "|" + e.clock + "|" + e.cutoff + "|" +
         e.rule + "|" + e.subject + "|" + std::to_string(e.batch) + "|" + e.detail + "|" + e.prev_hash + "|" +
         e.hash + "|" + std::to_string(std::hash<std::string>{}(e.payload));
}

TEST_CASE("state migrate: a purged SQLite state copied into PostgreSQL, every entry and hold the same",
          "[postgres][e2e][migrate]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  const int64_t now_s = e2e::NowUnixSeconds();
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text);"
            "CREATE INDEX events_at ON events (at);"
            "INSERT INTO events SELECT i, to_timestamp(" + std::to_string(now_s) +
            " - i * 86400 - 43200), 'c' || (i % 5) FROM generate_series(1, 120) AS i");
  f.WriteConfig(10);
  f.WriteRules("events", kMigrateRules);
  const std::vector<std::string> hold = {"hold", "add", "--matter", "m-1", "--reason", "litigation", "--by", "legal",
                                         "--subject", "customer:c3"};
  REQUIRE(f.Retention(hold).exit_code == 0);
  const RunResult second = f.Retention({"hold", "add", "--matter", "m-2", "--reason", "r", "--by", "legal",
                                        "--subject", "customer:c1"});
  REQUIRE(second.exit_code == 0);
  REQUIRE(f.Retention({"hold", "release", "2", "--by", "legal", "--reason", "settled"}).exit_code == 0);
  const RunResult purge = f.Retention({"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  REQUIRE(f.LedgerDeleted().size() > 40);

  const checker::State sqlite = checker::ReadState(f.state());
  REQUIRE(!sqlite.ledger.empty());
  // A password in the conninfo (ignored by the test server's trust
  // authentication) must never be printed.
  const std::string url = f.conninfo + " password=hunter2-secret";
  const RunResult migrate =
      f.Retention({"state", "migrate", "--to", kStateEnv}, {std::string(kStateEnv) + "=" + url});
  INFO(Describe(migrate));
  REQUIRE(migrate.exit_code == 0);
  const checker::Entry& head = sqlite.ledger.back();
  CHECK(Contains(migrate.out, "Verified before and after: head entry " + std::to_string(head.seq) + ", hash " +
                                  head.hash));
  CHECK(Contains(migrate.out, "2 holds"));
  CHECK(Contains(migrate.out, "conninfo_env = \"RETENTION_STATE_URL\""));
  CHECK_FALSE(Contains(migrate.out + migrate.err, "hunter2"));

  const std::vector<checker::Entry> copied = PgLedgerRows(conn, "retention.ledger");
  REQUIRE(copied.size() == sqlite.ledger.size());
  for (size_t i = 0; i < copied.size(); ++i) CHECK(EntryLine(copied[i]) == EntryLine(sqlite.ledger[i]));
  std::vector<std::string> problems;
  checker::CheckChain(copied, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());

  std::vector<std::string> holds;
  for (auto& row : conn.Query("SELECT id, matter, released_at IS NULL FROM retention.holds ORDER BY id"))
    holds.push_back(row[0] + " " + row[1] + " " + row[2]);
  CHECK(holds == std::vector<std::string>{"1 m-1 t", "2 m-2 f"});

  SECTION("the old state refuses what would write to it, and is read with a warning") {
    CHECK(Contains(migrate.out, "now refuses every command that would write to it"));
    // Due rows no hold covers: a purge that ran would delete them.
    conn.Exec("INSERT INTO events SELECT 1000 + i, to_timestamp(" + std::to_string(now_s) +
              " - i * 86400 - 40 * 86400), 'c9' FROM generate_series(1, 10) AS i");
    const size_t rows = std::stoul(conn.Scalar("SELECT count(*) FROM events"));
    const RunResult placed = f.Retention(hold);
    INFO(Describe(placed));
    CHECK(placed.exit_code == 65);
    CHECK(Contains(placed.err, "was moved to the PostgreSQL state (RETENTION_STATE_URL), schema retention"));
    const RunResult purged = f.Retention({"purge"});
    INFO(Describe(purged));
    CHECK(purged.exit_code == 65);
    CHECK(std::stoul(conn.Scalar("SELECT count(*) FROM events")) == rows);
    const RunResult erased = f.Retention({"erase", "--subject", "customer:c2", "--request", "r-1"});
    CHECK(erased.exit_code == 65);
    CHECK(std::stoul(conn.Scalar("SELECT count(*) FROM events")) == rows);
    const checker::State after = checker::ReadState(f.state());
    CHECK(after.ledger.size() == sqlite.ledger.size());
    CHECK(after.holds.size() == 2);
    const RunResult verify = f.Retention({"audit", "verify"});
    INFO(Describe(verify));
    CHECK(verify.exit_code == 0);
    CHECK(Contains(verify.err, "was moved to"));
    // The config still naming it is wrong: `check` says so.
    const RunResult check = f.Retention({"check"});
    CHECK(check.exit_code == 65);
    CHECK(Contains(check.err, "name that state"));
    // A binary that knows only version 9 refuses version 10 as newer.
    std::string version;
    checker::RawDb(f.state()).ForEach("SELECT value FROM meta WHERE key = 'schema_version'",
                                      [&](sqlite3_stmt* row) { version = reinterpret_cast<const char*>(sqlite3_column_text(row, 0)); });
    CHECK(version == "10");
  }
  SECTION("a second copy, into this schema or another, is refused, and the first is left as it was") {
    for (const char* schema : {"retention", "fleet_b"}) {
      const RunResult again = f.Retention({"state", "migrate", "--to", kStateEnv, "--schema", schema},
                                          {std::string(kStateEnv) + "=" + f.conninfo});
      INFO(Describe(again));
      CHECK(again.exit_code == 65);
      CHECK(Contains(again.err, "was already moved to"));
    }
    CHECK(PgLedgerRows(conn, "retention.ledger").size() == copied.size());
    CHECK(conn.Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'fleet_b'") == "0");
  }
}

TEST_CASE("state migrate --join: a second host's holds in force bind the fleet, its own log stays with it",
          "[postgres][e2e][migrate][fleet]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  f.WriteConfig(10);
  f.WriteRules("events", kMigrateRules);
  const std::string state_env = std::string(kStateEnv) + "=" + f.conninfo;
  auto hold = [](const std::string& matter, const std::string& subject) {
    return std::vector<std::string>{"hold", "add", "--matter", matter, "--reason", "litigation", "--by", "legal",
                                    "--subject", subject};
  };
  // Host a: one hold, then the fleet's state made from its own.
  REQUIRE(f.Retention(hold("m-1", "customer:c3")).exit_code == 0);
  REQUIRE(f.Retention({"state", "migrate", "--to", kStateEnv}, {state_env}).exit_code == 0);

  // Host b, alone so far: the same hold (legal placed it on each host), one
  // of its own, one released.
  const fs::path b = f.dir() / "b.toml";
  e2e::WriteFile(b, "rules = \"rules\"\nstate = \"b-state.db\"\n[stores.app]\ntype = \"postgres\"\n"
                    "conninfo_env = \"" + std::string(kConninfoEnv) + "\"\n");
  auto on_b = [&](std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"--config", b.string()});
    env.push_back(std::string(kConninfoEnv) + "=" + f.conninfo);
    return RunWithEnv(args, env);
  };
  REQUIRE(on_b({"state", "init"}).exit_code == 0);
  REQUIRE(on_b(hold("m-1", "customer:c3")).exit_code == 0);
  REQUIRE(on_b(hold("m-9", "customer:c5")).exit_code == 0);
  REQUIRE(on_b(hold("m-8", "customer:c6")).exit_code == 0);
  REQUIRE(on_b({"hold", "release", "3", "--by", "legal", "--reason", "settled"}).exit_code == 0);
  const checker::State b_before = checker::ReadState(f.dir() / "b-state.db");
  REQUIRE(!b_before.ledger.empty());
  const size_t shared_before = PgLedgerRows(conn, "retention.ledger").size();

  SECTION("joined: only what is in force and not there yet is placed, naming host b") {
    const RunResult joined = on_b({"state", "migrate", "--to", kStateEnv, "--join"}, {state_env});
    INFO(Describe(joined));
    REQUIRE(joined.exit_code == 0);
    CHECK(Contains(joined.out, "hold 1 already in force there as hold 1"));
    CHECK(Contains(joined.out, "hold 2 placed there as hold 2"));
    CHECK_FALSE(Contains(joined.out, "hold 3 "));
    CHECK(Contains(joined.out, "head entry " + std::to_string(b_before.ledger.back().seq) + ", hash " +
                                   b_before.ledger.back().hash));
    std::vector<std::string> holds;
    for (auto& row : conn.Query("SELECT id, matter, scope_subject_id, released_at IS NULL FROM retention.holds "
                                "ORDER BY id"))
      holds.push_back(row[0] + " " + row[1] + " " + row[2] + " " + row[3]);
    CHECK(holds == std::vector<std::string>{"1 m-1 c3 t", "2 m-9 c5 t"});

    // One hold_placed entry more, naming the joining host, on one chain
    // the independent checker re-hashes; host b's own log unchanged.
    const std::vector<checker::Entry> shared = PgLedgerRows(conn, "retention.ledger");
    REQUIRE(shared.size() == shared_before + 1);
    CHECK(shared.back().kind == "hold_placed");
    CHECK(Contains(shared.back().detail, "\"host\":"));
    CHECK(Contains(shared.back().detail, "m-9"));
    std::vector<std::string> problems;
    checker::CheckChain(shared, &problems);
    INFO(checker::Report(problems));
    CHECK(problems.empty());
    // The engine's own audit agrees (holds table against the ledger too).
    const fs::path shared_config = f.dir() / "shared.toml";
    e2e::WriteFile(shared_config, "rules = \"rules\"\nstate = { conninfo_env = \"" + std::string(kStateEnv) +
                                      "\" }\n[stores.app]\ntype = \"postgres\"\nconninfo_env = \"" +
                                      std::string(kConninfoEnv) + "\"\n");
    const RunResult verify = RunWithEnv({"--config", shared_config.string(), "audit", "verify"},
                                        {state_env, std::string(kConninfoEnv) + "=" + f.conninfo});
    INFO(Describe(verify));
    CHECK(verify.exit_code == 0);
    const checker::State b_after = checker::ReadState(f.dir() / "b-state.db");
    CHECK(b_after.ledger.size() == b_before.ledger.size());
    CHECK(b_after.ledger.back().hash == b_before.ledger.back().hash);

    // Host b's state now refuses a hold: one placed there would never
    // reach the fleet. A second join is refused too, placing nothing.
    const RunResult late = on_b(hold("m-7", "customer:c7"));
    INFO(Describe(late));
    CHECK(late.exit_code == 65);
    CHECK(Contains(late.err, "joined as host"));
    CHECK(checker::ReadState(f.dir() / "b-state.db").ledger.size() == b_before.ledger.size());
    const RunResult again = on_b({"state", "migrate", "--to", kStateEnv, "--join"}, {state_env});
    CHECK(again.exit_code == 65);
    CHECK(Contains(again.err, "was already moved to"));
    CHECK(PgLedgerRows(conn, "retention.ledger").size() == shared_before + 1);
  }
  SECTION("a host name the fleet already uses is refused; --host gives one of its own") {
    conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text)");
    const fs::path taken = f.dir() / "taken.toml";
    e2e::WriteFile(taken, "rules = \"rules\"\nstate = { conninfo_env = \"" + std::string(kStateEnv) +
                              "\", host = \"web-a\" }\n[stores.app]\ntype = \"postgres\"\nconninfo_env = \"" +
                              std::string(kConninfoEnv) + "\"\n");
    const RunResult purge = RunWithEnv({"--config", taken.string(), "purge"},
                                       {state_env, std::string(kConninfoEnv) + "=" + f.conninfo});
    INFO(Describe(purge));
    REQUIRE(purge.exit_code == 0);
    const size_t with_run = PgLedgerRows(conn, "retention.ledger").size();
    const RunResult clash = on_b({"state", "migrate", "--to", kStateEnv, "--join", "--host", "web-a"}, {state_env});
    INFO(Describe(clash));
    CHECK(clash.exit_code == 65);
    CHECK(Contains(clash.err, "host name 'web-a' is already in use"));
    CHECK(PgLedgerRows(conn, "retention.ledger").size() == with_run);
    const RunResult own = on_b({"state", "migrate", "--to", kStateEnv, "--join", "--host", "web-b"}, {state_env});
    INFO(Describe(own));
    CHECK(own.exit_code == 0);
    CHECK(Contains(own.out, "as host 'web-b'"));
    CHECK(Contains(own.out, "host = \"web-b\""));
    CHECK(on_b({"state", "migrate", "--to", kStateEnv, "--host", "web-b"}, {state_env}).exit_code == 64);
  }
  SECTION("a schema with no fleet state yet is refused: a plain migrate keeps the whole log") {
    conn.Exec("CREATE SCHEMA empty_fleet");
    const RunResult empty =
        on_b({"state", "migrate", "--to", kStateEnv, "--join", "--schema", "empty_fleet"}, {state_env});
    INFO(Describe(empty));
    CHECK(empty.exit_code != 0);
    CHECK(conn.Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'empty_fleet'") == "0");
    CHECK(PgLedgerRows(conn, "retention.ledger").size() == shared_before);
  }
}

TEST_CASE("state migrate: bad arguments and an unset variable are refused before anything is written",
          "[postgres][e2e][migrate]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  const RunResult no_to = f.Retention({"state", "migrate"});
  CHECK(no_to.exit_code == 64);
  CHECK(Contains(no_to.err, "--to"));
  const RunResult unset = f.Retention({"state", "migrate", "--to", "RETENTION_NOT_SET_ANYWHERE"});
  CHECK(unset.exit_code == 69);
  CHECK(Contains(unset.err, "RETENTION_NOT_SET_ANYWHERE is not set"));
  const RunResult unknown = f.Retention({"state", "migrat"});
  CHECK(unknown.exit_code == 64);
  // A SQLite state is one host's: its next purge reconciles it.
  f.WriteConfig(10);
  f.WriteRules("events", kMigrateRules);
  const RunResult reconcile = f.Retention({"state", "reconcile", "--host", "web-3"});
  CHECK(reconcile.exit_code == 64);
  CHECK(Contains(reconcile.err, "its next purge reconciles it first"));
  CHECK(conn.Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'retention'") == "0");

  // A state no hold was ever placed on has no hold-barrier file yet: the
  // move creates it, never mistaking its own run lock for a running purge
  // (which it would wait 60 s for, then exit 75).
  const fs::path fresh = f.dir() / "fresh.toml";
  e2e::WriteFile(fresh, "rules = \"rules\"\nstate = \"fresh.db\"\n[stores.app]\ntype = \"postgres\"\n"
                        "conninfo_env = \"" + std::string(kConninfoEnv) + "\"\n");
  const std::vector<std::string> env = {std::string(kConninfoEnv) + "=" + f.conninfo,
                                        std::string(kStateEnv) + "=" + f.conninfo};
  REQUIRE(RunWithEnv({"--config", fresh.string(), "state", "init"}, env).exit_code == 0);
  REQUIRE_FALSE(fs::exists(f.dir() / "fresh.db.holds-lock"));
  const RunResult moved = RunWithEnv({"--config", fresh.string(), "state", "migrate", "--to", kStateEnv,
                                      "--schema", "fresh_fleet"}, env);
  INFO(Describe(moved));
  CHECK(moved.exit_code == 0);
}

}  // namespace
}  // namespace retention::pgtest
