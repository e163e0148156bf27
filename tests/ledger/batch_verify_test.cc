// VerifyLedger over batch entries: payloads hashed and decoded, settlements
// checked against the batches they name, record and open-batch counts.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

#include "ledger/batch_entry.h"
#include "ledger/ledger.h"
#include "state/sqlite_state_db.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "state/test_util.h"
#include "util/json_text.h"

namespace retention {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

Timestamp At(int64_t seconds) { return FromUnixMicros(seconds * 1'000'000); }

std::unique_ptr<StateDb> MustOpen(const fs::path& path) {
  SqliteStateDbOptions o;
  o.clock = [] { return At(1'750'000'000); };
  auto db = OpenOrCreateStateDb(path, o);
  REQUIRE(db.ok());
  return std::move(db.value());
}

BatchPayload Payload(int64_t first, size_t n) {
  BatchPayload p;
  p.subject_kind = "customer";
  for (size_t i = 0; i < n; ++i)
    p.records.push_back({std::to_string(first + static_cast<int64_t>(i)), "2024-01-01 00:00:" + std::to_string(10 + i % 50),
                         std::to_string(1 + i % 10000), std::nullopt});
  return p;
}

LedgerEntry BatchEntry(const BatchPayload& p) {
  LedgerEntry e;
  e.kind = LedgerKind::kBatch;
  e.run_id = 1;
  e.store = "app";
  e.target = "events";
  e.payload = EncodeBatchPayload(p).value();
  return e;
}

BatchIndexRow Index(const BatchPayload& p) {
  const BatchKeyRange r = KeyRangeOf(p);
  return {"app", "events", r.lo, r.hi, r.integer_keys};
}

// An entry of `kind` whose detail is `detail`, appended as is (no CloseBatch:
// how a forger, or a bug, would write it).
Status AppendRaw(StateDb& db, LedgerKind kind, const std::string& detail) {
  LedgerEntry e;
  e.kind = kind;
  e.detail = detail;
  return Append(db, {e});
}

std::string Settles(const std::string& items) { return R"({"settles":[)" + items + "]}"; }

VerifyReport Verify(StateDb& db) {
  auto v = VerifyLedger(db, At(1'750'000'000));
  REQUIRE(v.ok());
  return *v;
}

TEST_CASE("verify counts records and open batches", "[ledger][batch][verify]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  const BatchPayload a = Payload(1, 5), b = Payload(6, 3);
  auto sa = AppendBatch(*db, BatchEntry(a), Index(a), {});
  REQUIRE(sa.ok());
  LedgerEntry del;
  del.kind = LedgerKind::kDelete;
  del.record_key = "old";
  REQUIRE(Append(*db, {del}).ok());
  Settlement s;
  s.batch_seq = *sa;
  s.kept.push_back({4, KeptReason{KeptWhy::kHeld, "held", std::nullopt, 1}});
  auto sb = AppendBatch(*db, BatchEntry(b), Index(b), {s});
  REQUIRE(sb.ok());
  VerifyReport r = Verify(*db);
  CHECK(r.ok);
  CHECK(r.records == 5 + 1 + 3);
  CHECK(r.open_batches == 1);
  Settlement t;
  t.batch_seq = *sb;
  REQUIRE(AppendSettling(*db, [] { LedgerEntry e; e.kind = LedgerKind::kReconciled; return e; }(), {t}).ok());
  r = Verify(*db);
  CHECK(r.ok);
  CHECK(r.open_batches == 0);
  // The tail check sees settlements of batches before its start and takes
  // them on trust.
  auto tail = VerifyLedgerTail(*db, 1, At(1'750'000'000));
  REQUIRE(tail.ok());
  CHECK(tail->ok);
}

TEST_CASE("verify refuses forged settlements and malformed batch entries", "[ledger][batch][verify]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  const BatchPayload a = Payload(1, 5);
  auto sa = AppendBatch(*db, BatchEntry(a), Index(a), {});  // seq 1, 5 records
  REQUIRE(sa.ok());
  REQUIRE(Verify(*db).ok);

  struct Bad {
    const char* what;
    LedgerKind kind;
    std::string detail;
    const char* problem;
  };
  const std::vector<Bad> bad = {
      {"a seq that is no entry yet", LedgerKind::kReconciled, Settles(R"({"seq":7})"), "settles entry 7"},
      {"an index past the batch", LedgerKind::kRunEnd, Settles(R"({"seq":1,"kept":[{"i":5,"why":"held","reason":""}]})"),
       "has only 5"},
      {"kept and replaced", LedgerKind::kReconciled,
       Settles(R"({"seq":1,"kept":[{"i":2,"why":"changed","reason":""}],"replaced":[2]})"), "kept and replaced"},
      {"kept twice", LedgerKind::kReconciled,
       Settles(R"({"seq":1,"kept":[{"i":2,"why":"changed","reason":""},{"i":2,"why":"held","reason":""}]})"), "twice"},
      {"malformed", LedgerKind::kReconciled, Settles(R"({"seq":"1"})"), "malformed settlement"},
  };
  for (const Bad& b : bad) {
    INFO(b.what);
    TempDir other;
    auto c = MustOpen(other / "state.db");
    REQUIRE(AppendBatch(*c, BatchEntry(a), Index(a), {}).ok());
    REQUIRE(AppendRaw(*c, b.kind, b.detail).ok());
    VerifyReport r = Verify(*c);
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad_seq == std::optional<int64_t>(2));
    CHECK_THAT(r.problem, Catch::Contains(b.problem));
  }

  SECTION("settled twice") {
    REQUIRE(AppendRaw(*db, LedgerKind::kReconciled, Settles(R"({"seq":1})")).ok());
    REQUIRE(Verify(*db).ok);
    REQUIRE(AppendRaw(*db, LedgerKind::kRunEnd, Settles(R"({"seq":1})")).ok());
    VerifyReport r = Verify(*db);
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad_seq == std::optional<int64_t>(3));
    CHECK_THAT(r.problem, Catch::Contains("settled before"));
  }
  SECTION("a settlement of a non-batch entry") {
    REQUIRE(AppendRaw(*db, LedgerKind::kReconciled, "").ok());
    REQUIRE(AppendRaw(*db, LedgerKind::kReconciled, Settles(R"({"seq":2})")).ok());
    VerifyReport r = Verify(*db);
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad_seq == std::optional<int64_t>(3));
  }
  SECTION("a batch entry that settles itself") {
    LedgerEntry e = BatchEntry(a);
    e.detail = Settles(R"({"seq":2})");
    REQUIRE(Append(*db, {e}).ok());
    VerifyReport r = Verify(*db);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.problem, Catch::Contains("not before it"));
  }
  SECTION("an undecodable payload, hashed as it is") {
    LedgerEntry e = BatchEntry(a);
    e.payload += std::string(1, '\0');
    REQUIRE(Append(*db, {e}).ok());
    VerifyReport r = Verify(*db);
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad_seq == std::optional<int64_t>(2));
    CHECK_THAT(r.problem, Catch::Contains("trailing bytes"));
  }
  SECTION("a payload on another kind") {
    LedgerEntry e;
    e.kind = LedgerKind::kDelete;
    e.payload = "x";
    REQUIRE(Append(*db, {e}).ok());
    VerifyReport r = Verify(*db);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.problem, Catch::Contains("with a payload"));
  }
}

// 200 batch entries of 5000 bench-like records (1M records), each settling
// the one before: verify's speed. Run: retention_tests "[.bench]".
TEST_CASE("verify speed over a 1M-record ledger", "[.bench][ledger][verify]") {
  TempDir dir(fs::path("/dev/shm"));
  auto db = MustOpen(dir / "state.db");
  int64_t prev = 0;
  for (int i = 0; i < 200; ++i) {
    const BatchPayload p = Payload(1 + i * 5000, 5000);
    std::vector<Settlement> settles;
    if (prev) settles.push_back(Settlement{prev, {{7, KeptReason{KeptWhy::kHeld, "held", std::nullopt, 1}}}, {}, false});
    auto seq = AppendBatch(*db, BatchEntry(p), Index(p), settles);
    REQUIRE(seq.ok());
    prev = *seq;
  }
  const auto start = std::chrono::steady_clock::now();
  VerifyReport r = Verify(*db);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.ok);
  CHECK(r.records == 1'000'000);
  std::printf("verify: %lld records in %.3f s = %.1f M records/s\n", static_cast<long long>(r.records), s,
              static_cast<double>(r.records) / s / 1e6);
}

}  // namespace
}  // namespace retention
