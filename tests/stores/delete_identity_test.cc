// The delete removes only the record selected (SPEC 6.2): a record whose
// identity changed between selection and delete — a row updated in place, a
// rowid taken by another row, a file re-created or rewritten under its name
// — is kept, even when it is due on its own. Reconciliation after a crash
// relies on this (purge/reconcile.h).
#include <catch2/catch.hpp>

#include <set>

#include "holds/hold_set.h"
#include "plan/selection.h"
#include "stores/selection_test_support.h"
#include "state/test_util.h"
#include "stores/files_test_support.h"
#include "stores/sqlite_store.h"

namespace retention {
namespace {

using testing::RawDb;

std::set<std::string> DeletedKeys(const std::vector<DeletedRecord>& deleted) {
  std::set<std::string> out;
  for (const auto& r : deleted) out.insert(r.key);
  return out;
}

// ---- SQLite ----------------------------------------------------------------

struct SqliteFixture {
  testing::TempDir dir;
  Config config;
  RuleSet rules;
  HoldSet holds;

  // Under a 90-day rule at 2026-11-22 everything here is due: logs 1..4;
  // customers 5 and 6 through the join (their account's closed_at); stamps
  // 1..3, unix seconds stored as an integer and as reals.
  SqliteFixture() {
    RawDb db(dir / "app.db");
    REQUIRE(db.Exec(R"(
      PRAGMA journal_mode=WAL;
      CREATE TABLE logs (id INTEGER PRIMARY KEY, at TEXT, customer INTEGER);
      CREATE INDEX logs_at ON logs(at);
      INSERT INTO logs VALUES (1, '2026-01-01 00:00:00', 10), (2, '2026-02-01 00:00:00', 11),
                              (3, '2026-03-01 00:00:00', 12), (4, '2026-04-01 00:00:00', 13);
      CREATE TABLE accounts (id INTEGER PRIMARY KEY, closed_at TEXT);
      CREATE TABLE customers (id INTEGER PRIMARY KEY, account_id INTEGER);
      INSERT INTO accounts VALUES (1, '2026-01-01 00:00:00'), (2, '2026-01-02 00:00:00');
      INSERT INTO customers VALUES (5, 1), (6, 2);
      CREATE TABLE stamps (id INTEGER PRIMARY KEY, at);
      INSERT INTO stamps VALUES (1, 1767225600), (2, 1767225600.5), (3, 1767225599.25);
    )") == "");
    config.file = dir / "retention.toml";
    config.state.path = (dir / "state.db").string();
    config.stores["app"] = StoreConfig{"app", StoreType::kSqlite, dir / "app.db", "", "", "", "", {}};
  }

  void Add(const std::string& name, Target t) {
    Category c;
    c.name = name;
    c.delete_after = CalendarDuration{90, DurationUnit::kDays};
    t.store = "app";
    t.name = t.table;
    c.targets.push_back(t);
    rules.categories.push_back(c);
  }
};

Timestamp At(const std::string& text) { return *ParseClockText(text, TimeZone::Utc()); }

TEST_CASE("the sqlite delete keeps a row updated in place or whose rowid another row took", "[stores][sqlite][reconcile]") {
  SqliteFixture f;
  Target t;
  t.table = "logs";
  t.clock.column = "at";
  t.subject = SubjectSpec{"customer", "customer"};
  f.Add("logs", t);
  auto decisions = testing::HeldSelections(f.config, f.rules, At("2026-11-22"), "", f.holds);
  REQUIRE(decisions.ok());
  auto store = OpenSqliteStore(f.config.stores["app"], false);
  REQUIRE(store.ok());
  auto cursor = (*store)->OpenCursor((*decisions)[0]);
  REQUIRE(cursor.ok());
  auto page = (*cursor)->Next((*decisions)[0], 10);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 4);

  // Since the selection, all still due: row 1's clock moved in place; row 2
  // was deleted and its rowid taken by a row of another customer with the
  // same clock; row 3 by a row with another clock. Row 4 is untouched.
  {
    RawDb db(f.dir / "app.db");
    REQUIRE(db.Exec("UPDATE logs SET at = '2026-01-05 00:00:00' WHERE id = 1;"
                    "DELETE FROM logs WHERE id IN (2, 3);"
                    "INSERT INTO logs VALUES (2, '2026-02-01 00:00:00', 99), (3, '2026-03-02 00:00:00', 12);") == "");
  }
  auto deleted = (*store)->DeleteBatch((*decisions)[0], *page);
  REQUIRE(deleted.ok());
  CHECK(DeletedKeys(deleted->deleted) == std::set<std::string>{"4"});
  REQUIRE(deleted->deleted.size() == 1);
  CHECK(deleted->deleted[0].clock == "2026-04-01 00:00:00");
  RawDb db(f.dir / "app.db");
  CHECK(db.Query("SELECT group_concat(id) FROM (SELECT id FROM logs ORDER BY id)") == "1,2,3");

  // Selected afresh, they are the records now under those keys, and go.
  auto again = (*store)->OpenCursor((*decisions)[0]);
  REQUIRE(again.ok());
  auto fresh = (*again)->Next((*decisions)[0], 10);
  REQUIRE(fresh.ok());
  REQUIRE(fresh->size() == 3);
  auto second = (*store)->DeleteBatch((*decisions)[0], *fresh);
  REQUIRE(second.ok());
  CHECK(DeletedKeys(second->deleted) == std::set<std::string>{"1", "2", "3"});
}

TEST_CASE("the sqlite delete keeps a row whose related clock changed since selection", "[stores][sqlite][reconcile]") {
  SqliteFixture f;
  Target t;
  t.table = "customers";
  t.clock.column = "closed_at";
  t.clock.join = ClockJoin{"accounts", "id", "account_id"};
  t.subject = SubjectSpec{"customer", "id"};
  f.Add("closed", t);
  auto decisions = testing::HeldSelections(f.config, f.rules, At("2026-11-22"), "", f.holds);
  REQUIRE(decisions.ok());
  auto store = OpenSqliteStore(f.config.stores["app"], false);
  REQUIRE(store.ok());
  auto cursor = (*store)->OpenCursor((*decisions)[0]);
  REQUIRE(cursor.ok());
  auto page = (*cursor)->Next((*decisions)[0], 10);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 2);
  { REQUIRE(RawDb(f.dir / "app.db").Exec("UPDATE accounts SET closed_at = '2026-01-03 00:00:00' WHERE id = 2") == ""); }
  auto deleted = (*store)->DeleteBatch((*decisions)[0], *page);
  REQUIRE(deleted.ok());
  CHECK(DeletedKeys(deleted->deleted) == std::set<std::string>{"5"});
}

TEST_CASE("the sqlite delete compares numeric clocks as the cursor read them", "[stores][sqlite][reconcile]") {
  SqliteFixture f;
  Target t;
  t.table = "stamps";
  t.clock.column = "at";
  t.clock.encoding = ClockEncoding::kUnixSeconds;
  f.Add("stamps", t);
  auto decisions = testing::HeldSelections(f.config, f.rules, At("2026-11-22"), "", f.holds);
  REQUIRE(decisions.ok());
  auto store = OpenSqliteStore(f.config.stores["app"], false);
  REQUIRE(store.ok());
  auto cursor = (*store)->OpenCursor((*decisions)[0]);
  REQUIRE(cursor.ok());
  auto page = (*cursor)->Next((*decisions)[0], 10);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 3);
  auto deleted = (*store)->DeleteBatch((*decisions)[0], *page);
  REQUIRE(deleted.ok());
  CHECK(DeletedKeys(deleted->deleted) == std::set<std::string>{"1", "2", "3"});
}

// ---- files -------------------------------------------------------------------

TEST_CASE("the files delete keeps a file re-created or rewritten under its name since selection",
          "[files][reconcile]") {
  using namespace files_test;
  files_test::TempDir tmp;
  const fs::path root = tmp / "logs";
  const Timestamp old = Day(2025, 6, 1);
  for (const char* name : {"a.log-1", "b.log-1", "c.log-1", "d.log-1"}) WriteFile(root / name, old, "original\n");
  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("logs", "rotated", "logs", {"*.log-*"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(Day(2025, 12, 15), &holds);
  std::vector<Candidate> candidates = Drain(*store, d);
  REQUIRE(candidates.size() == 4);

  // Since the selection, all still due by mtime: a.log-1 re-created (a new
  // inode) with the same mtime and size; b.log-1 rewritten in place, mtime
  // put back; c.log-1 replaced by a rename over it. d.log-1 is untouched.
  // (The old a.log-1 stays open meanwhile, so its inode number cannot be
  // given to the new file.)
  struct stat was {};
  REQUIRE(::stat((root / "a.log-1").c_str(), &was) == 0);
  const int keep_open = ::open((root / "a.log-1").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(keep_open >= 0);
  fs::remove(root / "a.log-1");
  WriteFile(root / "a.log-1", old, "original\n");
  struct stat is {};
  REQUIRE(::stat((root / "a.log-1").c_str(), &is) == 0);
  REQUIRE(is.st_ino != was.st_ino);
  REQUIRE(is.st_size == was.st_size);
  REQUIRE(is.st_mtim.tv_sec == was.st_mtim.tv_sec);
  REQUIRE(is.st_mtim.tv_nsec == was.st_mtim.tv_nsec);
  WriteFile(root / "b.log-1", old, "rewritten, longer\n");
  WriteFile(root / "c.new", old, "original\n");
  fs::rename(root / "c.new", root / "c.log-1");

  auto deleted = store->DeleteBatch(d, candidates);
  REQUIRE(deleted.ok());
  CHECK(DeletedKeys(deleted->deleted) == std::set<std::string>{"d.log-1"});
  CHECK(RegularFiles(root) == std::set<std::string>{"a.log-1", "b.log-1", "c.log-1"});
  ::close(keep_open);

  // Selected afresh, the files now under those names go.
  auto second = store->DeleteBatch(d, Drain(*store, d));
  REQUIRE(second.ok());
  CHECK(DeletedKeys(second->deleted) == std::set<std::string>{"a.log-1", "b.log-1", "c.log-1"});
}

}  // namespace
}  // namespace retention
