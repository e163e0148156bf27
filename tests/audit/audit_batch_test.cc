// The auditor's commands over batch entries (ledger/batch_entry.h): audit
// log / export print one row per record, carrying its batch entry's seq and
// hash; --key finds records through the batch index; audit runs counts
// records; old per-record entries read as before beside them.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>

#include "audit/audit_util.h"
#include "audit/ledger_query.h"
#include "ledger/batch_entry.h"

namespace retention::audit_test {
namespace {

using Json = nlohmann::json;

std::vector<Json> Lines(const std::string& text) {
  std::vector<Json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(Json::parse(line));
  return out;
}

BatchPayload Keys(int64_t first, int64_t n) {
  BatchPayload p;
  p.subject_kind = "customer";
  for (int64_t k = first; k < first + n; ++k)
    p.records.push_back({std::to_string(k), "2023-01-01 00:00:00", std::to_string(k % 7), std::nullopt});
  return p;
}

int64_t AddBatch(StateDb& db, int64_t run, const BatchPayload& p, std::vector<Settlement> settles = {}) {
  LedgerEntry e;
  e.kind = LedgerKind::kBatch;
  e.run_id = run;
  e.category = "support";
  e.store = "app";
  e.target = "tickets";
  e.cutoff = "2024-01-01T00:00:00Z";
  e.rule = "rules/x.toml:3";
  e.payload = EncodeBatchPayload(p).value();
  const BatchKeyRange r = KeyRangeOf(p);
  auto seq = AppendBatch(db, e, {"app", "tickets", r.lo, r.hi, r.integer_keys}, settles);
  REQUIRE(seq.ok());
  return *seq;
}

TEST_CASE("audit log, export and runs read batch entries as records, beside per-record entries", "[audit][batch]") {
  LedgerFixture f(10);  // 10 old per-record entries: run 101, 8 deletes, 1 kept
  int64_t a = 0, b = 0, c = 0;
  {
    auto db = OpenOrCreateStateDb(f.state_db, /*read_only=*/false);
    REQUIRE(db.ok());
    a = AddBatch(**db, 101, Keys(1000, 4));  // 1000..1003
    Settlement s;
    s.batch_seq = a;
    s.kept.push_back({1, KeptReason{KeptWhy::kHeld, "held by hold 1 (M-1)", std::nullopt, 1}});
    b = AddBatch(**db, 101, Keys(2000, 2), {s});  // 2000, 2001; settles a
    Settlement t;
    t.batch_seq = b;
    t.replaced = {0};
    t.reconciled = true;
    LedgerEntry rec;
    rec.kind = LedgerKind::kReconciled;
    rec.run_id = 101;
    REQUIRE(AppendSettling(**db, rec, {t}).ok());
    c = AddBatch(**db, 101, Keys(3000, 1));  // open
  }

  SECTION("log: a record of a batch, by key, with its batch entry's seq and hash") {
    auto r = f.Retention({"audit", "log", "--format", "json", "--key", "1002"});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    auto lines = Lines(r.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("seq") == a);
    CHECK(lines[0].at("kind") == "delete");
    CHECK(lines[0].at("outcome") == "deleted");
    CHECK(lines[0].at("settled_seq") == b);
    CHECK(lines[0].at("index") == 2);
    CHECK(lines[0].at("subject") == "customer:" + std::to_string(1002 % 7));
    CHECK(lines[0].at("hash").get<std::string>().size() == 64);
    // Kept, replaced and pending ones; and an old per-record entry by key.
    auto kept = Lines(f.Retention({"audit", "log", "--format", "json", "--key", "1001"}).out);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].at("kind") == "kept");
    CHECK(kept[0].at("detail").at("why") == "held");
    auto replaced = Lines(f.Retention({"audit", "log", "--format", "json", "--key", "2000"}).out);
    REQUIRE(replaced.size() == 1);
    CHECK(replaced[0].at("outcome") == "replaced");
    auto pending = Lines(f.Retention({"audit", "log", "--format", "json", "--key", "3000"}).out);
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].at("outcome") == "pending");
    CHECK(pending[0].at("settled_seq").is_null());
    auto old = Lines(f.Retention({"audit", "log", "--format", "json", "--key", "3"}).out);
    REQUIRE(old.size() == 1);
    CHECK(old[0].at("seq") == 4);
    CHECK(old[0].at("outcome") == "deleted");
    CHECK(old[0].at("index").is_null());
  }
  SECTION("log --kind delete: old delete entries and batch records deleted or replaced") {
    auto lines = Lines(f.Retention({"audit", "log", "--format", "json", "--kind", "delete"}).out);
    CHECK(lines.size() == 8 + 3 + 2);
  }
  SECTION("export: the batch entry with its payload, and one line per record") {
    auto r = f.Retention({"audit", "export", "--format", "jsonl"});
    REQUIRE(r.exit_code == 0);
    int batch_lines = 0, record_lines = 0;
    for (const Json& j : Lines(r.out)) {
      if (j.contains("payload")) {
        ++batch_lines;
        CHECK(Base64Decode(j.at("payload").get<std::string>()).has_value());
      }
      if (j.contains("record")) ++record_lines;
    }
    CHECK(batch_lines == 3);
    CHECK(record_lines == 9 + 4 + 2 + 1);
    auto csv = f.Retention({"audit", "export", "--format", "csv"});
    REQUIRE(csv.exit_code == 0);
    CHECK(Contains(csv.out, "prev_hash,hash,outcome,settled_seq,index\r\n"));
    CHECK(Contains(csv.out, ",replaced," + std::to_string(b + 1) + ",0\r\n"));
  }
  SECTION("runs: records counted, open ones not") {
    auto r = f.Retention({"audit", "runs", "--format", "json"});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    Json run;
    for (const Json& j : Json::parse(r.out)) if (j.at("id") == 101) run = j;
    REQUIRE(run.is_object());
    CHECK(run.at("deleted") == 8 + 3 + 2);
    CHECK(run.at("kept") == 1 + 1);
    CHECK(run.at("kept_by_hold") == 1 + 1);
  }
  SECTION("verify") {
    auto r = f.Retention({"audit", "verify"});
    INFO(Describe(r));
    CHECK(r.exit_code == 0);
  }
  (void)c;
}

// 1M records in 200 batch entries: --key looks the key up in the batch
// index and decodes only the batches that reach it.
TEST_CASE("audit log --key over a 1M-record ledger", "[.bench][audit][batch]") {
  LedgerFixture f(0);
  {
    auto db = OpenOrCreateStateDb(f.state_db, /*read_only=*/false);
    REQUIRE(db.ok());
    int64_t prev = 0;
    for (int i = 0; i < 200; ++i) {
      std::vector<Settlement> s;
      if (prev) s.push_back(Settlement{prev, {}, {}, false});
      prev = AddBatch(**db, 101, Keys(1 + i * 5000, 5000), s);
    }
  }
  auto db = OpenOrCreateStateDb(f.state_db, /*read_only=*/true);
  REQUIRE(db.ok());
  audit::LedgerFilter filter;
  filter.key = "123456";
  int rows = 0;
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(audit::ScanRows(**db, filter, [&](const LedgerEntry&, const LedgerRecord*) { return ++rows, true; }).ok());
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("audit log --key over 1M records: %.1f ms\n", ms);
  CHECK(rows == 1);
  CHECK(ms < 100);
}

}  // namespace
}  // namespace retention::audit_test
