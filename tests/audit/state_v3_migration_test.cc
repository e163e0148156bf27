// Migration (issue 13): a schema version 3 state database written by the
// binary before batch entries (tests/fixtures/state_v3: per-record delete
// entries, a hold placed and released, two runs), opened by this code for
// writing, is upgraded in place; a run then appends a batch entry and its
// settlement. The chain continues across the change: the engine's verify
// and the independent checker (support/ledger_checker.h) both accept it,
// and the old entries still read in audit log and export.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "audit/audit_util.h"
#include "ledger/batch_entry.h"
#include "ledger/ledger.h"
#include "support/ledger_checker.h"

namespace retention::audit_test {
namespace {

namespace ck = retention::checker;
using Json = nlohmann::json;

TEST_CASE("a version 3 state extended with batch entries verifies end to end", "[audit][batch][migration]") {
  TempDir dir;
  const fs::path fixture = fs::path(RETENTION_TEST_FIXTURES) / "state_v3";
  for (const char* name : {"app.db", "state.db", "retention.toml"}) fs::copy_file(fixture / name, dir / name);
  fs::create_directories(dir / "rules");
  fs::copy_file(fixture / "rules" / "events.toml", dir / "rules" / "events.toml");
  const fs::path config = dir / "retention.toml";
  const fs::path app = dir / "app.db";
  const fs::path state_db = dir / "state.db";
  std::istringstream head_text(ReadFile(fixture / "head"));
  int64_t old_seq = 0;
  std::string old_hash;
  head_text >> old_seq >> old_hash;
  REQUIRE(old_seq > 0);

  ck::StoreSpec spec;
  spec.sqlite.push_back({"app", "events", app,
                         "SELECT id, created_at, CAST(strftime('%s', created_at) AS INTEGER) * 1000000, subject "
                         "FROM events",
                         "customer", ""});
  const ck::Snapshot before = ck::TakeSnapshot(spec, state_db);
  REQUIRE(before.ledger_seq == old_seq);

  // The candidates: the five oldest rows, as the store holds them.
  BatchPayload payload;
  payload.subject_kind = "customer";
  {
    Db db(app);
    for (const auto& row : db.Query("SELECT id, created_at, subject FROM events ORDER BY created_at, id LIMIT 5"))
      payload.records.push_back({*row[0], row[1].value_or(""), row[2].value_or(""), std::nullopt});
  }
  REQUIRE(payload.records.size() == 5);
  {
    auto opened = OpenSqliteStateDb(state_db, /*read_only=*/false);  // upgrades it
    INFO(opened.status().message());
    REQUIRE(opened.ok());
    StateDb& db = **opened;
    auto head = db.Head();
    REQUIRE(head.ok());
    CHECK(head->seq == old_seq);
    CHECK(head->hash == old_hash);
    RunInfo info;
    info.command = "purge (migration test)";
    auto run = BeginRun(db, info);
    REQUIRE(run.ok());
    LedgerEntry e;
    e.kind = LedgerKind::kBatch;
    e.run_id = *run;
    e.category = "events";
    e.store = "app";
    e.target = "events";
    e.cutoff = "2024-09-01T00:00:00Z";
    e.rule = "rules/events.toml:5";
    e.batch = 1;
    e.payload = EncodeBatchPayload(payload).value();
    const BatchKeyRange range = KeyRangeOf(payload);
    auto seq = AppendBatch(db, e, {"app", "events", range.lo, range.hi, range.integer_keys}, {});
    REQUIRE(seq.ok());
    CHECK(*seq == old_seq + 2);
    // The delete keeps the third candidate (as a hold would).
    Db(app).Exec("DELETE FROM events WHERE id IN (" + payload.records[0].key + "," + payload.records[1].key + "," +
                 payload.records[3].key + "," + payload.records[4].key + ")");
    Settlement s;
    s.batch_seq = *seq;
    s.kept.push_back({2, KeptReason{KeptWhy::kHeld, "held by hold 9 (M-9)", std::nullopt, 9}});
    REQUIRE(EndRun(db, *run, "ok", 0, R"({"deleted":4})", {s}).ok());
    auto v = VerifyLedger(db, FromUnixMicros(int64_t{4'000'000'000} * 1'000'000));
    REQUIRE(v.ok());
    INFO(v->problem);
    CHECK(v->ok);
    CHECK(v->records == 30 + 5);
    CHECK(v->open_batches == 0);
  }
  {
    Db db(state_db);
    CHECK(db.Column("SELECT value FROM meta WHERE key = 'schema_version'") == std::vector<std::string>{"8"});
    // The old entries are where they were, with the hashes they had.
    CHECK(db.Column("SELECT hash FROM ledger WHERE seq = " + std::to_string(old_seq)) ==
          std::vector<std::string>{old_hash});
  }

  // The engine's verify, through the binary.
  auto verify = RunWith(config, {"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);

  // The independent checker: its own decoder and hash, old and new entries.
  const auto problems = ck::Check(before, ck::TakeSnapshot(spec, state_db), state_db);
  INFO(ck::Report(problems));
  CHECK(problems.empty());

  // Old and new records read alike in export.
  auto exported = RunWith(config, {"audit", "export", "--format", "jsonl"});
  REQUIRE(exported.exit_code == 0);
  int old_deletes = 0, new_deletes = 0, new_kept = 0;
  std::istringstream lines(exported.out);
  std::string line;
  while (std::getline(lines, line)) {
    const Json j = Json::parse(line);
    if (!j.contains("record")) continue;
    if (j.at("seq").get<int64_t>() <= old_seq) {
      old_deletes += j.at("kind") == "delete";
      CHECK(j.at("index").is_null());
    } else {
      new_deletes += j.at("kind") == "delete";
      new_kept += j.at("kind") == "kept";
    }
  }
  CHECK(old_deletes == 30);
  CHECK(new_deletes == 4);
  CHECK(new_kept == 1);
  auto runs = RunWith(config, {"audit", "runs", "--format", "json"});
  REQUIRE(runs.exit_code == 0);
  const Json all = Json::parse(runs.out).at("runs");
  REQUIRE(all.size() == 3);
  CHECK(all.at(0).at("deleted") == 10);
  CHECK(all.at(1).at("deleted") == 20);
  CHECK(all.at(2).at("deleted") == 4);
  CHECK(all.at(2).at("kept_by_hold") == 1);
}

}  // namespace
}  // namespace retention::audit_test
