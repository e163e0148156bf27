// Batch entries in the state database (schema version 4): the payload
// column, the batch index (open batches, key ranges), and the state ops
// that append and settle batches (state/state_ops.h).
#include <catch2/catch.hpp>

#include "ledger/batch_entry.h"
#include "ledger/ledger.h"
#include "state/sqlite_state_db.h"
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

std::unique_ptr<StateDb> MustOpen(const fs::path& path, bool read_only = false) {
  SqliteStateDbOptions o;
  o.clock = [] { return At(1'750'000'000); };
  o.read_only = read_only;
  auto db = OpenOrCreateStateDb(path, o);
  INFO(db.status().message());
  REQUIRE(db.ok());
  return std::move(db.value());
}

using contract::Add;
using contract::BatchOf;
using contract::Entries;
using contract::IndexOf;
using contract::Payload;
using contract::Settle;

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
  contract::BatchesReachingContract(*db);
  RawDb raw(dir / "state.db");
  CHECK(raw.Query("SELECT typeof(key_lo) FROM ledger_batches WHERE seq = 1") == "text");
}

TEST_CASE("settlements close batches in the same transaction, once", "[state][batch]") {
  TempDir dir;
  auto db = MustOpen(dir / "state.db");
  contract::SettlementsContract(*db);
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
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == std::to_string(kStateSchemaVersion));
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
