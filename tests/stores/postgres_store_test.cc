// The postgres store against a real PostgreSQL 15 server (tests/support/
// pg_cluster.h): check's messages, plan's counts, the cursor and the
// re-checking delete on every clock kind, joins, filters, subjects, holds,
// floors, composite keys, locked rows, identity.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <thread>

#include "holds/hold_set.h"
#include "plan/selection.h"
#include "stores/files_test_support.h"
#include "stores/postgres_selection_sql.h"
#include "stores/postgres_store.h"
#include "support/pg_cluster.h"

namespace retention {
namespace {

using files_test::Drain;
using files_test::Keys;

Timestamp At(const std::string& text) { return *ParseClockText(text, TimeZone::Utc()); }

// A database of the test's own, a store config naming it through an
// environment variable of its own, and rules built in code.
struct PgFixture {
  pgtest::PgTestDatabase db;
  pgtest::PgConnection sql;
  Config config;
  RuleSet rules;
  std::vector<Hold> holds;

  PgFixture() : sql(db.Connect()) {
    const std::string var = "RETENTION_PGSTORE_TEST_" + db.name();
    ::setenv(var.c_str(), db.Conninfo().c_str(), 1);
    StoreConfig store;
    store.name = "app";
    store.type = StoreType::kPostgres;
    store.conninfo_env = var;
    config.stores["app"] = store;
    config.time_zone = "UTC";
  }

  Target& Add(const std::string& name, std::optional<CalendarDuration> delete_after,
              std::optional<CalendarDuration> keep_at_least, Target target) {
    Category c;
    c.name = name;
    c.delete_after = delete_after;
    c.keep_at_least = keep_at_least;
    target.store = "app";
    if (target.name.empty()) target.name = "t";
    c.targets.push_back(std::move(target));
    rules.categories.push_back(std::move(c));
    return rules.categories.back().targets.back();
  }

  std::unique_ptr<Store> Open(bool read_only = false) {
    auto store = OpenStore(config.stores["app"], read_only, files::PosixFileSystem());
    INFO(store.status().message());
    REQUIRE(store.ok());
    return std::move(*store);
  }

  // The selections as of `as_of`, holds applied; the one of `category`.
  Selection Select(const std::string& category, Timestamp as_of) {
    auto made = MakeSelections(config, rules, as_of, category);
    INFO(made.status().message());
    REQUIRE(made.ok());
    REQUIRE(!made->empty());
    return WithHolds(made->front(), HoldSet(holds, as_of));
  }

  std::set<std::string> Column(const std::string& query) {
    std::set<std::string> out;
    for (auto& row : sql.Query(query)) out.insert(row[0]);
    return out;
  }
};

Target Simple(const std::string& table, const std::string& column = "at",
              ClockEncoding encoding = ClockEncoding::kNative) {
  Target t;
  t.table = table;
  t.clock.column = column;
  t.clock.encoding = encoding;
  return t;
}

CalendarDuration Days(int n) { return CalendarDuration{n, DurationUnit::kDays}; }

// Deletes every candidate the cursor offers, batch by batch.
BatchResult Purge(Store& store, const Selection& sel, size_t page = 3) {
  BatchResult all;
  auto cursor = store.OpenCursor(sel);
  REQUIRE(cursor.ok());
  while (true) {
    auto next = (*cursor)->Next(sel, page);
    INFO(next.status().message());
    REQUIRE(next.ok());
    if (next->empty()) break;
    auto r = store.DeleteBatch(sel, *next);
    INFO(r.status().message());
    REQUIRE(r.ok());
    all.deleted.insert(all.deleted.end(), r->deleted.begin(), r->deleted.end());
    all.skipped.insert(all.skipped.end(), r->skipped.begin(), r->skipped.end());
  }
  return all;
}

}  // namespace

TEST_CASE("A postgres store checks, plans and purges a timestamptz table", "[postgres][pgstore]") {
  PgFixture f;
  f.sql.Exec(R"(
    CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, customer int);
    CREATE INDEX events_at ON events (at);
    INSERT INTO events VALUES
      (1, '2026-01-01 00:00:00+00', 10), (2, '2026-08-01 00:00:00+00', 11),
      (3, '2026-11-25 00:00:00+00', 10), (4, NULL, 12), (5, 'infinity', 12), (6, '-infinity', 13),
      (7, '2026-09-02 23:59:59.999999+00', 13), (8, '2026-09-03 00:00:00+00', 13);
  )");
  Target t = Simple("events");
  t.subject = SubjectSpec{"customer", "customer"};
  f.Add("events", Days(90), std::nullopt, t);
  auto store = f.Open();

  TargetCheck check;
  REQUIRE(store->CheckTarget(f.rules.categories[0], f.rules.categories[0].targets[0], &check).ok());
  CHECK(check.errors.empty());
  // +-infinity are never due: said, as for any clock that does not parse.
  REQUIRE(check.warnings.size() == 1);
  CHECK_THAT(check.warnings[0], Catch::Contains("2 of the first 7 values of events.at do not parse as native"));

  // 90 days before 2026-12-02: 2026-09-03 00:00 UTC, strictly before.
  const Selection sel = f.Select("events", At("2026-12-02T00:00:00Z"));
  auto stats = store->Measure(sel);
  INFO(stats.status().message());
  REQUIRE(stats.ok());
  CHECK(stats->total == 8);
  CHECK(stats->undated == 3);
  CHECK(stats->due == 3);
  CHECK(stats->deletable == 3);
  CHECK(stats->sample_keys == std::vector<std::string>{"1", "2", "7"});
  REQUIRE(stats->oldest_due);
  CHECK(*stats->oldest_due == At("2026-01-01T00:00:00Z"));

  auto bound = store->BoundDue(sel);
  REQUIRE(bound.ok());
  CHECK(bound->total_at_least == 8);
  CHECK(bound->deletable_at_most >= 3);

  const BatchResult done = Purge(*store, sel, 2);
  CHECK(Keys(done) == std::set<std::string>{"1", "2", "7"});
  CHECK(done.skipped.empty());
  for (const DeletedRecord& d : done.deleted)
    if (d.key == "1") CHECK(d.clock == "2026-01-01 00:00:00+00");
  CHECK(f.Column("SELECT id FROM events") == std::set<std::string>{"3", "4", "5", "6", "8"});
  REQUIRE(store->Sync().ok());

  // Explain's facts.
  auto facts = store->Lookup(sel, "3");
  REQUIRE(facts.ok());
  REQUIRE(facts->exists);
  CHECK(facts->scopes[0].clock == At("2026-11-25T00:00:00Z"));
  CHECK(facts->scopes[0].subject_id == std::optional<std::string>("10"));
  auto none = store->Lookup(sel, "not-a-number");
  REQUIRE(none.ok());
  CHECK_FALSE(none->exists);
}

}  // namespace retention
