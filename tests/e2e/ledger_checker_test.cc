// The independent checker (support/ledger_checker.h) checked itself: it
// accepts an honest purge of the demo, and rejects, each with a message
// that names the entry and the record, what an attacker or a bug leaves
// behind: an entry recording deletions removed (a batch entry), a row
// deleted without an entry, a modified entry (a candidate's clock in a
// batch payload), and a ledger re-chained so that the hashes agree but the
// data does not (a settled candidate renamed to a record still there, a
// held record removed under a forged batch entry and settlement).
#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>

#include "e2e/e2e_util.h"
#include "ledger/batch_entry.h"
#include "state/sqlite_state_db.h"
#include "state/state_ops.h"
#include "support/background_process.h"
#include "support/ledger_checker.h"

namespace retention::e2e {
namespace {

namespace ck = retention::checker;

bool AnyContains(const std::vector<std::string>& problems, const std::string& a, const std::string& b = "") {
  for (const auto& p : problems)
    if (Contains(p, a) && Contains(p, b)) return true;
  return false;
}

// `bytes` as an SQL blob literal: a payload's bytes may hold NULs.
std::string BlobLiteral(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex = "x'";
  for (unsigned char c : bytes) hex += {kHex[c >> 4], kHex[c & 15]};
  return hex + "'";
}

// Writes `ledger` back as the whole ledger table, re-chained from its first
// entry: what an attacker who read ledger.cc can do. Triggers dropped.
void Rechain(const fs::path& state_db, std::vector<ck::Entry> ledger) {
  for (size_t i = 0; i < ledger.size(); ++i) {
    ledger[i].prev_hash = i == 0 ? ck::kZeroHash : ledger[i - 1].hash;
    ledger[i].hash = ck::EntryHash(ledger[i]);
  }
  Db db(state_db);
  db.Exec("DROP TRIGGER IF EXISTS ledger_no_update; DROP TRIGGER IF EXISTS ledger_no_delete; BEGIN; "
          "DELETE FROM ledger;");
  for (const ck::Entry& e : ledger) {
    db.Query("INSERT INTO ledger(seq, at, kind, run_id, category, store, target, record_key, clock, cutoff, rule, "
             "subject, batch, detail, prev_hash, hash, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
             "?12, ?13, ?14, ?15, ?16, " + BlobLiteral(e.payload) + ")",
             {std::to_string(e.seq), std::to_string(e.at), e.kind, std::to_string(e.run_id), e.category, e.store,
              e.target, e.record_key, e.clock, e.cutoff, e.rule, e.subject, std::to_string(e.batch), e.detail,
              e.prev_hash, e.hash});
  }
  db.Exec("COMMIT;");  // integers bound as text become integers again by the columns' affinity
}

// A tampered payload written back as bytes: the checker decodes (its own
// decoder), the test edits the records, the engine's encoder packs them
// again -- what an attacker who read batch_entry.h can do.
std::string Encode(const ck::Batch& b) {
  BatchPayload p;
  p.subject_kind = b.subject_kind;
  for (const ck::BatchRec& r : b.records) p.records.push_back({r.key, r.clock, r.subject, r.identity});
  auto bytes = EncodeBatchPayload(p);
  if (!bytes.ok()) throw std::runtime_error(bytes.status().message());
  return *bytes;
}

// The first batch entry of app/`target`.
const ck::Entry& BatchEntryOf(const ck::State& st, const std::string& target) {
  for (const ck::Entry& e : st.ledger)
    if (e.kind == "batch" && e.store == "app" && e.target == target) return e;
  throw std::runtime_error("no batch entry for app/" + target);
}

// The first candidate of batch entry `batch_seq` that its settlement claims
// deleted, as a delete entry (dated by the settling entry).
ck::Entry FirstDeleted(const ck::State& st, int64_t batch_seq) {
  std::vector<std::string> problems;
  for (const ck::Entry& e : ck::BatchDeletes(st, &problems))
    if (e.intent_seq == batch_seq) return e;
  throw std::runtime_error("batch entry " + std::to_string(batch_seq) + " claims no deletion");
}

// One honest purge of a small demo, with a hold in force before it
// (subject account:3); each case tampers with its own.
struct HonestRun {
  TempDir dir;
  fs::path demo;
  ck::Snapshot before;
  ck::Snapshot after;

  HonestRun() {
    demo = dir / "demo";
    const fs::path config = MakeDemo(demo, 3000);
    RunResult hold = RunWith(config, {"hold", "add", "--matter", "M-1", "--reason", "litigation", "--by", "test",
                                      "--subject", "account:3"});
    if (hold.exit_code != 0) throw std::runtime_error("hold add failed: " + Describe(hold));
    before = ck::TakeSnapshot(ck::DemoSpec(demo), demo / "state.db");
    RunResult purge = RunWith(config, {"purge"});
    if (purge.exit_code != 0) throw std::runtime_error("purge failed: " + Describe(purge));
    after = ck::TakeSnapshot(ck::DemoSpec(demo), demo / "state.db");
  }

  // The checker's verdict on the demo as it is now.
  std::vector<std::string> CheckNow() const {
    return ck::Check(before, ck::TakeSnapshot(ck::DemoSpec(demo), demo / "state.db"), demo / "state.db");
  }
};

TEST_CASE("checker: accepts an honest purge of the demo, SQLite and files", "[checker][e2e]") {
  HonestRun run;
  const auto problems = ck::Check(run.before, run.after, run.demo / "state.db");
  INFO(ck::Report(problems));
  CHECK(problems.empty());
  // It watched something: SQLite rows and files went, and the hold kept
  // account 3's due records.
  size_t gone_rows = 0, gone_files = 0;
  for (const auto& [target, records] : run.before.targets)
    for (const auto& [key, r] : records)
      if (!run.after.targets.at(target).count(key)) (r.is_file ? gone_files : gone_rows)++;
  CHECK(gone_rows > 100);
  CHECK(gone_files > 10);
  Db db(run.demo / "app.db", true);
  CHECK(db.Int("SELECT count(*) FROM request_logs WHERE account_id = 3") > 0);
}

TEST_CASE("checker: a removed delete entry is a gone record without an entry, and a broken chain", "[checker][e2e]") {
  // The entry that records request_logs' deletions is now a batch entry:
  // removing it removes the claim for every candidate its settlement did
  // not keep.
  HonestRun run;
  const fs::path demo = run.demo;
  const ck::State st = ck::ReadState(demo / "state.db");
  const ck::Entry& victim = BatchEntryOf(st, "request_logs");
  const std::string gone_key = FirstDeleted(st, victim.seq).record_key;
  Db state(demo / "state.db");
  state.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq = " + std::to_string(victim.seq));
  const auto problems = run.CheckNow();
  INFO(ck::Report(problems));
  CHECK(AnyContains(problems, "app/request_logs/" + gone_key + " (clock", "is gone but has no delete entry"));
  const int64_t seq = victim.seq;
  CHECK(AnyContains(problems, "ledger seq " + std::to_string(seq + 1) + " follows seq " + std::to_string(seq - 1),
                    "are missing"));
  CHECK(AnyContains(problems, "ledger seq " + std::to_string(seq + 1) + ": prev_hash"));
}

TEST_CASE("checker: a row or a file deleted without an entry is reported by name", "[checker][e2e]") {
  HonestRun run;
  const fs::path demo = run.demo;
  Db app(demo / "app.db");
  const std::string id = app.Column("SELECT id FROM usage_events ORDER BY id LIMIT 1")[0];
  app.Exec("DELETE FROM usage_events WHERE id = " + id);
  std::string file;
  for (const auto& e : fs::directory_iterator(demo / "logs"))
    if (e.path().filename().string().rfind("app.log-", 0) == 0) file = e.path().filename().string();
  REQUIRE(!file.empty());
  fs::remove(demo / "logs" / file);
  const auto problems = run.CheckNow();
  INFO(ck::Report(problems));
  CHECK(problems.size() == 2);
  CHECK(AnyContains(problems, "app/usage_events/" + id + " (clock", "is gone but has no delete entry"));
  CHECK(AnyContains(problems, "logs/rotated-logs/" + file + " (clock", "is gone but has no delete entry"));
}

TEST_CASE("checker: a modified entry fails its hash and names the wrong clock", "[checker][e2e]") {
  // One candidate's clock changed in the sessions batch entry's payload, as
  // someone who read the layout would, and the payload written back in
  // place: the entry's hash covers its payload.
  HonestRun run;
  const fs::path demo = run.demo;
  const ck::State st = ck::ReadState(demo / "state.db");
  const ck::Entry& batch = BatchEntryOf(st, "sessions");
  const ck::Entry deleted = FirstDeleted(st, batch.seq);
  ck::Batch payload = ck::DecodeBatch(batch.payload);
  bool changed = false;
  for (ck::BatchRec& r : payload.records) {
    if (r.key != deleted.record_key) continue;
    r.clock = "2099-01-01 00:00:00";
    changed = true;
  }
  REQUIRE(changed);
  Db state(demo / "state.db");
  state.Exec("DROP TRIGGER ledger_no_update; UPDATE ledger SET payload = " + BlobLiteral(Encode(payload)) +
             " WHERE seq = " + std::to_string(batch.seq));
  const auto problems = run.CheckNow();
  INFO(ck::Report(problems));
  CHECK(AnyContains(problems, "ledger seq " + std::to_string(batch.seq) + " (batch app/sessions/",
                    "but its fields hash to"));
  CHECK(AnyContains(problems, "delete entry seq " + std::to_string(deleted.seq) + " (app/sessions/" +
                                  deleted.record_key + ")",
                    "says clock '2099-01-01 00:00:00' but the record's clock was"));
  // The engine's verify names the entry too.
  RunResult verify = RunWith(demo / "retention.toml", {"audit", "verify"});
  CHECK(verify.exit_code == 78);
}

TEST_CASE("checker: a re-chained ledger that claims a deletion of a record still there is caught by the data",
          "[checker][e2e]") {
  // A settled candidate of the usage_events batch renamed to a record that
  // is still there, and the ledger re-chained: the hashes agree, the data
  // does not.
  HonestRun run;
  const fs::path demo = run.demo;
  ck::State st = ck::ReadState(demo / "state.db");
  Db app(demo / "app.db", true);
  const std::string present = app.Column("SELECT id FROM usage_events ORDER BY id DESC LIMIT 1")[0];
  const ck::Entry& batch_entry = BatchEntryOf(st, "usage_events");
  const std::string moved_from = FirstDeleted(st, batch_entry.seq).record_key;
  ck::Batch payload = ck::DecodeBatch(batch_entry.payload);
  for (ck::BatchRec& r : payload.records)
    if (r.key == moved_from) r.key = present;  // the batch now names a record that was not deleted
  for (ck::Entry& e : st.ledger)
    if (e.seq == batch_entry.seq) e.payload = Encode(payload);
  Rechain(demo / "state.db", st.ledger);
  // The engine's verify checks the batch index against the payload: the
  // key range no longer matches.
  RunResult half_forged = RunWith(demo / "retention.toml", {"audit", "verify"});
  CHECK(half_forged.exit_code == 78);
  // A forger who rewrites the index too.
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const ck::BatchRec& r : payload.records) {
    lo = std::min<int64_t>(lo, std::stoll(r.key));
    hi = std::max<int64_t>(hi, std::stoll(r.key));
  }
  // (And the widest key span of the target, which bounds a key lookup.)
  Db(demo / "state.db").Exec("UPDATE ledger_batches SET key_lo = " + std::to_string(lo) + ", key_hi = " +
                             std::to_string(hi) + " WHERE seq = " + std::to_string(batch_entry.seq) +
                             "; UPDATE ledger_key_spans SET widest = max(widest, " + std::to_string(hi - lo) +
                             ") WHERE target = 'usage_events'");
  const auto problems = run.CheckNow();
  INFO(ck::Report(problems));
  REQUIRE(!problems.empty());
  for (const auto& p : problems) CHECK_FALSE(Contains(p, "hash"));  // the chain itself is sound
  CHECK(AnyContains(problems, "(app/usage_events/" + present + ") claims a deletion, but the record is still there"));
  CHECK(AnyContains(problems, "app/usage_events/" + moved_from + " (clock", "is gone but has no delete entry"));
  // The engine's own verify sees nothing wrong: only the data shows it.
  RunResult verify = RunWith(demo / "retention.toml", {"audit", "verify"});
  CHECK(verify.exit_code == 0);
}

TEST_CASE("audit verify: a key span index lowered by hand exits 78 naming it", "[checker][e2e][lookup]") {
  // The bound a key lookup reads the batch index with (schema version 7):
  // lowered, `audit log --key` would miss the wider batches.
  HonestRun run;
  const fs::path config = run.demo / "retention.toml";
  REQUIRE(RunWith(config, {"audit", "verify"}).exit_code == 0);
  Db(run.demo / "state.db").Exec("UPDATE ledger_key_spans SET widest = 0 WHERE target = 'usage_events'");
  RunResult verify = RunWith(config, {"audit", "verify"});
  CHECK(verify.exit_code == 78);
  CHECK_THAT(verify.out + verify.err, Catch::Contains("key span index was edited by hand"));
}

TEST_CASE("audit verify: a run tally edited by hand exits 78 naming it, and audit runs shows the edit",
          "[checker][e2e][lookup]") {
  // The counts `audit runs`, `audit show` and `status` print come from the
  // run tally index (schema version 8), which the chain does not cover:
  // verify recounts them from the entries.
  HonestRun run;
  const fs::path config = run.demo / "retention.toml";
  REQUIRE(RunWith(config, {"audit", "verify"}).exit_code == 0);
  Db state(run.demo / "state.db");
  const auto row = state.Query("SELECT run_id, deleted FROM run_tallies WHERE deleted > 0 ORDER BY run_id LIMIT 1");
  REQUIRE(row.size() == 1);
  const std::string run_id = *row[0][0];
  const int64_t deleted = std::stoll(*row[0][1]);
  auto deleted_in_runs = [&] {
    RunResult runs = RunWith(config, {"audit", "runs", "--format", "json"});
    REQUIRE(runs.exit_code == 0);
    const nlohmann::json all = nlohmann::json::parse(runs.out);
    for (const auto& r : all.at("runs"))
      if (std::to_string(r.at("id").get<int64_t>()) == run_id) return r.at("deleted").get<int64_t>();
    FAIL("run " + run_id + " is not in audit runs");
    return int64_t{-1};
  };
  int64_t total = 0;
  for (const auto& r : state.Query("SELECT deleted FROM run_tallies WHERE run_id = " + run_id)) total += std::stoll(*r[0]);
  CHECK(deleted_in_runs() == total);
  state.Exec("UPDATE run_tallies SET deleted = deleted - 1 WHERE run_id = " + run_id + " AND deleted = " +
             std::to_string(deleted));
  CHECK(deleted_in_runs() == total - 1);
  RunResult verify = RunWith(config, {"audit", "verify"});
  CHECK(verify.exit_code == 78);
  CHECK_THAT(verify.out + verify.err, Catch::Contains("the run tally index says run " + run_id) &&
                                          Catch::Contains("edited by hand"));
}

TEST_CASE("checker: a held record deleted with a well-chained entry is reported with its hold", "[checker][e2e]") {
  // A held row deleted behind the engine's back, and the ledger extended
  // with a forged batch entry naming it (the run's own fields) and a forged
  // settlement claiming it, then re-chained: the checker judges the
  // deletion by the holds in force and names the hold.
  HonestRun run;
  const fs::path demo = run.demo;
  Db app(demo / "app.db");
  const auto row = app.Query("SELECT id, created_at FROM request_logs WHERE account_id = 3 AND " +
                             TextClockSeconds("created_at") + " < strftime('%s', 'now', '-120 days') LIMIT 1");
  REQUIRE(row.size() == 1);
  const std::string id = *row[0][0];
  app.Exec("DELETE FROM request_logs WHERE id = " + id);
  ck::State st = ck::ReadState(demo / "state.db");
  ck::Entry forged = BatchEntryOf(st, "request_logs");
  ck::Batch payload = ck::DecodeBatch(forged.payload);
  payload.records = {{id, *row[0][1], "3", std::nullopt}};
  REQUIRE(payload.subject_kind == "account");
  forged.payload = Encode(payload);
  nlohmann::json detail = nlohmann::json::parse(forged.detail);
  detail.erase("settles");  // the template settled the batch before it: that is not the forger's to repeat
  forged.detail = detail.dump();
  forged.seq = st.ledger.back().seq + 1;
  forged.at = st.ledger.back().at + 1;
  ck::Entry settling = st.ledger.back();
  REQUIRE(settling.kind == "run_end");
  settling.seq = forged.seq + 1;
  settling.at = forged.at + 1;
  settling.detail = R"({"settles":[{"seq":)" + std::to_string(forged.seq) + "}]}";
  st.ledger.push_back(forged);
  st.ledger.push_back(settling);
  Rechain(demo / "state.db", st.ledger);
  const auto problems = run.CheckNow();
  INFO(ck::Report(problems));
  REQUIRE(problems.size() == 1);
  CHECK(Contains(problems[0], "delete entry seq " + std::to_string(settling.seq) + " (app/request_logs/" + id +
                                  ") removed a record covered by hold #1 (M-1), placed at seq 1, never released"));
}

TEST_CASE("checker: follows a ledger pruned behind an anchor, and rejects a prefix cut without one",
          "[checker][e2e]") {
  TempDir dir;
  const fs::path demo = dir / "demo";
  const fs::path config = MakeDemo(demo, 1000);
  // A state database with 300 entries from 2024 (past the purge log's 12
  // months) before the hold: written and chained by the checker's own code.
  RunResult hold = RunWith(config, {"hold", "add", "--matter", "M-1", "--reason", "r", "--by", "test", "--subject",
                                    "account:3"});
  REQUIRE(hold.exit_code == 0);
  ck::State st = ck::ReadState(demo / "state.db");
  REQUIRE(st.ledger.size() == 1);
  std::vector<ck::Entry> ledger;
  for (int i = 0; i < 300; ++i) {
    ck::Entry e;
    e.kind = "delete";
    e.run_id = 0;
    e.category = "usage_events";
    e.store = "app";
    e.target = "usage_events";
    e.record_key = std::to_string(900000 + i);
    e.clock = "2023-01-01T00:00:00Z";
    e.cutoff = "2023-06-01T00:00:00Z";
    e.rule = "usage_events.toml:14";
    e.at = (int64_t{1704067200} + i * 3600) * 1000000;  // 2024-01-01, one an hour
    ledger.push_back(e);
  }
  ledger.push_back(st.ledger[0]);
  for (size_t i = 0; i < ledger.size(); ++i) ledger[i].seq = static_cast<int64_t>(i + 1);
  Rechain(demo / "state.db", ledger);
  {
    // The engine reads this forged-but-sound ledger as sound: the layout
    // the checker implements is the engine's.
    RunResult verify = RunWith(config, {"audit", "verify"});
    INFO(Describe(verify));
    REQUIRE(verify.exit_code == 0);
  }
  const ck::Snapshot before = ck::TakeSnapshot(ck::DemoSpec(demo), demo / "state.db");
  RunResult purge = RunWith(config, {"purge", "--category", "audit_security", "--allow-mass-delete"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  Db state(demo / "state.db");
  REQUIRE(state.Int("SELECT min(seq) FROM ledger") == 301);  // pruned behind an anchor
  auto problems = ck::Check(before, ck::TakeSnapshot(ck::DemoSpec(demo), demo / "state.db"), demo / "state.db");
  {
    INFO(ck::Report(problems));
    CHECK(problems.empty());
  }
  // Cut the anchor's first successor too, as if pruned without an anchor.
  state.Exec("DROP TRIGGER IF EXISTS ledger_no_delete; DELETE FROM ledger WHERE seq = 301");
  problems = ck::Check(before, ck::TakeSnapshot(ck::DemoSpec(demo), demo / "state.db"), demo / "state.db");
  INFO(ck::Report(problems));
  CHECK(AnyContains(problems, "ledger starts at seq 302", "but no anchor accounts for entries 1..301"));
}

// ---- batch entries (schema version 4) -------------------------------------

// A SQLite target of five rows and a state database whose ledger holds one
// batch entry for rows 1-5, written by the engine, and a settlement keeping
// row 3 (held); rows 1, 2, 4 and 5 are then deleted, as the executor would.
struct BatchRun {
  TempDir dir;
  fs::path app, state;
  ck::StoreSpec spec;
  ck::Snapshot before;
  int64_t batch_seq = 0;

  BatchRun() {
    app = dir / "app.db";
    state = dir / "state.db";
    {
      Db db(app);
      db.Exec("CREATE TABLE events(id INTEGER PRIMARY KEY, at TEXT, customer INTEGER);");
      for (int i = 1; i <= 5; ++i)
        db.Exec("INSERT INTO events VALUES(" + std::to_string(i) + ", '2024-01-0" + std::to_string(i) +
                " 00:00:00', " + std::to_string(10 + i) + ")");
    }
    spec.sqlite.push_back({"app", "events", app,
                           "SELECT id, at, CAST(strftime('%s', at) AS INTEGER) * 1000000, customer FROM events",
                           "customer", ""});
    SqliteStateDbOptions o;
    o.create = true;
    auto db = OpenSqliteStateDb(state, o);
    if (!db.ok()) throw std::runtime_error(db.status().message());
    before = ck::TakeSnapshot(spec, state);
    BatchPayload p;
    p.subject_kind = "customer";
    for (int i = 1; i <= 5; ++i)
      p.records.push_back({std::to_string(i), "2024-01-0" + std::to_string(i) + " 00:00:00", std::to_string(10 + i),
                           std::nullopt});
    LedgerEntry e;
    e.kind = LedgerKind::kBatch;
    e.run_id = 1;
    e.category = "logs";
    e.store = "app";
    e.target = "events";
    e.payload = EncodeBatchPayload(p).value();
    const BatchKeyRange r = KeyRangeOf(p);
    auto seq = AppendBatch(**db, e, {"app", "events", r.lo, r.hi, r.integer_keys}, {});
    if (!seq.ok()) throw std::runtime_error(seq.status().message());
    batch_seq = *seq;
    Db(app).Exec("DELETE FROM events WHERE id <> 3");
    Settlement s;
    s.batch_seq = batch_seq;
    s.kept.push_back({2, KeptReason{KeptWhy::kHeld, "held", std::nullopt, std::nullopt}});
    LedgerEntry end;
    end.kind = LedgerKind::kRunEnd;
    end.run_id = 1;
    Status st = AppendSettling(**db, end, {s});
    if (!st.ok()) throw std::runtime_error(st.message());
  }

  std::vector<std::string> CheckNow() const { return ck::Check(before, ck::TakeSnapshot(spec, state), state); }
};

TEST_CASE("checker: decodes batch entries and accepts their settled deletions", "[checker][batch]") {
  BatchRun run;
  auto problems = run.CheckNow();
  INFO(ck::Report(problems));
  CHECK(problems.empty());
  // The checker's own decoder reads what the engine wrote.
  const ck::State st = ck::ReadState(run.state);
  const ck::Batch b = ck::DecodeBatch(st.ledger.at(0).payload);
  REQUIRE(b.records.size() == 5);
  CHECK(b.records[4].key == "5");
  CHECK(b.records[4].clock == "2024-01-05 00:00:00");
  CHECK(b.records[4].subject == "15");
  CHECK(b.subject_kind == "customer");
}

TEST_CASE("checker: a batch not settled claims nothing, so its deletions have no entry", "[checker][batch]") {
  BatchRun run;
  ck::State st = ck::ReadState(run.state);
  st.ledger.pop_back();  // the settlement
  Rechain(run.state, st.ledger);
  auto problems = run.CheckNow();
  INFO(ck::Report(problems));
  CHECK(AnyContains(problems, "app/events/1 ", "is gone but has no delete entry"));
  CHECK(problems.size() == 4);
}

TEST_CASE("checker: a tampered payload byte breaks the hash", "[checker][batch]") {
  BatchRun run;
  {
    Db db(run.state);
    db.Exec("DROP TRIGGER IF EXISTS ledger_no_update");
    // The first key's delta, 1 -> 2: the batch now names keys 2..6.
    db.Exec("UPDATE ledger SET payload = CAST(substr(payload, 1, 3) || x'04' || substr(payload, 5) AS BLOB) "
            "WHERE seq = " + std::to_string(run.batch_seq));
  }
  auto problems = run.CheckNow();
  INFO(ck::Report(problems));
  CHECK(AnyContains(problems, "ledger seq 1 (batch", "but its fields hash to"));
}

TEST_CASE("checker: a re-chained payload naming other keys is caught by the data", "[checker][batch]") {
  BatchRun run;
  ck::State st = ck::ReadState(run.state);
  std::string& payload = st.ledger.at(0).payload;
  REQUIRE(payload.at(3) == '\x02');  // zigzag(1)
  payload[3] = '\x04';               // keys 2..6
  Rechain(run.state, st.ledger);
  auto problems = run.CheckNow();
  INFO(ck::Report(problems));
  CHECK(AnyContains(problems, "app/events/1 ", "is gone but has no delete entry"));
  CHECK(AnyContains(problems, "(app/events/6)", "names a record that was not there"));
  CHECK(AnyContains(problems, "(app/events/3)", "claims a deletion, but the record is still there"));
}

TEST_CASE("checker: forged settlements are reported", "[checker][batch]") {
  BatchRun run;
  ck::State st = ck::ReadState(run.state);
  SECTION("the kept record claimed deleted") {
    st.ledger.back().detail = R"({"settles":[{"seq":1}]})";
    Rechain(run.state, st.ledger);
    auto problems = run.CheckNow();
    INFO(ck::Report(problems));
    CHECK(AnyContains(problems, "(app/events/3)", "claims a deletion, but the record is still there"));
  }
  SECTION("settled twice") {
    ck::Entry again = st.ledger.back();
    again.seq += 1;
    st.ledger.push_back(again);
    Rechain(run.state, st.ledger);
    auto problems = run.CheckNow();
    INFO(ck::Report(problems));
    CHECK(AnyContains(problems, "ledger seq 3 settles seq 1", "not an earlier batch entry still open"));
  }
  SECTION("an index outside the batch") {
    st.ledger.back().detail = R"({"settles":[{"seq":1,"kept":[{"i":2,"why":"held"}],"replaced":[9]}]})";
    Rechain(run.state, st.ledger);
    auto problems = run.CheckNow();
    INFO(ck::Report(problems));
    CHECK(AnyContains(problems, "settles candidate 9 of batch seq 1", "which has 5"));
  }
}

}  // namespace
}  // namespace retention::e2e
