// The lookup indexes of schema version 6 (ledger/entry_index.h): `audit log
// --key/--subject/--run`, `audit show` and `explain` read only the entries
// they name. Property: over random ledgers (batch entries on integer- and
// text-keyed targets, settled, kept, left open, reconciled by a later run;
// per-record entries; holds), a query through the indexes returns exactly
// the rows a scan of every entry returns, and the runs summarized from the
// runs table and each run's entries are the runs summarized from every
// entry. An index edited by hand can neither invent a row (rows are judged
// on the entries) nor, unnoticed, hide one (`audit verify` names it; a
// settlement the index misplaces sends the query back to a full scan).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <set>
#include <sstream>

#include "audit/audit_util.h"
#include "audit/ledger_query.h"
#include "audit/run_history.h"
#include "audit/state_cross_check.h"
#include "ledger/ledger.h"
#include "ledger/batch_entry.h"
#include "ledger/entry_index.h"
#include "ledger/ledger_records.h"
#include "state/sqlite_state_db.h"
#include "state/test_util.h"

namespace retention::audit_test {
namespace {

Timestamp At(int64_t seconds) { return FromUnixMicros(seconds * 1'000'000); }

std::unique_ptr<StateDb> Open(const fs::path& path, bool read_only = false) {
  SqliteStateDbOptions o;
  o.clock = [] { return At(1'750'000'000); };
  o.read_only = read_only;
  auto db = OpenOrCreateStateDb(path, o);
  INFO(db.status().message());
  REQUIRE(db.ok());
  return std::move(db.value());
}

// The rows of `filter` as text (JSON lines), through `scan`.
template <typename Scan>
std::string Rows(StateDb& state, const audit::LedgerFilter& filter, Scan scan) {
  std::ostringstream out;
  Status st = scan(state, filter, [&](const LedgerEntry& e, const LedgerRecord* r) {
    audit::WriteJsonLine(e, out, r);
    return true;
  });
  INFO(st.message());
  REQUIRE(st.ok());
  return out.str();
}

// The oracle: every entry, through the record view, judged by the filter;
// no index read at all.
Status EveryEntry(StateDb& state, const audit::LedgerFilter& filter,
                  const std::function<bool(const LedgerEntry&, const LedgerRecord*)>& visit) {
  return ScanRecords(
      state, INT64_MIN,
      [&](const LedgerRecord& r) { return !filter.Matches(r.entry) || visit(r.entry, &r); }, nullptr,
      [&](const LedgerEntry& e) {
        if (e.kind == LedgerKind::kDelete || e.kind == LedgerKind::kKept) return true;
        return !filter.Matches(e) || visit(e, nullptr);
      });
}

// The run tally index as text.
constexpr const char* kTallies =
    "SELECT group_concat(run_id || ' ' || category || ' ' || deleted || ' ' || kept || ' ' || kept_by_hold, ',') "
    "FROM (SELECT * FROM run_tallies ORDER BY run_id, category)";

std::string RunsJson(const std::vector<audit::RunSummary>& runs) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& r : runs) j.push_back(r.ToJson());
  return j.dump();
}

struct RandomLedger {
  std::vector<std::string> keys, subjects;
  std::vector<int64_t> runs;
  int64_t entries = 0;
};

// A ledger of `n_runs` runs through the state ops, from `seed`.
RandomLedger Build(StateDb& db, uint32_t seed, int n_runs) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  RandomLedger out;
  for (int i = 1; i <= 12; ++i) out.keys.push_back(std::to_string(i * 7));
  for (const char* k : {"a.log", "b.log", "c.log"}) out.keys.push_back(k);
  for (int i = 1; i <= 5; ++i) out.subjects.push_back("customer:" + std::to_string(i));
  std::vector<int64_t> left_open;
  for (int run = 0; run < n_runs; ++run) {
    RunInfo info;
    info.command = "purge";
    info.user = "ops";
    auto id = BeginRun(db, info);
    REQUIRE(id.ok());
    out.runs.push_back(*id);
    // A crashed run's open batch, settled by this one's reconciliation.
    if (!left_open.empty() && pick(2) == 0) {
      LedgerEntry rec;
      rec.kind = LedgerKind::kReconciled;
      rec.run_id = *id;
      Settlement s;
      s.batch_seq = left_open.back();
      s.reconciled = true;
      s.replaced = {0};
      REQUIRE(AppendSettling(db, rec, {s}).ok());
      left_open.pop_back();
    }
    if (pick(3) == 0) {
      Hold h;
      h.matter = "M-" + std::to_string(run);
      h.author = "legal";
      h.scope.subject_kind = "customer";
      h.scope.subject_id = std::to_string(1 + pick(5));
      REQUIRE(AddHold(db, h, "test-host").ok());
    }
    std::vector<Settlement> due;  // settled by the next batch entry or the run's end
    const int batches = 1 + pick(4);
    for (int b = 0; b < batches; ++b) {
      const bool text = pick(3) == 0;
      BatchPayload p;
      p.subject_kind = text ? "" : "customer";
      std::set<std::string> used;
      const int n = 1 + pick(5);
      for (int i = 0; i < n; ++i) {
        const std::string key = text ? out.keys[12 + pick(3)] : out.keys[pick(12)];
        if (!used.insert(key).second) continue;
        p.records.push_back({key, "2023-0" + std::to_string(1 + pick(9)) + "-01", text ? "" : std::to_string(1 + pick(5)),
                             std::nullopt});
      }
      LedgerEntry e;
      e.kind = LedgerKind::kBatch;
      e.run_id = *id;
      e.category = text ? "logs" : "events";
      e.store = text ? "files" : "app";
      e.target = text ? "logs" : "events";
      e.rule = "rules/x.toml:1";
      e.cutoff = "2024-01-01T00:00:00Z";
      e.batch = b + 1;
      e.payload = EncodeBatchPayload(p).value();
      const BatchKeyRange range = KeyRangeOf(p);
      auto seq = AppendBatch(db, e, {e.store, e.target, range.lo, range.hi, range.integer_keys}, due);
      REQUIRE(seq.ok());
      due.clear();
      Settlement s;
      s.batch_seq = *seq;
      if (pick(2) == 0) s.kept.push_back({0, KeptReason{KeptWhy::kHeld, "held by hold 1 (M-1)", std::nullopt, 1}});
      due.push_back(s);
    }
    // Legacy per-record entries (a batch settled as delete entries).
    if (pick(2) == 0) {
      PendingBatch pb;
      pb.run_id = *id;
      pb.batch = 99;
      pb.category = "events";
      pb.store = "app";
      pb.target = "events";
      pb.rule = "rules/x.toml:1";
      pb.cutoff = "2024-01-01T00:00:00Z";
      auto pid = db.AddPending(pb);
      REQUIRE(pid.ok());
      std::vector<LedgerEntry> recs;
      for (int i = 0; i < 2; ++i) {
        LedgerEntry d;
        d.kind = i == 0 ? LedgerKind::kDelete : LedgerKind::kKept;
        d.run_id = *id;
        d.category = "events";
        d.store = "app";
        d.target = "events";
        d.record_key = out.keys[pick(12)];
        d.clock = "2023-01-01";
        d.cutoff = "2024-01-01T00:00:00Z";
        d.rule = "rules/x.toml:1";
        d.subject = out.subjects[pick(5)];
        d.batch = 99;
        if (i == 1) d.detail = R"j({"reason":"held by hold 1 (M-1)"})j";
        recs.push_back(d);
      }
      REQUIRE(SettlePending(db, *pid, recs).ok());
    }
    if (pick(4) == 0) {
      // Dies: its last batch stays open, no run_end.
      left_open.push_back(due.back().batch_seq);
      continue;
    }
    REQUIRE(EndRun(db, *id, "ok", 0, R"({"deleted":1})", due).ok());
  }
  auto head = db.Head();
  REQUIRE(head.ok());
  out.entries = head->seq;
  return out;
}

// Every query the indexes answer, compared with the oracle.
void CompareAll(StateDb& db, const RandomLedger& ledger, int* nonempty) {
  std::vector<audit::LedgerFilter> filters;
  for (const std::string& k : ledger.keys) {
    audit::LedgerFilter f;
    f.key = k;
    filters.push_back(f);
    f.store = "app";
    f.target = "events";
    filters.push_back(f);
    f.kinds = {LedgerKind::kDelete, LedgerKind::kBatch};
    filters.push_back(f);
  }
  for (const std::string& s : ledger.subjects) {
    audit::LedgerFilter f;
    f.subject = s;
    filters.push_back(f);
    f.run_id = ledger.runs[ledger.runs.size() / 2];
    filters.push_back(f);
  }
  for (int64_t run : ledger.runs) {
    audit::LedgerFilter f;
    f.run_id = run;
    filters.push_back(f);
    f.kinds = {LedgerKind::kKept};
    filters.push_back(f);
  }
  audit::LedgerFilter none;
  none.run_id = 424242;
  filters.push_back(none);
  for (const audit::LedgerFilter& f : filters) {
    const std::string want = Rows(db, f, EveryEntry);
    const std::string got = Rows(db, f, audit::ScanRows);
    INFO("key " << f.key.value_or("-") << " subject " << f.subject.value_or("-") << " run " << f.run_id.value_or(0));
    CHECK(got == want);
    if (!want.empty()) ++*nonempty;
  }
}

TEST_CASE("queries through the lookup indexes return exactly what a scan of every entry returns",
          "[audit][lookup]") {
  int nonempty = 0, lookups_used = 0;
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    TempDir dir;
    auto db = Open(dir / "state.db");
    const RandomLedger ledger = Build(*db, seed, 6);
    CompareAll(*db, ledger, &nonempty);
    // The indexes were used, and read fewer entries than the ledger has.
    LedgerLookup l;
    l.subject = ledger.subjects[0];
    auto seqs = db->LookupEntries(l);
    REQUIRE(seqs.ok());
    REQUIRE(seqs->has_value());
    if (static_cast<int64_t>((*seqs)->size()) < ledger.entries) ++lookups_used;
    // Runs from the runs table and each run's entries = runs from every entry.
    auto indexed = audit::SummarizeRuns(*db, 50);  // each run through the run index
    auto scanned = audit::SummarizeRunsByScan(*db);
    REQUIRE(indexed.ok());
    REQUIRE(scanned.ok());
    CHECK(RunsJson(*indexed) == RunsJson(*scanned));
    auto last2 = audit::SummarizeRuns(*db, 2);
    REQUIRE(last2.ok());
    REQUIRE(last2->size() == 2);
    CHECK(last2->back().ToJson() == scanned->back().ToJson());
  }
  // Both outcomes occurred: queries with rows, and lookups narrower than the ledger.
  CHECK(nonempty > 100);
  CHECK(lookups_used > 6);
}

TEST_CASE("a version 8, 7, 6, 5 and 1 state database are upgraded with their lookup indexes built from the entries",
          "[audit][lookup][migration]") {
  for (const int from : {8, 7, 6, 5, 1}) {
    TempDir dir;
    const fs::path path = dir / "state.db";
    RandomLedger ledger;
    std::string subjects_before, settled_before, spans_before, tallies_before;
    {
      auto db = Open(path);
      ledger = Build(*db, 77, 5);
    }
    {
      testing::RawDb raw(path);
      subjects_before = raw.Query("SELECT group_concat(seq || ' ' || subject, ',') FROM "
                                  "(SELECT seq, subject FROM ledger_subjects ORDER BY seq, subject)");
      settled_before = raw.Query("SELECT group_concat(seq || ' ' || settled_by, ',') FROM "
                                 "(SELECT seq, settled_by FROM ledger_batches ORDER BY seq)");
      spans_before = raw.Query("SELECT group_concat(store || '/' || target || ' ' || widest, ',') FROM "
                               "(SELECT * FROM ledger_key_spans ORDER BY store, target)");
      CHECK(!subjects_before.empty());
      CHECK(!settled_before.empty());
      tallies_before = raw.Query(kTallies);
      CHECK(!spans_before.empty());
      CHECK(!tallies_before.empty());
      // Back to what version 8 had: the subject index by subject, not
      // bucket; version 7: no run tallies either; version 6: no key spans
      // either; version 5 (or 1): no lookup indexes at all.
      std::string sql =
          "CREATE TABLE s7(subject TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(subject, seq)) WITHOUT ROWID; "
          "INSERT INTO s7 SELECT subject, seq FROM ledger_subjects; DROP TABLE ledger_subjects; "
          "ALTER TABLE s7 RENAME TO ledger_subjects; CREATE INDEX ledger_subjects_seq ON ledger_subjects(seq); ";
      if (from <= 7) sql += "DROP TABLE run_tallies; DROP INDEX ledger_run_events; ";
      if (from <= 6) sql += "DROP TABLE ledger_key_spans; ";
      if (from <= 5)
        sql += "DROP TABLE ledger_subjects; DROP INDEX ledger_run; DROP INDEX ledger_key; DROP INDEX ledger_subject; "
               "DROP INDEX ledger_batches_span; ALTER TABLE ledger_batches DROP COLUMN settled_by; ";
      if (from == 1) {
        // Version 1 knew only per-record entries: keep those (the batch
        // entries, settlements and their rows go), and none of the later tables.
        sql += "DROP TRIGGER ledger_no_delete; DROP TRIGGER ledger_no_update; "
               "DELETE FROM ledger WHERE seq > (SELECT min(seq) - 1 FROM ledger WHERE kind = 'batch'); "
               "DROP TABLE ledger_batches; DROP TABLE ledger_anchors; DROP TABLE erasure_requests; "
               "ALTER TABLE ledger DROP COLUMN payload; ALTER TABLE pending_records DROP COLUMN identity; "
               "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'x'); END; ";
      }
      sql += "UPDATE meta SET value = '" + std::to_string(from) + "' WHERE key = 'schema_version';";
      REQUIRE(raw.Exec(sql) == "");
    }
    {
      // Read-only, it reads as it is: every entry scanned (version 5), the
      // batch index without a bound on key spans (version 6), the subject
      // index by subject (versions 6 to 8).
      auto ro = Open(path, /*read_only=*/true);
      LedgerLookup l;
      l.subject = ledger.subjects[0];
      auto seqs = ro->LookupEntries(l);
      REQUIRE(seqs.ok());
      CHECK(seqs->has_value() == (from >= 6));
      // Without the run tally index, each run's records are counted from
      // its entries.
      auto runs = audit::SummarizeRuns(*ro, 50);
      auto scanned = audit::SummarizeRunsByScan(*ro);
      REQUIRE(runs.ok());
      REQUIRE(scanned.ok());
      CHECK(RunsJson(*runs) == RunsJson(*scanned));
      audit::LedgerFilter f;
      f.subject = ledger.subjects[0];
      CHECK(Rows(*ro, f, audit::ScanRows) == Rows(*ro, f, EveryEntry));
      for (const std::string& k : ledger.keys) {
        audit::LedgerFilter by_key;
        by_key.key = k;
        CHECK(Rows(*ro, by_key, audit::ScanRows) == Rows(*ro, by_key, EveryEntry));
      }
    }
    auto db = Open(path);  // upgrades it
    testing::RawDb raw(path);
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == std::to_string(kStateSchemaVersion));
    // Version 1 kept only the per-record entries: fewer runs' records.
    if (from >= 5) CHECK(raw.Query(kTallies) == tallies_before);
    if (from >= 5) {
      CHECK(raw.Query("SELECT group_concat(store || '/' || target || ' ' || widest, ',') FROM "
                      "(SELECT * FROM ledger_key_spans ORDER BY store, target)") == spans_before);
      CHECK(raw.Query("SELECT group_concat(seq || ' ' || subject, ',') FROM "
                      "(SELECT seq, subject FROM ledger_subjects ORDER BY seq, subject)") == subjects_before);
      CHECK(raw.Query("SELECT group_concat(seq || ' ' || settled_by, ',') FROM "
                      "(SELECT seq, settled_by FROM ledger_batches ORDER BY seq)") == settled_before);
    }
    for (const char* index : {"ledger_run", "ledger_key", "ledger_subject"})
      CHECK(raw.Query(std::string("SELECT count(*) FROM sqlite_master WHERE name = '") + index + "'") == "1");
    int nonempty = 0;
    CompareAll(*db, ledger, &nonempty);
    CHECK(nonempty > 0);
    // New entries are indexed as they are appended.
    const RandomLedger more = Build(*db, 78, 3);
    CompareAll(*db, more, &nonempty);
    auto v = VerifyLedger(*db, At(1'900'000'000));
    REQUIRE(v.ok());
    CHECK(v->ok);
    // The run tallies rebuilt at the upgrade and kept since: what every
    // entry says, and what audit verify's recount says. (The version 1
    // ledger made above lost the later runs' ends with their batches.)
    if (from == 1) continue;
    auto runs = audit::SummarizeRuns(*db);
    auto scanned = audit::SummarizeRunsByScan(*db);
    REQUIRE(runs.ok());
    REQUIRE(scanned.ok());
    CHECK(RunsJson(*runs) == RunsJson(*scanned));
    auto tables = audit::ReadStateTables(*db);
    REQUIRE(tables.ok());
    REQUIRE(tables->run_tallies);
    CHECK_FALSE(tables->run_tallies->rows.empty());
    const auto found = audit::CrossCheckState(*tables, *v);
    INFO(found.problem);
    CHECK_FALSE(found.bad_seq);
  }
}

TEST_CASE("a lookup index edited by hand neither invents nor silently hides rows", "[audit][lookup]") {
  TempDir dir;
  const fs::path path = dir / "state.db";
  RandomLedger ledger;
  {
    auto db = Open(path);
    ledger = Build(*db, 5, 6);
  }
  testing::RawDb raw(path);
  const std::string batch = raw.Query(
      "SELECT min(seq) FROM ledger_batches WHERE settled_by IS NOT NULL AND seq IN (SELECT seq FROM ledger_subjects)");
  const std::string other = raw.Query("SELECT max(seq) FROM ledger_batches WHERE seq <> " + batch);
  REQUIRE(!batch.empty());
  const std::string subject = raw.Query("SELECT min(subject) FROM ledger_subjects WHERE seq = " + batch);
  auto same_as_scan = [&] {
    auto db = Open(path, /*read_only=*/true);
    for (const std::string& s : ledger.subjects) {
      audit::LedgerFilter f;
      f.subject = s;
      CHECK(Rows(*db, f, audit::ScanRows) == Rows(*db, f, EveryEntry));
    }
    for (const std::string& k : ledger.keys) {
      audit::LedgerFilter f;
      f.key = k;
      CHECK(Rows(*db, f, audit::ScanRows) == Rows(*db, f, EveryEntry));
    }
    for (int64_t run : ledger.runs) {
      audit::LedgerFilter f;
      f.run_id = run;
      CHECK(Rows(*db, f, audit::ScanRows) == Rows(*db, f, EveryEntry));
    }
  };
  // What audit verify's cross-check of the tables finds.
  auto cross_check = [&] {
    auto db = Open(path, /*read_only=*/true);
    auto tables = audit::ReadStateTables(*db);
    REQUIRE(tables.ok());
    auto v = VerifyLedger(*db, At(1'900'000'000));
    REQUIRE(v.ok());
    return audit::CrossCheckState(*tables, *v);
  };
  SECTION("rows naming entries that do not hold the subject or key add nothing") {
    // (Widened with the bound on their span: a wider row under the old
    // bound hides the batch, which audit verify names, below.)
    // Each filed under its own bucket, so that the lookup reads it.
    std::string values;
    for (int v = 1; v <= 5; ++v) {
      const std::string s = "customer:" + std::to_string(v);
      values += (v > 1 ? ", (" : "(") + std::to_string(SubjectBucket(s)) + ", '" + s + "')";
    }
    REQUIRE(raw.Exec("WITH n(b, s) AS (VALUES " + values + ") "
                     "INSERT OR IGNORE INTO ledger_subjects(bucket, seq, subject) SELECT b, seq, s FROM ledger, n "
                     "WHERE kind <> 'batch'; "
                     "UPDATE ledger_batches SET key_lo = -1000, key_hi = 1000000 WHERE typeof(key_lo) = 'integer'; "
                     "UPDATE ledger_key_spans SET widest = 1001000") == "");
    same_as_scan();
  }
  SECTION("a settlement moved to another entry sends the query back to every entry") {
    REQUIRE(raw.Exec("UPDATE ledger_batches SET settled_by = " + other + " WHERE seq = " + batch) == "");
    same_as_scan();
  }
  SECTION("a settlement removed sends the query back to every entry") {
    REQUIRE(raw.Exec("UPDATE ledger_batches SET settled_by = NULL WHERE seq = " + batch) == "");
    same_as_scan();
  }
  SECTION("a subject row removed is named by audit verify") {
    REQUIRE(raw.Exec("DELETE FROM ledger_subjects WHERE seq = " + batch + " AND subject = '" + subject + "'") == "");
    auto db = Open(path, /*read_only=*/true);
    auto tables = audit::ReadStateTables(*db);
    REQUIRE(tables.ok());
    auto v = VerifyLedger(*db, At(1'900'000'000));
    REQUIRE(v.ok());
    REQUIRE(v->ok);
    CHECK_FALSE(audit::CrossCheckState(*tables, *v).bad_seq);
    auto found = audit::CrossCheckSubjectIndex(*db, *tables, *v);
    REQUIRE(found.ok());
    REQUIRE(found->bad_seq);
    CHECK(std::to_string(*found->bad_seq) == batch);
    CHECK_THAT(found->problem, Catch::Contains("subject index was edited by hand"));
  }
  SECTION("a subject row filed under another bucket is named by audit verify") {
    // The lookup reads only the subject's bucket: the row is as good as gone.
    REQUIRE(raw.Exec("UPDATE ledger_subjects SET bucket = (bucket + 1) % " + std::to_string(kSubjectBuckets) +
                     " WHERE seq = " + batch + " AND subject = '" + subject + "'") == "");
    auto db = Open(path, /*read_only=*/true);
    audit::LedgerFilter f;
    f.subject = subject;
    CHECK(Rows(*db, f, audit::ScanRows) != Rows(*db, f, EveryEntry));
    auto tables = audit::ReadStateTables(*db);
    REQUIRE(tables.ok());
    auto v = VerifyLedger(*db, At(1'900'000'000));
    REQUIRE(v.ok());
    auto found = audit::CrossCheckSubjectIndex(*db, *tables, *v);
    REQUIRE(found.ok());
    REQUIRE(found->bad_seq);
    CHECK(std::to_string(*found->bad_seq) == batch);
    CHECK_THAT(found->problem, Catch::Contains("subject index was edited by hand"));
  }
  SECTION("a key span lowered is named by audit verify") {
    const std::string wide = raw.Query(
        "SELECT seq FROM ledger_batches WHERE typeof(key_lo) = 'integer' AND key_hi > key_lo ORDER BY seq LIMIT 1");
    REQUIRE(!wide.empty());
    REQUIRE(raw.Exec("UPDATE ledger_key_spans SET widest = 0") == "");
    auto db = Open(path, /*read_only=*/true);
    // The lookup trusts the bound (that is what makes it short): some key
    // inside a wider batch is now missed.
    int missed = 0;
    for (const std::string& k : ledger.keys) {
      audit::LedgerFilter f;
      f.key = k;
      if (Rows(*db, f, audit::ScanRows) != Rows(*db, f, EveryEntry)) ++missed;
    }
    CHECK(missed > 0);
    const auto found = cross_check();
    REQUIRE(found.bad_seq);
    CHECK(std::to_string(*found.bad_seq) == wide);
    CHECK_THAT(found.problem, Catch::Contains("key span index was edited by hand"));
  }
  SECTION("a key span removed is named by audit verify, and bounds nothing") {
    REQUIRE(raw.Exec("DELETE FROM ledger_key_spans") == "");
    same_as_scan();
    const auto found = cross_check();
    REQUIRE(found.bad_seq);
    CHECK_THAT(found.problem, Catch::Contains("span no integer keys"));
  }
  SECTION("a run tally changed, added or removed is named by audit verify, and audit runs prints it") {
    // The run tally index (schema version 8) is what `audit runs` prints:
    // an edit shows there, and audit verify recounts it from the entries.
    const std::string run = raw.Query("SELECT min(run_id) FROM run_tallies WHERE deleted > 0");
    REQUIRE(!run.empty());
    CHECK_FALSE(cross_check().bad_seq);
    REQUIRE(raw.Exec("CREATE TABLE saved AS SELECT * FROM run_tallies") == "");
    for (const std::string& edit :
         {"UPDATE run_tallies SET deleted = deleted + 1 WHERE run_id = " + run,
          "UPDATE run_tallies SET kept_by_hold = kept_by_hold + 1 WHERE run_id = " + run,
          "DELETE FROM run_tallies WHERE run_id = " + run,
          "INSERT INTO run_tallies VALUES(" + run + ", 'invented', 1, 0, 0)"}) {
      INFO(edit);
      REQUIRE(raw.Exec(edit) == "");
      auto db = Open(path, /*read_only=*/true);
      auto summaries = audit::SummarizeRuns(*db, 50);
      auto scanned = audit::SummarizeRunsByScan(*db);
      REQUIRE(summaries.ok());
      REQUIRE(scanned.ok());
      CHECK(RunsJson(*summaries) != RunsJson(*scanned));
      const auto found = cross_check();
      REQUIRE(found.bad_seq);
      CHECK_THAT(found.problem, Catch::Contains("the run tally index says run " + run) &&
                                    Catch::Contains("edited by hand"));
      REQUIRE(raw.Exec("DELETE FROM run_tallies; INSERT INTO run_tallies SELECT * FROM saved") == "");
    }
    CHECK_FALSE(cross_check().bad_seq);
  }
  SECTION("a run whose row was removed is still listed by audit runs") {
    const std::string run = std::to_string(ledger.runs[1]);
    REQUIRE(raw.Exec("DELETE FROM runs WHERE id = " + run) == "");
    auto db = Open(path, /*read_only=*/true);
    auto summaries = audit::SummarizeRuns(*db);
    auto scanned = audit::SummarizeRunsByScan(*db);
    REQUIRE(summaries.ok());
    REQUIRE(scanned.ok());
    CHECK(RunsJson(*summaries) == RunsJson(*scanned));
  }
  SECTION("a settlement moved is named by audit verify") {
    REQUIRE(raw.Exec("UPDATE ledger_batches SET settled_by = " + other + " WHERE seq = " + batch) == "");
    const auto found = cross_check();
    REQUIRE(found.bad_seq);
    CHECK(std::to_string(*found.bad_seq) == batch);
    CHECK_THAT(found.problem, Catch::Contains("settled by entry " + other));
  }
}

}  // namespace
}  // namespace retention::audit_test
