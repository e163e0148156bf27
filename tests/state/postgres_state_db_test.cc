// The PostgreSQL state (state/postgres_state_db.h) against a real server:
// the StateDb contract the SQLite state keeps (state_contract.h), its
// schema's creation and refusals, one chain from many concurrent appenders
// (re-hashed by the independent checker), and the per-host run claim.
#include "state/postgres_state_db.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "ledger/anchor.h"
#include "ledger/ledger.h"
#include "state/postgres_state_import.h"
#include "state/sqlite_state_db.h"
#include "state/test_util.h"
#include "state/state_contract.h"
#include "support/ledger_checker.h"
#include "support/pg_cluster.h"
#include "support/pg_ledger_rows.h"

namespace retention {
namespace {

using contract::At;
using pgtest::PgTestDatabase;

// A state in a schema of its own, in one test database per process (a
// database is slower to create than a schema); each Open is a new
// connection.
class PgState {
 public:
  PgState() : schema_("st_" + std::to_string(counter_++)) {}
  PostgresStateDbOptions Options() const {
    PostgresStateDbOptions o;
    o.conninfo = db().Conninfo();
    o.schema = schema_;
    o.clock = [] { return At(1'750'000'000); };
    o.host = "host-a";
    return o;
  }
  std::unique_ptr<StateDb> Open(PostgresStateDbOptions o) const {
    auto db = OpenPostgresStateDb(o);
    INFO(db.status().message());
    REQUIRE(db.ok());
    return std::move(db.value());
  }
  std::unique_ptr<StateDb> Open() const { return Open(Options()); }
  contract::StateOpener Opener() const {
    return [this] { return Open(); };
  }
  // The test's own connection, in the state's schema.
  pgtest::PgConnection Raw() const {
    return pgtest::PgConnection(db().Conninfo() + " options='-c search_path=" + schema_ + "'");
  }
  const std::string& schema() const { return schema_; }
  static const PgTestDatabase& db() {
    static PgTestDatabase db;
    return db;
  }

 private:
  static inline int counter_ = 0;
  std::string schema_;
};

contract::RawSql RawSqlOf(pgtest::PgConnection& c) {
  return {[&c](const std::string& sql) -> std::string {
            try {
              c.Exec(sql);
              return "";
            } catch (const std::exception& e) {
              return e.what();
            }
          },
          [&c](const std::string& sql) { return c.Scalar(sql); }};
}

TEST_CASE("PostgreSQL state: the StateDb contract of holds, runs and pending batches", "[postgres][state]") {
  PgState state;
  auto db = state.Open();
  auto raw = state.Raw();
  const contract::RawSql sql = RawSqlOf(raw);
  SECTION("holds") { contract::HoldsContract(*db, sql); }
  SECTION("runs") { contract::RunsContract(*db); }
  SECTION("pending batches") { contract::PendingContract(*db, sql); }
  auto v = VerifyLedger(*db, At(1'750'000'000));
  REQUIRE(v.ok());
  CHECK(v->ok);
}

TEST_CASE("PostgreSQL state: the StateDb contract of appends and batch entries", "[postgres][state]") {
  SECTION("Append assigns seq, prev_hash and hash") {
    PgState state;
    contract::AppendAssignsContract(*state.Open());
  }
  SECTION("batches reached by text and integer keys") {
    PgState state;
    contract::BatchesReachingContract(*state.Open());
    CHECK(state.Raw().Scalar("SELECT integer_keys FROM ledger_batches WHERE seq = 2") == "t");
  }
  SECTION("settlements close batches once") {
    PgState state;
    contract::SettlementsContract(*state.Open());
  }
  SECTION("a second appender waits") {
    PgState state;
    contract::AppenderWaitsContract(state.Opener());
  }
  SECTION("a stale head is refused") {
    PgState state;
    contract::StaleHeadContract(state.Opener());
  }
  SECTION("an uncommitted append leaves nothing") {
    PgState state;
    contract::UncommittedContract(state.Opener());
  }
}

TEST_CASE("PostgreSQL state: the schema is created once by the first read-write opens, then reopened",
          "[postgres][state]") {
  PgState state;
  // Two hosts starting at the same moment: both open, one schema.
  Result<std::unique_ptr<StateDb>> a = Status::Internal("not opened");
  std::thread other([&] { a = OpenPostgresStateDb(state.Options()); });
  auto b = state.Open();
  other.join();
  INFO(a.status().message());
  REQUIRE(a.ok());
  auto raw = state.Raw();
  CHECK(raw.Scalar("SELECT value FROM meta WHERE key = 'schema_version'") == "1");
  CHECK(raw.Scalar("SELECT count(*) FROM meta") == "3");
  CHECK(raw.Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = '" + state.schema() + "'") == "10");
  REQUIRE(contract::Add(**a, {"1", "2"}).ok());
  CHECK(contract::Entries(*b) == 1);
  a = Status::Internal("closed");
  b.reset();

  auto again = state.Open();
  CHECK(contract::Entries(*again) == 1);
  PostgresStateDbOptions ro = state.Options();
  ro.read_only = true;
  auto reader = state.Open(ro);
  CHECK(contract::Entries(*reader) == 1);
  const Status refused = contract::Add(*reader, {"3"}).status();
  CHECK_THAT(refused.message(), Catch::Contains("read-only"));

  // Another schema is another state.
  PostgresStateDbOptions two = state.Options();
  two.schema = state.schema() + " two";
  CHECK(contract::Entries(*state.Open(two)) == 0);
  CHECK(raw.Scalar("SELECT count(*) FROM \"" + two.schema + "\".meta") == "3");
}

TEST_CASE("PostgreSQL state: refusals name the state and its schema, never the conninfo", "[postgres][state]") {
  PgState state;
  PostgresStateDbOptions o = state.Options();
  o.conninfo += " password=s3cret-pw";  // trust authentication: never asked for
  o.who = "state (RETENTION_STATE_URL)";
  auto no_secret = [&](const Status& st) {
    CHECK_THAT(st.message(), !Catch::Contains("s3cret") && !Catch::Contains(state.db().name()));
  };

  SECTION("a read-only open of a state not created yet creates nothing") {
    o.read_only = true;
    auto db = OpenPostgresStateDb(o);
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().code() == StatusCode::kUnavailable);
    CHECK_THAT(db.status().message(), Catch::Contains("state (RETENTION_STATE_URL), schema " + state.schema() +
                                                      " does not exist: create it with `retention state init`"));
    no_secret(db.status());
    CHECK(state.db().Connect().Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '" + state.schema() + "'") == "0");
  }
  SECTION("a newer schema version") {
    state.Open();
    state.Raw().Exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    auto db = OpenPostgresStateDb(o);
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().code() == StatusCode::kInvalid);
    CHECK_THAT(db.status().message(), Catch::Contains(", schema " + state.schema() + " has schema version 2, newer than this "
                                                      "retention understands (1): upgrade retention"));
    no_secret(db.status());
  }
  SECTION("a schema of someone else's tables") {
    state.db().Connect().Exec("CREATE SCHEMA " + state.schema() + "; CREATE TABLE " + state.schema() + ".orders(id int)");
    auto db = OpenPostgresStateDb(o);
    REQUIRE_FALSE(db.ok());
    CHECK_THAT(db.status().message(), Catch::Contains("no meta table: it is not a retention state"));
    no_secret(db.status());
  }
  SECTION("a table dropped by hand") {
    state.Open();
    state.Raw().Exec("DROP TABLE ledger_subjects");
    auto db = OpenPostgresStateDb(o);
    REQUIRE_FALSE(db.ok());
    CHECK_THAT(db.status().message(), Catch::Contains("is damaged: table ledger_subjects is missing"));
  }
}

TEST_CASE("PostgreSQL state: the server refuses to change the ledger or delete a hold behind its back",
          "[postgres][state]") {
  PgState state;
  auto db = state.Open();
  REQUIRE(Append(*db, {contract::Entry("a"), contract::Entry("b")}).ok());
  REQUIRE(AddHold(*db, contract::SampleHold(), "test-host").ok());
  auto raw = state.Raw();
  const contract::RawSql sql = RawSqlOf(raw);
  CHECK_THAT(sql.exec("UPDATE ledger SET record_key = 'x' WHERE seq = 1"), Catch::Contains("append-only"));
  CHECK_THAT(sql.exec("DELETE FROM ledger WHERE seq = 1"), Catch::Contains("only entries an anchor has pruned"));
  CHECK_THAT(sql.exec("TRUNCATE ledger"), Catch::Contains("append-only"));
  CHECK_THAT(sql.exec("TRUNCATE holds"), Catch::Contains("never deleted"));
  CHECK_THAT(sql.exec("TRUNCATE ledger_anchors"), Catch::Contains("append-only"));
  CHECK(contract::Entries(*db) == 3);
  CHECK(db->DeletePrunedEntries(1).status().ok() == false);  // no anchor pruned it
}

// The same writes through the state ops: a hold, a run, batches settled by
// later entries, a pending batch, an erasure request, an anchor and the
// pruning behind it.
void Populate(StateDb& db) {
  REQUIRE(AddHold(db, contract::SampleHold(), "test-host").ok());
  RunInfo info;
  info.host = "web-1";
  auto run = BeginRun(db, info);
  REQUIRE(run.ok());
  auto b1 = contract::Add(db, {"1", "2"});
  auto b2 = contract::Add(db, {"a.log", "c.log"}, {}, "files");
  REQUIRE(b1.ok());
  REQUIRE(b2.ok());
  auto b3 = contract::Add(db, {"5"}, {contract::Settle(*b1)});
  REQUIRE(b3.ok());
  PendingBatch pending;
  pending.run_id = *run;
  pending.store = "app";
  pending.records = {{"9", "2025-01-01", "customer:7", std::string("{\"n\":1}")}, {"10", "2025-01-02", "", std::nullopt}};
  REQUIRE(db.AddPending(pending).ok());
  ErasureRequest request;
  request.reference = "DSR-1";
  request.subject = "customer:7";
  request.received = At(1'740'000'000);
  request.deadline = At(1'742'000'000);
  request.outcome = "pending";
  request.first_seq = 3;
  {
    auto txn = db.BeginAppend();
    REQUIRE(txn.ok());
    REQUIRE((*txn)->PutErasureRequest(request).ok());
    REQUIRE((*txn)->Commit().ok());
  }
  LedgerAnchor anchor;
  anchor.from = 1;
  anchor.through = 2;
  anchor.through_hash = db.ReadEntry(2).value()->hash;
  anchor.through_at = At(1'750'000'000);
  anchor.cutoff = At(1'750'000'000);
  anchor.delete_after = ParseDuration("12 months").value();
  LedgerEntry a;
  WriteAnchor(anchor, &a);
  a.store = "purge-log";
  const Status appended = Append(db, {a});
  INFO(appended.message());
  REQUIRE(appended.ok());
  REQUIRE(db.DeletePrunedEntries(2).value() == 2);
  REQUIRE(EndRun(db, *run, "ok", 0, "{}", {contract::Settle(*b2), contract::Settle(*b3)}).ok());
}

// A result's value, kept (a range-for over a temporary Result's value()
// would outlive it).
template <typename T>
T Value(Result<T> r) {
  INFO(r.status().message());
  REQUIRE(r.ok());
  return std::move(r.value());
}

// Every read of the StateDb, as text.
std::string Dump(StateDb& db) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  auto seqs = [](const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t x : v) s += std::to_string(x) + " ";
    return s;
  };
  REQUIRE(db.ScanLedger(0, [&](const LedgerEntry& e) {
                line("entry " + std::to_string(e.seq) + " " + e.hash + " " + std::string(LedgerKindName(e.kind)));
                return true;
              }).ok());
  const LedgerHead head = db.Head().value();
  line("head " + std::to_string(head.seq) + " " + head.hash);
  for (const Hold& h : Value(db.ListHolds(true))) line("hold " + std::to_string(h.id) + " " + h.matter);
  for (const RunInfo& r : Value(db.ListRuns()))
    line("run " + std::to_string(r.id) + " " + r.host + " " + r.outcome + " " + (r.ended_at ? FormatTimestamp(*r.ended_at) : std::string("-")));
  CHECK(db.UnfinishedRuns().value().empty());
  REQUIRE(db.LastRun().value().has_value());
  CHECK(db.LastRun().value()->outcome == "ok");
  for (const PendingBatch& b : Value(db.ListPending()))
    for (const auto& r : b.records) line("pending " + r.key + " " + r.subject + " " + r.identity.value_or("?"));
  line("open " + seqs(db.OpenBatches().value()));
  for (const BatchIndexListing& l : Value(db.ListBatchIndex()))
    line("batch " + std::to_string(l.seq) + " " + l.row.target + " " + l.row.key_lo + ".." + l.row.key_hi +
         (l.row.integer_keys ? " int" : " text") + (l.open ? " open" : ""));
  for (const auto& [seq, subject] : Value(db.ListSubjectIndex())) line("subject " + std::to_string(seq) + " " + subject);
  for (const auto& [seq, by] : Value(db.ListSettledBy())) line("settled " + std::to_string(seq) + " by " + std::to_string(by));
  for (const auto& [seq, through] : Value(db.ListAnchorRows()))
    line("anchor " + std::to_string(seq) + " through " + std::to_string(through));
  line("pruned through " + std::to_string(db.PrunedThrough().value()));
  line("anchor reaching 1: " + std::to_string(db.OldestAnchorReaching(1).value().value_or(-1)));
  REQUIRE(db.ScanBatchesAndSettlements([&](int64_t seq, LedgerKind kind, const std::string&) {
                line("batch or settlement " + std::to_string(seq) + " " + std::string(LedgerKindName(kind)));
                return true;
              }).ok());
  line("reaching 2: " + seqs(db.BatchesReaching("app", "events", "2").value()));
  line("reaching b.log: " + seqs(db.BatchesReaching("app", "files", "b.log").value()));
  LedgerLookup key;
  key.key = "2";
  LedgerLookup subject;
  subject.subject = "customer:7";
  LedgerLookup run;
  run.run_id = 1;
  for (const LedgerLookup& l : {key, subject, run}) {
    auto found = db.LookupEntries(l);
    REQUIRE(found.ok());
    line("lookup " + (found.value() ? seqs(*found.value()) : std::string("(read every entry)")));
  }
  for (const ErasureRequest& r : Value(db.ListErasureRequests()))
    line("request " + r.reference + " " + r.subject + " " + r.outcome + " " + std::to_string(r.first_seq));
  CHECK(db.GetErasureRequest("DSR-1").value().has_value());
  CHECK_FALSE(db.GetErasureRequest("DSR-2").value().has_value());
  return out;
}

TEST_CASE("PostgreSQL state: every read answers as the SQLite state's after the same writes", "[postgres][state]") {
  testing::TempDir dir;
  SqliteStateDbOptions o;
  o.create = true;
  o.clock = [] { return At(1'750'000'000); };
  auto sqlite = OpenSqliteStateDb(dir / "state.db", o);
  REQUIRE(sqlite.ok());
  PgState state;
  auto pg = state.Open();
  Populate(**sqlite);
  Populate(*pg);
  const std::string expected = Dump(**sqlite);
  CHECK_THAT(expected, Catch::Contains("batch 3 events 1..2 int") && Catch::Contains("anchor reaching 1: "));
  CHECK(Dump(*pg) == expected);
  INFO(expected);
  CHECK_THAT(expected, !Catch::Contains("(read every entry)"));
}

// The chain as stored, read with the test's own SQL and re-hashed by the
// independent checker (support/ledger_checker.h).
std::vector<std::string> ChainProblems(pgtest::PgConnection& raw) {
  const std::vector<checker::Entry> ledger = pgtest::PgLedgerRows(raw, "ledger");
  std::vector<std::string> problems;
  checker::CheckChain(ledger, &problems);
  return problems;
}

Status AddBatch(StateDb& db, const std::vector<std::string>& keys, const std::string& target) {
  auto seq = contract::Add(db, keys, {}, target);
  return seq.ok() ? Status::Ok() : seq.status();
}

TEST_CASE("PostgreSQL state: many concurrent appenders, each its own connection, write one chain",
          "[postgres][state][ledger]") {
  PgState state;
  state.Open();  // the schema, before the appenders race
  constexpr int kAppenders = 8, kAppends = 15;
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::vector<std::string> failures;  // Catch's macros are not for other threads
  for (int t = 0; t < kAppenders; ++t) {
    threads.emplace_back([&, t] {
      PostgresStateDbOptions o = state.Options();
      o.host = "host-" + std::to_string(t);
      auto db = OpenPostgresStateDb(o);
      auto fail = [&](const Status& st) {
        std::lock_guard<std::mutex> lock(mutex);
        failures.push_back(st.message());
      };
      if (!db.ok()) return fail(db.status());
      for (int i = 0; i < kAppends; ++i) {
        const std::string key = std::to_string(t) + "-" + std::to_string(i);
        // Single entries, pairs, and batch entries with their index rows.
        const Status st = i % 3 == 0   ? Append(**db, {contract::Entry(key)})
                          : i % 3 == 1 ? Append(**db, {contract::Entry(key + "a"), contract::Entry(key + "b")})
                                       : AddBatch(**db, {key + "x", key + "y"}, "t" + std::to_string(t));
        if (!st.ok()) fail(st);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& f : failures) UNSCOPED_INFO(f);
  CHECK(failures.empty());
  auto raw = state.Raw();
  CHECK(raw.Scalar("SELECT count(*) FROM ledger") == std::to_string(kAppenders * kAppends * 4 / 3));
  CHECK(raw.Scalar("SELECT count(*) FROM ledger_batches") == std::to_string(kAppenders * kAppends / 3));
  const std::vector<std::string> problems = ChainProblems(raw);
  for (const std::string& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
  auto v = VerifyLedger(*state.Open(), At(1'750'000'000));
  REQUIRE(v.ok());
  CHECK(v->ok);
}

TEST_CASE("PostgreSQL state: one run per host and state, released with its connection", "[postgres][state][lock]") {
  PgState state;
  auto first = state.Open();
  REQUIRE(first->ClaimForRun().ok());
  auto same_host = state.Open();
  const Status busy = same_host->ClaimForRun();
  CHECK(busy.code() == StatusCode::kBusy);
  CHECK_THAT(busy.message(), Catch::Contains("another run on host 'host-a'"));
  PostgresStateDbOptions b = state.Options();
  b.host = "host-b";
  CHECK(state.Open(b)->ClaimForRun().ok());
  first.reset();  // its session ends: the server lets go of the claim once its backend has exited
  Status claimed;
  for (int i = 0; i < 100; ++i) {
    claimed = same_host->ClaimForRun();
    if (claimed.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(claimed.ok());
}

TEST_CASE("PostgreSQL state: a state lost during a run is noticed before the next deletion", "[postgres][state]") {
  PgState state;
  auto db = state.Open();
  REQUIRE(db->CheckStillInPlace().ok());
  SECTION("the connection is cut") {
    state.db().Connect().Query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'retention' AND "
        "datname = current_database()");
  }
  SECTION("the schema is dropped") { state.Raw().Exec("DROP SCHEMA " + state.schema() + " CASCADE"); }
  const Status st = db->CheckStillInPlace();
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK_THAT(st.message(), Catch::Contains("cannot be reached during the run") && Catch::Contains("it stops here"));
}

// `retention state migrate`'s copy (state/postgres_state_import.h): a
// SQLite state after the writes of Populate; settled, its pending batch
// reconciled away, so that nothing is left unfinished.
std::unique_ptr<StateDb> PopulatedSqliteState(const testing::TempDir& dir) {
  SqliteStateDbOptions o;
  o.create = true;
  o.clock = [] { return At(1'750'000'000); };
  auto sqlite = OpenSqliteStateDb(dir / "state.db", o);
  REQUIRE(sqlite.ok());
  Populate(**sqlite);
  return std::move(sqlite.value());
}

std::unique_ptr<StateDb> SettledSqliteState(const testing::TempDir& dir) {
  std::unique_ptr<StateDb> sqlite = PopulatedSqliteState(dir);
  const std::vector<PendingBatch> pending = Value(sqlite->ListPending());
  REQUIRE(pending.size() == 1);
  auto txn = sqlite->BeginAppend();
  REQUIRE(txn.ok());
  REQUIRE((*txn)->RemovePending(pending.front().id).ok());
  REQUIRE((*txn)->Commit().ok());
  REQUIRE(ReleaseHold(*sqlite, 1, "legal", "matter closed", At(1'750'000'100), "test-host").ok());
  return sqlite;
}

TEST_CASE("PostgreSQL state: a SQLite state copied in reads the same, with its chain, ids and indexes",
          "[postgres][state][migrate]") {
  testing::TempDir dir;
  auto sqlite = SettledSqliteState(dir);
  const std::string expected = Dump(*sqlite);
  // The copy starts after the pruned entries: the anchor's range is gone.
  REQUIRE_THAT(expected, Catch::Contains("pruned through 2") && Catch::Contains("batch 3 events 1..2 int") &&
                             !Catch::Contains("entry 1 "));
  PgState state;
  auto copied = CopyStateIntoPostgres(*sqlite, state.Options());
  INFO(copied.status().message());
  REQUIRE(copied.ok());
  const LedgerHead head = Value(sqlite->Head());
  CHECK(copied->head.seq == head.seq);
  CHECK(copied->head.hash == head.hash);
  CHECK(copied->holds == 1);
  CHECK(copied->runs == 1);
  CHECK(copied->erasure_requests == 1);
  CHECK(copied->anchors == 1);

  auto pg = state.Open();
  CHECK(Dump(*pg) == expected);
  auto raw = state.Raw();
  CHECK(ChainProblems(raw).empty());
  // Entries are stored byte for byte: the payloads too, not only the hashes
  // that cover them.
  CHECK(raw.Scalar("SELECT count(*) FROM ledger WHERE payload <> ''::bytea") != "0");

  // The fleet goes on from the copied state: new ids follow the copied ones,
  // and new entries chain onto the copied head.
  Hold next = contract::SampleHold();
  auto id = AddHold(*pg, next, "test-host");
  REQUIRE(id.ok());
  CHECK(*id == 2);
  RunInfo info;
  info.host = "web-2";
  auto run = BeginRun(*pg, info);
  REQUIRE(run.ok());
  CHECK(*run == 2);
  CHECK(ChainProblems(raw).empty());
  CHECK(Value(pg->Head()).seq == head.seq + 2);
}

TEST_CASE("PostgreSQL state: a copy is refused into a schema holding a state, and from one with unfinished work",
          "[postgres][state][migrate]") {
  testing::TempDir dir;
  PgState state;
  SECTION("the target already holds a state") {
    auto sqlite = SettledSqliteState(dir);
    REQUIRE(CopyStateIntoPostgres(*sqlite, state.Options()).ok());
    const std::string before = Dump(*state.Open());
    auto again = CopyStateIntoPostgres(*sqlite, state.Options());
    CHECK(again.status().code() == StatusCode::kInvalid);
    CHECK_THAT(again.status().message(), Catch::Contains("already holds a state") &&
                                             Catch::Contains(state.schema()) && !Catch::Contains("host="));
    CHECK(Dump(*state.Open()) == before);
  }
  SECTION("the target holds only a hold placed by a host that started first") {
    auto sqlite = SettledSqliteState(dir);
    REQUIRE(AddHold(*state.Open(), contract::SampleHold(), "test-host").ok());
    CHECK(CopyStateIntoPostgres(*sqlite, state.Options()).status().code() == StatusCode::kInvalid);
    CHECK(state.Raw().Scalar("SELECT count(*) FROM ledger") == "1");
  }
  SECTION("a pending batch is not reconciled yet") {
    auto sqlite = PopulatedSqliteState(dir);
    auto refused = CopyStateIntoPostgres(*sqlite, state.Options());
    CHECK(refused.status().code() == StatusCode::kBusy);
    CHECK_THAT(refused.status().message(), Catch::Contains("retention purge"));
    CHECK(state.Raw().Scalar("SELECT count(*) FROM ledger") == "0");
    CHECK(state.Raw().Scalar("SELECT count(*) FROM holds") == "0");
  }
}

}  // namespace
}  // namespace retention
