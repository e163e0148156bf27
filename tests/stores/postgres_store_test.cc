// The postgres store against a real PostgreSQL 15 server (tests/support/
// pg_cluster.h): check's messages, plan's counts, the cursor and the
// re-checking delete on every clock kind, joins, filters, subjects, holds,
// floors, composite keys, locked rows, identity.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <atomic>
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

TEST_CASE("LocalTimesBefore gives exactly the wall times ParseClockText reads as before t", "[pgstore]") {
  // Every minute (and the second before each) over the Berlin and New York
  // DST changes, against cutoffs in, before and after the skipped and the
  // repeated hour.
  for (const char* zone_name : {"Europe/Berlin", "America/New_York", "UTC"}) {
    auto zone = TimeZone::Load(zone_name);
    REQUIRE(zone.ok());
    for (const char* day : {"2026-03-29", "2026-10-25", "2026-03-08", "2026-11-01"}) {
      const Timestamp midnight = At(std::string(day) + "T00:00:00Z");
      for (int cut = 0; cut < 8 * 60; cut += 15) {
        const Timestamp t = midnight + std::chrono::minutes(cut);
        const auto ranges = LocalTimesBefore(*zone, t);
        for (int m = -120; m < 9 * 60; ++m) {
          for (int extra : {0, 59}) {
            const TimeZone::LocalTime v{midnight.time_since_epoch() + std::chrono::minutes(m) + std::chrono::seconds(extra)};
            const bool expected = zone->FromLocal(v, TimeZone::Pick::kLater) < t;
            bool in = false;
            for (const LocalRange& r : ranges) in |= (!r.from || *r.from <= v) && v < r.until;
            INFO(zone_name << " t=" << FormatTimestamp(t) << " v=" << PgLocalText(v));
            REQUIRE(in == expected);
          }
        }
      }
    }
  }
}

TEST_CASE("A postgres store's check names missing tables, columns, keys, types, the clock index and the DELETE "
          "privilege",
          "[postgres][pgstore]") {
  PgFixture f;
  f.sql.Exec(R"(
    CREATE TABLE nokey (at timestamptz);
    CREATE TABLE noindex (id int PRIMARY KEY, at timestamptz, n bigint);
    CREATE SCHEMA "we""ird; drop";
    CREATE TABLE "we""ird; drop"."ta""ble" ("cl""ock" timestamptz, "i""d" int PRIMARY KEY);
    CREATE INDEX ON "we""ird; drop"."ta""ble" ("cl""ock");
    INSERT INTO "we""ird; drop"."ta""ble" VALUES ('2020-01-01', 1), ('2026-11-30', 2);
    CREATE TABLE guarded (id int PRIMARY KEY, at timestamptz);
    CREATE INDEX ON guarded (at);
  )");
  // Roles are the cluster's: one of this database's own.
  const std::string reader = "reader_" + f.db.name();
  f.sql.Exec("CREATE ROLE " + reader + " LOGIN; GRANT USAGE ON SCHEMA public TO " + reader +
             "; GRANT SELECT ON guarded TO " + reader);
  auto check = [&](Target t, const std::string& user = "") {
    PgFixture* fx = &f;
    fx->rules.categories.clear();
    fx->Add("c", Days(30), std::nullopt, t);
    if (!user.empty()) {
      const std::string var = "RETENTION_PGSTORE_USER_" + f.db.name();
      ::setenv(var.c_str(), (f.db.Conninfo() + " user=" + user).c_str(), 1);
      fx->config.stores["app"].conninfo_env = var;
    }
    auto store = fx->Open(true);
    TargetCheck out;
    auto st = store->CheckTarget(fx->rules.categories[0], fx->rules.categories[0].targets[0], &out);
    INFO(st.message());
    REQUIRE(st.ok());
    return out;
  };
  SECTION("a missing table") {
    auto out = check(Simple("public.missing"));
    REQUIRE(out.errors.size() == 1);
    CHECK_THAT(out.errors[0], Catch::Contains("store 'app': table 'public.missing' does not exist"));
  }
  SECTION("a missing column, a type the encoding cannot read, no key") {
    auto out = check(Simple("nokey", "nope"));
    CHECK_THAT(out.errors[0], Catch::Contains("has no primary key"));
    CHECK_THAT(out.errors[1], Catch::Contains("clock column 'nope' does not exist in table 'public.nokey'"));
    auto typed = check(Simple("noindex", "n"));
    REQUIRE(typed.errors.size() == 1);
    CHECK_THAT(typed.errors[0], Catch::Contains("clock column 'n' (bigint): encoding 'native' needs timestamptz"));
    auto text = check(Simple("noindex", "at", ClockEncoding::kText));
    REQUIRE(text.errors.size() == 1);
    CHECK_THAT(text.errors[0], Catch::Contains("encoding 'text' needs a text column"));
  }
  SECTION("no index on the clock: a warning with the statement to run") {
    auto out = check(Simple("noindex"));
    CHECK(out.errors.empty());
    REQUIRE(out.warnings.size() == 1);
    CHECK_THAT(out.warnings[0], Catch::Contains("CREATE INDEX CONCURRENTLY ON \"public\".\"noindex\" (\"at\")"));
  }
  SECTION("injection-shaped names work when they exist and are refused when not") {
    Target t = Simple("we\"ird; drop.ta\"ble", "cl\"ock");
    auto out = check(t);
    CHECK(out.errors.empty());
    CHECK(out.warnings.empty());
    auto store = f.Open();
    const Selection sel = f.Select("c", At("2026-12-01T00:00:00Z"));
    CHECK(Keys(Purge(*store, sel)) == std::set<std::string>{"1"});
    CHECK(f.sql.Scalar("SELECT count(*) FROM \"we\"\"ird; drop\".\"ta\"\"ble\"") == "1");
    auto missing = check(Simple("we\"ird; drop.ta\"ble; drop table x", "cl\"ock"));
    REQUIRE(missing.errors.size() == 1);
    CHECK_THAT(missing.errors[0], Catch::Contains("does not exist"));
    auto no_column = check(Simple("we\"ird; drop.ta\"ble", "cl\"ock\"; --"));
    REQUIRE(no_column.errors.size() == 1);
    CHECK_THAT(no_column.errors[0], Catch::Contains("does not exist"));
  }
  SECTION("a role without DELETE: an error, also at the purge gate") {
    Target t = Simple("guarded");
    f.rules.categories.clear();
    f.Add("c", Days(30), std::nullopt, t);
    auto out = check(t, reader);
    REQUIRE(out.errors.size() == 1);
    CHECK_THAT(out.errors[0], Catch::Contains("role '" + reader + "' may not DELETE from public.guarded"));
    CHECK_THAT(out.errors[0], !Catch::Contains("host="));
  }
}

TEST_CASE("A postgres store reads naive timestamps and dates in the clock's zone across a DST change",
          "[postgres][pgstore]") {
  PgFixture f;
  // Berlin skips 02:00-03:00 on 2026-03-29 (01:00 UTC); a skipped wall time
  // reads as the later instant (02:30 -> 01:30 UTC).
  f.sql.Exec(R"(
    CREATE TABLE naive (id int PRIMARY KEY, at timestamp, day date);
    CREATE INDEX ON naive (at);
    INSERT INTO naive VALUES (1, '2026-03-29 01:59:59', '2026-03-28'), (2, '2026-03-29 02:30:00', '2026-03-29'),
      (3, '2026-03-29 03:00:00', '2026-03-30'), (4, '2026-03-29 03:20:00', NULL), (5, 'infinity', 'infinity');
  )");
  Target t = Simple("naive");
  t.clock.time_zone = "Europe/Berlin";
  f.Add("naive", Days(1), std::nullopt, t);
  Target d = Simple("naive", "day");
  d.clock.time_zone = "Europe/Berlin";
  f.Add("days", Days(1), std::nullopt, d);
  auto store = f.Open(true);
  // Cutoff 2026-03-29 01:25 UTC (as of one day later): 01:59:59 (00:59:59Z),
  // 03:00 (01:00Z) and 03:20 (01:20Z) are before it; 02:30 (01:30Z) is not.
  const Selection sel = f.Select("naive", At("2026-03-30T01:25:00Z"));
  CHECK(Keys(Drain(*store, sel, 2)) == std::set<std::string>{"1", "3", "4"});
  auto stats = store->Measure(sel);
  REQUIRE(stats.ok());
  CHECK(stats->deletable == 3);
  CHECK(stats->undated == 1);
  // Dates are local midnights: 2026-03-29 00:00 Berlin is 2026-03-28 23:00Z.
  const Selection days = f.Select("days", At("2026-03-29T23:30:00Z"));
  CHECK(Keys(Drain(*store, days, 2)) == std::set<std::string>{"1", "2"});
}

TEST_CASE("A postgres store reads text and unix clocks as the SQLite encodings do", "[postgres][pgstore]") {
  PgFixture f;
  f.sql.Exec(R"(
    CREATE TABLE legacy (id int PRIMARY KEY, t text, s bigint, ms numeric);
    CREATE INDEX ON legacy (t);
    INSERT INTO legacy VALUES
      (1, '2026-01-01 00:00:00', 1767225600, 1767225600000),
      (2, '2026-06-01T12:00:00+05:31', 1780315200, 1780315200000.5),
      (3, '2026-02-30 00:00:00', -9999999999, NULL),
      (4, '2026-11-30', 1796083200, 1796083200000),
      (5, 'garbage', NULL, 'NaN'),
      (6, '2026-06-01T06:29:59Z', NULL, NULL);
  )");
  f.Add("text", Days(30), std::nullopt, Simple("legacy", "t", ClockEncoding::kText));
  f.Add("secs", Days(30), std::nullopt, Simple("legacy", "s", ClockEncoding::kUnixSeconds));
  f.Add("millis", Days(30), std::nullopt, Simple("legacy", "ms", ClockEncoding::kUnixMillis));
  auto store = f.Open(true);
  const Timestamp as_of = At("2026-07-01T06:30:00Z");  // cutoff 2026-06-01 06:30 UTC
  CHECK(Keys(Drain(*store, f.Select("text", as_of), 2)) == std::set<std::string>{"1", "2", "6"});
  auto text = store->Measure(f.Select("text", as_of));
  REQUIRE(text.ok());
  CHECK(text->undated == 2);
  CHECK(Keys(Drain(*store, f.Select("secs", as_of), 2)) == std::set<std::string>{"1"});
  auto secs = store->Measure(f.Select("secs", as_of));
  REQUIRE(secs.ok());
  CHECK(secs->undated == 3);
  CHECK(Keys(Drain(*store, f.Select("millis", as_of), 2)) == std::set<std::string>{"1"});
}

TEST_CASE("A postgres store's delete re-checks the rule, skips rows locked by the application without waiting, "
          "offers them again, and judges identity",
          "[postgres][pgstore]") {
  PgFixture f;
  f.sql.Exec(R"(
    CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, customer text);
    CREATE INDEX ON events (at);
    INSERT INTO events SELECT g, '2026-01-01'::timestamptz + g * interval '1 minute', 'c' || (g % 3)
      FROM generate_series(1, 9) g;
  )");
  Target t = Simple("events");
  t.subject = SubjectSpec{"customer", "customer"};
  f.Add("events", Days(30), std::nullopt, t);
  auto store = f.Open();
  const Selection sel = f.Select("events", At("2026-12-01T00:00:00Z"));
  auto cursor = store->OpenCursor(sel);
  REQUIRE(cursor.ok());
  auto first = (*cursor)->Next(sel, 4);
  REQUIRE(first.ok());
  REQUIRE(Keys(*first) == std::set<std::string>{"1", "2", "3", "4"});

  // After the selection: row 1 becomes young (re-check), row 2 is locked by
  // the application, row 3's key is taken by another record (identity).
  f.sql.Exec("UPDATE events SET at = '2026-11-30' WHERE id = 1; DELETE FROM events WHERE id = 3;"
             " INSERT INTO events VALUES (3, '2026-01-01 00:03:00+00', 'other')");
  pgtest::PgConnection app = f.db.Connect();
  app.Exec("BEGIN; SELECT * FROM events WHERE id = 2 FOR UPDATE");
  const auto started = std::chrono::steady_clock::now();
  auto r = store->DeleteBatch(sel, *first);
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(r.status().message());
  REQUIRE(r.ok());
  CHECK(took < std::chrono::seconds(1));
  CHECK(Keys(*r) == std::set<std::string>{"4"});
  REQUIRE(r->skipped.size() == 1);
  CHECK(r->skipped[0].key == "2");
  CHECK(r->skipped[0].reason == SkipReason::kLocked);
  CHECK(f.Column("SELECT id FROM events WHERE id <= 4") == std::set<std::string>{"1", "2", "3"});

  auto presence = store->Exist(sel.scopes[0].target[0], *first);
  REQUIRE(presence.ok());
  CHECK((*presence)[0] == Presence::kReplaced);  // its clock changed
  CHECK((*presence)[1] == Presence::kSame);
  CHECK((*presence)[2] == Presence::kReplaced);  // another record under key 3
  CHECK((*presence)[3] == Presence::kAbsent);

  // The application lets go; the rest of the scan, then row 2 once more.
  app.Exec("COMMIT");
  std::set<std::string> later;
  while (true) {
    auto next = (*cursor)->Next(sel, 4);
    REQUIRE(next.ok());
    if (next->empty()) break;
    for (const Candidate& c : *next) later.insert(c.key);
    auto d = store->DeleteBatch(sel, *next);
    REQUIRE(d.ok());
  }
  CHECK(later == std::set<std::string>{"5", "6", "7", "8", "9", "2"});
  CHECK(f.Column("SELECT id FROM events") == std::set<std::string>{"1", "3"});
}

TEST_CASE("A postgres store's delete names every candidate it skips because the application held its lock, "
          "judged in the same statement, while the application keeps taking and releasing locks",
          "[postgres][pgstore][pgrows]") {
  PgFixture f;
  f.sql.Exec(R"(
    CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, customer text);
    CREATE INDEX ON events (at);
    INSERT INTO events SELECT g, '2026-01-01'::timestamptz + g * interval '1 second', 'c' || (g % 7)
      FROM generate_series(1, 3000) g;
  )");
  Target t = Simple("events");
  t.subject = SubjectSpec{"customer", "customer"};
  f.Add("events", Days(30), std::nullopt, t);
  auto store = f.Open();
  const Selection sel = f.Select("events", At("2026-12-01T00:00:00Z"));

  // The application: every third row locked for a moment, released, locked
  // again, never changed. A row it releases between the DELETE and any later
  // look is the case a second statement misjudges ("changed").
  std::atomic<bool> stop{false};
  std::thread app([&] {
    pgtest::PgConnection c = f.db.Connect();
    for (int round = 0; !stop; ++round) {
      c.Exec("BEGIN; SELECT id FROM events WHERE id % 3 = " + std::to_string(round % 3) +
             " FOR UPDATE; SELECT pg_sleep(0.002); COMMIT");
    }
  });
  std::set<std::string> deleted, locked;
  size_t unaccounted = 0;
  auto cursor = store->OpenCursor(sel);
  REQUIRE(cursor.ok());
  while (true) {
    auto next = (*cursor)->Next(sel, 200);
    REQUIRE(next.ok());
    if (next->empty()) break;
    auto r = store->DeleteBatch(sel, *next);
    INFO(r.status().message());
    REQUIRE(r.ok());
    std::set<std::string> seen;
    for (const DeletedRecord& d : r->deleted) {
      CHECK(deleted.insert(d.key).second);
      seen.insert(d.key);
    }
    for (const SkippedRecord& s : r->skipped) {
      CHECK(s.reason == SkipReason::kLocked);
      locked.insert(s.key);
      seen.insert(s.key);
    }
    // Nothing changed: every candidate went or was skipped as locked.
    for (const Candidate& c : *next) unaccounted += seen.count(c.key) ? 0 : 1;
  }
  stop = true;
  app.join();
  CHECK(unaccounted == 0);
  CHECK(!locked.empty());  // the application's locks met the purge
  // Every row still there was skipped as locked (twice: once more at the end
  // of the scan); every other is gone, once.
  const std::set<std::string> left = f.Column("SELECT id FROM events");
  CHECK(deleted.size() + left.size() == 3000);
  for (const std::string& k : left) CHECK(locked.count(k) == 1);
}

TEST_CASE("A postgres store purges through an event clock's join, with filters, subject holds, floors and a "
          "composite key",
          "[postgres][pgstore]") {
  PgFixture f;
  f.sql.Exec(R"(
    CREATE TABLE accounts (id int PRIMARY KEY, closed_at timestamptz);
    CREATE INDEX ON accounts (closed_at);
    CREATE TABLE customers (region text, id int, account_id int, status text, PRIMARY KEY (region, id));
    INSERT INTO accounts VALUES (1, '2025-01-01'), (2, NULL), (3, '2026-11-20');
    INSERT INTO customers VALUES ('eu', 1, 1, 'closed'), ('eu', 2, 1, 'open'), ('us', 1, 1, 'closed'),
      ('us', 2, 2, 'closed'), ('us', 3, 3, 'closed'), ('eu', 3, 1, 'closed');
  )");
  Target t = Simple("customers", "closed_at");
  t.clock.join = ClockJoin{"accounts", "id", "account_id"};
  t.filters.push_back({"status", FilterOp::kEquals, {std::string("closed")}, {}});
  t.subject = SubjectSpec{"customer", "id"};
  f.Add("customers", Days(30), std::nullopt, t);
  Hold h;
  h.id = 1;
  h.matter = "M-1";
  h.placed_at = At("2026-01-01T00:00:00Z");
  h.scope.subject_kind = "customer";
  h.scope.subject_id = "3";
  f.holds.push_back(h);
  auto store = f.Open();
  const Selection sel = f.Select("customers", At("2026-12-01T00:00:00Z"));
  auto stats = store->Measure(sel);
  INFO(stats.status().message());
  REQUIRE(stats.ok());
  CHECK(stats->total == 5);
  CHECK(stats->undated == 1);
  CHECK(stats->due == 3);
  CHECK(stats->held == 1);
  CHECK(stats->deletable == 2);
  auto covered = store->CountCovered(sel);
  REQUIRE(covered.ok());
  CHECK(*covered == 2);
  const BatchResult done = Purge(*store, sel, 1);
  CHECK(Keys(done) == std::set<std::string>{R"(["eu", "1"])", R"(["us", "1"])"});
  for (const DeletedRecord& d : done.deleted) CHECK(d.clock == "2025-01-01 00:00:00+00");
  CHECK(f.Column("SELECT region || id FROM customers") == std::set<std::string>{"eu2", "us2", "us3", "eu3"});
  auto facts = store->Lookup(sel, R"(["eu", "3"])");
  REQUIRE(facts.ok());
  REQUIRE(facts->exists);
  CHECK(Evaluate(sel, *facts).decided_by == Decider::kHeld);
  auto bad = store->Lookup(sel, "not json");
  REQUIRE(bad.ok());
  CHECK_FALSE(bad->exists);

  // A floor of another rule over the same table keeps what it covers.
  f.holds.clear();
  f.Add("floor", std::nullopt, Days(800), t);  // floor cutoff 2024-09: 2025-01-01 is younger
  const Selection floored = f.Select("customers", At("2026-12-01T00:00:00Z"));
  auto kept = store->Measure(floored);
  INFO(kept.status().message());
  REQUIRE(kept.ok());
  CHECK(kept->floor_protected == 1);
  CHECK(kept->deletable == 0);
}

}  // namespace retention

namespace retention {

TEST_CASE("A postgres store purges a range-partitioned table row by row through its parent", "[postgres][pgstore]") {
  PgFixture f;
  f.sql.Exec(R"(
    CREATE TABLE requests (id bigint, at timestamptz NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE requests_2026_01 PARTITION OF requests FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
    CREATE TABLE requests_2026_02 PARTITION OF requests FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
    CREATE TABLE requests_default PARTITION OF requests DEFAULT;
    CREATE INDEX ON requests (at);
    INSERT INTO requests VALUES (1, '2026-01-05'), (2, '2026-01-20'), (3, '2026-02-10'), (4, '2026-02-25'),
      (5, '2026-11-30'), (6, '2025-12-31');
  )");
  f.Add("requests", Days(280), std::nullopt, Simple("requests"));
  auto store = f.Open();
  TargetCheck check;
  REQUIRE(store->CheckTarget(f.rules.categories[0], f.rules.categories[0].targets[0], &check).ok());
  CHECK(check.errors.empty());
  CHECK(check.warnings.empty());
  // Cutoff 2026-02-24 00:00 UTC: 1, 2, 3 and the default partition's 6.
  const Selection sel = f.Select("requests", At("2026-12-01T00:00:00Z"));
  const BatchResult done = Purge(*store, sel, 2);
  CHECK(Keys(done) == std::set<std::string>{R"(["6", "2025-12-31 00:00:00+00"])", R"(["1", "2026-01-05 00:00:00+00"])",
                                            R"(["2", "2026-01-20 00:00:00+00"])", R"(["3", "2026-02-10 00:00:00+00"])"});
  CHECK(f.Column("SELECT id FROM requests") == std::set<std::string>{"4", "5"});
  // requests_2026_01 lies wholly before the cutoff with every row
  // deletable: dropped whole (stores/postgres_partitions.h); 3 (the
  // straddling month) and 6 (the default partition) went row by row
  // through the parent, and their partitions stay.
  CHECK(f.sql.Scalar("SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c "
                     "ON c.oid = i.inhrelid WHERE i.inhparent = 'requests'::regclass") ==
        "requests_2026_02,requests_default");
  auto presence = store->Exist(f.rules.categories[0].targets[0],
                               {Candidate{R"(["1", "2026-01-05 00:00:00+00"])", "2026-01-05 00:00:00+00", "", std::string()},
                                Candidate{R"(["4", "2026-02-25 00:00:00+00"])", "2026-02-25 00:00:00+00", "", std::string()}});
  REQUIRE(presence.ok());
  CHECK((*presence)[0] == Presence::kAbsent);
  CHECK((*presence)[1] == Presence::kSame);
}

}  // namespace retention
