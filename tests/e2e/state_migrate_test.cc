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

  SECTION("a second copy into the same schema is refused, and the first is left as it was") {
    const RunResult again =
        f.Retention({"state", "migrate", "--to", kStateEnv}, {std::string(kStateEnv) + "=" + f.conninfo});
    INFO(Describe(again));
    CHECK(again.exit_code == 65);
    CHECK(Contains(again.err, "already holds a state"));
    CHECK(PgLedgerRows(conn, "retention.ledger").size() == copied.size());
  }
  SECTION("another schema takes a second copy with the same head") {
    const RunResult other = f.Retention({"state", "migrate", "--to", kStateEnv, "--schema", "fleet_b"},
                                        {std::string(kStateEnv) + "=" + f.conninfo});
    INFO(Describe(other));
    CHECK(other.exit_code == 0);
    CHECK(Contains(other.out, "schema = \"fleet_b\""));
    const std::vector<checker::Entry> b = PgLedgerRows(conn, "fleet_b.ledger");
    REQUIRE(!b.empty());
    CHECK(b.back().hash == head.hash);
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
  CHECK(conn.Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'retention'") == "0");
}

}  // namespace
}  // namespace retention::pgtest
