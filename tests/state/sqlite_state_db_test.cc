#include "state/sqlite_state_db.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "ledger/ledger.h"
#include "state/state_ops.h"
#include "state/state_contract.h"
#include "state/state_test_support.h"
#include "state/test_util.h"

namespace retention {
namespace {

namespace fs = std::filesystem;
using testing::RawDb;
using testing::TempDir;

Timestamp At(int64_t seconds) { return FromUnixMicros(seconds * 1'000'000); }

// A fixed clock for ledger `at` values.
SqliteStateDbOptions FixedClock(bool read_only = false) {
  SqliteStateDbOptions o;
  o.read_only = read_only;
  o.clock = [] { return At(1'750'000'000); };
  return o;
}

std::unique_ptr<StateDb> MustOpen(const fs::path& path, bool read_only = false) {
  auto db = OpenOrCreateStateDb(path, FixedClock(read_only));
  INFO(db.status().message());
  REQUIRE(db.ok());
  return std::move(db.value());
}

using contract::AllEntries;
using contract::SampleHold;

TEST_CASE("state database is created with its schema and reopened", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  CHECK_FALSE(StateDbExists(path));
  { MustOpen(path); }
  CHECK(StateDbExists(path));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == (0640 & ~[] {
          const mode_t m = ::umask(0);
          ::umask(m);
          return m;
        }()));
  {
    RawDb raw(path);
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == std::to_string(kStateSchemaVersion));
    CHECK(raw.Query("PRAGMA journal_mode") == "wal");
    CHECK(raw.Query("SELECT count(*) FROM sqlite_master WHERE name IN "
                    "('meta','runs','holds','pending','pending_records','ledger','ledger_anchors','ledger_batches')") == "8");
  }
  auto db = MustOpen(path);
  CHECK(AllEntries(*db).empty());
  auto ro = MustOpen(path, /*read_only=*/true);
  CHECK(ro->ListHolds(true)->empty());
}

TEST_CASE("opening a missing state database", "[state]") {
  TempDir dir;
  SECTION("read-only: does not exist, nothing created") {
    auto db = OpenSqliteStateDb(dir / "state.db", /*read_only=*/true);
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(db.status().message(), Catch::Contains((dir / "state.db").string()));
    CHECK_THAT(db.status().message(), Catch::Contains("does not exist"));
    CHECK_FALSE(StateDbExists(dir / "state.db"));
  }
  SECTION("missing parent directory") {
    auto db = OpenSqliteStateDb(dir / "nope" / "state.db", /*read_only=*/false);
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(db.status().message(), Catch::Contains("nope"));
    CHECK_THAT(db.status().message(), Catch::Contains("does not exist"));
    CHECK_FALSE(fs::exists(dir / "nope"));
  }
}

TEST_CASE("a missing or empty state database is never created implicitly", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  SECTION("missing, opened for writing") {
    auto db = OpenSqliteStateDb(path, /*read_only=*/false);
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(db.status().message(), Catch::Contains(path.string()));
    CHECK_THAT(db.status().message(), Catch::Contains("legal holds"));
    CHECK_THAT(db.status().message(), Catch::Contains("retention state init"));
    CHECK_FALSE(fs::exists(path));
  }
  SECTION("0 bytes") {
    std::ofstream(path, std::ios::binary).flush();
    for (bool read_only : {false, true}) {
      auto db = OpenSqliteStateDb(path, read_only);
      REQUIRE_FALSE(db.ok());
      CHECK(db.status().code() == StatusCode::kUnavailable);
      CHECK_THAT(db.status().message(), Catch::Contains("empty"));
    }
    auto created = CreateSqliteStateDb(path);
    REQUIRE_FALSE(created.ok());
    CHECK(created.status().code() == StatusCode::kInvalid);
    CHECK(fs::file_size(path) == 0);
  }
  SECTION("a SQLite database with no schema") {
    { RawDb raw(path); raw.Query("PRAGMA user_version = 1"); }
    REQUIRE(fs::file_size(path) > 0);
    auto db = OpenSqliteStateDb(path, /*read_only=*/false);
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(db.status().message(), Catch::Contains("no schema"));
  }
  SECTION("create refuses an existing database") {
    REQUIRE(CreateSqliteStateDb(path).ok());
    auto again = CreateSqliteStateDb(path);
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().code() == StatusCode::kInvalid);
    CHECK_THAT(again.status().message(), Catch::Contains("already exists"));
  }
}

TEST_CASE("a state database missing a table is refused as damaged", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  { MustOpen(path); }
  const std::string table = GENERATE(std::string("holds"), std::string("runs"), std::string("pending"),
                                     std::string("ledger"), std::string("ledger_anchors"), std::string("meta"));
  { RawDb raw(path); raw.Query("DROP TABLE " + table); }
  for (bool read_only : {false, true}) {
    auto db = OpenSqliteStateDb(path, read_only);
    INFO(table << " read_only=" << read_only);
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(db.status().message(), Catch::Contains("is damaged: table " + table + " is missing"));
  }
}

TEST_CASE("a state database removed or replaced after opening is noticed", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  auto db = MustOpen(path);
  CHECK(db->CheckStillInPlace().ok());
  SECTION("removed") { fs::remove(path); }
  SECTION("replaced") {
    fs::copy_file(path, dir / "copy.db");
    fs::rename(dir / "copy.db", path);
  }
  Status st = db->CheckStillInPlace();
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK_THAT(st.message(), Catch::Contains("removed or replaced"));
}

TEST_CASE("a state database whose -wal or -shm file is removed after opening is noticed", "[state]") {
  // SQLite writes the ledger into the -wal until a checkpoint: removed under
  // a running purge, what the purge records from then on is lost when its
  // connection closes, and the next one starts from an empty log.
  TempDir dir;
  const auto path = dir / "state.db";
  auto db = MustOpen(path);
  AddHold(*db, SampleHold(), "test-host").value();
  REQUIRE(db->CheckStillInPlace().ok());
  const std::string suffix = GENERATE(std::string("-wal"), std::string("-shm"));
  INFO(suffix);
  fs::path side = path;
  side += suffix;
  REQUIRE(fs::exists(side));
  SECTION("removed") { fs::remove(side); }
  SECTION("replaced") {
    fs::copy_file(side, dir / "copy");
    fs::rename(dir / "copy", side);
  }
  Status st = db->CheckStillInPlace();
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK_THAT(st.message(), Catch::Contains("removed or replaced"));
}

TEST_CASE("only one connection at a time claims a state database for a run", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  auto first = MustOpen(path);
  auto second = MustOpen(path);
  REQUIRE(first->ClaimForRun().ok());
  Status st = second->ClaimForRun();
  CHECK(st.code() == StatusCode::kBusy);
  CHECK_THAT(st.message(), Catch::Contains("another run is using state database"));
  // (Released when the first connection's descriptor closes; within one
  // process SQLite may keep it open while another connection holds POSIX
  // locks on the file, so that is not checked here.)
}

TEST_CASE("read-only state database refuses writes", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  { AddHold(*MustOpen(path), SampleHold(), "test-host").value(); }
  auto ro = MustOpen(path, /*read_only=*/true);
  CHECK(ro->ListHolds(false)->size() == 1);
  CHECK_FALSE(AddHold(*ro, SampleHold(), "test-host").ok());
  CHECK_FALSE(Append(*ro, {LedgerEntry{}}).ok());
  CHECK(MustOpen(path)->ListHolds(true)->size() == 1);
}

TEST_CASE("a moved state refuses every write, even through a connection opened before the move", "[state][migrate]") {
  TempDir dir;
  const auto path = dir / "state.db";
  { AddHold(*MustOpen(path), SampleHold(), "test-host").value(); }
  auto opened_before = MustOpen(path);
  const LedgerHead head = opened_before->Head().value();
  REQUIRE(head.seq > 0);

  SECTION("a stale head: nothing marked, the state stays writable") {
    const LedgerHead stale{head.seq - 1, "0", std::nullopt};
    const Status marked = MarkSqliteStateMoved(path, stale, "somewhere");
    CHECK(marked.code() == StatusCode::kBusy);
    CHECK_FALSE(SqliteStateMovedTo(path).value().has_value());
    CHECK(AddHold(*opened_before, SampleHold(), "test-host").ok());
  }
  SECTION("marked: writes refused, reads go on") {
    REQUIRE(MarkSqliteStateMoved(path, head, "the fleet state").ok());
    CHECK(SqliteStateMovedTo(path).value() == std::optional<std::string>("the fleet state"));
    // Opened before the move: the refusal is inside the write transaction.
    const auto late = AddHold(*opened_before, SampleHold(), "test-host");
    CHECK(late.status().code() == StatusCode::kInvalid);
    CHECK_THAT(late.status().message(), Catch::Contains("was moved to the fleet state"));
    CHECK(opened_before->Head().value().seq == head.seq);
    // Opened after: refused at the open.
    auto writer = OpenSqliteStateDb(path, FixedClock());
    CHECK(writer.status().code() == StatusCode::kInvalid);
    auto reader = OpenSqliteStateDb(path, FixedClock(/*read_only=*/true));
    REQUIRE(reader.ok());
    CHECK((*reader)->ListHolds(false)->size() == 1);
  }
}

TEST_CASE("holds: add, list, get, release", "[state]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  RawDb raw(dir / "state.db");
  contract::RawSql sql{[&](const std::string& s) { return raw.Exec(s); },
                       [&](const std::string& s) { return raw.Query(s); }};
  contract::HoldsContract(*db, sql);
}

TEST_CASE("runs: begin, end, unfinished, crashed", "[state]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  contract::RunsContract(*db);
}

TEST_CASE("pending batches: add, list, settle", "[state]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  RawDb raw(dir / "state.db");
  contract::RawSql sql{[&](const std::string& s) { return raw.Exec(s); },
                       [&](const std::string& s) { return raw.Query(s); }};
  contract::PendingContract(*db, sql);
}

TEST_CASE("Append assigns seq, prev_hash and hash", "[state]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  contract::AppendAssignsContract(*db);
}

TEST_CASE("Append of 1000 delete entries per call is fast", "[state]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  constexpr int kCalls = 20;
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < kCalls; ++c) {
    std::vector<LedgerEntry> v(1000);
    for (int i = 0; i < 1000; ++i) {
      v[i].kind = LedgerKind::kDelete;
      v[i].run_id = 1;
      v[i].category = "server_logs";
      v[i].store = "app";
      v[i].target = "request_log";
      v[i].record_key = std::to_string(c * 1000 + i);
      v[i].clock = "2024-01-01T00:00:00Z";
      v[i].cutoff = "2024-04-01T00:00:00Z";
      v[i].rule = "logs.toml:12";
      v[i].batch = c;
    }
    REQUIRE(Append(*db, std::move(v)).ok());
  }
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start).count();
  WARN("Append: " << ms / kCalls << " ms per call of 1000 entries");
  CHECK(ms / kCalls < 500);  // generous: a commit is one fsync
  CHECK(VerifyLedger(*db, SystemNow())->entries == kCalls * 1000);
}

// ---- bad files --------------------------------------------------------

void ExpectRefused(const fs::path& path, const std::string& words) {
  for (bool read_only : {true, false}) {
    auto db = OpenSqliteStateDb(path, read_only);
    INFO("read_only=" << read_only << ": " << (db.ok() ? "opened" : db.status().message()));
    REQUIRE_FALSE(db.ok());
    CHECK((db.status().code() == StatusCode::kUnavailable ||
           db.status().code() == StatusCode::kInvalid));
    CHECK_THAT(db.status().message(), Catch::Contains(path.string()));
    CHECK_THAT(db.status().message(), Catch::Contains(words));
  }
}

TEST_CASE("a file of garbage is refused with a clear message", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  std::mt19937 rng(5);
  std::string garbage(20000, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  std::ofstream(path, std::ios::binary) << garbage;
  ExpectRefused(path, "not a SQLite database");
  // Short garbage, and text.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "hello";
  ExpectRefused(path, "not a SQLite database");
  CHECK(fs::file_size(path) == 5);  // untouched
}

TEST_CASE("a truncated state database is refused", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  {
    auto db = MustOpen(path);
    REQUIRE(AddHold(*db, SampleHold(), "test-host").ok());
    for (int c = 0; c < 20; ++c) {
      std::vector<LedgerEntry> v(200);
      // Bulk in the detail, which no index holds: the middle page is the ledger's.
      for (auto& e : v) e.detail = std::string(40, 'k');
      REQUIRE(Append(*db, std::move(v)).ok());
    }
  }
  REQUIRE_FALSE(fs::exists(dir / "state.db-wal"));
  const auto full = fs::file_size(path);
  REQUIRE(full > 100'000);
  for (uintmax_t size : {uintmax_t{50}, uintmax_t{100}, uintmax_t{4096}, full / 2, full - 4096}) {
    const auto copy = dir / ("cut" + std::to_string(size) + ".db");
    fs::copy_file(path, copy);
    fs::resize_file(copy, size);
    INFO("truncated to " << size << " of " << full);
    ExpectRefused(copy, "truncated");
  }
}

TEST_CASE("a damaged page is an error, not a crash", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  {
    auto db = MustOpen(path);
    for (int c = 0; c < 20; ++c) {
      std::vector<LedgerEntry> v(200);
      // Bulk in the detail, which no index holds: the middle page is the ledger's.
      for (auto& e : v) e.detail = std::string(40, 'k');
      REQUIRE(Append(*db, std::move(v)).ok());
    }
  }
  const auto size = fs::file_size(path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    const std::string junk(4096, '\x5a');
    f.write(junk.data(), junk.size());
  }
  auto db = OpenSqliteStateDb(path, /*read_only=*/true);
  if (!db.ok()) {
    CHECK_THAT(db.status().message(), Catch::Contains(path.string()));
    return;
  }
  auto report = VerifyLedger(**db, SystemNow());
  if (report.ok()) {
    CHECK_FALSE(report->ok);
  } else {
    CHECK_THAT(report.status().message(), Catch::Contains(path.string()));
    CHECK_THAT(report.status().message(), Catch::Contains("corrupt"));
  }
}

TEST_CASE("a SQLite file that is not a state database is refused", "[state]") {
  TempDir dir;
  const auto path = dir / "app.db";
  { RawDb(path).Exec("CREATE TABLE users(id INTEGER)"); }
  ExpectRefused(path, "not a retention state database");
}

TEST_CASE("a newer schema version is refused", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  { MustOpen(path); }
  { RawDb(path).Exec("UPDATE meta SET value = '" + std::to_string(kStateSchemaVersion + 1) + "' WHERE key = 'schema_version'"); }
  ExpectRefused(path, "upgrade retention");
}

}  // namespace
}  // namespace retention

namespace retention {
namespace {

TEST_CASE("pending records keep their identity - a version 2 database is read as it is and upgraded",
          "[state][reconcile]") {
  TempDir dir;
  const auto path = dir / "state.db";
  PendingBatch b;
  b.run_id = 1;
  b.batch = 1;
  b.category = "logs";
  b.store = "app";
  b.target = "events";
  b.rule = "logs.toml:1";
  b.cutoff = "2026-01-01T00:00:00Z";
  b.records = {{"a.log", "2025-01-01T00:00:00Z", "", std::string("64769:12:5:1735689600000000000")},
               {"2", "2025-01-02 00:00:00", "customer:9", std::string()},
               {"3", "2025-01-03 00:00:00", "", std::nullopt}};
  {
    auto db = MustOpen(path);
    REQUIRE(db->AddPending(b).ok());
    auto list = db->ListPending();
    REQUIRE(list.ok());
    REQUIRE(list->size() == 1);
    const auto& r = (*list)[0].records;
    REQUIRE(r.size() == 3);
    CHECK(r[0].identity == std::optional<std::string>("64769:12:5:1735689600000000000"));
    CHECK(r[1].identity == std::optional<std::string>(""));
    CHECK(r[2].identity == std::nullopt);
  }

  // What a version 2 run left: the same batch, no identity column.
  {
    RawDb raw(path);
    REQUIRE(raw.Exec("ALTER TABLE pending_records DROP COLUMN identity;"
                     "UPDATE meta SET value = '2' WHERE key = 'schema_version';") == "");
  }
  {
    auto ro = MustOpen(path, /*read_only=*/true);
    auto list = ro->ListPending();
    INFO(list.status().message());
    REQUIRE(list.ok());
    REQUIRE(list->size() == 1);
    const auto& r = (*list)[0].records;
    REQUIRE(r.size() == 3);
    CHECK(r[1].key == "2");
    CHECK(r[1].subject == "customer:9");
    for (const auto& rec : r) CHECK(rec.identity == std::nullopt);
    CHECK(ro->ListHolds(true).ok());
  }
  {
    RawDb raw(path);
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == "2");
    CHECK(raw.Query("SELECT count(*) FROM pragma_table_info('pending_records') WHERE name = 'identity'") == "0");
  }

  // Opened for writing: upgraded in place; the old records have no identity,
  // new ones do.
  auto db = MustOpen(path);
  {
    RawDb raw(path);
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == std::to_string(kStateSchemaVersion));
  }
  auto list = db->ListPending();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  for (const auto& rec : (*list)[0].records) CHECK(rec.identity == std::nullopt);
  auto id = db->AddPending(b);
  REQUIRE(id.ok());
  list = db->ListPending();
  REQUIRE(list->size() == 2);
  CHECK((*list)[1].records[0].identity == std::optional<std::string>("64769:12:5:1735689600000000000"));
  REQUIRE(SettlePending(*db, (*list)[0].id, {}).ok());
  REQUIRE(SettlePending(*db, *id, {}).ok());
  CHECK(db->ListPending()->empty());
}

}  // namespace
}  // namespace retention
