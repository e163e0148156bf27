// Anchors (ledger/anchor.h) and the verification of a purge log whose
// oldest entries were pruned behind them: the anchor's own format and
// checks, a ledger pruned twice as the engine does it (anchor, then delete)
// verifying at every step, the state database's DELETE trigger, forgeries
// an attacker with raw SQL can make and what catches each, and the upgrade
// of a version 1 state database.
#include "ledger/anchor.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "calendar/cutoff.h"
#include "ledger/ledger.h"
#include "state/sqlite_state_db.h"
#include "state/test_util.h"

namespace retention {
namespace {

using testing::RawDb;
using testing::TempDir;

Timestamp Date(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

constexpr std::chrono::microseconds kHour = std::chrono::hours(1);
constexpr std::chrono::microseconds kDay = std::chrono::hours(24);

CalendarDuration Months(int64_t n) { return {n, DurationUnit::kMonths}; }

std::string Hex64(char c) { return std::string(64, c); }

// A state database on a clock the test moves, as time passes between runs.
// Entries are appended the way the engine appends them: through StateDb.
class PurgeLog {
 public:
  PurgeLog() : dir_(std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path()) {
    Reopen();
  }

  const std::filesystem::path& path() const { return path_; }
  StateDb& db() { return *db_; }
  void SetNow(Timestamp t) { now_ = t; }
  void Close() { db_.reset(); }
  void Reopen(bool read_only = false) {
    db_.reset();
    SqliteStateDbOptions o;
    o.read_only = read_only;
    o.clock = [this] { return now_; };
    auto db = OpenOrCreateStateDb(path_, o);
    INFO(db.status().message());
    REQUIRE(db.ok());
    db_ = std::move(db.value());
  }

  // Appends `n` delete entries written `step` apart from `first`, in one call.
  void AddEntries(int n, Timestamp first, std::chrono::microseconds step) {
    std::vector<LedgerEntry> v;
    for (int i = 0; i < n; ++i) {
      LedgerEntry e;
      e.kind = LedgerKind::kDelete;
      e.at = first + i * step;
      e.run_id = 1;
      e.category = "server_logs";
      e.store = "app";
      e.target = "request_log";
      e.record_key = std::to_string(next_key_++);
      e.clock = "2020-01-01T00:00:00Z";
      e.cutoff = "2020-02-01T00:00:00Z";
      e.rule = "rules/logs.toml:4";
      v.push_back(std::move(e));
    }
    REQUIRE(Append(*db_, std::move(v)).ok());
  }

  std::vector<LedgerEntry> Entries() {
    std::vector<LedgerEntry> out;
    REQUIRE(db_->ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
                  out.push_back(e);
                  return true;
                }).ok());
    return out;
  }
  int64_t Count() { return static_cast<int64_t>(Entries().size()); }
  LedgerEntry Entry(int64_t seq) {
    std::optional<LedgerEntry> found;
    REQUIRE(db_->ScanLedger(seq, [&](const LedgerEntry& e) {
                  if (e.seq == seq) found = e;
                  return false;
                }).ok());
    INFO("entry " << seq);
    REQUIRE(found);
    return *found;
  }
  LedgerHead Head() {
    auto head = db_->Head();
    REQUIRE(head.ok());
    return *head;
  }
  // The entry's checkpoint, as an auditor would have saved it.
  LedgerCheckpoint CheckpointOf(int64_t seq) {
    const LedgerEntry e = Entry(seq);
    return LedgerCheckpoint{e.seq, e.hash, e.at};
  }

  // The anchor the engine would write to prune from..through under
  // `cutoff` (entry `through` as stored gives through_hash and through_at).
  LedgerAnchor HonestAnchor(int64_t from, int64_t through, Timestamp cutoff,
                            CalendarDuration delete_after = Months(12)) {
    const LedgerEntry last = Entry(through);
    LedgerAnchor a;
    a.from = from;
    a.through = through;
    a.through_hash = last.hash;
    a.through_at = last.at;
    a.cutoff = cutoff;
    a.delete_after = delete_after;
    a.time_zone = "UTC";
    return a;
  }

  // Appends an anchor entry at the clock's time; returns its seq.
  int64_t AppendAnchor(const LedgerAnchor& a) {
    LedgerEntry e;
    e.run_id = 2;
    e.category = "audit_security";
    e.target = "purge-log";
    e.rule = "rules/audit.toml:5";
    WriteAnchor(a, &e);
    REQUIRE(Append(*db_, {e}).ok());
    const LedgerHead head = Head();
    REQUIRE(Entry(head.seq).kind == LedgerKind::kAnchor);
    return head.seq;
  }

  int64_t DeletePruned(int64_t last) {
    auto n = db_->DeletePrunedEntries(last);
    INFO(n.status().message());
    REQUIRE(n.ok());
    return *n;
  }
  int64_t PrunedThrough() {
    auto p = db_->PrunedThrough();
    REQUIRE(p.ok());
    return *p;
  }

  VerifyReport Verify() {
    auto r = VerifyLedger(*db_, SystemNow());
    INFO(r.status().message());
    REQUIRE(r.ok());
    return *r;
  }
  VerifyReport Verify(const LedgerCheckpoint& checkpoint) {
    auto r = VerifyLedger(*db_, checkpoint, SystemNow());
    INFO(r.status().message());
    REQUIRE(r.ok());
    return *r;
  }

 private:
  TempDir dir_;
  std::filesystem::path path_ = dir_ / "state.db";
  Timestamp now_ = Date(2023, 1, 1);
  std::unique_ptr<StateDb> db_;
  int64_t next_key_ = 1000;
};

// Writes `e` into the ledger table as it is, chain fields included: what a
// forger with the database file can do.
void InsertRaw(RawDb& raw, const LedgerEntry& e) {
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw.get(),
                             "INSERT INTO ledger(seq, at, kind, run_id, category, store, target, record_key, "
                             "clock, cutoff, rule, subject, batch, detail, prev_hash, hash) "
                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                             -1, &s, nullptr) == SQLITE_OK);
  sqlite3_bind_int64(s, 1, e.seq);
  sqlite3_bind_int64(s, 2, ToUnixMicros(e.at));
  const std::string kind(LedgerKindName(e.kind));
  const std::string* texts[] = {&kind,   &e.category, &e.store, &e.target, &e.record_key, &e.clock,
                                &e.cutoff, &e.rule,   &e.subject};
  const int columns[] = {3, 5, 6, 7, 8, 9, 10, 11, 12};
  for (size_t i = 0; i < std::size(columns); ++i)
    sqlite3_bind_text(s, columns[i], texts[i]->c_str(), static_cast<int>(texts[i]->size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 4, e.run_id);
  sqlite3_bind_int64(s, 13, e.batch);
  sqlite3_bind_text(s, 14, e.detail.c_str(), static_cast<int>(e.detail.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 15, e.prev_hash.c_str(), static_cast<int>(e.prev_hash.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 16, e.hash.c_str(), static_cast<int>(e.hash.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(s);
  INFO(sqlite3_errmsg(raw.get()));
  sqlite3_finalize(s);
  REQUIRE(rc == SQLITE_DONE);
}

// An anchor entry chained onto `head` with a correct hash: a forgery that
// the chain alone cannot tell from the engine's own.
LedgerEntry ChainedAnchor(const LedgerEntry& head, const LedgerAnchor& a, Timestamp at) {
  LedgerEntry f;
  f.run_id = 9;
  f.category = "audit_security";
  f.target = "purge-log";
  f.rule = "rules/audit.toml:5";
  WriteAnchor(a, &f);
  f.seq = head.seq + 1;
  f.at = at;
  f.prev_hash = head.hash;
  f.hash = ComputeEntryHash(f);
  return f;
}

void ExpectGood(const VerifyReport& r) {
  INFO("problem: " << r.problem);
  CHECK(r.ok);
  CHECK_FALSE(r.first_bad_seq.has_value());
}

void ExpectBad(const VerifyReport& r, int64_t bad_seq, const std::string& words) {
  INFO("problem: " << r.problem);
  CHECK_FALSE(r.ok);
  CHECK(r.first_bad_seq == std::optional<int64_t>(bad_seq));
  CHECK_THAT(r.problem, Catch::Contains(words));
}

// ---- the anchor entry ---------------------------------------------------

LedgerAnchor SampleAnchor() {
  LedgerAnchor a;
  a.from = 1;
  a.through = 5000;
  a.through_hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  a.through_at = Date(2024, 1, 31) + std::chrono::microseconds(123456);
  a.cutoff = Date(2024, 6, 1);
  a.delete_after = Months(12);
  a.time_zone = "Europe/Berlin";
  return a;
}

TEST_CASE("WriteAnchor and ReadAnchor round trip", "[anchor][ledger]") {
  LedgerEntry e;
  e.seq = 5001;
  e.record_key = "left over";
  e.category = "audit_security";
  WriteAnchor(SampleAnchor(), &e);
  CHECK(e.kind == LedgerKind::kAnchor);
  CHECK(e.store == "purge-log");
  CHECK(e.record_key.empty());
  CHECK(e.category == "audit_security");  // the caller's
  CHECK(e.clock == "2024-01-31T00:00:00.123456Z");
  CHECK(e.cutoff == "2024-06-01T00:00:00Z");
  // The canonical detail of anchor.h: compact JSON, keys sorted.
  CHECK(e.detail ==
        R"({"delete_after":"12 months","from":1,"through":5000,)"
        R"("through_hash":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",)"
        R"("time_zone":"Europe/Berlin"})");

  auto back = ReadAnchor(e);
  INFO(back.status().message());
  REQUIRE(back.ok());
  const LedgerAnchor want = SampleAnchor();
  CHECK(back->from == want.from);
  CHECK(back->through == want.through);
  CHECK(back->through_hash == want.through_hash);
  CHECK(back->through_at == want.through_at);
  CHECK(back->cutoff == want.cutoff);
  CHECK(back->delete_after == want.delete_after);
  CHECK(back->time_zone == want.time_zone);
}

TEST_CASE("ReadAnchor refuses a malformed anchor entry", "[anchor][ledger]") {
  LedgerEntry good;
  good.seq = 77;
  WriteAnchor(SampleAnchor(), &good);
  REQUIRE(ReadAnchor(good).ok());
  const std::string hash = SampleAnchor().through_hash;
  auto detail = [&](const std::string& from, const std::string& through, const std::string& through_hash,
                    const std::string& delete_after, const std::string& zone) {
    std::string d = "{";
    auto add = [&](const char* key, const std::string& value) {
      if (value.empty()) return;  // left out
      if (d.size() > 1) d += ",";
      d += std::string("\"") + key + "\":" + value;
    };
    add("delete_after", delete_after);
    add("from", from);
    add("through", through);
    add("through_hash", through_hash);
    add("time_zone", zone);
    return d + "}";
  };
  const std::string h = "\"" + hash + "\"";
  struct Bad {
    const char* what;
    std::function<void(LedgerEntry&)> change;
    const char* words;
  };
  const std::vector<Bad> cases = {
      {"not an anchor", [](LedgerEntry& e) { e.kind = LedgerKind::kDelete; }, "it is not an anchor"},
      {"empty detail", [](LedgerEntry& e) { e.detail = ""; }, "not a JSON object"},
      {"detail not JSON", [](LedgerEntry& e) { e.detail = "{\"from\":1"; }, "not a JSON object"},
      {"detail an array", [](LedgerEntry& e) { e.detail = "[1,5000]"; }, "not a JSON object"},
      {"from missing", [&](LedgerEntry& e) { e.detail = detail("", "5000", h, "\"12 months\"", "\"UTC\""); },
       "detail.from is not an integer"},
      {"from a string", [&](LedgerEntry& e) { e.detail = detail("\"1\"", "5000", h, "\"12 months\"", "\"UTC\""); },
       "detail.from is not an integer"},
      {"from a float", [&](LedgerEntry& e) { e.detail = detail("1.5", "5000", h, "\"12 months\"", "\"UTC\""); },
       "detail.from is not an integer"},
      {"through missing", [&](LedgerEntry& e) { e.detail = detail("1", "", h, "\"12 months\"", "\"UTC\""); },
       "detail.through is not an integer"},
      {"through null", [&](LedgerEntry& e) { e.detail = detail("1", "null", h, "\"12 months\"", "\"UTC\""); },
       "detail.through is not an integer"},
      {"through_hash missing", [&](LedgerEntry& e) { e.detail = detail("1", "5000", "", "\"12 months\"", "\"UTC\""); },
       "detail.through_hash is not a string"},
      {"through_hash a number", [&](LedgerEntry& e) { e.detail = detail("1", "5000", "7", "\"12 months\"", "\"UTC\""); },
       "detail.through_hash is not a string"},
      {"time_zone missing", [&](LedgerEntry& e) { e.detail = detail("1", "5000", h, "\"12 months\"", ""); },
       "detail.time_zone is not a string"},
      {"delete_after missing", [&](LedgerEntry& e) { e.detail = detail("1", "5000", h, "", "\"UTC\""); },
       "detail.delete_after is not a string"},
      {"delete_after a number", [&](LedgerEntry& e) { e.detail = detail("1", "5000", h, "12", "\"UTC\""); },
       "detail.delete_after is not a string"},
      {"delete_after an unknown unit",
       [&](LedgerEntry& e) { e.detail = detail("1", "5000", h, "\"12 fortnights\"", "\"UTC\""); },
       "detail.delete_after: "},
      {"delete_after zero", [&](LedgerEntry& e) { e.detail = detail("1", "5000", h, "\"0 days\"", "\"UTC\""); },
       "detail.delete_after: "},
      {"clock empty", [](LedgerEntry& e) { e.clock = ""; }, "its clock '' is not a time"},
      {"clock not a time", [](LedgerEntry& e) { e.clock = "last tuesday"; }, "its clock 'last tuesday' is not a time"},
      {"cutoff not a time", [](LedgerEntry& e) { e.cutoff = "2024-02-30T00:00:00Z"; },
       "its cutoff '2024-02-30T00:00:00Z' is not a time"},
  };
  for (const Bad& c : cases) {
    INFO(c.what);
    LedgerEntry e = good;
    c.change(e);
    auto r = ReadAnchor(e);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kAuditFailed);
    CHECK_THAT(r.status().message(), Catch::StartsWith("anchor entry 77 is malformed: "));
    CHECK_THAT(r.status().message(), Catch::Contains(c.words));
  }
  // The helper itself builds a good detail when nothing is left out.
  LedgerEntry rebuilt = good;
  rebuilt.detail = detail("1", "5000", h, "\"12 months\"", "\"UTC\"");
  CHECK(ReadAnchor(rebuilt).ok());
}

TEST_CASE("CheckAnchor refuses impossible and over-reaching anchors", "[anchor][ledger]") {
  // Anchor entry 100, written 2025-06-01: "12 months" allows a cutoff up to
  // 2024-06-01.
  LedgerEntry e;
  e.seq = 100;
  e.at = Date(2025, 6, 1);
  LedgerAnchor good = SampleAnchor();
  good.from = 1;
  good.through = 50;
  good.through_at = Date(2024, 1, 1);
  good.cutoff = Date(2024, 3, 1);
  good.time_zone = "UTC";
  REQUIRE(ComputeCutoff(e.at, Months(12), TimeZone::Utc()) == Date(2024, 6, 1));
  CHECK(CheckAnchor(e, good) == "");

  struct Case {
    const char* what;
    std::function<void(LedgerAnchor&)> change;
    const char* words;  // "" when it must pass
  };
  const std::vector<Case> cases = {
      {"from 0", [](LedgerAnchor& a) { a.from = 0; }, "impossible range 0..50"},
      {"from negative", [](LedgerAnchor& a) { a.from = -3; }, "impossible range -3..50"},
      {"through before from", [](LedgerAnchor& a) {
         a.from = 10;
         a.through = 9;
       }, "impossible range 10..9"},
      {"a one-entry range", [](LedgerAnchor& a) { a.from = 50; }, ""},
      {"through = the anchor itself", [](LedgerAnchor& a) { a.through = 100; }, "not older than the anchor itself"},
      {"through after the anchor", [](LedgerAnchor& a) { a.through = 150; }, "not older than the anchor itself"},
      {"through just before the anchor", [](LedgerAnchor& a) { a.through = 99; }, ""},
      {"through_hash short", [](LedgerAnchor& a) { a.through_hash = Hex64('a').substr(1); }, "64 lowercase hex"},
      {"through_hash long", [](LedgerAnchor& a) { a.through_hash = Hex64('a') + "0"; }, "64 lowercase hex"},
      {"through_hash uppercase", [](LedgerAnchor& a) { a.through_hash = Hex64('A'); }, "64 lowercase hex"},
      {"through_hash not hex", [](LedgerAnchor& a) { a.through_hash = Hex64('g'); }, "64 lowercase hex"},
      {"through_hash empty", [](LedgerAnchor& a) { a.through_hash.clear(); }, "64 lowercase hex"},
      {"through_at = cutoff", [](LedgerAnchor& a) { a.through_at = a.cutoff; }, "not older than its cutoff"},
      {"through_at after cutoff", [](LedgerAnchor& a) { a.through_at = Date(2025, 5, 31); },
       "not older than its cutoff"},
      {"through_at 1 us before cutoff",
       [](LedgerAnchor& a) { a.through_at = a.cutoff - std::chrono::microseconds(1); }, ""},
      {"cutoff = the latest its schedule allows", [](LedgerAnchor& a) { a.cutoff = Date(2024, 6, 1); }, ""},
      {"cutoff 1 us later than its schedule allows",
       [](LedgerAnchor& a) { a.cutoff = Date(2024, 6, 1) + std::chrono::microseconds(1); },
       "later than its own schedule"},
      {"cutoff a year later than its schedule allows", [](LedgerAnchor& a) { a.cutoff = Date(2025, 5, 1); },
       "later than its own schedule"},
      {"a shorter schedule allows a later cutoff",
       [](LedgerAnchor& a) {
         a.delete_after = {1, DurationUnit::kHours};
         a.cutoff = Date(2025, 5, 31) + std::chrono::hours(23);
       },
       ""},
      {"a longer schedule forbids the cutoff",
       [](LedgerAnchor& a) { a.delete_after = {2, DurationUnit::kYears}; }, "later than its own schedule"},
      {"unknown zone", [](LedgerAnchor& a) { a.time_zone = "Mars/Olympus_Mons"; }, "unknown time zone 'Mars/Olympus_Mons'"},
      {"empty zone", [](LedgerAnchor& a) { a.time_zone = ""; }, "unknown time zone ''"},
      {"a real zone", [](LedgerAnchor& a) { a.time_zone = "Europe/Berlin"; }, ""},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    LedgerAnchor a = good;
    c.change(a);
    const std::string problem = CheckAnchor(e, a);
    if (*c.words == '\0') {
      CHECK(problem == "");
    } else {
      CHECK_THAT(problem, Catch::StartsWith("anchor entry 100 "));
      CHECK_THAT(problem, Catch::Contains(c.words));
    }
  }
  // The schedule is computed on the anchor's calendar: "1 month" back from
  // 2025-03-30T23:30Z is 2025-02-28T23:30Z in UTC, but in Berlin (local
  // 2025-03-31T01:30, clamped to 2025-02-28T01:30 local) 2025-02-28T00:30Z.
  LedgerEntry late;
  late.seq = 100;
  late.at = Date(2025, 3, 30) + std::chrono::minutes(23 * 60 + 30);
  LedgerAnchor monthly = good;
  monthly.delete_after = {1, DurationUnit::kMonths};
  monthly.cutoff = Date(2025, 2, 28) + std::chrono::hours(23);
  monthly.time_zone = "UTC";
  CHECK(CheckAnchor(late, monthly) == "");
  monthly.time_zone = "Europe/Berlin";
  CHECK_THAT(CheckAnchor(late, monthly), Catch::Contains("later than its own schedule"));
}

// ---- pruning as the engine does it ---------------------------------------

TEST_CASE("a purge log pruned twice verifies at every step", "[anchor][ledger]") {
  PurgeLog log;
  // 200 entries from 2023-01-01, two days apart (to 2024-02-03).
  log.AddEntries(200, Date(2023, 1, 1), 2 * kDay);
  ExpectGood(log.Verify());
  const std::vector<LedgerEntry> original = log.Entries();
  REQUIRE(original.size() == 200);
  auto hash = [&](int64_t seq) { return original[seq - 1].hash; };

  // Early 2025 a run prunes under "12 months": the latest cutoff is
  // 2024-02-01, and entries 1..198 (to 2024-01-30) are older.
  log.SetNow(Date(2025, 2, 1));
  REQUIRE(ComputeCutoff(Date(2025, 2, 1), Months(12), TimeZone::Utc()) == Date(2024, 2, 1));
  REQUIRE(original[197].at < Date(2024, 2, 1));
  REQUIRE_FALSE(original[198].at < Date(2024, 2, 1));
  const int64_t a1 = log.AppendAnchor(log.HonestAnchor(1, 198, Date(2024, 2, 1)));
  CHECK(a1 == 201);
  CHECK(log.Entry(a1).at == Date(2025, 2, 1));  // the clock's time
  CHECK(log.PrunedThrough() == 198);

  SECTION("pending: anchored, nothing deleted yet") {
    const VerifyReport r = log.Verify();
    ExpectGood(r);
    CHECK(r.first_seq == 1);
    CHECK(r.entries == 201);
    CHECK(r.anchor_seq == 201);
    REQUIRE(r.anchor);
    CHECK(r.anchor->through == 198);
    CHECK(r.anchor->through_hash == hash(198));
  }

  // The deletion stops part way (a crash, a stop, a hold).
  CHECK(log.DeletePruned(100) == 100);
  {
    const VerifyReport r = log.Verify();
    ExpectGood(r);
    CHECK(r.first_seq == 101);
    CHECK(r.entries == 101);
    CHECK(r.anchor_seq == 201);
    CHECK(r.head_seq == 201);
  }
  // ... and a later run finishes it.
  CHECK(log.DeletePruned(198) == 98);
  {
    const VerifyReport r = log.Verify();
    ExpectGood(r);
    CHECK(r.first_seq == 199);
    CHECK(r.entries == 3);
    CHECK(r.head_seq == 201);
    CHECK(r.head_at == Date(2025, 2, 1));
    CHECK(r.anchor_seq == 201);
    REQUIRE(r.anchor);
    CHECK(r.anchor->from == 1);
    CHECK(r.anchor->through == 198);
    CHECK(r.anchor->cutoff == Date(2024, 2, 1));
    CHECK(log.Entry(199).prev_hash == r.anchor->through_hash);
  }
  CHECK(log.Count() == 3);

  // 100 more entries from 2025-03-01, a day apart (to 2025-06-08): 202..301.
  log.AddEntries(100, Date(2025, 3, 1), kDay);
  ExpectGood(log.Verify());
  const std::vector<LedgerEntry> later = log.Entries();  // 199..301
  auto later_entry = [&](int64_t seq) { return later[seq - 199]; };

  // Mid 2026 a run prunes with the cutoff 2025-04-01 (the schedule allows up
  // to 2025-06-01): entries 199..232, the first anchor among them.
  log.SetNow(Date(2026, 6, 1));
  REQUIRE(later_entry(232).at == Date(2025, 3, 31));
  REQUIRE(later_entry(233).at == Date(2025, 4, 1));
  const int64_t a2 = log.AppendAnchor(log.HonestAnchor(199, 232, Date(2025, 4, 1)));
  CHECK(a2 == 302);
  CHECK(log.PrunedThrough() == 232);
  {
    const VerifyReport r = log.Verify();
    ExpectGood(r);
    CHECK(r.first_seq == 199);
    CHECK(r.anchor_seq == 302);  // the newest anchor accounting for the start
  }
  // What `explain` asks of a pruned entry: the oldest anchor left that
  // reaches it.
  auto oldest = [&](int64_t seq) {
    auto r = log.db().OldestAnchorReaching(seq);
    REQUIRE(r.ok());
    return r->value_or(0);
  };
  CHECK(oldest(5) == 201);    // anchor 1 pruned it
  CHECK(oldest(199) == 302);  // anchored by anchor 2, present still
  CHECK(oldest(233) == 0);    // beyond every anchor
  // Part way, past the first anchor.
  CHECK(log.DeletePruned(210) == 12);
  CHECK(oldest(5) == 302);  // anchor 1 is gone; anchor 2 follows on from it
  {
    const VerifyReport r = log.Verify();
    ExpectGood(r);
    CHECK(r.first_seq == 211);
    CHECK(r.anchor_seq == 302);
  }
  CHECK(log.DeletePruned(232) == 22);
  const VerifyReport done = log.Verify();
  ExpectGood(done);
  CHECK(done.first_seq == 233);
  CHECK(done.entries == 70);
  CHECK(done.head_seq == 302);
  CHECK(done.anchor_seq == 302);
  REQUIRE(done.anchor);
  CHECK(done.anchor->from == 199);
  CHECK(done.anchor->through == 232);
  CHECK(done.anchor->through_hash == later_entry(232).hash);
  CHECK(done.anchor->cutoff == Date(2025, 4, 1));
  CHECK(done.anchor->delete_after == Months(12));

  // The cheap tail check runs on a pruned ledger too, however far it reaches.
  for (int64_t n : {1, 20, 70, 71, 1000}) {
    INFO("tail of " << n);
    auto tail = VerifyLedgerTail(log.db(), n, SystemNow());
    REQUIRE(tail.ok());
    ExpectGood(*tail);
    CHECK(tail->head_seq == 302);
  }

  // Read-only, as `audit verify` opens it.
  log.Reopen(/*read_only=*/true);
  const VerifyReport ro = log.Verify();
  ExpectGood(ro);
  CHECK(ro.first_seq == 233);

  SECTION("checkpoints of pruned entries") {
    auto at = [&](int64_t seq) { return seq <= 200 ? original[seq - 1].at : later_entry(seq).at; };
    auto full_hash = [&](int64_t seq) { return seq <= 200 ? hash(seq) : later_entry(seq).hash; };
    // Pruned entries older than the anchor's cutoff: fine.
    for (int64_t seq : {1, 100, 198, 199, 201, 231}) {
      INFO("checkpoint of pruned entry " << seq);
      ExpectGood(log.Verify(LedgerCheckpoint{seq, full_hash(seq), at(seq)}));
    }
    // The last entry pruned: its hash is the anchor's through_hash.
    ExpectGood(log.Verify(LedgerCheckpoint{232, full_hash(232), at(232)}));
    ExpectGood(log.Verify(LedgerCheckpoint{232, full_hash(232), std::nullopt}));
    ExpectBad(log.Verify(LedgerCheckpoint{232, full_hash(231), at(232)}), 232, "was rewritten");
    // Pruned, but the checkpoint says it was not yet due.
    ExpectBad(log.Verify(LedgerCheckpoint{220, full_hash(220), Date(2025, 4, 1)}), 220,
              "before their retention ran out");
    // An old-format checkpoint (no time) of a pruned entry proves nothing.
    ExpectBad(log.Verify(LedgerCheckpoint{100, hash(100), std::nullopt}), 100, "does not say when");
    // Entries still present are compared by hash.
    ExpectGood(log.Verify(log.CheckpointOf(250)));
    ExpectBad(log.Verify(LedgerCheckpoint{250, later_entry(249).hash, later_entry(250).at}), 250,
              "was rewritten");
    ExpectGood(log.Verify(log.Head()));
    ExpectBad(log.Verify(LedgerCheckpoint{303, Hex64('1'), Date(2026, 6, 2)}), 303, "removed from the end");
  }

  SECTION("the trigger still guards what is left") {
    RawDb raw(log.path());
    CHECK_THAT(raw.Exec("DELETE FROM ledger WHERE seq = 233"), Catch::Contains("append-only"));
    CHECK_THAT(raw.Exec("DELETE FROM ledger WHERE seq = 302"), Catch::Contains("append-only"));
    CHECK(raw.Query("SELECT count(*) FROM ledger") == "70");
  }
}

TEST_CASE("the state database deletes only entries an anchor has pruned", "[anchor][ledger][state]") {
  PurgeLog log;
  log.AddEntries(30, Date(2023, 1, 1), kDay);
  CHECK(log.PrunedThrough() == 0);
  {
    RawDb raw(log.path());
    CHECK_THAT(raw.Exec("DELETE FROM ledger WHERE seq = 1"), Catch::Contains("append-only"));
  }
  // No anchor: nothing may go.
  auto none = log.db().DeletePrunedEntries(1);
  CHECK_FALSE(none.ok());
  CHECK(log.Count() == 30);

  log.SetNow(Date(2025, 1, 1));
  const int64_t a = log.AppendAnchor(log.HonestAnchor(1, 10, Date(2023, 1, 20)));
  CHECK(a == 31);
  CHECK(log.PrunedThrough() == 10);
  {
    RawDb raw(log.path());
    CHECK_THAT(raw.Exec("DELETE FROM ledger WHERE seq = 11"), Catch::Contains("append-only"));
    CHECK_THAT(raw.Exec("DELETE FROM ledger WHERE seq <= 11"), Catch::Contains("append-only"));
    CHECK(raw.Query("SELECT count(*) FROM ledger") == "31");  // the statement did nothing
    // The anchors table is append-only too.
    CHECK_THAT(raw.Exec("UPDATE ledger_anchors SET through = 30"), Catch::Contains("append-only"));
    CHECK_THAT(raw.Exec("DELETE FROM ledger_anchors"), Catch::Contains("append-only"));
    CHECK(raw.Query("SELECT through FROM ledger_anchors WHERE seq = 31") == "10");
  }
  // Past the anchored range: refused as a whole.
  for (int64_t last : {11, 31, 1000}) {
    INFO("DeletePrunedEntries(" << last << ")");
    auto past = log.db().DeletePrunedEntries(last);
    CHECK_FALSE(past.ok());
    CHECK(log.Count() == 31);
    CHECK(log.Entry(1).seq == 1);
  }
  ExpectGood(log.Verify());
  // Within it: fine, and again (nothing left to delete).
  CHECK(log.DeletePruned(4) == 4);
  CHECK(log.DeletePruned(10) == 6);
  CHECK(log.DeletePruned(10) == 0);
  CHECK(log.Entries().front().seq == 11);
  ExpectGood(log.Verify());

  // A read-only database deletes nothing.
  log.Reopen(/*read_only=*/true);
  CHECK_FALSE(log.db().DeletePrunedEntries(10).ok());

  SECTION("an anchor that cannot be read back is not appended") {
    log.Reopen();
    LedgerEntry bad;
    bad.kind = LedgerKind::kAnchor;
    bad.detail = R"({"from":11})";
    const Status st = Append(log.db(), {bad});
    CHECK_FALSE(st.ok());
    CHECK(log.Count() == 21);
    CHECK(log.PrunedThrough() == 10);
    ExpectGood(log.Verify());
  }
  SECTION("the trigger lets a pruned entry go out of order, but verify sees the hole") {
    log.Reopen();
    log.SetNow(Date(2025, 2, 1));
    const int64_t a2 = log.AppendAnchor(log.HonestAnchor(11, 20, Date(2023, 2, 1)));
    CHECK(a2 == 32);
    RawDb raw(log.path());
    CHECK(raw.Exec("DELETE FROM ledger WHERE seq = 15") == "");
    ExpectBad(log.Verify(), 15, "entry 15 is missing");
  }
}

// ---- forgeries ----------------------------------------------------------

// 60 entries from 2023-01-01, a day apart; an honest anchor (entry 61,
// written 2025-01-01) pruned entries 1..40 (to 2023-02-09) under the cutoff
// 2023-02-10.
struct Pruned {
  PurgeLog log;
  std::vector<LedgerEntry> original;
  int64_t anchor_seq = 0;

  Pruned() {
    log.AddEntries(60, Date(2023, 1, 1), kDay);
    original = log.Entries();
    log.SetNow(Date(2025, 1, 1));
    anchor_seq = log.AppendAnchor(log.HonestAnchor(1, 40, Date(2023, 2, 10)));
    REQUIRE(anchor_seq == 61);
    REQUIRE(log.DeletePruned(40) == 40);
    const VerifyReport r = log.Verify();
    ExpectGood(r);
    REQUIRE(r.first_seq == 41);
  }
};

TEST_CASE("an anchor edited in place is caught as a modified entry", "[anchor][ledger]") {
  Pruned p;
  RawDb raw(p.log.path());
  REQUIRE(raw.Exec("DROP TRIGGER ledger_no_update") == "");
  const std::string real = p.original[39].hash;
  SECTION("its through_hash") {
    // Made to match what a forger would want the start to follow.
    REQUIRE(raw.Exec("UPDATE ledger SET detail = replace(detail, '" + real + "', '" + p.original[38].hash +
                     "') WHERE seq = 61") == "");
    REQUIRE(raw.Query("SELECT instr(detail, '" + real + "') FROM ledger WHERE seq = 61") == "0");
  }
  SECTION("its cutoff") {
    REQUIRE(raw.Exec("UPDATE ledger SET cutoff = '2024-12-01T00:00:00Z' WHERE seq = 61") == "");
  }
  SECTION("its range") {
    REQUIRE(raw.Exec("UPDATE ledger SET detail = replace(detail, '\"through\":40', '\"through\":45') "
                     "WHERE seq = 61") == "");
  }
  const VerifyReport r = p.log.Verify();
  ExpectBad(r, 61, "entry 61 was modified");
  CHECK(r.head_seq == 60);
}

TEST_CASE("an anchor whose through_hash is not the link the first entry left carries is caught",
          "[anchor][ledger]") {
  PurgeLog log;
  log.AddEntries(60, Date(2023, 1, 1), kDay);
  log.SetNow(Date(2025, 1, 1));
  LedgerAnchor a = log.HonestAnchor(1, 40, Date(2023, 2, 10));
  a.through_hash = log.Entry(39).hash;  // chained correctly, but wrong
  const int64_t seq = log.AppendAnchor(a);
  REQUIRE(seq == 61);

  SECTION("all of its range deleted") {
    CHECK(log.DeletePruned(40) == 40);
    ExpectBad(log.Verify(), 61, "does not account for what was removed");
  }
  // The entries it claims are still (partly) present: entry 40 must have
  // the hash it names.
  SECTION("nothing deleted yet") { ExpectBad(log.Verify(), 61, "says entry 40 has hash"); }
  SECTION("part of its range deleted") {
    CHECK(log.DeletePruned(25) == 25);
    ExpectBad(log.Verify(), 61, "says entry 40 has hash");
  }
  SECTION("all but the last entry of its range deleted") {
    CHECK(log.DeletePruned(39) == 39);
    ExpectBad(log.Verify(), 61, "says entry 40 has hash");
  }
}

TEST_CASE("entries missing from the start without an anchor for them are caught", "[anchor][ledger]") {
  SECTION("no anchor at all") {
    PurgeLog log;
    log.AddEntries(60, Date(2023, 1, 1), kDay);
    RawDb raw(log.path());
    REQUIRE(raw.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq <= 10") == "");
    const VerifyReport r = log.Verify();
    ExpectBad(r, 1, "entries 1 to 10 are missing");
    CHECK(r.entries == 0);
    CHECK(r.head_seq == 0);
    CHECK(r.head_hash == kGenesisHash);
    REQUIRE(raw.Exec("DELETE FROM ledger WHERE seq = 11") == "");
    ExpectBad(log.Verify(), 1, "entries 1 to 11 are missing");
  }
  SECTION("only entry 1") {
    PurgeLog log;
    log.AddEntries(5, Date(2023, 1, 1), kDay);
    RawDb raw(log.path());
    REQUIRE(raw.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq = 1") == "");
    ExpectBad(log.Verify(), 1, "entry 1 is missing");
  }
  SECTION("more deleted than the anchor pruned") {
    Pruned p;
    RawDb raw(p.log.path());
    REQUIRE(raw.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq = 41") == "");
    // The report names the first entry no anchor accounts for.
    ExpectBad(p.log.Verify(), 41, "entry 41 is missing: the ledger starts at entry 42, but anchor entry 61 accounts "
                                  "only for entries up to 40");
  }
  SECTION("a hole in the anchored range, after the start") {
    Pruned p;
    // An anchor for 41..50, nothing of it deleted yet ...
    p.log.SetNow(Date(2025, 2, 1));
    REQUIRE(p.log.AppendAnchor(p.log.HonestAnchor(41, 50, Date(2023, 2, 20))) == 62);
    ExpectGood(p.log.Verify());
    // ... and 41..44 go, but also 46.
    RawDb raw(p.log.path());
    REQUIRE(raw.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq <= 44 OR seq = 46") == "");
    ExpectBad(p.log.Verify(), 46, "entry 46 is missing");
  }
}

TEST_CASE("anchors must follow on from one another and from the start", "[anchor][ledger]") {
  Pruned p;
  p.log.SetNow(Date(2025, 2, 1));
  SECTION("a gap between two anchors") {
    const int64_t a2 = p.log.AppendAnchor(p.log.HonestAnchor(45, 50, Date(2023, 2, 20)));
    REQUIRE(a2 == 62);
    const VerifyReport r = p.log.Verify();
    ExpectBad(r, 62, "prunes from entry 45, but the anchor before it (entry 61) ended at entry 40");
    CHECK(r.head_seq == 61);
  }
  SECTION("two anchors overlapping") {
    REQUIRE(p.log.AppendAnchor(p.log.HonestAnchor(30, 50, Date(2023, 2, 20))) == 62);
    ExpectBad(p.log.Verify(), 62, "prunes from entry 30, but the anchor before it (entry 61) ended at entry 40");
  }
  SECTION("contiguous anchors are fine") {
    REQUIRE(p.log.AppendAnchor(p.log.HonestAnchor(41, 50, Date(2023, 2, 20))) == 62);
    ExpectGood(p.log.Verify());
    CHECK(p.log.DeletePruned(50) == 10);
    const VerifyReport r = p.log.Verify();
    ExpectGood(r);
    CHECK(r.first_seq == 51);
    CHECK(r.anchor_seq == 62);
  }
  SECTION("a new range anchored while the last one still has entries") {
    // Anchor 62 prunes 41..50 and deletes 41..45 only; a purge would finish
    // 46..50 before anchoring more, so anchor 63 for 51..55 is a forgery.
    REQUIRE(p.log.AppendAnchor(p.log.HonestAnchor(41, 50, Date(2023, 2, 20))) == 62);
    CHECK(p.log.DeletePruned(45) == 5);
    ExpectGood(p.log.Verify());
    REQUIRE(p.log.AppendAnchor(p.log.HonestAnchor(51, 55, Date(2023, 2, 28))) == 63);
    ExpectBad(p.log.Verify(), 63, "begins a new range while entry 46, of the range of anchor entry 62, is still");
  }
  SECTION("the first anchor starts after the first entry present") {
    PurgeLog log;
    log.AddEntries(30, Date(2023, 1, 1), kDay);
    log.SetNow(Date(2025, 1, 1));
    REQUIRE(log.AppendAnchor(log.HonestAnchor(10, 20, Date(2023, 1, 25))) == 31);
    ExpectBad(log.Verify(), 31, "entry 1, older, is still in the ledger");
  }
  SECTION("an anchor failing CheckAnchor, appended through the state database") {
    LedgerAnchor a = p.log.HonestAnchor(41, 50, Date(2023, 2, 20));
    a.cutoff = Date(2024, 12, 1);  // "12 months" from 2025-02-01 allows 2024-02-01
    REQUIRE(p.log.AppendAnchor(a) == 62);
    ExpectBad(p.log.Verify(), 62, "later than its own schedule");
  }
  SECTION("an unreadable anchor chained in by raw SQL") {
    LedgerEntry f = ChainedAnchor(p.log.Entry(61), p.log.HonestAnchor(41, 50, Date(2023, 2, 20)), Date(2025, 2, 1));
    f.detail = R"({"from":41,"through":"50"})";
    f.hash = ComputeEntryHash(f);
    RawDb raw(p.log.path());
    InsertRaw(raw, f);
    ExpectBad(p.log.Verify(), 62, "anchor entry 62 is malformed");
  }
}

// The recent history of a purge log wiped by someone with the database
// file, covered by a correctly chained anchor. The anchor's own claims
// catch a forger who tells the truth about what they removed; the lie that
// remains (an older through_at) needs the auditor's checkpoint.
TEST_CASE("a forged anchor covering recent entries is caught", "[anchor][ledger]") {
  PurgeLog log;
  // May 2025, an hour apart; the auditor saved a checkpoint at entry 60.
  log.AddEntries(60, Date(2025, 5, 1), kHour);
  const LedgerCheckpoint saved = log.Head();
  REQUIRE(saved.seq == 60);
  REQUIRE(saved.at == Date(2025, 5, 1) + 59 * kHour);
  log.AddEntries(40, Date(2025, 5, 10), kHour);
  const std::vector<LedgerEntry> original = log.Entries();
  REQUIRE(original.size() == 100);
  const LedgerEntry& e80 = original[79];
  log.Close();

  // The forger deletes 1..80 and chains an anchor for them onto entry 100,
  // written 2025-06-01, under a "12 months" schedule (latest cutoff
  // 2024-06-01).
  const Timestamp now = Date(2025, 6, 1);
  LedgerAnchor a;
  a.from = 1;
  a.through = 80;
  a.through_hash = e80.hash;
  a.through_at = e80.at;
  a.delete_after = Months(12);
  a.time_zone = "UTC";
  auto forge = [&](const LedgerAnchor& anchor) {
    RawDb raw(log.path());
    REQUIRE(raw.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq <= 80") == "");
    InsertRaw(raw, ChainedAnchor(original[99], anchor, now));
  };

  SECTION("claiming a cutoff later than the schedule allows") {
    a.cutoff = original[80].at;  // just after entry 80
    forge(a);
    log.Reopen(/*read_only=*/true);
    const VerifyReport r = log.Verify();
    ExpectBad(r, 101, "later than its own schedule");
    CHECK(r.head_seq == 100);
  }
  SECTION("claiming entries not older than the cutoff") {
    a.cutoff = Date(2024, 6, 1);
    forge(a);
    log.Reopen(/*read_only=*/true);
    ExpectBad(log.Verify(), 101, "not older than its cutoff");
  }
  SECTION("lying about when the last pruned entry was written") {
    a.cutoff = Date(2024, 6, 1);
    a.through_at = Date(2024, 1, 1);
    forge(a);
    log.Reopen(/*read_only=*/true);
    // The chain alone cannot tell: every claim the anchor makes is sound.
    const VerifyReport plain = log.Verify();
    ExpectGood(plain);
    CHECK(plain.first_seq == 81);
    // The checkpoint saved before the forgery can: its entry, written
    // 2025-05-03, is gone though not older than the cutoff.
    ExpectBad(log.Verify(saved), 60, "before their retention ran out");
    // An old-format checkpoint (no time) is refused rather than trusted.
    ExpectBad(log.Verify(LedgerCheckpoint{60, saved.hash, std::nullopt}), 60, "does not say when");
    // The entry the anchor names: a wrong hash is a rewritten chain ...
    ExpectBad(log.Verify(LedgerCheckpoint{80, original[78].hash, e80.at}), 80, "was rewritten");
    // ... and the right hash does not vouch for an entry written after the
    // cutoff (the anchor lied about its time).
    ExpectBad(log.Verify(LedgerCheckpoint{80, e80.hash, e80.at}), 80, "before their retention ran out");
    // Entries the forger left are checked as ever.
    ExpectGood(log.Verify(LedgerCheckpoint{90, original[89].hash, original[89].at}));
  }
  SECTION("dating the anchor ahead, so that its schedule reaches recent entries") {
    // Written "2030": 12 months before that is after every real entry.
    a.cutoff = original[80].at;
    LedgerEntry forged = ChainedAnchor(original[99], a, Date(2030, 1, 1));
    {
      RawDb raw(log.path());
      REQUIRE(raw.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq <= 80") == "");
      InsertRaw(raw, forged);
    }
    log.Reopen(/*read_only=*/true);
    ExpectBad(log.Verify(), 101, "after the time of this check");
  }
  SECTION("a short schedule passes the anchor's checks; the report shows it") {
    a.delete_after = {1, DurationUnit::kHours};
    a.cutoff = now - kHour;
    forge(a);
    log.Reopen(/*read_only=*/true);
    const VerifyReport r = log.Verify();
    ExpectGood(r);
    // What an auditor compares with the policy: the schedule the anchor
    // claims to have applied.
    REQUIRE(r.anchor);
    CHECK(r.anchor_seq == 101);
    CHECK(r.anchor->delete_after == CalendarDuration{1, DurationUnit::kHours});
    CHECK(r.anchor->cutoff == now - kHour);
  }
}

// ---- schema version 1 --------------------------------------------------

TEST_CASE("a version 1 state database is read as it is and upgraded when opened for writing",
          "[anchor][state]") {
  PurgeLog log;
  log.AddEntries(50, Date(2023, 1, 1), kDay);
  const LedgerHead head = log.Head();
  log.Close();
  {
    RawDb raw(log.path());
    REQUIRE(raw.Exec("DROP TRIGGER ledger_no_delete;"
                     "DROP TRIGGER ledger_anchors_no_update;"
                     "DROP TRIGGER ledger_anchors_no_delete;"
                     "DROP TABLE ledger_anchors;"
                     "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger "
                     "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;"
                     "ALTER TABLE pending_records DROP COLUMN identity;"  // version 3's
                     "UPDATE meta SET value = '1' WHERE key = 'schema_version';") == "");
    REQUIRE(raw.Query("SELECT count(*) FROM sqlite_master WHERE name = 'ledger_anchors'") == "0");
  }

  // Read-only: read as version 1, nothing changed.
  log.Reopen(/*read_only=*/true);
  CHECK(log.PrunedThrough() == 0);
  {
    const VerifyReport r = log.Verify(head);
    ExpectGood(r);
    CHECK(r.entries == 50);
  }
  CHECK_FALSE(log.db().DeletePrunedEntries(1).ok());
  log.Close();
  {
    RawDb raw(log.path());
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == "1");
    CHECK(raw.Query("SELECT count(*) FROM sqlite_master WHERE name = 'ledger_anchors'") == "0");
  }

  // Read-write: upgraded in place.
  log.Reopen();
  {
    RawDb raw(log.path());
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == std::to_string(kStateSchemaVersion));
    CHECK(raw.Query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_anchors'") == "1");
    CHECK(raw.Query("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                    "('ledger_no_delete', 'ledger_no_update', 'ledger_anchors_no_update', "
                    "'ledger_anchors_no_delete')") == "4");
    CHECK_THAT(raw.Exec("DELETE FROM ledger WHERE seq = 1"), Catch::Contains("only entries an anchor has pruned"));
  }
  CHECK(log.PrunedThrough() == 0);
  ExpectGood(log.Verify(head));

  // Pruning works on the upgraded database.
  log.SetNow(Date(2025, 1, 1));
  const int64_t a = log.AppendAnchor(log.HonestAnchor(1, 20, Date(2023, 1, 21)));
  CHECK(a == 51);
  CHECK(log.PrunedThrough() == 20);
  CHECK(log.DeletePruned(20) == 20);
  const VerifyReport r = log.Verify(head);
  ExpectGood(r);
  CHECK(r.first_seq == 21);
  CHECK(r.anchor_seq == 51);

  // Opening it again leaves it as it is.
  log.Reopen();
  log.Reopen(/*read_only=*/true);
  CHECK(log.PrunedThrough() == 20);
  ExpectGood(log.Verify());
  RawDb raw(log.path());
  CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == std::to_string(kStateSchemaVersion));
}

}  // namespace
}  // namespace retention
