// The record view (ledger/ledger_records.h): per-record entries pass
// through, batch records appear at their settlement, open ones as pending.
#include "ledger/ledger_records.h"

#include <catch2/catch.hpp>

#include "state/sqlite_state_db.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "state/test_util.h"

namespace retention {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

Timestamp At(int64_t seconds) { return FromUnixMicros(seconds * 1'000'000); }

BatchPayload Payload(std::vector<std::string> keys) {
  BatchPayload p;
  p.subject_kind = "customer";
  for (size_t i = 0; i < keys.size(); ++i)
    p.records.push_back({keys[i], "2024-01-0" + std::to_string(i + 1), i == 0 ? "" : std::to_string(i), std::nullopt});
  return p;
}

int64_t AddBatch(StateDb& db, const BatchPayload& p, std::vector<Settlement> settles = {}) {
  LedgerEntry e;
  e.kind = LedgerKind::kBatch;
  e.run_id = 4;
  e.category = "logs";
  e.store = "app";
  e.target = "events";
  e.rule = "r.toml:1";
  e.cutoff = "2024-06-01T00:00:00Z";
  e.batch = 2;
  e.payload = EncodeBatchPayload(p).value();
  const BatchKeyRange r = KeyRangeOf(p);
  auto seq = AppendBatch(db, e, {"app", "events", r.lo, r.hi, r.integer_keys}, settles);
  REQUIRE(seq.ok());
  return *seq;
}

struct Row {
  std::string key;
  std::string outcome;
  int64_t batch_seq;
  int64_t settled_seq;
  std::string subject;
  bool operator==(const Row& o) const {
    return key == o.key && outcome == o.outcome && batch_seq == o.batch_seq && settled_seq == o.settled_seq &&
           subject == o.subject;
  }
};

std::ostream& operator<<(std::ostream& os, const Row& r) {
  return os << "{" << r.key << " " << r.outcome << " b" << r.batch_seq << " s" << r.settled_seq << " " << r.subject
            << "}";
}

TEST_CASE("the record view reads per-record entries and settled, reconciled and open batches", "[ledger][records]") {
  TempDir dir;
  SqliteStateDbOptions o;
  o.clock = [] { return At(1'750'000'000); };
  auto opened = OpenOrCreateStateDb(dir / "state.db", o);
  REQUIRE(opened.ok());
  StateDb& db = **opened;

  LedgerEntry del;
  del.kind = LedgerKind::kDelete;
  del.record_key = "old";
  del.subject = "customer:9";
  REQUIRE(Append(db, {del}).ok());                               // 1
  const int64_t a = AddBatch(db, Payload({"1", "2", "3", "4"})); // 2
  Settlement sa;
  sa.batch_seq = a;
  sa.kept.push_back({2, KeptReason{KeptWhy::kHeld, "held by hold 1 (M)", std::nullopt, 1}});
  const int64_t b = AddBatch(db, Payload({"7", "8"}), {sa});    // 3
  Settlement sb;
  sb.batch_seq = b;
  sb.replaced = {1};
  sb.reconciled = true;
  LedgerEntry rec;
  rec.kind = LedgerKind::kReconciled;
  REQUIRE(AppendSettling(db, rec, {sb}).ok());                   // 4
  const int64_t c = AddBatch(db, Payload({"x"}));               // 5, open

  std::vector<Row> rows;
  std::vector<LedgerRecord> full;
  REQUIRE(ScanRecords(db, 0, [&](const LedgerRecord& r) {
            rows.push_back({r.entry.record_key, r.OutcomeName(), r.batch_seq, r.settled_seq, r.entry.subject});
            full.push_back(r);
            return true;
          }).ok());
  const std::vector<Row> want = {
      {"old", "deleted", 0, 0, "customer:9"},
      {"1", "deleted", a, b, ""},
      {"2", "deleted", a, b, "customer:1"},
      {"3", "kept", a, b, "customer:2"},
      {"4", "deleted", a, b, "customer:3"},
      {"7", "deleted", b, 4, ""},
      {"8", "replaced", b, 4, "customer:1"},
      {"x", "pending", c, 0, ""},
  };
  CHECK(rows == want);
  REQUIRE(full.size() == want.size());
  CHECK(full[3].entry.kind == LedgerKind::kKept);
  CHECK_THAT(full[3].entry.detail, Catch::Contains(R"("why":"held")"));
  CHECK(full[3].entry.hash == db.ReadEntry(a).value()->hash);
  CHECK(full[3].entry.run_id == 4);
  CHECK(full[3].entry.rule == "r.toml:1");
  CHECK(full[3].index == 2);
  CHECK(full[6].reconciled);
  CHECK(full[6].Deleted());
  CHECK_FALSE(full[7].Deleted());
  CHECK(full[7].entry.kind == LedgerKind::kBatch);

  // Only the batches wanted are decoded.
  rows.clear();
  REQUIRE(ScanRecords(
              db, 0,
              [&](const LedgerRecord& r) {
                rows.push_back({r.entry.record_key, r.OutcomeName(), r.batch_seq, r.settled_seq, r.entry.subject});
                return true;
              },
              [&](const LedgerEntry& e) { return e.seq == b; })
              .ok());
  CHECK(rows == std::vector<Row>{want[0], want[5], want[6]});

  // Stopping early stops.
  int seen = 0;
  REQUIRE(ScanRecords(db, 0, [&](const LedgerRecord&) { return ++seen < 3; }).ok());
  CHECK(seen == 3);
}

}  // namespace
}  // namespace retention
