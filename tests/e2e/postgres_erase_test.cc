// `retention erase` on a PostgreSQL store (issue 16: "works on every store
// type that exists"), judged from the outside: the rows gone are read with
// the test's own SQL, the ledger's claims with the independent reading of
// e2e::DeletedKeys, never with `audit verify` alone.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/pg_fixture.h"

namespace retention::pgtest {
namespace {

using e2e::Describe;

// events(id, at, who, kind): row i is i days and 12 hours old, customer
// "c<i % 7>", kind "b" when i % 3 == 0. Rows 7, 14 and 21 (customer c0)
// have no clock at all.
void MakeEvents(PgConnection& conn, int64_t now_s) {
  conn.Exec("CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, who text, kind text);"
            "CREATE INDEX events_at ON events (at);"
            "INSERT INTO events SELECT i, to_timestamp(" + std::to_string(now_s) +
            " - i * 86400 - 43200), 'c' || (i % 7), CASE WHEN i % 3 = 0 THEN 'b' ELSE 'a' END "
            "FROM generate_series(1, 300) AS i;"
            "UPDATE events SET at = NULL WHERE id IN (7, 14, 21)");
}

// Everything is an event (90 days); kind "b" rows are also invoices, kept
// at least 30 days by another category over the same table: its floor
// keeps them from an erasure, and keeps an undated one (when unsure, keep).
const char* kRules = R"(
[events]
description = "test events"
delete_after = "90 days"
[[events.target]]
name = "events"
store = "app"
table = "public.events"
key = "id"
clock = { column = "at", encoding = "native" }
subject = { kind = "customer", column = "who" }

[invoices]
description = "invoices"
keep_at_least = "30 days"
delete_after = "1 year"
[[invoices.target]]
name = "invoices"
store = "app"
table = "public.events"
key = "id"
clock = { column = "at", encoding = "native" }
where = { kind = "b" }
subject = { kind = "customer", column = "who" }
)";

TEST_CASE("postgres: erase deletes the subject's rows whatever their age, keeps what a floor keeps, and the ledger "
          "names exactly the rows gone",
          "[postgres][e2e][erase]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  MakeEvents(conn, e2e::NowUnixSeconds());
  f.WriteConfig(4);
  f.WriteRules("events", kRules);
  const std::set<std::string> all = ColumnSet(conn, "SELECT id FROM events");
  const std::set<std::string> kept_by_floor =
      ColumnSet(conn, "SELECT id FROM events WHERE who = 'c0' AND kind = 'b' AND (at IS NULL OR id < 30)");
  const std::set<std::string> expected_gone =
      Minus(ColumnSet(conn, "SELECT id FROM events WHERE who = 'c0'"), kept_by_floor);
  REQUIRE(kept_by_floor.count("21") == 1);   // undated under the floor: kept
  REQUIRE(expected_gone.count("7") == 1);    // undated, no floor: erased
  REQUIRE(expected_gone.count("1") == 0);    // another customer

  RunResult dry = f.Retention({"erase", "--subject", "customer:c0", "--request", "DSR-PG-1", "--dry-run",
                               "--format", "json"});
  INFO(Describe(dry));
  REQUIRE(dry.exit_code == 0);
  CHECK(ColumnSet(conn, "SELECT id FROM events") == all);  // a preview deletes nothing

  RunResult erase = f.Retention({"erase", "--subject", "customer:c0", "--request", "DSR-PG-1", "--format", "json"});
  INFO(Describe(erase));
  REQUIRE(erase.exit_code == 0);
  const std::set<std::string> gone = Minus(all, ColumnSet(conn, "SELECT id FROM events"));
  CHECK(gone == expected_gone);
  size_t claims = 0;
  CHECK(f.LedgerDeleted(&claims) == gone);
  CHECK(claims == gone.size());

  // The receipt and the remembered request say the same, each record once.
  const auto receipt = nlohmann::json::parse(erase.out);
  int64_t erased = 0, kept = 0;
  for (const auto& e : receipt.at("erased")) erased += e.at("records").get<int64_t>();
  for (const auto& k : receipt.at("kept")) kept += k.at("records").get<int64_t>();
  CHECK(erased == static_cast<int64_t>(gone.size()));
  CHECK(kept == static_cast<int64_t>(kept_by_floor.size()));
  const auto dry_receipt = nlohmann::json::parse(dry.out);
  int64_t would = 0;
  for (const auto& e : dry_receipt.at("erased")) would += e.at("records").get<int64_t>();
  CHECK(would == erased);
  RunResult list = f.Retention({"erase", "list", "--format", "json"});
  INFO(Describe(list));
  REQUIRE(list.exit_code == 0);
  const auto requests = nlohmann::json::parse(list.out).at("requests");
  REQUIRE(requests.size() == 1);
  CHECK(requests[0]["outcome"] == "partial");
  CHECK(requests[0]["erased"] == erased);
  CHECK(requests[0]["kept"] == kept);

  CHECK(f.Retention({"audit", "verify"}).exit_code == 0);
}

}  // namespace
}  // namespace retention::pgtest
