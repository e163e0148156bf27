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
    auto r = f.Retention({"audit", "log", "--format", "jsonl", "--key", "1002"});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    auto lines = JsonLines(r.out);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("seq") == a);
    CHECK(lines[0].at("kind") == "delete");
    CHECK(lines[0].at("outcome") == "deleted");
    CHECK(lines[0].at("settled_seq") == b);
    CHECK(lines[0].at("index") == 2);
    CHECK(lines[0].at("subject") == "customer:" + std::to_string(1002 % 7));
    CHECK(lines[0].at("hash").get<std::string>().size() == 64);
    // Kept, replaced and pending ones; and an old per-record entry by key.
    auto kept = JsonLines(f.Retention({"audit", "log", "--format", "jsonl", "--key", "1001"}).out);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].at("kind") == "kept");
    CHECK(kept[0].at("detail").at("why") == "held");
    auto replaced = JsonLines(f.Retention({"audit", "log", "--format", "jsonl", "--key", "2000"}).out);
    REQUIRE(replaced.size() == 1);
    CHECK(replaced[0].at("outcome") == "replaced");
    auto pending = JsonLines(f.Retention({"audit", "log", "--format", "jsonl", "--key", "3000"}).out);
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].at("outcome") == "pending");
    CHECK(pending[0].at("settled_seq").is_null());
    auto old = JsonLines(f.Retention({"audit", "log", "--format", "jsonl", "--key", "3"}).out);
    REQUIRE(old.size() == 1);
    CHECK(old[0].at("seq") == 4);
    CHECK(old[0].at("outcome") == "deleted");
    CHECK(old[0].at("index").is_null());
  }
  SECTION("log --kind delete: old delete entries and batch records deleted or replaced") {
    auto lines = JsonLines(f.Retention({"audit", "log", "--format", "jsonl", "--kind", "delete"}).out);
    CHECK(lines.size() == 8 + 3 + 2);
  }
  SECTION("export: the batch entry with its payload, and one line per record") {
    auto r = f.Retention({"audit", "export", "--format", "jsonl"});
    REQUIRE(r.exit_code == 0);
    int batch_lines = 0, record_lines = 0;
    for (const Json& j : JsonLines(r.out)) {
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
    const Json doc = Json::parse(r.out);
    for (const Json& j : doc.at("runs")) if (j.at("id") == 101) run = j;
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
TEST_CASE("audit show --entry decodes a batch entry's records and names its settlement", "[audit][batch][show]") {
  LedgerFixture f(10);
  int64_t a = 0, b = 0, settler = 0, open = 0;
  {
    auto db = OpenOrCreateStateDb(f.state_db, /*read_only=*/false);
    REQUIRE(db.ok());
    BatchPayload p = Keys(1000, 3);  // 1000..1002, with identities
    p.records[0].identity = "rowid=7";
    p.records[2].identity = "";
    a = AddBatch(**db, 101, p);
    Settlement s;
    s.batch_seq = a;
    s.kept.push_back({1, KeptReason{KeptWhy::kHeld, "held by hold 1 (M-1)", std::nullopt, 1}});
    b = AddBatch(**db, 101, Keys(2000, 2), {s});  // settles a
    Settlement t;
    t.batch_seq = b;
    t.replaced = {0};
    t.kept.push_back({1, KeptReason{KeptWhy::kNotDeleted, "found in place after the run crashed", std::nullopt,
                                    std::nullopt}});
    t.reconciled = true;
    LedgerEntry rec;
    rec.kind = LedgerKind::kReconciled;
    rec.run_id = 101;
    REQUIRE(AppendSettling(**db, rec, {t}).ok());
    settler = (*db)->Head().value().seq;
    open = AddBatch(**db, 101, Keys(3000, 1));
  }

  SECTION("json: every record decoded, with its outcome; the settling entry") {
    auto r = f.Retention({"audit", "show", "--entry", std::to_string(a), "--format", "json"});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    const Json j = Json::parse(r.out);
    CHECK(j.at("entry").at("seq") == a);
    CHECK(j.at("entry").at("kind") == "batch");
    CHECK_FALSE(j.at("entry").contains("payload"));
    CHECK(j.at("settlement").at("seq") == b);
    CHECK(j.at("settlement").at("kind") == "batch");
    CHECK(j.at("settlement").at("reconciled") == false);
    const Json& recs = j.at("records");
    REQUIRE(recs.size() == 3);
    CHECK(recs[0] == Json{{"index", 0}, {"key", "1000"}, {"clock", "2023-01-01 00:00:00"}, {"subject", "customer:6"},
                          {"identity", "rowid=7"}, {"outcome", "deleted"}});
    CHECK(recs[1].at("key") == "1001");
    CHECK_FALSE(recs[1].contains("identity"));  // absent: not known
    CHECK(recs[1].at("outcome") == "kept");
    CHECK(recs[1].at("kept").at("why") == "held");
    CHECK(recs[1].at("kept").at("hold") == 1);
    CHECK(recs[1].at("kept").at("reason") == "held by hold 1 (M-1)");
    CHECK(recs[2].at("identity") == "");
    CHECK(recs[2].at("outcome") == "deleted");
    CHECK(j.at("counts") == Json{{"deleted", 2}, {"kept", 1}, {"replaced", 0}, {"pending", 0}});
  }
  SECTION("json: settled by a reconciliation, replaced and not_deleted") {
    auto r = f.Retention({"audit", "show", "--entry", std::to_string(b), "--format", "json"});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    const Json j = Json::parse(r.out);
    CHECK(j.at("settlement").at("seq") == settler);
    CHECK(j.at("settlement").at("kind") == "reconciled");
    CHECK(j.at("settlement").at("reconciled") == true);
    CHECK(j.at("records").at(0).at("outcome") == "replaced");
    CHECK(j.at("records").at(1).at("kept").at("why") == "not_deleted");
  }
  SECTION("json: an open batch claims nothing") {
    auto r = f.Retention({"audit", "show", "--entry", std::to_string(open), "--format", "json"});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    const Json j = Json::parse(r.out);
    CHECK_FALSE(j.contains("settlement"));
    CHECK(j.at("records").at(0).at("outcome") == "pending");
  }
  SECTION("text: the same, for people") {
    auto r = f.Retention({"audit", "show", "--entry", std::to_string(a)});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("Entry " + std::to_string(a) + ": batch") != std::string::npos);
    CHECK(r.out.find("settled   by entry " + std::to_string(b) + " (batch") != std::string::npos);
    CHECK(r.out.find("Records: 3 (2 deleted, 0 replaced, 1 kept, 0 pending)") != std::string::npos);
    CHECK(r.out.find("  0  1000  2023-01-01 00:00:00  customer:6  rowid=7  deleted\n") != std::string::npos);
    CHECK(r.out.find("  1  1001  2023-01-01 00:00:00  customer:0  -  kept  held by hold 1 (M-1)\n") !=
          std::string::npos);
    auto o = f.Retention({"audit", "show", "--entry", std::to_string(open)});
    INFO(Describe(o));
    CHECK(o.out.find("not yet: the batch is open") != std::string::npos);
    CHECK(o.out.find("  0  3000  2023-01-01 00:00:00  customer:4  -  pending\n") != std::string::npos);
  }
  SECTION("another kind of entry, and one that is not there") {
    auto r = f.Retention({"audit", "show", "--entry", "1", "--format", "json"});
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
    CHECK(Json::parse(r.out).at("entry").at("kind") == "run_start");
    CHECK(f.Retention({"audit", "show", "--entry", "999"}).exit_code == 64);
    CHECK(f.Retention({"audit", "show", "101", "--entry", "1"}).exit_code == 64);
  }
}

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
