// Batch entries in the state database (schema version 4): the payload
// column, the batch index (open batches, key ranges), and the state ops
// that append and settle batches (state/state_ops.h).
#include <catch2/catch.hpp>

#include "ledger/batch_entry.h"
#include "ledger/ledger.h"
#include "state/sqlite_state_db.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "state/test_util.h"

namespace retention {
namespace {

namespace fs = std::filesystem;
using testing::RawDb;
using testing::TempDir;

Timestamp At(int64_t seconds) { return FromUnixMicros(seconds * 1'000'000); }

std::unique_ptr<StateDb> MustOpen(const fs::path& path, bool read_only = false) {
  SqliteStateDbOptions o;
  o.clock = [] { return At(1'750'000'000); };
  o.read_only = read_only;
  auto db = OpenOrCreateStateDb(path, o);
  INFO(db.status().message());
  REQUIRE(db.ok());
  return std::move(db.value());
}

BatchPayload Payload(std::vector<std::string> keys) {
  BatchPayload p;
  p.subject_kind = "customer";
  for (auto& k : keys) p.records.push_back({k, "2024-01-01 00:00:00", "7", std::nullopt});
  return p;
}

// A batch entry of `keys` for store app, target `target`.
LedgerEntry BatchOf(const BatchPayload& p, const std::string& target = "events") {
  LedgerEntry e;
  e.kind = LedgerKind::kBatch;
  e.run_id = 1;
  e.category = "logs";
  e.store = "app";
  e.target = target;
  e.rule = "logs.toml:1";
  e.cutoff = "2024-06-01T00:00:00Z";
  e.batch = 1;
  e.payload = EncodeBatchPayload(p).value();
  return e;
}

BatchIndexRow IndexOf(const BatchPayload& p, const std::string& target = "events") {
  const BatchKeyRange r = KeyRangeOf(p);
  return BatchIndexRow{"app", target, r.lo, r.hi, r.integer_keys};
}

Result<int64_t> Add(StateDb& db, const std::vector<std::string>& keys, const std::vector<Settlement>& settles = {},
                    const std::string& target = "events") {
  const BatchPayload p = Payload(keys);
  return AppendBatch(db, BatchOf(p, target), IndexOf(p, target), settles);
}

Settlement Settle(int64_t seq) {
  Settlement s;
  s.batch_seq = seq;
  return s;
}

int64_t Entries(StateDb& db) {
  int64_t n = 0;
  REQUIRE(db.ScanLedger(0, [&](const LedgerEntry&) { return ++n, true; }).ok());
  return n;
}

TEST_CASE("a batch entry is stored with its payload, indexed open, and verifies", "[state][batch]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  const BatchPayload p = Payload({"5", "3", "9"});
  auto seq = AppendBatch(*db, BatchOf(p), IndexOf(p), {});
  REQUIRE(seq.ok());
  CHECK(*seq == 1);
  auto e = db->ReadEntry(*seq);
  REQUIRE(e.ok());
  REQUIRE(e->has_value());
  CHECK((*e)->kind == LedgerKind::kBatch);
  CHECK((*e)->payload == EncodeBatchPayload(p).value());
  CHECK(ComputeEntryHash(**e) == (*e)->hash);
  CHECK(db->ReadEntry(2).value() == std::nullopt);
  CHECK(db->OpenBatches().value() == std::vector<int64_t>{1});
  auto v = VerifyLedger(*db, At(1'750'000'000));
  REQUIRE(v.ok());
  CHECK(v->ok);

  // Keys 3..9 as integers: 4 is reached (a superset), 10 and "09" are not.
  CHECK(db->BatchesReaching("app", "events", "4").value() == std::vector<int64_t>{1});
  CHECK(db->BatchesReaching("app", "events", "9").value() == std::vector<int64_t>{1});
  CHECK(db->BatchesReaching("app", "events", "10").value().empty());
  CHECK(db->BatchesReaching("app", "events", "09").value().empty());
  CHECK(db->BatchesReaching("app", "other", "4").value().empty());
  {
    RawDb raw(dir / "state.db");
    CHECK(raw.Query("SELECT typeof(key_lo) || typeof(key_hi) FROM ledger_batches") == "integerinteger");
    CHECK(raw.Query("SELECT length(payload) FROM ledger WHERE seq = 1") ==
          std::to_string(EncodeBatchPayload(p).value().size()));
  }

  // A payload byte changed is a modified entry.
  {
    RawDb raw(dir / "state.db");
    REQUIRE(raw.Exec("DROP TRIGGER ledger_no_update") == "");
    REQUIRE(raw.Exec("UPDATE ledger SET payload = CAST(payload || x'00' AS BLOB) WHERE seq = 1") == "");
  }
  v = VerifyLedger(*db, At(1'750'000'000));
  REQUIRE(v.ok());
  CHECK_FALSE(v->ok);
  CHECK(v->first_bad_seq == std::optional<int64_t>(1));
}

TEST_CASE("text-keyed batches are found by text, and by a key that reads as an integer", "[state][batch]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  REQUIRE(Add(*db, {"1", "2x"}).ok());       // text: "1" .. "2x"
  REQUIRE(Add(*db, {"12", "30"}).ok());      // integer: 12 .. 30
  REQUIRE(Add(*db, {"a.log", "c.log"}).ok()); // text
  // "15" is inside the text range "1".."2x" and the integer range 12..30.
  CHECK(db->BatchesReaching("app", "events", "15").value() == std::vector<int64_t>{1, 2});
  CHECK(db->BatchesReaching("app", "events", "30").value() == std::vector<int64_t>{2});
  CHECK(db->BatchesReaching("app", "events", "3").value().empty());
  CHECK(db->BatchesReaching("app", "events", "b").value() == std::vector<int64_t>{3});
  CHECK(db->BatchesReaching("app", "events", "1a").value() == std::vector<int64_t>{1});
  CHECK(db->BatchesReaching("app", "events", "").value().empty());
  RawDb raw(dir / "state.db");
  CHECK(raw.Query("SELECT typeof(key_lo) FROM ledger_batches WHERE seq = 1") == "text");
}

TEST_CASE("settlements close batches in the same transaction, once", "[state][batch]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  auto first = Add(*db, {"1", "2"});
  auto second = Add(*db, {"3", "4"});
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(db->OpenBatches().value() == std::vector<int64_t>{1, 2});

  Settlement s = Settle(*first);
  s.kept.push_back({1, KeptReason{KeptWhy::kHeld, "held by hold 2 (M)", std::nullopt, 2}});
  auto third = Add(*db, {"5"}, {s});
  REQUIRE(third.ok());
  CHECK(db->OpenBatches().value() == std::vector<int64_t>{2, 3});
  auto e = db->ReadEntry(*third).value();
  REQUIRE(e);
  auto settled = SettlementsOf(e->detail);
  REQUIRE(settled.ok());
  REQUIRE(settled->size() == 1);
  CHECK((*settled)[0].batch_seq == *first);
  CHECK((*settled)[0].kept.at(0).index == 1);

  // Settling it again, or a seq that is no batch, or the entry itself: refused,
  // and nothing is written.
  const int64_t before = Entries(*db);
  CHECK(Add(*db, {"6"}, {Settle(*first)}).status().code() == StatusCode::kInternal);
  CHECK(Add(*db, {"6"}, {Settle(99)}).status().code() == StatusCode::kInternal);
  CHECK(Add(*db, {"6"}, {Settle(before + 1)}).status().code() == StatusCode::kInternal);
  LedgerEntry rec;
  rec.kind = LedgerKind::kReconciled;
  CHECK(AppendSettling(*db, rec, {Settle(*second), Settle(*first)}).code() == StatusCode::kInternal);
  CHECK(Entries(*db) == before);
  CHECK(db->OpenBatches().value() == std::vector<int64_t>{2, 3});

  // A reconciled entry settles one; the run's end the other.
  Settlement r = Settle(*second);
  r.reconciled = true;
  r.replaced = {0};
  REQUIRE(AppendSettling(*db, rec, {r}).ok());
  CHECK(db->OpenBatches().value() == std::vector<int64_t>{3});
  auto run = BeginRun(*db, RunInfo{});
  REQUIRE(run.ok());
  REQUIRE(EndRun(*db, *run, "ok", 0, R"({"deleted":3})", {Settle(*third)}).ok());
  CHECK(db->OpenBatches().value().empty());
  LedgerHead head = db->Head().value();
  auto end = db->ReadEntry(head.seq).value();
  REQUIRE(end);
  CHECK(end->kind == LedgerKind::kRunEnd);
  CHECK_THAT(end->detail, Catch::Contains(R"("deleted":3)") && Catch::Contains(R"("settles":[{"seq":3}])"));
  // A run that ends settling a closed batch does not end.
  auto run2 = BeginRun(*db, RunInfo{});
  REQUIRE(run2.ok());
  CHECK(EndRun(*db, *run2, "ok", 0, "", {Settle(*third)}).code() == StatusCode::kInternal);
  CHECK(db->UnfinishedRuns().value().size() == 1);
  auto v = VerifyLedger(*db, At(1'750'000'000));
  REQUIRE(v.ok());
  CHECK(v->ok);
}

TEST_CASE("AppendBatch refuses an entry that is no batch or has no payload", "[state][batch]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  const BatchPayload p = Payload({"1"});
  LedgerEntry e = BatchOf(p);
  e.payload.clear();
  CHECK(AppendBatch(*db, e, IndexOf(p), {}).status().code() == StatusCode::kInternal);
  e = BatchOf(p);
  e.kind = LedgerKind::kDelete;
  CHECK(AppendBatch(*db, e, IndexOf(p), {}).status().code() == StatusCode::kInternal);
  CHECK(Entries(*db) == 0);
}

TEST_CASE("a version 3 state database reads as it is, and is upgraded in place to version 4", "[state][batch]") {
  TempDir dir;
  const fs::path path = dir / "state.db";
  fs::copy_file(fs::path(RETENTION_TEST_FIXTURES) / "state_v3/state.db", path);
  int64_t old_entries = 0;
  {
    auto ro = MustOpen(path, /*read_only=*/true);
    old_entries = Entries(*ro);
    CHECK(old_entries > 30);
    CHECK(ro->OpenBatches().value().empty());
    CHECK(ro->BatchesReaching("app", "events", "1").value().empty());
    auto v = VerifyLedger(*ro, At(1'900'000'000));
    REQUIRE(v.ok());
    CHECK(v->ok);
    RawDb raw(path);
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == "3");
  }
  auto db = MustOpen(path);
  {
    RawDb raw(path);
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == "7");
    CHECK(raw.Query("SELECT count(*) FROM ledger WHERE payload = x''") == std::to_string(old_entries));
  }
  auto seq = Add(*db, {"1001", "1002"});
  REQUIRE(seq.ok());
  CHECK(*seq == old_entries + 1);
  REQUIRE(AppendSettling(*db, [] {
            LedgerEntry e;
            e.kind = LedgerKind::kReconciled;
            return e;
          }(), {Settle(*seq)}).ok());
  auto v = VerifyLedger(*db, At(1'900'000'000));
  REQUIRE(v.ok());
  INFO(v->problem);
  CHECK(v->ok);
  CHECK(v->entries == old_entries + 2);
}

}  // namespace
}  // namespace retention
