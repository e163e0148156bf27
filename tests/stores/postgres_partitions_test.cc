// Partition drop on a real PostgreSQL 15 server: the bounds are the real
// ones, the default partition, a straddling partition and a partition with
// a kept row are never dropped, and a drop whose partition changed after
// its keys were read (or whose lock is not granted) changes nothing.
#include "stores/postgres_partitions.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <set>

#include "holds/hold_set.h"
#include "plan/selection.h"
#include "stores/files_test_support.h"
#include "stores/postgres_store.h"
#include "support/pg_cluster.h"

namespace retention {
namespace {

using pgtest::PgTestDatabase;

// events partitioned by month on created_at; partitions named misleadingly
// on purpose: events_2025_06 holds 2023-01, events_2023_02 holds 2025-02.
const char* const kSchema = R"sql(
CREATE TABLE events (id bigint NOT NULL, subject bigint NOT NULL, created_at timestamptz NOT NULL,
                     PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);
CREATE TABLE events_old PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2022-12-01 00:00:00+00');
CREATE TABLE events_2025_06 PARTITION OF events FOR VALUES FROM ('2023-01-01 00:00:00+00') TO ('2023-02-01 00:00:00+00');
CREATE TABLE events_2023_02 PARTITION OF events FOR VALUES FROM ('2025-02-01 00:00:00+00') TO ('2025-03-01 00:00:00+00');
CREATE TABLE events_held PARTITION OF events FOR VALUES FROM ('2023-02-01 00:00:00+00') TO ('2023-03-01 00:00:00+00');
CREATE TABLE events_straddle PARTITION OF events FOR VALUES FROM ('2023-12-01 00:00:00+00') TO ('2024-01-01 00:00:01+00');
CREATE TABLE events_empty PARTITION OF events FOR VALUES FROM ('2023-03-01 00:00:00+00') TO ('2023-04-01 00:00:00+00');
CREATE TABLE events_default PARTITION OF events DEFAULT;
INSERT INTO events SELECT i, i + 1000, '2022-06-01 00:00:00+00' FROM generate_series(1, 10) i;           -- events_old
INSERT INTO events SELECT i, i + 1000, '2023-01-15 00:00:00+00' FROM generate_series(11, 20) i;          -- events_2025_06
INSERT INTO events SELECT i, i + 1000, '2025-02-15 00:00:00+00' FROM generate_series(21, 30) i;          -- events_2023_02
INSERT INTO events SELECT i, CASE WHEN i = 35 THEN 7 ELSE i + 1000 END, '2023-02-15 00:00:00+00'
  FROM generate_series(31, 40) i;                                                                 -- events_held
INSERT INTO events SELECT i, i + 1000, '2023-12-15 00:00:00+00' FROM generate_series(41, 50) i;          -- events_straddle
INSERT INTO events SELECT i, i + 1000, '2023-07-15 00:00:00+00' FROM generate_series(51, 60) i;          -- events_default
)sql";

// Deletable: before the cutoff 2024-01-01 and not subject 7 (held).
PgRowPredicate Deletable() {
  return {"t.created_at < '2024-01-01 00:00:00+00'::timestamptz AND t.subject <> ALL($1::bigint[])", {"{7}"}};
}
const std::string kCutoff = "2024-01-01 00:00:00+00";
const std::string kKeyText = "t.id::text";

std::unique_ptr<PgConnection> Open(const PgTestDatabase& db) {
  auto conn = PgConnection::OpenConninfo(db.Conninfo(), "store 'app'");
  REQUIRE(conn.ok());
  return std::move(*conn);
}

const PgPartition& Leaf(const PgClockPartitioning& p, const std::string& name) {
  for (const PgPartition& leaf : p.leaves)
    if (leaf.name == name) return leaf;
  FAIL("no partition " << name);
  throw std::logic_error("unreachable");
}

std::vector<std::string> Keys(pgtest::PgConnection& c, const std::string& partition) {
  std::vector<std::string> keys;
  for (auto& row : c.Query("SELECT id FROM " + partition + " ORDER BY id")) keys.push_back(row[0]);
  return keys;
}

std::vector<std::string> Names(const std::vector<PgPartition>& ps) {
  std::vector<std::string> out;
  for (const PgPartition& p : ps) out.push_back(p.name);
  return out;
}

}  // namespace

TEST_CASE("ParsePgRangeBound reads pg_get_expr's one-column range bounds, MINVALUE and MAXVALUE",
          "[postgres-partitions]") {
  std::optional<std::string> lo, hi;
  REQUIRE(ParsePgRangeBound("FOR VALUES FROM ('2023-07-01 00:00:00+00') TO ('2023-08-01 00:00:00+00')", &lo, &hi));
  CHECK(lo == "2023-07-01 00:00:00+00");
  CHECK(hi == "2023-08-01 00:00:00+00");
  REQUIRE(ParsePgRangeBound("FOR VALUES FROM (MINVALUE) TO ('it''s')", &lo, &hi));
  CHECK_FALSE(lo);
  CHECK(hi == "it's");
  REQUIRE(ParsePgRangeBound("FOR VALUES FROM (10) TO (MAXVALUE)", &lo, &hi));
  CHECK(lo == "10");
  CHECK_FALSE(hi);
  CHECK_FALSE(ParsePgRangeBound("DEFAULT", &lo, &hi));
  CHECK_FALSE(ParsePgRangeBound("FOR VALUES FROM ('a', 1) TO ('b', 2)", &lo, &hi));  // two key columns
  CHECK_FALSE(ParsePgRangeBound("FOR VALUES IN ('a')", &lo, &hi));
  CHECK_FALSE(ParsePgRangeBound("FOR VALUES FROM ('a') TO ('b') AND", &lo, &hi));
  CHECK(PgTextArrayLiteral({"a", "b\"c", "d\\e"}) == "{\"a\",\"b\\\"c\",\"d\\\\e\"}");
}

TEST_CASE("The partitions read are the real ones: bounds from pg_get_expr, never from their names",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kSchema);
  auto conn = Open(db);
  auto parting = ReadPgClockPartitioning(*conn, "public", "events", "created_at");
  REQUIRE(parting.ok());
  REQUIRE(parting->has_value());
  const PgClockPartitioning& p = **parting;
  CHECK(p.parent == "\"public\".\"events\"");
  CHECK(p.column_type == "timestamp with time zone");
  CHECK(p.leaves.size() == 7);
  CHECK(Leaf(p, "events_2025_06").upper == "2023-02-01 00:00:00+00");
  CHECK(Leaf(p, "events_2023_02").lower == "2025-02-01 00:00:00+00");
  CHECK_FALSE(Leaf(p, "events_old").lower);  // MINVALUE
  CHECK(Leaf(p, "events_default").is_default);

  // Only events_2025_06 and events_old are wholly before the cutoff with
  // every row deletable; the misleadingly named events_2023_02 holds 2025.
  auto droppable = DroppablePgPartitions(*conn, p, kCutoff, Deletable());
  REQUIRE(droppable.ok());
  CHECK(Names(*droppable) == std::vector<std::string>{"events_2025_06", "events_old"});
}

TEST_CASE("A held row, a straddling range, the default partition and an empty partition are never drop "
          "candidates",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kSchema);
  auto conn = Open(db);
  auto parting = ReadPgClockPartitioning(*conn, "public", "events", "created_at");
  REQUIRE(parting.ok());
  REQUIRE(parting->has_value());
  auto droppable = DroppablePgPartitions(*conn, **parting, kCutoff, Deletable());
  REQUIRE(droppable.ok());
  const auto names = Names(*droppable);
  // events_held: one row of subject 7; events_straddle: its upper bound is
  // one second past the cutoff, though every row in it is due;
  // events_default: every row due, and still never dropped.
  for (const char* kept : {"events_held", "events_straddle", "events_default", "events_empty", "events_2023_02"})
    CHECK(std::find(names.begin(), names.end(), kept) == names.end());
  CHECK(test.Scalar("SELECT count(*) FROM events_default WHERE created_at < '2024-01-01'") == "10");

  // Without the hold, events_held becomes a candidate: the hold was the reason.
  auto no_holds = DroppablePgPartitions(*conn, **parting, kCutoff, {"t.created_at < '2024-01-01'::timestamptz", {}});
  REQUIRE(no_holds.ok());
  CHECK(Names(*no_holds) == std::vector<std::string>{"events_2025_06", "events_held", "events_old"});
  // The default partition is refused even when asked directly.
  auto direct = DropPgPartition(*conn, **parting, Leaf(**parting, "events_default"), Keys(test, "events_default"),
                                kKeyText, Deletable());
  CHECK_FALSE(direct.ok());
  CHECK(test.Scalar("SELECT count(*) FROM events_default") == "10");
}

TEST_CASE("A predicate that joins another table (an event clock, another rule's floor) judges each "
          "partition's rows through the join",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kSchema);
  // Subject 1012 (a row of events_2025_06) is kept through the joined table.
  test.Exec("CREATE TABLE subjects (id bigint PRIMARY KEY, kept boolean NOT NULL);"
            "INSERT INTO subjects VALUES (1012, true), (1033, false)");
  auto conn = Open(db);
  auto parting = ReadPgClockPartitioning(*conn, "public", "events", "created_at");
  REQUIRE(parting.ok());
  REQUIRE(parting->has_value());
  PgRowPredicate joined{"t.created_at < $1::timestamptz AND NOT coalesce(j.kept, false)", {kCutoff},
                        " LEFT JOIN subjects AS j ON j.id = t.subject"};
  auto droppable = DroppablePgPartitions(*conn, **parting, kCutoff, joined);
  REQUIRE(droppable.ok());
  CHECK(Names(*droppable) == std::vector<std::string>{"events_held", "events_old"});
  // The drop re-checks through the same join.
  auto outcome = DropPgPartition(*conn, **parting, Leaf(**parting, "events_2025_06"), Keys(test, "events_2025_06"),
                                 kKeyText, joined);
  REQUIRE(outcome.ok());
  CHECK(*outcome == PgDropOutcome::kChanged);
  outcome = DropPgPartition(*conn, **parting, Leaf(**parting, "events_held"), Keys(test, "events_held"), kKeyText,
                            joined);
  REQUIRE(outcome.ok());
  CHECK(*outcome == PgDropOutcome::kDropped);
}

TEST_CASE("Tables not partitioned by range on exactly the clock are not partition-aware", "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(R"sql(
    CREATE TABLE flat (id bigint PRIMARY KEY, created_at timestamptz);
    CREATE TABLE by_id (id bigint, created_at timestamptz) PARTITION BY RANGE (id);
    CREATE TABLE by_list (id bigint, created_at timestamptz, kind text) PARTITION BY LIST (kind);
    CREATE TABLE by_two (id bigint, created_at timestamptz) PARTITION BY RANGE (created_at, id);
    CREATE TABLE by_expr (id bigint, created_at timestamptz) PARTITION BY RANGE ((id + 1));
  )sql");
  auto conn = Open(db);
  for (const char* table : {"flat", "by_id", "by_list", "by_two", "by_expr", "missing"}) {
    auto p = ReadPgClockPartitioning(*conn, "public", table, "created_at");
    REQUIRE(p.ok());
    CHECK_FALSE(p->has_value());
  }
}

TEST_CASE("A partition whose rows are exactly the batch's keys, all deletable, is detached and dropped in one "
          "transaction",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kSchema);
  auto conn = Open(db);
  auto parting = ReadPgClockPartitioning(*conn, "public", "events", "created_at");
  REQUIRE(parting.ok());
  const PgPartition& target = Leaf(**parting, "events_2025_06");
  auto keys = Keys(test, "events_2025_06");
  REQUIRE(keys.size() == 10);
  auto outcome = DropPgPartition(*conn, **parting, target, keys, kKeyText, Deletable());
  INFO((outcome.ok() ? std::string() : outcome.status().message()));
  REQUIRE(outcome.ok());
  CHECK(*outcome == PgDropOutcome::kDropped);
  CHECK(test.Scalar("SELECT count(*) FROM pg_class WHERE relname = 'events_2025_06'") == "0");
  CHECK(test.Scalar("SELECT count(*) FROM events") == "50");
  CHECK(test.Scalar("SELECT count(*) FROM events WHERE id BETWEEN 11 AND 20") == "0");
  // The connection is usable again: the transaction ended.
  CHECK(conn->Exec("SELECT 1").ok());
}

TEST_CASE("A row written into the partition after its keys were read makes the drop fall back, losing "
          "nothing",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kSchema);
  auto conn = Open(db);
  auto parting = ReadPgClockPartitioning(*conn, "public", "events", "created_at");
  REQUIRE(parting.ok());
  const PgPartition& target = Leaf(**parting, "events_2025_06");
  const auto keys = Keys(test, "events_2025_06");

  SECTION("a new row") {
    test.Exec("INSERT INTO events VALUES (99, 1099, '2023-01-20 00:00:00+00')");
    auto outcome = DropPgPartition(*conn, **parting, target, keys, kKeyText, Deletable());
    INFO((outcome.ok() ? std::string() : outcome.status().message()));
  REQUIRE(outcome.ok());
    CHECK(*outcome == PgDropOutcome::kChanged);
    CHECK(test.Scalar("SELECT count(*) FROM events_2025_06") == "11");
  }
  SECTION("a row that became held") {
    test.Exec("UPDATE events SET subject = 7 WHERE id = 12");
    auto outcome = DropPgPartition(*conn, **parting, target, keys, kKeyText, Deletable());
    INFO((outcome.ok() ? std::string() : outcome.status().message()));
  REQUIRE(outcome.ok());
    CHECK(*outcome == PgDropOutcome::kChanged);
    CHECK(test.Scalar("SELECT count(*) FROM events_2025_06") == "10");
  }
  SECTION("a row gone") {
    test.Exec("DELETE FROM events WHERE id = 13");
    auto outcome = DropPgPartition(*conn, **parting, target, keys, kKeyText, Deletable());
    INFO((outcome.ok() ? std::string() : outcome.status().message()));
  REQUIRE(outcome.ok());
    CHECK(*outcome == PgDropOutcome::kChanged);
    CHECK(test.Scalar("SELECT count(*) FROM events_2025_06") == "9");
  }
  CHECK(conn->Exec("SELECT 1").ok());
}

TEST_CASE("A drop whose lock is not granted within the lock timeout gives up (busy), changing nothing",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kSchema);
  auto conn = Open(db);
  auto parting = ReadPgClockPartitioning(*conn, "public", "events", "created_at");
  REQUIRE(parting.ok());
  const PgPartition& target = Leaf(**parting, "events_2025_06");
  const auto keys = Keys(test, "events_2025_06");

  auto app = db.Connect();
  SECTION("the application writes to the partition") {
    app.Exec("BEGIN; UPDATE events SET subject = subject WHERE id = 11");
  }
  SECTION("the application reads the parent") {
    // ACCESS SHARE on the parent: the detach's ACCESS EXCLUSIVE waits.
    app.Exec("BEGIN; SELECT count(*) FROM events WHERE id = 55");
  }
  const auto start = std::chrono::steady_clock::now();
  auto outcome = DropPgPartition(*conn, **parting, target, keys, kKeyText, Deletable());
  const auto waited = std::chrono::steady_clock::now() - start;
  INFO((outcome.ok() ? std::string() : outcome.status().message()));
  REQUIRE(outcome.ok());
  CHECK(*outcome == PgDropOutcome::kBusy);
  CHECK(waited < std::chrono::seconds(2));
  app.Exec("ROLLBACK");
  CHECK(test.Scalar("SELECT count(*) FROM events_2025_06") == "10");
  CHECK(test.Scalar("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'events_2025_06'::regclass") == "1");
  CHECK(conn->Exec("SELECT 1").ok());
}

TEST_CASE("The postgres store drops an expired partition whole, with every key in one batch, and purges a "
          "partition with a held row, the straddling one and the default row by row",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kSchema);
  const std::string var = "RETENTION_PGPARTS_TEST_" + db.name();
  ::setenv(var.c_str(), db.Conninfo().c_str(), 1);
  Config config;
  StoreConfig store_config;
  store_config.name = "app";
  store_config.type = StoreType::kPostgres;
  store_config.conninfo_env = var;
  config.stores["app"] = store_config;
  config.time_zone = "UTC";
  RuleSet rules;
  Category c;
  c.name = "events";
  c.delete_after = CalendarDuration{1, DurationUnit::kYears};
  Target t;
  t.name = "events";
  t.store = "app";
  t.table = "events";
  t.clock.column = "created_at";
  t.clock.encoding = ClockEncoding::kNative;
  t.subject = SubjectSpec{"customer", "subject"};
  c.targets.push_back(t);
  rules.categories.push_back(c);
  // Subject 7 (a row of events_held) is held; as of 2025-01-01 the cutoff
  // is 2024-01-01.
  const Timestamp as_of = *ParseClockText("2025-01-01T00:00:00Z", TimeZone::Utc());
  Hold hold;
  hold.placed_at = *ParseClockText("2024-06-01T00:00:00Z", TimeZone::Utc());
  hold.scope.subject_kind = "customer";
  hold.scope.subject_id = "7";
  auto made = MakeSelections(config, rules, as_of, "events");
  REQUIRE(made.ok());
  REQUIRE(!made->empty());
  const Selection sel = WithHolds(made->front(), HoldSet({hold}, as_of));

  // The ledger keys of the rows due and not held: the composite primary
  // key (id, created_at) as the store writes it.
  test.Exec("SET TimeZone = 'UTC'");
  std::set<std::string> expected;
  for (auto& row : test.Query("SELECT jsonb_build_array(id::text, created_at::text)::text FROM events "
                              "WHERE created_at < '2024-01-01 00:00:00+00' AND subject <> 7"))
    expected.insert(row[0]);
  REQUIRE(expected.size() == 49);  // 1..20 (dropped), 31..60 but 35 (row by row)

  auto store = OpenStore(config.stores["app"], false, files::PosixFileSystem());
  INFO(store.status().message());
  REQUIRE(store.ok());
  auto cursor = (*store)->OpenCursor(sel);
  REQUIRE(cursor.ok());
  std::set<std::string> deleted;
  std::vector<size_t> batch_sizes;
  while (true) {
    auto next = (*cursor)->Next(sel, 3);
    INFO(next.status().message());
    REQUIRE(next.ok());
    if (next->empty()) break;
    batch_sizes.push_back(next->size());
    auto r = (*store)->DeleteBatch(sel, *next);
    INFO(r.status().message());
    REQUIRE(r.ok());
    for (const DeletedRecord& d : r->deleted) CHECK(deleted.insert(d.key).second);
  }
  ::unsetenv(var.c_str());
  // events_old and events_2025_06 went whole: one batch of 10 keys each,
  // beyond the page size of 3, every key reported deleted.
  CHECK(std::count(batch_sizes.begin(), batch_sizes.end(), 10) == 2);
  // events_held (one kept row of ten) was emptied as a unit: its nine
  // deletable keys in one batch.
  CHECK(std::count(batch_sizes.begin(), batch_sizes.end(), 9) == 1);
  CHECK(test.Scalar("SELECT count(*) FROM pg_class WHERE relname IN ('events_old', 'events_2025_06')") == "0");
  // The partition with the held row is still attached, holding only it.
  CHECK(test.Scalar("SELECT string_agg(id::text, ',') FROM events_held") == "35");
  // The straddling partition (its rows are due) and the default one were
  // purged row by row: still there, empty.
  CHECK(test.Scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass") == "5");
  CHECK(test.Scalar("SELECT count(*) FROM events_straddle") == "0");
  CHECK(test.Scalar("SELECT count(*) FROM events_default") == "0");
  CHECK(test.Scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM events") ==
        "21,22,23,24,25,26,27,28,29,30,35");
  // Every row gone is reported, each once.
  CHECK(deleted == expected);
}

namespace {

// docs partitioned by month; docs_2023_01 holds 100 rows of every kind of
// column, 5 of them (subject 7) held; the default partition holds due rows.
const char* const kDocsSchema = R"sql(
CREATE TABLE docs (id bigint GENERATED ALWAYS AS IDENTITY, subject bigint NOT NULL, created_at timestamptz NOT NULL,
                   body text, data jsonb, amount numeric, blob bytea, tags text[], PRIMARY KEY (id, created_at))
  PARTITION BY RANGE (created_at);
CREATE TABLE docs_2023_01 PARTITION OF docs FOR VALUES FROM ('2023-01-01 00:00:00+00') TO ('2023-02-01 00:00:00+00');
CREATE TABLE docs_2023_02 PARTITION OF docs FOR VALUES FROM ('2023-02-01 00:00:00+00') TO ('2023-03-01 00:00:00+00');
CREATE TABLE docs_default PARTITION OF docs DEFAULT;
CREATE INDEX docs_created_at ON docs (created_at);
INSERT INTO docs (subject, created_at, body, data, amount, blob, tags)
  SELECT CASE WHEN i % 20 = 0 THEN 7 ELSE i + 1000 END, '2023-01-01 00:00:00+00'::timestamptz + i * interval '1 hour',
         repeat('x', i) || E'\n''"\\', jsonb_build_object('i', i, 'n', null, 's', E'\u00e9'), i / 3.0,
         decode(md5(i::text), 'hex'), ARRAY['a', NULL, i::text]
  FROM generate_series(1, 100) i;
INSERT INTO docs (subject, created_at) SELECT i + 1000, '2023-02-10 00:00:00+00' FROM generate_series(1, 10) i;
INSERT INTO docs (subject, created_at) SELECT 7, '2022-06-01 00:00:00+00' FROM generate_series(1, 3);
INSERT INTO docs (subject, created_at) SELECT i + 1000, '2022-06-01 00:00:00+00' FROM generate_series(1, 5) i;
)sql";

const std::string kDocsSelect = "t.id::text, t.created_at::text, t.subject::text";
const std::string kHeldRows = "SELECT string_agg(d::text, '|' ORDER BY id) FROM docs_2023_01 AS d WHERE subject = 7";

PgPendingDrop PlannedDocs(PgConnection& conn, const std::string& name, std::vector<Candidate>* batch) {
  auto plan = PlanPgPartitionDrops(conn, "public", "docs", "created_at", kCutoff, Deletable(), kDocsSelect);
  INFO((plan.ok() ? std::string() : plan.status().message()));
  REQUIRE(plan.ok());
  for (auto& [drop, rows] : *plan) {
    if (drop.partition.name != name) continue;
    if (batch) *batch = rows;
    return drop;
  }
  FAIL("no planned partition " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("A month with a few held rows is emptied as a unit: the held rows survive byte-identical, the "
          "partition stays attached with its index, and only the deletable keys are candidates",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kDocsSchema);
  test.Exec("SET TimeZone = 'UTC'");
  const std::string held_before = test.Scalar(kHeldRows);
  REQUIRE(!held_before.empty());
  auto conn = Open(db);
  REQUIRE(conn->Exec("SET TimeZone = 'UTC'").ok());

  auto plan = PlanPgPartitionDrops(*conn, "public", "docs", "created_at", kCutoff, Deletable(), kDocsSelect);
  REQUIRE(plan.ok());
  // Only docs_2023_01 and docs_2023_02: the default partition (with due and
  // held rows) never.
  std::set<std::string> planned;
  for (auto& [drop, rows] : *plan) planned.insert(drop.partition.name);
  CHECK(planned == std::set<std::string>{"docs_2023_01", "docs_2023_02"});

  std::vector<Candidate> batch;
  PgPendingDrop drop = PlannedDocs(*conn, "docs_2023_01", &batch);
  CHECK(drop.kept == 5);
  REQUIRE(batch.size() == 95);
  std::set<std::string> expected;
  for (auto& row : test.Query("SELECT id FROM docs_2023_01 WHERE subject <> 7")) expected.insert(row[0]);
  std::set<std::string> keys;
  for (const Candidate& c : batch) keys.insert(c.key);
  CHECK(keys == expected);  // every removed key, no held one

  auto outcome = EmptyPgPartition(*conn, drop.partition, drop.keys, drop.kept, "t.id::text", Deletable());
  INFO((outcome.ok() ? std::string() : outcome.status().message()));
  REQUIRE(outcome.ok());
  CHECK(*outcome == PgDropOutcome::kDropped);
  CHECK(test.Scalar(kHeldRows) == held_before);
  CHECK(test.Scalar("SELECT count(*) FROM docs_2023_01") == "5");
  CHECK(test.Scalar("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'docs_2023_01'::regclass") == "1");
  CHECK(test.Scalar("SELECT count(*) FROM pg_indexes WHERE tablename = 'docs_2023_01'") == "2");
  // The other months and the default partition are untouched.
  CHECK(test.Scalar("SELECT count(*) FROM docs_2023_02") == "10");
  CHECK(test.Scalar("SELECT count(*) FROM docs_default") == "8");
  // The default partition is refused even when asked directly.
  auto parting = ReadPgClockPartitioning(*conn, "public", "docs", "created_at");
  REQUIRE(parting.ok());
  REQUIRE(parting->has_value());
  auto direct = EmptyPgPartition(*conn, Leaf(**parting, "docs_default"), {"1"}, 7, "t.id::text", Deletable());
  CHECK_FALSE(direct.ok());
  CHECK(test.Scalar("SELECT count(*) FROM docs_default") == "8");
}

TEST_CASE("A month with a user trigger, or with more than a few held rows, is never emptied (row by row)",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kDocsSchema);
  auto conn = Open(db);
  SECTION("a trigger on the partition") {
    test.Exec("CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
              "CREATE TRIGGER docs_audit BEFORE INSERT ON docs_2023_01 FOR EACH ROW EXECUTE FUNCTION audit_row()");
  }
  SECTION("a row trigger of the parent, cloned onto the partition") {
    test.Exec("CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
              "CREATE TRIGGER docs_audit AFTER INSERT ON docs FOR EACH ROW EXECUTE FUNCTION audit_row()");
  }
  SECTION("a TRUNCATE trigger") {
    test.Exec("CREATE FUNCTION audit_stmt() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;"
              "CREATE TRIGGER docs_trunc AFTER TRUNCATE ON docs_2023_01 EXECUTE FUNCTION audit_stmt()");
  }
  SECTION("11 of 100 rows held") {
    test.Exec("UPDATE docs SET subject = 7 WHERE id IN (1, 2, 3, 4, 5, 6)");
  }
  auto plan = PlanPgPartitionDrops(*conn, "public", "docs", "created_at", kCutoff, Deletable(), kDocsSelect);
  REQUIRE(plan.ok());
  std::set<std::string> planned;
  for (auto& [drop, rows] : *plan) planned.insert(drop.partition.name);
  CHECK(planned == std::set<std::string>{"docs_2023_02"});
  CHECK(test.Scalar("SELECT count(*) FROM docs_2023_01") == "100");
}

TEST_CASE("Emptying a month gives up, changing nothing, when a lock is not granted or its rows changed",
          "[postgres]") {
  PgTestDatabase db;
  auto test = db.Connect();
  test.Exec(kDocsSchema);
  test.Exec("SET TimeZone = 'UTC'");
  const std::string all_before = test.Scalar("SELECT string_agg(d::text, '|' ORDER BY id) FROM docs_2023_01 AS d");
  auto conn = Open(db);
  PgPendingDrop drop = PlannedDocs(*conn, "docs_2023_01", nullptr);
  auto app = db.Connect();
  PgDropOutcome expected = PgDropOutcome::kBusy;
  SECTION("the application writes to the partition") {
    app.Exec("BEGIN; UPDATE docs SET body = body WHERE id = 11");
  }
  SECTION("the application reads the partition (the TRUNCATE's lock waits)") {
    app.Exec("BEGIN; SELECT count(*) FROM docs");
  }
  SECTION("a row became held since the plan") {
    test.Exec("UPDATE docs SET subject = 7 WHERE id = 11");
    app.Exec("BEGIN");
    expected = PgDropOutcome::kChanged;
  }
  SECTION("a held row was released since the plan") {
    test.Exec("UPDATE docs SET subject = 1 WHERE id = 20");
    app.Exec("BEGIN");
    expected = PgDropOutcome::kChanged;
  }
  const std::string now_before = test.Scalar("SELECT string_agg(d::text, '|' ORDER BY id) FROM docs_2023_01 AS d");
  const auto start = std::chrono::steady_clock::now();
  auto outcome = EmptyPgPartition(*conn, drop.partition, drop.keys, drop.kept, "t.id::text", Deletable());
  const auto waited = std::chrono::steady_clock::now() - start;
  INFO((outcome.ok() ? std::string() : outcome.status().message()));
  REQUIRE(outcome.ok());
  CHECK(*outcome == expected);
  CHECK(waited < std::chrono::seconds(2));
  app.Exec("ROLLBACK");
  CHECK(test.Scalar("SELECT count(*) FROM docs_2023_01") == "100");
  CHECK(test.Scalar("SELECT string_agg(d::text, '|' ORDER BY id) FROM docs_2023_01 AS d") == now_before);
  if (expected == PgDropOutcome::kBusy) CHECK(now_before == all_before);
  CHECK(conn->Exec("SELECT 1").ok());
}

}  // namespace retention
