// A PostgreSQL state named in the config (issue 15), through the built
// binary: `state = { conninfo_env = "RETENTION_STATE_URL" }`. The ledger
// is read with the test's own SQL and judged by the independent checker
// (support/ledger_checker.h): one delete claim per row gone from the
// target, none for a held row, a chain that re-hashes; never by the
// engine's verify alone.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/ledger_checker.h"
#include "support/pg_fixture.h"
#include "support/pg_ledger_rows.h"

namespace retention::pgtest {
namespace {

using e2e::Contains;
using e2e::Describe;

constexpr const char* kStateEnv = "RETENTION_STATE_URL";

const char* kEventsRules = R"(
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

// One host of a fleet: its own config (and so its own host name) over the
// fixture's store, its state in schema `schema` of the fixture's database.
struct Host {
  PgStoreFixture* f;
  fs::path config;
  std::string state_url;

  RunResult Run(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    args.insert(args.begin(), {"--config", config.string()});
    env.push_back(std::string(kConninfoEnv) + "=" + f->conninfo);
    env.push_back(std::string(kStateEnv) + "=" + state_url);
    return RunWithEnv(args, env);
  }
};

Host MakeHost(PgStoreFixture& f, const std::string& name, const std::string& schema) {
  Host h{&f, f.dir() / (name + ".toml"), f.conninfo + " password=hunter2-secret"};
  e2e::WriteFile(h.config, "rules = \"rules\"\n"
                           "state = { conninfo_env = \"" + std::string(kStateEnv) + "\", schema = \"" + schema +
                               "\", host = \"" + name + "\" }\n"
                               "[limits]\nmax_delete_fraction = 1.0\nbatch_size = 10\n"
                               "[stores.app]\ntype = \"postgres\"\nconninfo_env = \"" + std::string(kConninfoEnv) +
                               "\"\n");
  return h;
}

std::set<std::string> Column(PgConnection& conn, const std::string& sql) {
  std::set<std::string> out;
  for (auto& row : conn.Query(sql)) out.insert(row[0]);
  return out;
}

TEST_CASE("a PostgreSQL state in the config: created once by state init, holds and the ledger live in it",
          "[postgres][e2e][pg-state]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  const int64_t now_s = e2e::NowUnixSeconds();
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text);"
            "CREATE INDEX events_at ON events (at);"
            "INSERT INTO events SELECT i, to_timestamp(" + std::to_string(now_s) +
            " - i * 86400 - 43200), 'c' || (i % 5) FROM generate_series(1, 120) AS i");
  f.WriteRules("events", kEventsRules);
  const Host web1 = MakeHost(f, "web-1", "fleet");
  const std::vector<std::string> hold = {"hold", "add", "--matter", "m-1", "--reason", "litigation", "--by", "legal",
                                         "--subject", "customer:c3"};
  const std::string schema_count = "SELECT count(*) FROM pg_namespace WHERE nspname = 'fleet'";

  // Before `state init`: refused, nothing created, and no command deletes.
  const RunResult early_hold = web1.Run(hold);
  INFO(Describe(early_hold));
  CHECK(early_hold.exit_code == 69);
  CHECK(Contains(early_hold.err, "the PostgreSQL state (RETENTION_STATE_URL), schema fleet does not exist"));
  CHECK(Contains(early_hold.err, "retention state init"));
  const RunResult early_purge = web1.Run({"purge"});
  CHECK(early_purge.exit_code == 69);
  CHECK(conn.Scalar(schema_count) == "0");
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "120");
  const RunResult unset = RunWithEnv({"--config", web1.config.string(), "hold", "list"},
                                     {std::string(kConninfoEnv) + "=" + f.conninfo});
  CHECK(unset.exit_code == 69);
  CHECK(Contains(unset.err, "environment variable RETENTION_STATE_URL is not set"));

  const RunResult init = web1.Run({"state", "init"});
  INFO(Describe(init));
  REQUIRE(init.exit_code == 0);
  CHECK(Contains(init.out, "Created the PostgreSQL state (RETENTION_STATE_URL), schema fleet"));
  CHECK(conn.Scalar(schema_count) == "1");
  const RunResult again = web1.Run({"state", "init"});
  CHECK(again.exit_code == 65);
  CHECK(Contains(again.err, "already holds a state"));

  REQUIRE(web1.Run(hold).exit_code == 0);
  // A second host sharing the state sees the hold placed on the first.
  const Host web2 = MakeHost(f, "web-2", "fleet");
  const RunResult listed = web2.Run({"hold", "list"});
  INFO(Describe(listed));
  REQUIRE(listed.exit_code == 0);
  CHECK(Contains(listed.out, "m-1"));
  CHECK(Column(conn, "SELECT matter FROM fleet.holds") == std::set<std::string>{"m-1"});

  const RunResult purge = web2.Run({"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  CHECK(conn.Scalar("SELECT host FROM fleet.runs ORDER BY id DESC LIMIT 1") == "web-2");
  CHECK(conn.Scalar("SELECT count(*) FROM fleet.ledger WHERE kind = 'run_start' AND detail LIKE '%web-2%'") == "1");

  // The ledger, read with the test's SQL and judged by the checker.
  checker::State st;
  st.ledger = PgLedgerRows(conn, "fleet.ledger");
  std::vector<std::string> problems;
  checker::CheckChain(st.ledger, &problems);
  const std::vector<checker::Entry> claimed = checker::BatchDeletes(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  std::multiset<std::string> claims;
  for (const checker::Entry& e : st.ledger)
    if (e.kind == "delete") claims.insert(e.record_key);
  for (const checker::Entry& e : claimed) claims.insert(e.record_key);
  std::set<std::string> gone;
  for (int i = 1; i <= 120; ++i) gone.insert(std::to_string(i));
  for (const std::string& id : Column(conn, "SELECT id FROM events")) gone.erase(id);
  CHECK(std::set<std::string>(claims.begin(), claims.end()) == gone);
  CHECK(claims.size() == gone.size());  // one claim per record, never two
  // Rows 30 days old or older went, except customer c3's (i % 5 == 3).
  std::set<std::string> due;
  for (int i = 30; i <= 120; ++i)
    if (i % 5 != 3) due.insert(std::to_string(i));
  CHECK(gone == due);
  CHECK(conn.Scalar("SELECT count(*) FROM events WHERE who = 'c3'") == "24");

  const RunResult verify = web1.Run({"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);

  // status, per host: web-2 purged just now; web-9 (rows as a host whose
  // timer stopped would leave them) last succeeded 10 days ago and left a
  // run "running" 5 days ago.
  const std::string day = "86400000000";
  const std::string now_us = "(extract(epoch FROM now()) * 1000000)::bigint";
  conn.Exec("INSERT INTO fleet.runs(started_at, ended_at, as_of, \"user\", host, version, rules_hash, command, "
            "outcome, exit_code) VALUES"
            "(" + now_us + " - 10 * " + day + ", " + now_us + " - 10 * " + day + ", " + now_us + " - 10 * " + day +
            ", 'root', 'web-9', 'x', 'x', 'purge', 'ok', 0),"
            "(" + now_us + " - 5 * " + day + ", NULL, " + now_us + " - 5 * " + day +
            ", 'root', 'web-9', 'x', 'x', 'purge', 'running', 0)");
  const RunResult status = web1.Run({"status"});
  INFO(Describe(status));
  CHECK(status.exit_code == 0);
  CHECK(Contains(status.out, "Hosts sharing the PostgreSQL state (RETENTION_STATE_URL), schema fleet:"));
  CHECK(Contains(status.out, "web-2  last success run"));
  CHECK(Contains(status.out, "host 'web-9': no purge succeeded within 2 days"));
  CHECK(Contains(status.out, "configured but not applied on that host"));
  CHECK(Contains(status.out, "has been running since"));
  CHECK_FALSE(Contains(status.out, "host 'web-2'"));
  const RunResult check = web1.Run({"status", "--check"});
  CHECK(check.exit_code == 75);
  const RunResult json = web1.Run({"status", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const auto doc = nlohmann::json::parse(json.out);
  REQUIRE(doc.contains("hosts"));
  CHECK(doc["compliant"] == false);
  std::map<std::string, bool> applied;
  for (const auto& h : doc["hosts"]) applied[h["host"].get<std::string>()] = h["applied"].get<bool>();
  CHECK(applied == std::map<std::string, bool>{{"web-2", true}, {"web-9", false}});
  for (const RunResult* r : {&early_hold, &unset, &init, &again, &listed, &purge, &verify})
    CHECK_FALSE(Contains(r->out + r->err, "hunter2"));
}

TEST_CASE("a PostgreSQL state whose tables were dropped is refused, never re-created by a purge",
          "[postgres][e2e][pg-state]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text);"
            "INSERT INTO events SELECT i, now() - i * interval '1 day', 'c1' FROM generate_series(1, 50) AS i");
  f.WriteRules("events", kEventsRules);
  const Host web1 = MakeHost(f, "web-1", "fleet");
  REQUIRE(web1.Run({"state", "init"}).exit_code == 0);
  REQUIRE(web1.Run({"hold", "add", "--matter", "m-1", "--reason", "r", "--by", "legal", "--subject", "customer:c1"})
              .exit_code == 0);
  conn.Exec("DROP SCHEMA fleet CASCADE");

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"purge"}, {"hold", "add", "--matter", "m-2", "--reason", "r", "--by", "legal", "--subject", "customer:c2"},
           {"plan"}}) {
    const RunResult r = web1.Run(args);
    INFO(args[0] << ": " << Describe(r));
    CHECK(r.exit_code == 69);
    CHECK(Contains(r.err, "does not exist"));
  }
  CHECK(conn.Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'fleet'") == "0");
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "50");
}

// The ledger's delete claims, each key once, with the chain re-hashed;
// problems are appended.
std::multiset<std::string> ClaimedKeys(PgConnection& conn, const std::string& ledger_table,
                                       std::vector<std::string>* problems) {
  checker::State st;
  st.ledger = PgLedgerRows(conn, ledger_table);
  checker::CheckChain(st.ledger, problems);
  std::multiset<std::string> claims;
  for (const checker::Entry& e : checker::BatchDeletes(st, problems)) claims.insert(e.record_key);
  for (const checker::Entry& e : st.ledger)
    if (e.kind == "delete") claims.insert(e.record_key);
  return claims;
}

TEST_CASE("the state's server stopped mid-purge: exit 69, no delete after it went, the ledger exact after restart",
          "[postgres][e2e][pg-state][faults]") {
  PgStoreFixture f;        // the target, on the run's shared server
  PgCluster state_server;  // the state, on a server of its own
  PgConnection conn = f.Connect();
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text);"
            "CREATE INDEX events_at ON events (at);"
            "INSERT INTO events SELECT i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 minute', "
            "'c' || (i % 5) FROM generate_series(1, 3000) AS i");
  f.WriteRules("events", kEventsRules);
  Host host = MakeHost(f, "web-1", "retention");
  host.state_url = state_server.Conninfo();
  REQUIRE(host.Run({"state", "init"}).exit_code == 0);
  REQUIRE(host.Run({"hold", "add", "--matter", "m-1", "--reason", "r", "--by", "legal", "--subject", "customer:c3"})
              .exit_code == 0);

  // Pause the purge after its 5th delete, stop the state's server, let it go.
  const fs::path go = f.dir() / "go";
  fs::path reached = go;
  reached += ".reached";
  e2e::Spawned purge = e2e::Spawn({"--config", host.config.string(), "purge"},
                                  {std::string(kConninfoEnv) + "=" + f.conninfo,
                                   std::string(kStateEnv) + "=" + host.state_url,
                                   "RETENTION_PAUSE=after_delete:5:" + go.string()});
  e2e::WaitForPause(purge, reached);
  state_server.Stop();
  const std::string left_when_stopped = conn.Scalar("SELECT count(*) FROM events");
  e2e::WriteFile(go, "");
  const RunResult cut = purge.Finish();
  INFO(Describe(cut));
  CHECK(cut.exit_code == 69);
  CHECK(Contains(cut.err, "the PostgreSQL state (RETENTION_STATE_URL)"));
  // Nothing deleted once the state was gone: its intent could not be
  // made durable first.
  CHECK(conn.Scalar("SELECT count(*) FROM events") == left_when_stopped);
  CHECK(std::stoll(left_when_stopped) < 3000);
  const RunResult down = host.Run({"purge"});
  CHECK(down.exit_code == 69);
  CHECK(conn.Scalar("SELECT count(*) FROM events") == left_when_stopped);

  state_server.Start();
  const RunResult next = host.Run({"purge"});
  INFO(Describe(next));
  CHECK(next.exit_code == 0);
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "600");  // only c3's rows stay
  PgConnection state_conn(state_server.Conninfo());
  std::vector<std::string> problems;
  const std::multiset<std::string> claims = ClaimedKeys(state_conn, "retention.ledger", &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  std::set<std::string> gone;
  for (int i = 1; i <= 3000; ++i)
    if (i % 5 != 3) gone.insert(std::to_string(i));
  CHECK(std::set<std::string>(claims.begin(), claims.end()) == gone);
  CHECK(claims.size() == gone.size());
  const RunResult verify = host.Run({"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
}

TEST_CASE("the state's role needs CREATE on the database for state init, then nothing outside its schema",
          "[postgres][e2e][pg-state]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text);"
            "INSERT INTO events SELECT i, now() - i * interval '1 day' - interval '12 hours', 'c' || (i % 5) "
            "FROM generate_series(1, 60) i");
  f.WriteRules("events", kEventsRules);
  const std::string role = "st_" + f.db().name();  // roles are the cluster's: one per test database
  conn.Exec("DROP ROLE IF EXISTS " + role + "; CREATE ROLE " + role + " LOGIN");
  Host host = MakeHost(f, "web-1", "retention");
  host.state_url = f.conninfo + " user=" + role;  // the later keyword wins

  const RunResult denied = host.Run({"state", "init"});
  INFO(Describe(denied));
  CHECK(denied.exit_code != 0);
  CHECK(conn.Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'retention'") == "0");

  conn.Exec("GRANT CREATE ON DATABASE " + f.db().name() + " TO " + role);
  const RunResult init = host.Run({"state", "init"});
  INFO(Describe(init));
  REQUIRE(init.exit_code == 0);
  conn.Exec("REVOKE CREATE ON DATABASE " + f.db().name() + " FROM " + role);
  REQUIRE(host.Run({"hold", "add", "--matter", "m-1", "--reason", "r", "--by", "legal", "--subject", "customer:c3"})
              .exit_code == 0);
  const RunResult purge = host.Run({"purge"});
  INFO(Describe(purge));
  CHECK(purge.exit_code == 0);
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "35");  // 29 young rows, and c3's 6 old ones held
  const RunResult verify = host.Run({"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
  // The ledger is the role's own, in its schema.
  CHECK(conn.Scalar("SELECT tableowner FROM pg_tables WHERE schemaname = 'retention' AND tablename = 'ledger'") ==
        role);
  conn.Exec("DROP OWNED BY " + role + " CASCADE; DROP ROLE " + role);
}

}  // namespace
}  // namespace retention::pgtest
