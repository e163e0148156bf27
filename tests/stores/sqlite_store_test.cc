// The sqlite store against in-file test databases: candidate selection is
// pushed down to the clock index, counts, joins, floors, holds and the
// re-check inside the delete.
#include <catch2/catch.hpp>

#include <set>

#include "holds/hold_set.h"
#include "plan/selection.h"
#include "stores/selection_test_support.h"
#include "state/test_util.h"
#include "stores/sqlite_catalog.h"
#include "stores/sqlite_connection.h"
#include "stores/sqlite_functions.h"
#include "stores/sqlite_selection_sql.h"
#include "stores/sqlite_store.h"

namespace retention {
namespace {

using testing::RawDb;
using testing::TempDir;

Timestamp At(const std::string& text) { return *ParseClockText(text, TimeZone::Utc()); }

struct Fixture {
  TempDir dir;
  Config config;
  RuleSet rules;
  HoldSet holds;

  Fixture() {
    RawDb db(dir / "app.db");
    REQUIRE(db.Exec(R"(
      PRAGMA journal_mode=WAL;
      CREATE TABLE accounts (id INTEGER PRIMARY KEY, closed_at TEXT);
      CREATE INDEX accounts_closed ON accounts(closed_at);
      CREATE TABLE customers (id INTEGER PRIMARY KEY, account_id INTEGER, kind TEXT);
      CREATE INDEX customers_account ON customers(account_id);
      CREATE TABLE logs (id INTEGER PRIMARY KEY, at TEXT, customer INTEGER);
      CREATE INDEX logs_at ON logs(at);
      INSERT INTO accounts VALUES (1, '2026-01-01 00:00:00'), (2, NULL), (3, '2026-10-01 00:00:00');
      INSERT INTO customers VALUES (10, 1, 'a'), (11, 1, 'b'), (12, 2, 'a'), (13, 3, 'a'), (14, 99, 'a');
      INSERT INTO logs VALUES (1, '2026-01-01 00:00:00', 10), (2, '2026-06-01T00:00:00Z', 11),
                              (3, '2026-11-01 00:00:00', 10), (4, NULL, 12), (5, 'garbage', 12),
                              (6, '2026-05-31T23:00:00-02:00', 13);
    )") == "");
    config.file = dir / "retention.toml";
    config.state.path = (dir / "state.db").string();
    config.stores["app"] = StoreConfig{"app", StoreType::kSqlite, dir / "app.db", "", "", "", "", {}};
  }

  Category& AddCategory(const std::string& name, std::optional<CalendarDuration> delete_after,
                        std::optional<CalendarDuration> keep_at_least, Target target) {
    Category c;
    c.name = name;
    c.delete_after = delete_after;
    c.keep_at_least = keep_at_least;
    target.store = "app";
    if (target.name.empty()) target.name = target.table;
    c.targets.push_back(target);
    rules.categories.push_back(c);
    return rules.categories.back();
  }
};

Target LogsTarget() {
  Target t;
  t.table = "logs";
  t.clock.column = "at";
  t.subject = SubjectSpec{"customer", "customer"};
  return t;
}

Target CustomersTarget() {
  Target t;
  t.table = "customers";
  t.clock.column = "closed_at";
  t.clock.join = ClockJoin{"accounts", "id", "account_id"};
  t.subject = SubjectSpec{"customer", "id"};
  return t;
}

TEST_CASE("the candidate query walks the clock index", "[stores][sqlite]") {
  Fixture f;
  f.AddCategory("logs", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, LogsTarget());
  auto decisions = testing::HeldSelections(f.config, f.rules, At("2026-11-22"), "", f.holds);
  REQUIRE(decisions.ok());

  auto db = SqliteConnection::Open(f.dir / "app.db", true, "test");
  REQUIRE(db.ok());
  REQUIRE(RegisterRetentionFunctions((*db)->get()).ok());
  std::vector<std::string> errors, warnings;
  auto resolved = ResolveSqliteTarget(**db, *(*decisions)[0].target, &errors, &warnings);
  REQUIRE(resolved);
  auto b = SqliteSelectionSql::Make((*decisions)[0], {*resolved});
  REQUIRE(b.ok());
  for (bool paging : {false, true}) {
    SqlFragment q = CandidatePageQuery(*b, paging);
    auto stmt = (*db)->Prepare("EXPLAIN QUERY PLAN " + q.sql);
    REQUIRE(stmt.ok());
    std::string plan;
    while (*stmt->Step()) plan += stmt->ColumnText(3) + "\n";
    INFO(plan);
    CHECK(plan.find("USING INDEX logs_at") != std::string::npos);
    CHECK(plan.find("USE TEMP B-TREE") == std::string::npos);  // no sort of the whole range
  }
}

TEST_CASE("measure counts due, undated, held and floor-protected records", "[stores][sqlite]") {
  Fixture f;
  f.AddCategory("logs", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, LogsTarget());
  Target floor_target = LogsTarget();
  floor_target.name = "logs-floor";
  f.AddCategory("audit", std::nullopt, CalendarDuration{6, DurationUnit::kMonths}, floor_target);
  Hold hold;
  hold.placed_at = At("2026-01-01");
  hold.scope.subject_kind = "customer";
  hold.scope.subject_id = "11";
  f.holds = HoldSet({hold}, At("2026-11-22"));

  auto decisions = testing::HeldSelections(f.config, f.rules, At("2026-11-22"), "logs", f.holds);
  REQUIRE(decisions.ok());
  REQUIRE(decisions->size() == 1);
  const Selection& d = (*decisions)[0];
  CHECK(d.floors.size() == 1);   // the audit floor over the same table
  CHECK(d.scopes.size() == 2);

  auto store = OpenSqliteStore(f.config.stores["app"], true);
  REQUIRE(store.ok());
  auto stats = (*store)->Measure(d);
  REQUIRE(stats.ok());
  // Cutoff 2026-08-24. Due: rows 1 (Jan), 2 (Jun 1, customer 11: held),
  // 6 (Jun 1 01:00Z). Floor cutoff 2026-05-22: rows 2 and 6 are younger
  // than six months -> protected; row 2 is held first.
  CHECK(stats->total == 6);
  CHECK(stats->undated == 2);
  CHECK(stats->due == 3);
  CHECK(stats->held == 1);
  CHECK(stats->floor_protected == 1);
  CHECK(stats->deletable == 1);
  CHECK(stats->sample_keys == std::vector<std::string>{"1"});
  REQUIRE(stats->oldest_due);
  CHECK(FormatTimestamp(*stats->oldest_due) == "2026-01-01T00:00:00Z");
}

TEST_CASE("event clocks go through one join - a missing related row is undated", "[stores][sqlite]") {
  Fixture f;
  Target t = CustomersTarget();
  t.filters.push_back({"kind", FilterOp::kEquals, {std::string("a")}, {}});
  f.AddCategory("closed", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, t);
  auto decisions = testing::HeldSelections(f.config, f.rules, At("2026-11-22"), "", f.holds);
  REQUIRE(decisions.ok());
  auto store = OpenSqliteStore(f.config.stores["app"], false);
  REQUIRE(store.ok());
  auto stats = (*store)->Measure((*decisions)[0]);
  REQUIRE(stats.ok());
  // kind a: 10 (account closed Jan: due), 12 (open account: undated),
  // 13 (closed Oct: not yet), 14 (no account: undated).
  CHECK(stats->total == 4);
  CHECK(stats->due == 1);
  CHECK(stats->undated == 2);
  CHECK(stats->sample_keys == std::vector<std::string>{"10"});

  auto cursor = (*store)->OpenCursor((*decisions)[0]);
  REQUIRE(cursor.ok());
  auto page = (*cursor)->Next((*decisions)[0], 10);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 1);
  CHECK((*page)[0].key == "10");
  CHECK((*page)[0].clock == "2026-01-01 00:00:00");
  CHECK((*page)[0].subject == "10");
  auto deleted = (*store)->DeleteBatch((*decisions)[0], *page);
  REQUIRE(deleted.ok());
  REQUIRE(deleted->deleted.size() == 1);
  CHECK(deleted->skipped.empty());
  CHECK(deleted->deleted[0].key == "10");
  CHECK(deleted->deleted[0].clock == "2026-01-01 00:00:00");
}

TEST_CASE("the delete re-checks holds and due-ness for exactly the given keys", "[stores][sqlite]") {
  Fixture f;
  f.AddCategory("logs", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, LogsTarget());
  auto decisions = testing::HeldSelections(f.config, f.rules, At("2026-11-22"), "", f.holds);
  REQUIRE(decisions.ok());
  Selection d = (*decisions)[0];
  auto store = OpenSqliteStore(f.config.stores["app"], false);
  REQUIRE(store.ok());
  auto cursor = (*store)->OpenCursor(d);
  REQUIRE(cursor.ok());
  auto page = (*cursor)->Next(d, 100);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 3);  // rows 1, 6, 2 in clock order

  // Between selection and delete: a hold on customer 10 arrives, and a key
  // that was never a candidate (row 3, not due) is slipped into the batch.
  Hold hold;
  hold.placed_at = At("2026-01-01");
  hold.scope.subject_kind = "customer";
  hold.scope.subject_id = "10";
  HoldSet fresh({hold}, At("2026-11-22"));
  d = WithHolds(d, fresh);
  std::vector<Candidate> batch = *page;
  batch.push_back({"3", "2026-11-01 00:00:00", "10"});
  auto deleted = (*store)->DeleteBatch(d, batch);
  REQUIRE(deleted.ok());
  std::set<std::string> keys;
  for (const auto& r : deleted->deleted) keys.insert(r.key);
  CHECK(keys == std::set<std::string>{"2", "6"});

  RawDb db(f.dir / "app.db");
  CHECK(db.Query("SELECT group_concat(id) FROM (SELECT id FROM logs ORDER BY id)") == "1,3,4,5");
}

TEST_CASE("Exist judges a selected record by its clock and subject, not its key alone", "[stores][sqlite][reconcile]") {
  Fixture f;
  f.AddCategory("logs", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, LogsTarget());
  f.AddCategory("closed", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, CustomersTarget());
  auto decisions = testing::HeldSelections(f.config, f.rules, At("2026-11-22"), "", f.holds);
  REQUIRE(decisions.ok());
  REQUIRE(decisions->size() == 2);
  auto store = OpenSqliteStore(f.config.stores["app"], false);
  REQUIRE(store.ok());
  auto select = [&](const Selection& d) {
    auto cursor = (*store)->OpenCursor(d);
    REQUIRE(cursor.ok());
    auto page = (*cursor)->Next(d, 100);
    REQUIRE(page.ok());
    return *page;
  };
  std::vector<Candidate> logs = select((*decisions)[0]);
  REQUIRE(logs.size() == 3);  // rows 1, 6, 2 in clock order
  REQUIRE(logs[2].key == "2");
  for (const Candidate& c : logs) CHECK(c.identity == std::string());
  const Target& logs_target = *(*decisions)[0].target;
  auto untouched = (*store)->Exist(logs_target, logs);
  REQUIRE(untouched.ok());
  CHECK(*untouched == std::vector<Presence>(3, Presence::kSame));

  // Row 1's clock moved; row 6 is gone; row 2's rowid was taken by a row of
  // another customer with the same clock.
  REQUIRE(RawDb(f.dir / "app.db").Exec("UPDATE logs SET at = '2026-01-02 00:00:00' WHERE id = 1;"
                                       "DELETE FROM logs WHERE id IN (2, 6);"
                                       "INSERT INTO logs VALUES (2, '2026-06-01T00:00:00Z', 77);") == "");
  Candidate row2_key_and_clock = logs[2];
  row2_key_and_clock.identity.reset();  // as from a saved plan: subject unknown
  std::vector<Candidate> asked = logs;
  asked.push_back(row2_key_and_clock);
  auto now = (*store)->Exist(logs_target, asked);
  REQUIRE(now.ok());
  CHECK(*now == std::vector<Presence>{Presence::kReplaced, Presence::kAbsent, Presence::kReplaced, Presence::kSame});

  // Through the clock's join: the related row's clock is the identity.
  std::vector<Candidate> customers = select((*decisions)[1]);
  REQUIRE(customers.size() == 2);  // 10 and 11, account 1
  const Target& customers_target = *(*decisions)[1].target;
  auto before = (*store)->Exist(customers_target, customers);
  REQUIRE(before.ok());
  CHECK(*before == std::vector<Presence>(2, Presence::kSame));
  REQUIRE(RawDb(f.dir / "app.db").Exec("UPDATE accounts SET closed_at = '2026-01-05 00:00:00' WHERE id = 1") == "");
  auto after = (*store)->Exist(customers_target, customers);
  REQUIRE(after.ok());
  CHECK(*after == std::vector<Presence>(2, Presence::kReplaced));
}

TEST_CASE("a read-only sqlite store refuses to delete", "[stores][sqlite]") {
  Fixture f;
  f.AddCategory("logs", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, LogsTarget());
  auto decisions = testing::HeldSelections(f.config, f.rules, At("2026-11-22"), "", f.holds);
  REQUIRE(decisions.ok());
  auto store = OpenSqliteStore(f.config.stores["app"], true);
  REQUIRE(store.ok());
  auto deleted = (*store)->DeleteBatch((*decisions)[0], {{"1", "", ""}});
  REQUIRE_FALSE(deleted.ok());
  RawDb db(f.dir / "app.db");
  CHECK(db.Query("SELECT count(*) FROM logs") == "6");
}

TEST_CASE("identifiers that are not in the catalog never reach SQL", "[stores][sqlite]") {
  Fixture f;
  Target t = LogsTarget();
  t.table = "logs\"; DROP TABLE accounts; --";
  auto store = OpenSqliteStore(f.config.stores["app"], false);
  REQUIRE(store.ok());
  Category c;
  c.name = "x";
  TargetCheck check;
  REQUIRE((*store)->CheckTarget(c, t, &check).ok());
  REQUIRE(check.errors.size() == 1);
  CHECK(check.errors[0].find("does not exist") != std::string::npos);
  RawDb db(f.dir / "app.db");
  CHECK(db.Query("SELECT count(*) FROM accounts") == "3");
  CHECK(QuoteIdentifier("a\"b") == "\"a\"\"b\"");
}

}  // namespace
}  // namespace retention

namespace retention {
namespace {

TEST_CASE("a selection whose holds were never applied selects and deletes nothing", "[stores][sqlite][holds]") {
  Fixture f;
  f.AddCategory("logs", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, LogsTarget());
  auto made = MakeSelections(f.config, f.rules, At("2026-11-22"), "");
  REQUIRE(made.ok());
  const Selection& bare = (*made)[0];
  REQUIRE_FALSE(bare.holds_applied);
  auto store = OpenSqliteStore(f.config.stores["app"], false);
  REQUIRE(store.ok());
  auto internal = [](const Status& s) { return !s.ok() && s.code() == StatusCode::kInternal; };
  CHECK(internal((*store)->Measure(bare).status()));
  CHECK(internal((*store)->OpenCursor(bare).status()));
  CHECK(internal((*store)->Lookup(bare, "1").status()));
  CHECK(internal((*store)->CountCovered(bare).status()));
  CHECK(internal((*store)->DeleteBatch(bare, {{"1", "2026-01-01 00:00:00", "10"}}).status()));
  // A cursor opened under the holds refuses a page asked without them.
  const Selection held = WithHolds(bare, f.holds);
  auto cursor = (*store)->OpenCursor(held);
  REQUIRE(cursor.ok());
  CHECK(internal((*cursor)->Next(bare, 10).status()));
  RawDb db(f.dir / "app.db");
  CHECK(db.Query("SELECT count(*) FROM logs") == "6");
  // Applied, the same selection deletes.
  auto page = (*cursor)->Next(held, 10);
  REQUIRE(page.ok());
  CHECK(page->size() == 3);
}

TEST_CASE("thousands of holds render as plain SQL within SQLite's limits", "[stores][sqlite][holds]") {
  Fixture f;
  f.AddCategory("logs", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, LogsTarget());
  auto made = MakeSelections(f.config, f.rules, At("2026-11-22"), "");
  REQUIRE(made.ok());
  auto store = OpenSqliteStore(f.config.stores["app"], false);
  REQUIRE(store.ok());
  // Due: rows 1 (customer 10), 6 (13) and 2 (11).
  auto hold = [](int64_t id, HoldScope scope) {
    Hold h;
    h.id = id;
    h.matter = "M-" + std::to_string(id);
    h.placed_at = At("2026-01-01");
    h.scope = std::move(scope);
    return h;
  };
  SECTION("5000 subject holds, customer 11 among them") {
    std::vector<Hold> holds;
    for (int64_t i = 0; i < 5000; ++i) {
      HoldScope s;
      s.subject_kind = "customer";
      s.subject_id = std::to_string(i == 4321 ? 11 : 100000 + i);
      holds.push_back(hold(i + 1, s));
    }
    const Selection sel = WithHolds((*made)[0], HoldSet(holds, At("2026-11-22")));
    REQUIRE(sel.exclusions.size() == 5000);
    auto stats = (*store)->Measure(sel);
    REQUIRE(stats.ok());
    CHECK(stats->held == 1);
    CHECK(stats->deletable == 2);
    auto covered = (*store)->CountCovered(sel);
    REQUIRE(covered.ok());
    CHECK(*covered == 1);  // row 2, customer 11
    auto page = (*(*store)->OpenCursor(sel))->Next(sel, 10);
    REQUIRE(page.ok());
    auto deleted = (*store)->DeleteBatch(sel, *page);
    REQUIRE(deleted.ok());
    std::set<std::string> keys;
    for (const auto& r : deleted->deleted) keys.insert(r.key);
    CHECK(keys == std::set<std::string>{"1", "6"});
  }
  SECTION("40000 key holds: past the parameter limit, written as literals") {
    std::vector<Hold> holds;
    for (int64_t i = 0; i < 40000; ++i) {
      HoldScope s;
      s.key = i == 39999 ? std::string("6") : "k'" + std::to_string(i);  // a quote, escaped
      holds.push_back(hold(i + 1, s));
    }
    const Selection sel = WithHolds((*made)[0], HoldSet(holds, At("2026-11-22")));
    auto stats = (*store)->Measure(sel);
    INFO(stats.status().message());
    REQUIRE(stats.ok());
    CHECK(stats->held == 1);
    CHECK(stats->deletable == 2);
    auto deleted = (*store)->DeleteBatch(sel, {{"1", "2026-01-01 00:00:00", "10", ""},
                                               {"6", "2026-05-31T23:00:00-02:00", "13", ""}});
    REQUIRE(deleted.ok());
    REQUIRE(deleted->deleted.size() == 1);
    CHECK(deleted->deleted[0].key == "1");
  }
}

TEST_CASE("hold values compare as text, byte for byte, whatever the column's collation", "[stores][sqlite][holds]") {
  Fixture f;
  REQUIRE(RawDb(f.dir / "app.db").Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, at TEXT, who TEXT COLLATE NOCASE);"
                                       "INSERT INTO notes VALUES (1, '2026-01-01', 'Ann'), (2, '2026-01-01', 'ann'),"
                                       " (3, NULL, 'bob');") == "");
  Target t;
  t.table = "notes";
  t.clock.column = "at";
  t.subject = SubjectSpec{"person", "who"};
  f.AddCategory("notes", CalendarDuration{90, DurationUnit::kDays}, std::nullopt, t);
  auto made = MakeSelections(f.config, f.rules, At("2026-11-22"), "");
  REQUIRE(made.ok());
  Hold h;
  h.id = 1;
  h.placed_at = At("2026-01-01");
  h.scope.subject_kind = "person";
  h.scope.subject_id = "ann";
  Hold range = h;
  range.id = 2;
  range.scope = {};
  range.scope.key = "3";  // a rowid key, given as text
  range.scope.clock_until = At("2025-01-01");
  const Selection sel = WithHolds((*made)[0], HoldSet({h, range}, At("2026-11-22")));
  auto store = OpenSqliteStore(f.config.stores["app"], true);
  REQUIRE(store.ok());
  auto covered = (*store)->CountCovered(sel);
  REQUIRE(covered.ok());
  CHECK(*covered == 2);  // 'ann' (not 'Ann'), and row 3: undated, so inside any clock range
  auto page = (*(*store)->OpenCursor(sel))->Next(sel, 10);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 1);
  CHECK((*page)[0].key == "1");
}

}  // namespace
}  // namespace retention
