// Four hosts sharing one PostgreSQL state (issue 15), as separate processes
// of the built binary with their own host names and files stores and one
// shared PostgreSQL target. Judged with the test's own reads: the ledger
// rows re-hashed by the independent checker (support/ledger_checker.h),
// one delete claim per row or file gone, the shared target's batches never
// interleaved between runs, and nothing a hold covers deleted after `hold
// add` returned.
#include <signal.h>
#include <sys/time.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <thread>

#include "support/background_process.h"
#include "support/ledger_checker.h"
#include "support/pg_fixture.h"
#include "support/pg_ledger_rows.h"

namespace retention::pgtest {
namespace {

using e2e::BackgroundProcess;
using e2e::Describe;

constexpr const char* kStateEnv = "RETENTION_STATE_URL";
constexpr int kRows = 4000;

const char* kFleetRules = R"(
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

[logs]
delete_after = "90 days"
[[logs.target]]
name = "rotated"
store = "logs"
paths = ["*.log"]
clock = { mtime = true }
)";

// The child processes read the conninfo variables from the environment
// they inherit; set for the test's life.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

void WriteOldFile(const fs::path& p) {
  e2e::WriteFile(p, "x\n");
  const time_t when = ::time(nullptr) - 200 * 86400;
  struct timeval times[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimes(p.c_str(), times) == 0);
}

// Host NAME: its config, and its own files store with `files` old logs;
// its rules in `rules` (relative: beside the config).
fs::path MakeFleetHost(PgStoreFixture& f, const std::string& name, int files, const std::string& rules = "rules") {
  const fs::path logs = f.dir() / (name + "-logs");
  fs::create_directories(logs);
  for (int i = 0; i < files; ++i) WriteOldFile(logs / (name + "-" + std::to_string(i) + ".log"));
  const fs::path config = f.dir() / (name + ".toml");
  e2e::WriteFile(config, "rules = \"" + rules + "\"\n"
                         "state = { conninfo_env = \"" + std::string(kStateEnv) + "\", host = \"" + name + "\" }\n"
                         "[limits]\nmax_delete_fraction = 1.0\nbatch_size = 20\n"
                         "[stores.app]\ntype = \"postgres\"\nconninfo_env = \"" + std::string(kConninfoEnv) + "\"\n"
                         "[stores.logs]\ntype = \"files\"\nroot = \"" + logs.string() + "\"\n");
  return config;
}

// The shared table of the crash tests: 500 rows, all long due, one a
// minute from 2020-01-01, over seven customers.
void CreateOldEvents(PgConnection& conn) {
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text);"
            "CREATE INDEX events_at ON events (at);"
            "INSERT INTO events SELECT i, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 minute', "
            "'c' || (i % 7) FROM generate_series(1, 500) AS i");
}

std::set<std::string> Ids(PgConnection& conn, const std::string& sql) {
  std::set<std::string> out;
  for (auto& row : conn.Query(sql)) out.insert(row[0]);
  return out;
}

// The ledger's delete claims per "store/target", each key once; a key
// claimed twice is a problem.
std::map<std::string, std::set<std::string>> Claims(const checker::State& st, std::vector<std::string>* problems) {
  std::vector<checker::Entry> all = checker::BatchDeletes(st, problems);
  for (const checker::Entry& e : st.ledger)
    if (e.kind == "delete") all.push_back(e);
  std::map<std::string, std::set<std::string>> out;
  for (const checker::Entry& e : all) {
    if (!out[e.store + "/" + e.target].insert(e.record_key).second)
      problems->push_back("key " + e.record_key + " of " + e.store + "/" + e.target + " claimed twice");
  }
  return out;
}

TEST_CASE("four hosts purge at once into one PostgreSQL state: one chain, one claim per record, one host per target",
          "[postgres][e2e][pg-state][fleet]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  const int64_t now_s = e2e::NowUnixSeconds();
  // Rows 1..kRows, row i i/40 days old: about a quarter are due.
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text);"
            "CREATE INDEX events_at ON events (at);"
            "INSERT INTO events SELECT i, to_timestamp(" + std::to_string(now_s) +
            " - i * 2160), 'c' || (i % 7) FROM generate_series(1, " + std::to_string(kRows) + ") AS i");
  f.WriteRules("fleet", kFleetRules);
  ScopedEnv state_env(kStateEnv, f.conninfo);
  ScopedEnv app_env(kConninfoEnv, f.conninfo);

  std::vector<fs::path> configs;
  for (int h = 1; h <= 4; ++h) configs.push_back(MakeFleetHost(f, "host-" + std::to_string(h), 30));
  const RunResult init = RunWithEnv({"--config", configs[0].string(), "state", "init"}, {});
  INFO(Describe(init));
  REQUIRE(init.exit_code == 0);

  std::vector<std::unique_ptr<BackgroundProcess>> hosts;
  for (int h = 0; h < 4; ++h)
    hosts.push_back(std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"--config", configs[h].string(), "purge"}, f.dir().path(), "purge-" + std::to_string(h)));
  for (auto& host : hosts) {
    const RunResult r = host->Result();
    INFO(Describe(r));
    // 75: the shared target was another host's at that moment, and skipped.
    CHECK((r.exit_code == 0 || r.exit_code == 75));
    if (r.exit_code == 75) CHECK(e2e::Contains(r.out + r.err, "events"));
  }
  // A second round finishes whatever a skipping host left.
  for (const fs::path& config : configs) {
    const RunResult r = RunWithEnv({"--config", config.string(), "purge"}, {});
    INFO(Describe(r));
    CHECK(r.exit_code == 0);
  }

  checker::State st;
  st.ledger = PgLedgerRows(conn, "retention.ledger");
  std::vector<std::string> problems;
  checker::CheckChain(st.ledger, &problems);
  const auto claims = Claims(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());

  // The shared target: every due row gone, each claimed once, nothing else.
  std::set<std::string> gone;
  for (int i = 1; i <= kRows; ++i) gone.insert(std::to_string(i));
  for (const std::string& id : Ids(conn, "SELECT id FROM events")) gone.erase(id);
  CHECK(conn.Scalar("SELECT count(*) FROM events WHERE at < now() - interval '30 days'") == "0");
  CHECK(gone.size() > 900);
  CHECK(claims.count("app/events"));
  if (claims.count("app/events")) CHECK(claims.at("app/events") == gone);
  // Every host's own logs gone, each claimed once.
  std::set<std::string> files_gone;
  for (int h = 1; h <= 4; ++h) {
    const std::string name = "host-" + std::to_string(h);
    for (int i = 0; i < 30; ++i) {
      const std::string file = name + "-" + std::to_string(i) + ".log";
      CHECK_FALSE(fs::exists(f.dir() / (name + "-logs") / file));
      files_gone.insert(file);
    }
  }
  CHECK(claims.count("logs/rotated"));
  if (claims.count("logs/rotated")) CHECK(claims.at("logs/rotated") == files_gone);

  // One host at a time on the shared target: its batch entries, in seq
  // order, never switch back to a run they left.
  std::vector<int64_t> run_order;
  for (const checker::Entry& e : st.ledger) {
    if (e.kind != "batch" || e.store != "app" || e.target != "events") continue;
    if (run_order.empty() || run_order.back() != e.run_id) run_order.push_back(e.run_id);
  }
  const std::set<int64_t> distinct(run_order.begin(), run_order.end());
  INFO("runs over events in seq order: " << run_order.size() << ", distinct " << distinct.size());
  CHECK(distinct.size() == run_order.size());
  // Every run names the host it ran on.
  CHECK(Ids(conn, "SELECT host FROM retention.runs") ==
        std::set<std::string>{"host-1", "host-2", "host-3", "host-4"});
  const RunResult verify = RunWithEnv({"--config", configs[2].string(), "audit", "verify"}, {});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
}

TEST_CASE("a hold placed on one host while three others purge binds them from the moment hold add returns",
          "[postgres][e2e][pg-state][fleet]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  const int64_t now_s = e2e::NowUnixSeconds();
  // Every row due: the purge runs long enough for the hold to land mid-way.
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text);"
            "CREATE INDEX events_at ON events (at);"
            "INSERT INTO events SELECT i, to_timestamp(" + std::to_string(now_s) +
            " - 40 * 86400 - i), 'c' || (i % 7) FROM generate_series(1, " + std::to_string(kRows) + ") AS i");
  f.WriteRules("fleet", kFleetRules);
  ScopedEnv state_env(kStateEnv, f.conninfo);
  ScopedEnv app_env(kConninfoEnv, f.conninfo);
  std::vector<fs::path> configs;
  for (int h = 1; h <= 4; ++h) configs.push_back(MakeFleetHost(f, "host-" + std::to_string(h), 5));
  REQUIRE(RunWithEnv({"--config", configs[0].string(), "state", "init"}, {}).exit_code == 0);

  std::vector<std::unique_ptr<BackgroundProcess>> purges;
  for (int h = 1; h < 4; ++h)
    purges.push_back(std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"--config", configs[h].string(), "purge"}, f.dir().path(), "purge-" + std::to_string(h)));
  // Wait until deleting is under way, then hold customer c3 from host-1.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::stoll(conn.Scalar("SELECT count(*) FROM events")) > kRows - 200 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const RunResult hold = RunWithEnv({"--config", configs[0].string(), "hold", "add", "--matter", "m-1", "--reason",
                                     "litigation", "--by", "legal", "--subject", "customer:c3"},
                                    {});
  INFO(Describe(hold));
  REQUIRE(hold.exit_code == 0);
  const std::set<std::string> held_at_return = Ids(conn, "SELECT id FROM events WHERE who = 'c3'");
  for (auto& p : purges) {
    const RunResult r = p->Result();
    INFO(Describe(r));
    CHECK((r.exit_code == 0 || r.exit_code == 75));
  }
  INFO("c3 rows when hold add returned: " << held_at_return.size());
  CHECK(!held_at_return.empty());
  CHECK(Ids(conn, "SELECT id FROM events WHERE who = 'c3'") == held_at_return);
  // The purges did delete around the hold: the test saw them at work.
  CHECK(std::stoll(conn.Scalar("SELECT count(*) FROM events WHERE who <> 'c3'")) < kRows - 200);

  checker::State st;
  st.ledger = PgLedgerRows(conn, "retention.ledger");
  std::vector<std::string> problems;
  checker::CheckChain(st.ledger, &problems);
  const auto claims = Claims(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  std::set<std::string> gone;
  for (int i = 1; i <= kRows; ++i) gone.insert(std::to_string(i));
  for (const std::string& id : Ids(conn, "SELECT id FROM events")) gone.erase(id);
  if (claims.count("app/events")) CHECK(claims.at("app/events") == gone);

  // The hold's entry names the host that placed it, as a run's names its.
  int placed = 0;
  for (const checker::Entry& e : st.ledger) {
    if (e.kind != "hold_placed") continue;
    ++placed;
    CHECK(nlohmann::json::parse(e.detail).value("host", "") == "host-1");
  }
  CHECK(placed == 1);
  const RunResult log = RunWithEnv({"--config", configs[2].string(), "audit", "log", "--kind", "hold_placed"}, {});
  INFO(Describe(log));
  CHECK(log.exit_code == 0);
  CHECK_THAT(log.out, Catch::Contains("placed by legal on host-1: matter m-1"));
}

TEST_CASE("a host starting while another host's batch is open leaves that batch and run alone",
          "[postgres][e2e][pg-state][fleet]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  CreateOldEvents(conn);
  f.WriteRules("fleet", kFleetRules);
  ScopedEnv state_env(kStateEnv, f.conninfo);
  ScopedEnv app_env(kConninfoEnv, f.conninfo);
  const fs::path a = MakeFleetHost(f, "host-a", 3), b = MakeFleetHost(f, "host-b", 3);
  REQUIRE(RunWithEnv({"--config", a.string(), "state", "init"}, {}).exit_code == 0);

  // host-a stops right after its 2nd delete committed, its batch entry open.
  const fs::path go = f.dir() / "go";
  fs::path reached = go;
  reached += ".reached";
  e2e::Spawned first = e2e::Spawn({"--config", a.string(), "purge"}, {"RETENTION_PAUSE=after_delete:2:" + go.string()});
  e2e::WaitForPause(first, reached);
  // Its 2nd batch entry open, and the 1st too until a later entry settles it.
  const std::string open_batches = conn.Scalar("SELECT count(*) FROM retention.ledger_batches WHERE open");
  REQUIRE(open_batches != "0");

  // host-b starts meanwhile: it purges its own logs, skips the target
  // host-a holds, and reconciles nothing of host-a's.
  const RunResult second = RunWithEnv({"--config", b.string(), "purge"}, {});
  INFO(Describe(second));
  CHECK(second.exit_code == 75);
  CHECK(e2e::Contains(second.out + second.err, "events"));
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger_batches WHERE open") == open_batches);
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger WHERE kind = 'reconciled'") == "0");
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-a'") == "running");

  e2e::WriteFile(go, "");
  const RunResult resumed = first.Finish();
  INFO(Describe(resumed));
  CHECK(resumed.exit_code == 0);
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-a'") == "ok");
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "0");

  checker::State st;
  st.ledger = PgLedgerRows(conn, "retention.ledger");
  std::vector<std::string> problems;
  checker::CheckChain(st.ledger, &problems);
  const auto claims = Claims(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  CHECK(claims.count("app/events"));
  if (claims.count("app/events")) CHECK(claims.at("app/events").size() == 500);
}

TEST_CASE("a host killed mid-batch: other hosts leave its open batch alone, its next start reconciles it",
          "[postgres][e2e][pg-state][fleet]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  CreateOldEvents(conn);
  f.WriteRules("fleet", kFleetRules);
  ScopedEnv state_env(kStateEnv, f.conninfo);
  ScopedEnv app_env(kConninfoEnv, f.conninfo);
  const fs::path a = MakeFleetHost(f, "host-a", 3), b = MakeFleetHost(f, "host-b", 3);
  REQUIRE(RunWithEnv({"--config", a.string(), "state", "init"}, {}).exit_code == 0);

  const fs::path go = f.dir() / "go";
  fs::path reached = go;
  reached += ".reached";
  e2e::Spawned first = e2e::Spawn({"--config", a.string(), "purge"}, {"RETENTION_PAUSE=after_delete:2:" + go.string()});
  e2e::WaitForPause(first, reached);
  ::kill(first.pid, SIGKILL);
  const RunResult killed = first.Finish();
  CHECK(killed.exit_code == 128 + SIGKILL);
  const std::string left = conn.Scalar("SELECT count(*) FROM events");
  REQUIRE(left != "500");  // host-a's deletes committed

  // host-b: its own logs purged; the shared target skipped, naming host-a,
  // since host-a's batch is still open; nothing of host-a's reconciled.
  const RunResult other = RunWithEnv({"--config", b.string(), "purge"}, {});
  INFO(Describe(other));
  CHECK(other.exit_code == 75);
  CHECK(e2e::Contains(other.out + other.err, "host 'host-a'"));
  CHECK(conn.Scalar("SELECT count(*) FROM events") == left);
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger WHERE kind = 'reconciled'") == "0");
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-a'") == "running");
  for (int i = 0; i < 3; ++i) CHECK_FALSE(fs::exists(f.dir() / "host-b-logs" / ("host-b-" + std::to_string(i) + ".log")));

  // host-a's next start reconciles its own batch and finishes the target.
  const RunResult again = RunWithEnv({"--config", a.string(), "purge"}, {});
  INFO(Describe(again));
  CHECK(again.exit_code == 0);
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "0");
  CHECK(conn.Scalar("SELECT count(*) FROM retention.runs WHERE host = 'host-a' AND outcome = 'crashed'") == "1");
  CHECK(RunWithEnv({"--config", b.string(), "purge"}, {}).exit_code == 0);

  checker::State st;
  st.ledger = PgLedgerRows(conn, "retention.ledger");
  std::vector<std::string> problems;
  checker::CheckChain(st.ledger, &problems);
  const auto claims = Claims(st, &problems);  // a key claimed twice is a problem
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  CHECK(claims.count("app/events"));
  if (claims.count("app/events")) CHECK(claims.at("app/events").size() == 500);
}

// Host-b's rules name the shared table under another category and target
// name: what keeps two hosts apart is the table, not the names.
const char* kOtherNamesRules = R"(
[activity]
description = "the same events, named otherwise"
delete_after = "30 days"
[[activity.target]]
name = "customer-activity"
store = "app"
table = "public.events"
key = "id"
clock = { column = "at", encoding = "native" }
subject = { kind = "customer", column = "who" }
)";

TEST_CASE("an erasure on one host waits out another host's purge of the same table under other names",
          "[postgres][e2e][pg-state][fleet]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  CreateOldEvents(conn);
  f.WriteRules("fleet", kFleetRules);
  e2e::WriteFile(f.dir() / "other-rules" / "activity.toml", kOtherNamesRules);
  ScopedEnv state_env(kStateEnv, f.conninfo);
  ScopedEnv app_env(kConninfoEnv, f.conninfo);
  const fs::path a = MakeFleetHost(f, "host-a", 0), b = MakeFleetHost(f, "host-b", 0, "other-rules");
  REQUIRE(RunWithEnv({"--config", a.string(), "state", "init"}, {}).exit_code == 0);
  const std::vector<std::string> erase = {"--config", b.string(), "erase", "--subject", "customer:c3",
                                          "--request", "DSR-FLEET-1"};
  auto c3_rows = [&] { return conn.Scalar("SELECT count(*) FROM events WHERE who = 'c3'"); };

  const fs::path go = f.dir() / "go";
  fs::path reached = go;
  reached += ".reached";
  e2e::Spawned first = e2e::Spawn({"--config", a.string(), "purge"}, {"RETENTION_PAUSE=after_delete:2:" + go.string()});
  e2e::WaitForPause(first, reached);
  const std::string c3_before = c3_rows();
  REQUIRE(c3_before != "0");

  // host-a holds the table: the erasure skips it, naming host-a.
  const RunResult during = RunWithEnv(erase, {});
  INFO(Describe(during));
  CHECK(during.exit_code == 75);
  CHECK(e2e::Contains(during.out + during.err, "host-a"));
  CHECK(c3_rows() == c3_before);

  // host-a killed: its lock is gone, its batch still open over the table.
  ::kill(first.pid, SIGKILL);
  CHECK(first.Finish().exit_code == 128 + SIGKILL);
  const std::string c3_left = c3_rows();
  const RunResult open = RunWithEnv(erase, {});
  INFO(Describe(open));
  CHECK(open.exit_code == 75);
  CHECK(e2e::Contains(open.out + open.err, "host 'host-a'"));
  CHECK(c3_rows() == c3_left);
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger WHERE kind = 'reconciled'") == "0");

  // host-a's next start reconciles and purges; the erasure then runs.
  const RunResult again = RunWithEnv({"--config", a.string(), "purge"}, {});
  INFO(Describe(again));
  CHECK(again.exit_code == 0);
  conn.Exec("INSERT INTO events VALUES (9001, now(), 'c3'), (9002, now(), 'c4')");
  const RunResult after = RunWithEnv(erase, {});
  INFO(Describe(after));
  CHECK(after.exit_code == 0);
  CHECK(c3_rows() == "0");
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "1");

  checker::State st;
  st.ledger = PgLedgerRows(conn, "retention.ledger");
  std::vector<std::string> problems;
  checker::CheckChain(st.ledger, &problems);
  const auto claims = Claims(st, &problems);  // a key claimed twice is a problem
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  size_t claimed = 0;
  for (const auto& [target, keys] : claims) claimed += keys.size();
  CHECK(claimed == 501);
  CHECK(claims.count("app/customer-activity"));
  if (claims.count("app/customer-activity")) CHECK(claims.at("app/customer-activity").count("9001"));
}

TEST_CASE("a host that will not run again: another host reconciles its batches over the shared table, never "
          "those over its own disk",
          "[postgres][e2e][pg-state][fleet]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  CreateOldEvents(conn);
  f.WriteRules("fleet", kFleetRules);
  ScopedEnv state_env(kStateEnv, f.conninfo);
  ScopedEnv app_env(kConninfoEnv, f.conninfo);
  const fs::path a = MakeFleetHost(f, "host-a", 0), b = MakeFleetHost(f, "host-b", 0),
                 c = MakeFleetHost(f, "host-c", 45);
  REQUIRE(RunWithEnv({"--config", a.string(), "state", "init"}, {}).exit_code == 0);
  auto reconciled_entries = [&] {
    return conn.Scalar("SELECT count(*) FROM retention.ledger WHERE kind = 'reconciled'");
  };
  auto reconcile_from_b = [&](const std::string& host) {
    return RunWithEnv({"--config", b.string(), "state", "reconcile", "--host", host}, {});
  };

  const fs::path go = f.dir() / "go";
  fs::path reached = go;
  reached += ".reached";
  e2e::Spawned first = e2e::Spawn({"--config", a.string(), "purge"}, {"RETENTION_PAUSE=after_delete:2:" + go.string()});
  e2e::WaitForPause(first, reached);

  // Alive, host-a holds its run claim: it reconciles its own batches.
  const RunResult alive = reconcile_from_b("host-a");
  INFO(Describe(alive));
  CHECK(alive.exit_code == 75);
  CHECK(e2e::Contains(alive.out + alive.err, "host 'host-a' is running now"));
  CHECK(reconciled_entries() == "0");

  ::kill(first.pid, SIGKILL);
  CHECK(first.Finish().exit_code == 128 + SIGKILL);
  const std::string left = conn.Scalar("SELECT count(*) FROM events");
  REQUIRE(left != "500");
  CHECK(RunWithEnv({"--config", b.string(), "purge"}, {}).exit_code == 75);  // kept off host-a's table

  // A name no run has is refused, nothing touched.
  const RunResult typo = reconcile_from_b("host-z");
  INFO(Describe(typo));
  CHECK(typo.exit_code == 65);
  CHECK(e2e::Contains(typo.out + typo.err, "hosts with runs: host-a"));

  // A host whose rules are not host-a's cannot tell which table host-a's
  // target names meant: refused, nothing settled.
  e2e::WriteFile(f.dir() / "other-rules" / "activity.toml", kOtherNamesRules);
  const fs::path d = MakeFleetHost(f, "host-d", 0, "other-rules");
  const RunResult other_rules = RunWithEnv({"--config", d.string(), "state", "reconcile", "--host", "host-a"}, {});
  INFO(Describe(other_rules));
  CHECK(other_rules.exit_code == 65);
  CHECK(e2e::Contains(other_rules.out + other_rules.err, "ran under other rules"));
  CHECK(reconciled_entries() == "0");
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-a'") == "running");

  // host-a never comes back: host-b settles its batch over the shared table.
  const RunResult settled = reconcile_from_b("host-a");
  INFO(Describe(settled));
  CHECK(settled.exit_code == 0);
  // Its open batches (the one deleting and the next, whose intent the
  // pipeline had committed) settled, each entry naming host-b; the rows
  // gone found deleted.
  const std::string batches = reconciled_entries();
  CHECK(batches != "0");
  const std::string found = conn.Scalar("SELECT sum((detail::jsonb->>'found_deleted')::int) FROM retention.ledger "
                                        "WHERE kind = 'reconciled'");
  CHECK(found != "0");  // the batch deleting when host-a was killed
  CHECK(e2e::Contains(settled.out, "Reconciled host 'host-a' from 'host-b': " + batches + " batch"));
  CHECK(e2e::Contains(settled.out, " settled, " + found + " records found deleted, 1 run marked crashed."));
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger WHERE kind = 'reconciled' AND "
                    "detail::jsonb->>'reconciled_by_host' = 'host-b'") == batches);
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-a'") == "crashed");
  CHECK(conn.Scalar("SELECT count(*) FROM events") == left);  // judged, never deleted
  const RunResult again = reconcile_from_b("host-a");
  CHECK(again.exit_code == 0);
  CHECK(e2e::Contains(again.out, "Host 'host-a' left nothing to reconcile."));

  // host-b now purges the table itself.
  const RunResult purge_b = RunWithEnv({"--config", b.string(), "purge"}, {});
  INFO(Describe(purge_b));
  CHECK(purge_b.exit_code == 0);
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "0");

  // host-c killed while deleting its own logs: no other host may judge
  // those (its disk), and the refusal settles nothing.
  const fs::path go_c = f.dir() / "go-c";
  fs::path reached_c = go_c;
  reached_c += ".reached";
  e2e::Spawned files_run = e2e::Spawn({"--config", c.string(), "purge", "--category", "logs"},
                                      {"RETENTION_PAUSE=after_delete:1:" + go_c.string()});
  e2e::WaitForPause(files_run, reached_c);
  ::kill(files_run.pid, SIGKILL);
  CHECK(files_run.Finish().exit_code == 128 + SIGKILL);
  auto logs_left = [&] {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(f.dir() / "host-c-logs")) n += entry.is_regular_file();
    return n;
  };
  const size_t gone = 45 - logs_left();
  REQUIRE(gone > 0);  // its first batch's unlinks done, not settled
  const std::string entries_before = conn.Scalar("SELECT count(*) FROM retention.ledger");
  const RunResult refused = reconcile_from_b("host-c");
  INFO(Describe(refused));
  CHECK(refused.exit_code == 65);
  CHECK(e2e::Contains(refused.out + refused.err, "which is a files store here"));
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger") == entries_before);
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-c'") == "running");

  // host-c itself may settle them, without purging.
  const RunResult own = RunWithEnv({"--config", c.string(), "state", "reconcile"}, {});
  INFO(Describe(own));
  CHECK(own.exit_code == 0);
  CHECK(e2e::Contains(own.out, " settled, " + std::to_string(gone) + (gone == 1 ? " record" : " records") +
                                   " found deleted, 1 run marked crashed."));
  CHECK(e2e::Contains(own.out, "Reconciled host 'host-c': "));
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger WHERE kind = 'reconciled' AND "
                    "detail::jsonb ? 'reconciled_by_host'") == batches);  // its own: no other host named
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-c'") == "crashed");
  CHECK(logs_left() == 45 - gone);

  // The independent checker: one chain, each row gone claimed exactly
  // once, and the files the killed run deleted claimed.
  checker::State st;
  st.ledger = PgLedgerRows(conn, "retention.ledger");
  std::vector<std::string> problems;
  checker::CheckChain(st.ledger, &problems);
  const auto claims = Claims(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  CHECK(claims.count("app/events"));
  if (claims.count("app/events")) CHECK(claims.at("app/events").size() == 500);
  CHECK(claims.count("logs/rotated"));
  if (claims.count("logs/rotated")) CHECK(claims.at("logs/rotated").size() == gone);
}

// What a batch entry over public.events in `conn`'s database records as
// its store's identity (stores/store.h Store::Identity), read with the
// test's own SQL.
std::string EventsIdentity(PgConnection& conn) {
  return conn.Scalar(
      "SELECT 'postgres cluster ' || (SELECT system_identifier FROM pg_control_system()) || ', database \"' || "
      "current_database() || '\" (oid ' || (SELECT oid FROM pg_database WHERE datname = current_database()) || "
      "'), table \"public\".\"events\" (oid ' || 'public.events'::regclass::oid || ')'");
}

// The ledger's head, to show a refusal appended nothing.
std::string LedgerHead(PgConnection& conn) {
  return conn.Scalar("SELECT count(*) || ' ' || max(seq) || ' ' || (SELECT hash FROM retention.ledger ORDER BY seq "
                     "DESC LIMIT 1) FROM retention.ledger");
}

// host-a killed while deleting its second batch of the shared table (its
// store "app" at `conn`'s database): returns how many rows are left.
std::string KillHostAMidBatch(PgStoreFixture& f, PgConnection& conn, const fs::path& a) {
  const fs::path go = f.dir() / "go";
  fs::path reached = go;
  reached += ".reached";
  e2e::Spawned first = e2e::Spawn({"--config", a.string(), "purge"}, {"RETENTION_PAUSE=after_delete:2:" + go.string()});
  e2e::WaitForPause(first, reached);
  ::kill(first.pid, SIGKILL);
  CHECK(first.Finish().exit_code == 128 + SIGKILL);
  return conn.Scalar("SELECT count(*) FROM events");
}

TEST_CASE("a host reconciling another's batches over a store that reaches another database is refused, nothing "
          "settled",
          "[postgres][e2e][pg-state][fleet][reconcile]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  CreateOldEvents(conn);
  // The same table and rows under another database of the same server: a
  // host-b whose APP_DATABASE_URL names it sees an "app" that looks right.
  PgTestDatabase elsewhere;
  PgConnection other = elsewhere.Connect();
  CreateOldEvents(other);
  f.WriteRules("fleet", kFleetRules);
  ScopedEnv state_env(kStateEnv, f.conninfo);
  ScopedEnv app_env(kConninfoEnv, f.conninfo);
  const fs::path a = MakeFleetHost(f, "host-a", 0), b = MakeFleetHost(f, "host-b", 0);
  REQUIRE(RunWithEnv({"--config", a.string(), "state", "init"}, {}).exit_code == 0);

  const std::string left = KillHostAMidBatch(f, conn, a);
  REQUIRE(left != "500");

  // Every batch entry host-a wrote names the table it was written over.
  const std::string identity = EventsIdentity(conn);
  REQUIRE(e2e::Contains(identity, "database \"" + f.db().name() + "\""));
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger WHERE kind = 'batch'") != "0");
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger WHERE kind = 'batch' AND "
                    "detail::jsonb->>'store_identity' IS DISTINCT FROM " + Lit(identity)) == "0");
  const RunResult log = RunWithEnv({"--config", a.string(), "audit", "log", "--format", "json"}, {});
  INFO(Describe(log));
  CHECK(log.exit_code == 0);
  CHECK(e2e::Contains(log.out, "store_identity"));

  // host-b's "app" is the other database: every row host-a deleted is
  // there, so judged there host-a's deletions would read as kept (and a
  // row absent there as deleted). Refused, nothing settled.
  const std::string head = LedgerHead(conn);
  const RunResult wrong = RunWithEnv({"--config", b.string(), "state", "reconcile", "--host", "host-a"},
                                     {std::string(kConninfoEnv) + "=" + elsewhere.Conninfo()});
  INFO(Describe(wrong));
  CHECK(wrong.exit_code == 65);
  const std::string said = wrong.out + wrong.err;
  CHECK(e2e::Contains(said, "batch entry "));
  CHECK(e2e::Contains(said, "store 'app'"));
  CHECK(e2e::Contains(said, identity));
  CHECK(e2e::Contains(said, "database \"" + elsewhere.name() + "\""));
  CHECK(e2e::Contains(said, "Nothing was reconciled"));
  CHECK(LedgerHead(conn) == head);
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-a'") == "running");
  CHECK(conn.Scalar("SELECT count(*) FROM events") == left);
  CHECK(other.Scalar("SELECT count(*) FROM events") == "500");

  // With the database host-a deleted from, host-b settles its batches.
  const RunResult settled = RunWithEnv({"--config", b.string(), "state", "reconcile", "--host", "host-a"}, {});
  INFO(Describe(settled));
  CHECK(settled.exit_code == 0);
  CHECK(conn.Scalar("SELECT count(*) FROM retention.ledger WHERE kind = 'reconciled'") != "0");
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-a'") == "crashed");
  CHECK(conn.Scalar("SELECT count(*) FROM events") == left);
  CHECK(other.Scalar("SELECT count(*) FROM events") == "500");

  // The rows gone are claimed exactly once, the chain whole.
  checker::State st;
  st.ledger = PgLedgerRows(conn, "retention.ledger");
  std::vector<std::string> problems;
  checker::CheckChain(st.ledger, &problems);
  const auto claims = Claims(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  const auto gone = Minus(Ids(conn, "SELECT i::text FROM generate_series(1, 500) AS i"), Ids(conn, "SELECT id::text FROM events"));
  CHECK(claims.count("app/events"));
  if (claims.count("app/events")) CHECK(claims.at("app/events") == gone);
}

TEST_CASE("a host whose store now reaches another database refuses its next purge before reconciling anything",
          "[postgres][e2e][pg-state][fleet][reconcile]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  CreateOldEvents(conn);
  PgTestDatabase elsewhere;
  PgConnection other = elsewhere.Connect();
  CreateOldEvents(other);
  f.WriteRules("fleet", kFleetRules);
  ScopedEnv state_env(kStateEnv, f.conninfo);
  ScopedEnv app_env(kConninfoEnv, f.conninfo);
  const fs::path a = MakeFleetHost(f, "host-a", 0);
  REQUIRE(RunWithEnv({"--config", a.string(), "state", "init"}, {}).exit_code == 0);

  const std::string left = KillHostAMidBatch(f, conn, a);
  REQUIRE(left != "500");

  // APP_DATABASE_URL changed under host-a while it was down.
  const std::string head = LedgerHead(conn);
  const RunResult moved = RunWithEnv({"--config", a.string(), "purge"},
                                     {std::string(kConninfoEnv) + "=" + elsewhere.Conninfo()});
  INFO(Describe(moved));
  CHECK(moved.exit_code == 65);
  CHECK(e2e::Contains(moved.out + moved.err, "database \"" + elsewhere.name() + "\""));
  CHECK(e2e::Contains(moved.out + moved.err, EventsIdentity(conn)));
  CHECK(LedgerHead(conn) == head);  // no run started, nothing settled
  CHECK(conn.Scalar("SELECT count(*) FROM retention.runs") == "1");
  CHECK(conn.Scalar("SELECT outcome FROM retention.runs WHERE host = 'host-a'") == "running");
  CHECK(conn.Scalar("SELECT count(*) FROM events") == left);
  CHECK(other.Scalar("SELECT count(*) FROM events") == "500");

  // So does `state reconcile` on host-a itself.
  const RunResult own = RunWithEnv({"--config", a.string(), "state", "reconcile"},
                                   {std::string(kConninfoEnv) + "=" + elsewhere.Conninfo()});
  INFO(Describe(own));
  CHECK(own.exit_code == 65);
  CHECK(LedgerHead(conn) == head);

  // Pointed back, it reconciles and finishes the table; the other
  // database is never touched.
  const RunResult back = RunWithEnv({"--config", a.string(), "purge"}, {});
  INFO(Describe(back));
  CHECK(back.exit_code == 0);
  CHECK(conn.Scalar("SELECT count(*) FROM events") == "0");
  CHECK(other.Scalar("SELECT count(*) FROM events") == "500");
  checker::State st;
  st.ledger = PgLedgerRows(conn, "retention.ledger");
  std::vector<std::string> problems;
  checker::CheckChain(st.ledger, &problems);
  const auto claims = Claims(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  CHECK(claims.count("app/events"));
  if (claims.count("app/events")) CHECK(claims.at("app/events").size() == 500);
}

}  // namespace
}  // namespace retention::pgtest
