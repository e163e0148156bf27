// The sqlite store's paths at the raw DELETE's speed: clocks decided in SQL
// without the C function where SQL is exact, the safety valve's bound,
// Sync, and the cursor on its own connection.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "calendar/clock_value.h"
#include "holds/hold_set.h"
#include "plan/selection.h"
#include "state/test_util.h"
#include "stores/selection_test_support.h"
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

struct Events {
  TempDir dir;
  Config config;
  RuleSet rules;

  // events(id, ct TEXT clock, cs unix seconds, subject); `rows` as SQL values.
  explicit Events(const std::string& rows) {
    RawDb db(dir / "app.db");
    REQUIRE(db.Exec("PRAGMA journal_mode=WAL;"
                    "CREATE TABLE events (id INTEGER PRIMARY KEY, ct, cs, subject);"
                    "CREATE INDEX events_ct ON events(ct); CREATE INDEX events_cs ON events(cs);" +
                    (rows.empty() ? std::string() : "INSERT INTO events VALUES " + rows + ";")) == "");
    config.time_zone = "UTC";
    config.stores["app"] = StoreConfig{"app", StoreType::kSqlite, dir / "app.db", "", "", "", "", {}};
  }

  void Add(const std::string& column, ClockEncoding encoding, const std::string& zone = "") {
    Category c;
    c.name = "events";
    c.delete_after = CalendarDuration{1, DurationUnit::kYears};
    Target t;
    t.name = "events";
    t.store = "app";
    t.table = "events";
    t.clock.column = column;
    t.clock.encoding = encoding;
    t.clock.time_zone = zone;
    t.subject = SubjectSpec{"customer", "subject"};
    c.targets.push_back(t);
    rules.categories.push_back(c);
  }

  Selection Select(Timestamp as_of, const HoldSet& holds = HoldSet()) {
    auto made = testing::HeldSelections(config, rules, as_of, "", holds);
    REQUIRE(made.ok());
    REQUIRE(made->size() == 1);
    return (*made)[0];
  }
};

// Counts the calls of retention_clock on a connection whose function is the
// real one wrapped (registered over it).
std::atomic<int> g_clock_calls{0};
void CountingClock(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  ++g_clock_calls;
  auto* real = reinterpret_cast<void (*)(sqlite3_context*, int, sqlite3_value**)>(sqlite3_user_data(ctx));
  real(ctx, argc, argv);
}

// The ids Due() selects on `db`, and how often retention_clock ran.
std::set<int64_t> DueIds(SqliteConnection& db, const Selection& d, int* calls) {
  std::vector<std::string> errors, warnings;
  auto resolved = ResolveSqliteTarget(db, *d.target, &errors, &warnings);
  REQUIRE(resolved);
  auto b = SqliteSelectionSql::Make(d, {*resolved});
  REQUIRE(b.ok());
  SqlFragment q;
  q.sql = "SELECT t.id";
  q += b->From();
  q.sql += " WHERE ";
  q += b->Due();
  auto stmt = db.Prepare(q.sql);
  REQUIRE(stmt.ok());
  BindParams(*stmt, q.params);
  g_clock_calls = 0;
  std::set<int64_t> ids;
  while (*stmt->Step()) ids.insert(stmt->ColumnInt(0));
  *calls = g_clock_calls;
  return ids;
}

// A connection with the store's functions, retention_clock counted.
std::unique_ptr<SqliteConnection> CountingConnection(const std::filesystem::path& path) {
  auto db = SqliteConnection::Open(path, true, "test");
  REQUIRE(db.ok());
  REQUIRE(RegisterRetentionFunctions((*db)->get()).ok());
  // The store's function is not reachable from here: the wrapper calls a
  // twin that reads text and unix-second clocks as it does.
  struct Real {
    static void Clock(sqlite3_context* ctx, int, sqlite3_value** argv) {
      sqlite3_value* v = argv[0];
      std::optional<Timestamp> t;
      const auto enc = static_cast<ClockEncoding>(sqlite3_value_int(argv[1]));
      const int type = sqlite3_value_type(v);
      if (enc == ClockEncoding::kText && type == SQLITE_TEXT) {
        auto zone = TimeZone::Load(reinterpret_cast<const char*>(sqlite3_value_text(argv[2])));
        t = ParseClockText(std::string_view(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                                            sqlite3_value_bytes(v)),
                           zone.ok() ? *zone : TimeZone::Utc());
      } else if (enc == ClockEncoding::kUnixSeconds && (type == SQLITE_INTEGER || type == SQLITE_FLOAT)) {
        t = ClockFromUnixSeconds(sqlite3_value_double(v));
      }
      if (t) sqlite3_result_int64(ctx, ToUnixMicros(*t)); else sqlite3_result_null(ctx);
    }
  };
  REQUIRE(sqlite3_create_function_v2((*db)->get(), "retention_clock", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                     reinterpret_cast<void*>(&Real::Clock), CountingClock, nullptr, nullptr,
                                     nullptr) == SQLITE_OK);
  return std::move(*db);
}

TEST_CASE("canonical clock texts are exactly the ones of that shape ParseClockText reads", "[stores][sqlite][clock]") {
  for (const char* good : {"2024-01-01 00:00:00", "2024-02-29 23:59:59", "0001-01-01 00:00:00",
                           "2023-12-31 23:59:59.5", "2023-12-31 23:59:59.999999", "9999-12-31 23:59:59"}) {
    INFO(good);
    CHECK(IsCanonicalClockText(good));
    CHECK(ParseClockText(good, TimeZone::Utc()));
  }
  for (const char* bad : {"2023-02-29 00:00:00", "2023-02-30 00:00:00", "2026-13-01 00:00:00",
                          "0000-01-01 00:00:00", "2024-01-01 24:00:00", "2024-01-01 23:60:00",
                          "2024-01-01 23:59:60", "2024-01-01T00:00:00", "2024-01-01 00:00:00Z",
                          "2024-01-01 00:00:00.", "2024-01-01 00:00:00.1234567", "2024-01-01 00:00",
                          "2024-01-01", "2024-1-01 00:00:00", "", "garbage", "2024-04-31 00:00:00"}) {
    INFO(bad);
    CHECK_FALSE(IsCanonicalClockText(bad));
  }
  // The seven-digit fraction is the reason six is the limit: it rounds up.
  CHECK(ParseClockText("2023-12-31 23:59:59.9999999", TimeZone::Utc()) == At("2024-01-01 00:00:00"));
  CHECK(CanonicalClockText(At("2024-01-01 00:00:00")) == "2024-01-01 00:00:00");
  CHECK(CanonicalClockText(At("2024-01-01 00:00:00.5")) == "2024-01-01 00:00:00.5");
  CHECK(CanonicalClockText(At("2024-01-01 00:00:00.000120")) == "2024-01-01 00:00:00.00012");
}

TEST_CASE("canonical UTC texts and integer unix clocks are due without the C function", "[stores][sqlite][clock]") {
  // as_of 2025-01-01 00:00:00.5: the cutoff keeps its half second.
  Events e("(1, '2023-12-31 23:59:59', 1704067199, 1),"
           "(2, '2024-01-01 00:00:00', 1704067200, 1),"
           "(3, '2024-01-01 00:00:00.4', 1704067200.4, 1),"
           "(4, '2024-01-01 00:00:00.5', '1704067199', 1),"
           "(5, '2024-01-01 00:00:00.50', NULL, 1),"
           "(6, '2024-01-01 00:00:00.4999999', -2208988801, 1),"
           "(7, '2023-02-30 00:00:00', -2208988800, 1),"
           "(8, '2023-06-01T00:00:00Z', 1704067201, 1),"
           "(9, '2024-01-01T00:00:00+01:00', 5, 1),"
           "(10, '2024-01-01 00:00:00.499999', 1704067200, 1),"
           "(11, '2023-12-31', 100, 1),"
           "(12, 'garbage', 'garbage', 1)");
  e.Add("ct", ClockEncoding::kText);
  const Timestamp as_of = At("2025-01-01 00:00:00.5");
  Selection d = e.Select(as_of);
  auto db = CountingConnection(e.dir / "app.db");
  int calls = 0;
  // Exactly what ParseClockText says is older than the cutoff (row 6's
  // seven digits round up to the cutoff itself: not older).
  CHECK(DueIds(*db, d, &calls) == std::set<int64_t>{1, 2, 3, 8, 9, 10, 11});
  // Rows 7, 8, 9, 11 (and 6, whose fraction has 7 digits) are not
  // canonical; the others never reach retention_clock. Row 12 sorts after
  // the range.
  CHECK(calls == 5);

  Events n("(1, NULL, 1704067199, 1), (2, NULL, 1704067200, 1), (3, NULL, 1704067200.4, 1),"
           "(4, NULL, '1704067199', 1), (5, NULL, -2208988801, 1), (6, NULL, -2208988800, 1),"
           "(7, NULL, 1704067199.9, 1)");
  n.Add("cs", ClockEncoding::kUnixSeconds);
  Selection s = n.Select(At("2025-01-01 00:00:00.5"));
  auto db2 = CountingConnection(n.dir / "app.db");
  // Cutoff 1704067200.5 s: 1704067200 is due, 1704067200.4 too (a REAL, read
  // by the function); before 1900 is undated; text is not a unix clock.
  CHECK(DueIds(*db2, s, &calls) == std::set<int64_t>{1, 2, 3, 6, 7});
  CHECK(calls == 2);  // the two REALs
}

TEST_CASE("in other zones only texts near the cutoff call the C function", "[stores][sqlite][clock]") {
  // In Europe/Paris 2024-01-01 00:30 local is 2023-12-31 23:30Z: due at a
  // cutoff of 2024-01-01 00:00Z; 01:30 local is not.
  Events e("(1, '2023-06-01 00:00:00', NULL, 1), (2, '2024-01-01 00:30:00', NULL, 1),"
           "(3, '2024-01-01 01:30:00', NULL, 1), (4, '2023-12-30 23:00:00', NULL, 1)");
  e.Add("ct", ClockEncoding::kText, "Europe/Paris");
  Selection d = e.Select(At("2025-01-01 00:00:00"));
  auto db = CountingConnection(e.dir / "app.db");
  int calls = 0;
  CHECK(DueIds(*db, d, &calls) == std::set<int64_t>{1, 2, 4});
  CHECK(calls == 3);  // rows 2, 3, 4 lie within two days of the cutoff
}

TEST_CASE("measure counts undated exactly and reads the oldest without parsing every row", "[stores][sqlite][clock]") {
  Events e("(1, '2023-05-01 00:00:00', NULL, 1), (2, '2023-04-30T23:00:00-02:00', NULL, 2),"
           "(3, '2023-02-30 00:00:00', NULL, 3), (4, NULL, NULL, 4), (5, 17, NULL, 5),"
           "(6, 'zzz', NULL, 6), (7, '2024-06-01 00:00:00', NULL, 7), (8, '2023-06-01 00:00:00', NULL, 8)");
  e.Add("ct", ClockEncoding::kText);
  Hold hold;
  hold.placed_at = At("2024-01-01");
  hold.scope.subject_kind = "customer";
  hold.scope.subject_id = "8";
  const HoldSet holds({hold}, At("2025-01-01"));
  Selection d = e.Select(At("2025-01-01"), holds);
  auto store = OpenSqliteStore(e.config.stores["app"], true);
  REQUIRE(store.ok());
  auto stats = (*store)->Measure(d);
  REQUIRE(stats.ok());
  CHECK(stats->total == 8);
  CHECK(stats->undated == 4);  // NULL, Feb 30, an integer, garbage
  CHECK(stats->due == 3);      // 1, 2 (2023-05-01T01:00Z), 8
  CHECK(stats->held == 1);
  CHECK(stats->deletable == 2);
  REQUIRE(stats->oldest_due);
  CHECK(FormatTimestamp(*stats->oldest_due) == "2023-05-01T00:00:00Z");  // row 1, not row 2's text
  CHECK(stats->sample_keys.size() == 2);

  auto bound = (*store)->BoundDue(d);
  REQUIRE(bound.ok());
  CHECK(bound->total_at_least == 8);
  CHECK(bound->deletable_at_most >= stats->deletable);
  // The raw range below 2024-01-03 on the index: rows 1, 2, 3, 5 (an
  // integer sorts before text) and 8.
  CHECK(bound->deletable_at_most == 5);
}

TEST_CASE("measure over canonical UTC texts only compares strings and stays exact at the cutoff", "[stores][sqlite][clock]") {
  // Every clock canonical: the due aggregate compares strings alone. The
  // cutoff keeps its half second: .4999 and .49 are due, .5 and .50 not.
  const std::string canonical = "(1, '2024-01-01 00:00:00.4999', NULL, 1), (2, '2024-01-01 00:00:00.49', NULL, 2),"
                                "(3, '2024-01-01 00:00:00.5', NULL, 3), (4, '2024-01-01 00:00:00.50', NULL, 4),"
                                "(5, '2023-06-01 00:00:00', NULL, 5), (6, NULL, NULL, 6), (7, '2024-06-01 00:00:00', NULL, 7)";
  // One value that is not canonical inside the range (no such date): then
  // the function decides it, undated, and the rest as before.
  for (const std::string& extra : {std::string(), std::string(", (8, '2023-02-30 00:00:00', NULL, 8)")}) {
    INFO(extra);
    Events e(canonical + extra);
    e.Add("ct", ClockEncoding::kText);
    Selection d = e.Select(At("2025-01-01 00:00:00.5"));
    auto store = OpenSqliteStore(e.config.stores["app"], true);
    REQUIRE(store.ok());
    auto stats = (*store)->Measure(d);
    REQUIRE(stats.ok());
    CHECK(stats->undated == (extra.empty() ? 1 : 2));
    CHECK(stats->due == 3);
    CHECK(stats->deletable == 3);
    REQUIRE(stats->oldest_due);
    CHECK(FormatTimestamp(*stats->oldest_due) == "2023-06-01T00:00:00Z");
  }
}

TEST_CASE("Sync makes the store's files durable and fails cleanly naming the store", "[stores][sqlite][sync]") {
  Events e("(1, '2023-05-01 00:00:00', NULL, 1)");
  e.Add("ct", ClockEncoding::kText);
  auto store = OpenSqliteStore(e.config.stores["app"], false);
  REQUIRE(store.ok());
  Selection d = e.Select(At("2025-01-01"));
  auto cursor = (*store)->OpenCursor(d);
  REQUIRE(cursor.ok());
  auto page = (*cursor)->Next(d, 10);
  REQUIRE(page.ok());
  auto gone = (*store)->DeleteBatch(d, *page);
  REQUIRE(gone.ok());
  CHECK(gone->deleted.size() == 1);
  CHECK((*store)->Sync().ok());
  // Sync goes through the connection's own descriptors, never by path (a
  // close(2) of another descriptor of the database would drop the
  // connection's locks): renamed, the files it writes are still synced.
  std::filesystem::rename(e.dir / "app.db", e.dir / "moved.db");
  std::filesystem::rename(e.dir / "app.db-wal", e.dir / "moved.db-wal");
  CHECK((*store)->Sync().ok());
  // A failing fdatasync of the WAL: a pipe in place of its descriptors (the
  // store's and the cursor's connection each have one; fdatasync of a pipe
  // fails with EINVAL), the descriptors restored after.
  std::vector<int> wal_fds;
  for (const auto& link : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(link.path(), ec);
    if (!ec && target.filename() == "moved.db-wal") wal_fds.push_back(std::stoi(link.path().filename().string()));
  }
  REQUIRE_FALSE(wal_fds.empty());
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  std::vector<int> saved;
  for (int fd : wal_fds) {
    saved.push_back(::dup(fd));
    REQUIRE(saved.back() >= 0);
    REQUIRE(::dup2(pipe_fds[0], fd) == fd);
  }
  Status s = (*store)->Sync();
  for (size_t i = 0; i < wal_fds.size(); ++i) {
    REQUIRE(::dup2(saved[i], wal_fds[i]) == wal_fds[i]);
    ::close(saved[i]);
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  CHECK(s.code() == StatusCode::kIoError);
  CHECK(s.message().find("store 'app'") != std::string::npos);
  CHECK(s.message().find("app.db") != std::string::npos);
  CHECK(s.message().find("WAL") != std::string::npos);
  CHECK((*store)->Sync().ok());
}

TEST_CASE("the range delete never takes a record that moved into the batch's range", "[stores][sqlite][delete]") {
  Events e("(1, '2023-01-01 00:00:00', NULL, 1), (2, '2023-02-01 00:00:00', NULL, 2),"
           "(3, '2023-03-01 00:00:00', NULL, 3), (4, '2023-04-01 00:00:00', NULL, 4),"
           "(5, '2023-05-01 00:00:00', NULL, 5)");
  e.Add("ct", ClockEncoding::kText);
  Selection d = e.Select(At("2025-01-01"));
  auto store = OpenSqliteStore(e.config.stores["app"], false);
  REQUIRE(store.ok());
  auto keys = [](const BatchResult& r) {
    std::set<std::string> out;
    for (const auto& x : r.deleted) out.insert(x.key);
    return out;
  };
  SECTION("a new record inside the range: rolled back, deleted by key") {
    auto cursor = (*store)->OpenCursor(d);
    REQUIRE(cursor.ok());
    auto page = (*cursor)->Next(d, 3);  // 1, 2, 3
    REQUIRE(page.ok());
    REQUIRE(page->size() == 3);
    {
      RawDb db(e.dir / "app.db");
      REQUIRE(db.Exec("INSERT INTO events VALUES (9, '2023-02-15 00:00:00', NULL, 9);"
                      "UPDATE events SET ct = '2023-01-15 00:00:00' WHERE id = 4;") == "");
    }
    auto gone = (*store)->DeleteBatch(d, *page);
    REQUIRE(gone.ok());
    CHECK(keys(*gone) == std::set<std::string>{"1", "2", "3"});
    RawDb db(e.dir / "app.db");
    CHECK(db.Query("SELECT group_concat(id) FROM (SELECT id FROM events ORDER BY id)") == "4,5,9");
  }
  SECTION("a candidate changed in place within the range is kept, the others go") {
    auto cursor = (*store)->OpenCursor(d);
    REQUIRE(cursor.ok());
    auto page = (*cursor)->Next(d, 3);
    REQUIRE(page.ok());
    {
      RawDb db(e.dir / "app.db");
      REQUIRE(db.Exec("UPDATE events SET subject = 7 WHERE id = 2;") == "");
    }
    auto gone = (*store)->DeleteBatch(d, *page);
    REQUIRE(gone.ok());
    CHECK(keys(*gone) == std::set<std::string>{"1", "3"});
    RawDb db(e.dir / "app.db");
    CHECK(db.Query("SELECT group_concat(id) FROM (SELECT id FROM events ORDER BY id)") == "2,4,5");
  }
  SECTION("a batch with gaps (not one page) deletes only its own records") {
    std::vector<Candidate> batch = {{"1", "2023-01-01 00:00:00", "1", std::string()},
                                    {"5", "2023-05-01 00:00:00", "5", std::string()}};
    auto gone = (*store)->DeleteBatch(d, batch);
    REQUIRE(gone.ok());
    CHECK(keys(*gone) == std::set<std::string>{"1", "5"});
    RawDb db(e.dir / "app.db");
    CHECK(db.Query("SELECT group_concat(id) FROM (SELECT id FROM events ORDER BY id)") == "2,3,4");
  }
}

TEST_CASE("a candidate the range misses as bound is deleted by key in the same transaction", "[stores][sqlite][delete]") {
  // SQLite renders a REAL to 15 digits: 1600000000.123456789 reads back as
  // 1600000000.12346, above the stored value, so the range starting there
  // misses the row; it is deleted by key (its text form matches).
  Events e("(1, NULL, 1600000000.123456789, 1), (2, NULL, 1600000001, 2), (3, NULL, 1600000002, 3)");
  e.Add("cs", ClockEncoding::kUnixSeconds);
  Selection d = e.Select(At("2025-01-01"));
  auto store = OpenSqliteStore(e.config.stores["app"], false);
  REQUIRE(store.ok());
  auto cursor = (*store)->OpenCursor(d);
  REQUIRE(cursor.ok());
  auto page = (*cursor)->Next(d, 2);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 2);
  CHECK((*page)[0].clock == "1600000000.12346");
  auto gone = (*store)->DeleteBatch(d, *page);
  REQUIRE(gone.ok());
  CHECK(gone->deleted.size() == 2);
  RawDb db(e.dir / "app.db");
  CHECK(db.Query("SELECT group_concat(id) FROM events") == "3");
}

TEST_CASE("the cursor pages on its own connection while another thread deletes", "[stores][sqlite][cursor]") {
  std::string rows;
  for (int i = 1; i <= 3000; ++i) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s(%d, '2023-%02d-%02d %02d:%02d:00', NULL, %d)", i > 1 ? "," : "", i,
                  1 + (i / 280) % 12, 1 + (i / 10) % 28, (i / 60) % 24, i % 60, i % 7);
    rows += buf;
  }
  Events e(rows);
  e.Add("ct", ClockEncoding::kText);
  Selection d = e.Select(At("2025-01-01"));
  auto store = OpenSqliteStore(e.config.stores["app"], false);
  REQUIRE(store.ok());
  auto cursor = (*store)->OpenCursor(d);
  REQUIRE(cursor.ok());
  // The pipeline: the reader thread reads page n+1 while this thread
  // deletes page n, on the same store.
  auto first = (*cursor)->Next(d, 100);
  REQUIRE(first.ok());
  std::vector<Candidate> current = *first;
  std::set<std::string> deleted;
  size_t pages = 0;
  while (!current.empty()) {
    Result<std::vector<Candidate>> next = std::vector<Candidate>();
    std::thread reader([&] { next = (*cursor)->Next(d, 100); });
    auto gone = (*store)->DeleteBatch(d, current);
    Status synced = (*store)->Sync();
    reader.join();
    REQUIRE(gone.ok());
    REQUIRE(synced.ok());
    REQUIRE(next.ok());
    for (const auto& r : gone->deleted) deleted.insert(r.key);
    current = *next;
    ++pages;
  }
  CHECK(pages == 30);
  CHECK(deleted.size() == 3000);
  RawDb db(e.dir / "app.db");
  CHECK(db.Query("SELECT count(*) FROM events") == "0");
}

}  // namespace
}  // namespace retention
