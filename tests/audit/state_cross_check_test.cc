// audit verify cross-checks the state's own tables against the ledger
// (audit/state_cross_check.h): a tail cut back by hand forms a valid chain,
// but the runs, holds and ledger_anchors tables remember what it held.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "audit/audit_util.h"
#include "audit/state_cross_check.h"
#include "ledger/chain_writer.h"
#include "ledger/ledger_payloads.h"
#include "state/state_ops.h"
#include "state/test_util.h"

namespace retention::audit_test {
namespace {

using Json = nlohmann::json;

// A synthetic ledger, then through the engine's own calls: run A, run B,
// a hold placed and released. Returns the seq of each of those entries.
struct Story {
  int64_t run_a = 0, run_b = 0;
  int64_t a_end = 0, b_start = 0, b_end = 0, hold_placed = 0, hold_released = 0;
};

Story Tell(LedgerFixture& f) {
  auto db = OpenSqliteStateDb(f.state_db, false);
  REQUIRE(db.ok());
  StateDb& s = **db;
  Story story;
  auto head = [&] {
    auto h = s.Head();
    REQUIRE(h.ok());
    return h->seq;
  };
  RunInfo info;
  info.user = "ops";
  info.host = "h1";
  info.version = "test";
  info.rules_hash = std::string(64, 'a');
  info.command = "purge";
  info.as_of = SystemNow();
  auto a = BeginRun(s, info);
  REQUIRE(a.ok());
  story.run_a = *a;
  REQUIRE(EndRun(s, *a, "ok", 0, "{}").ok());
  story.a_end = head();
  auto b = BeginRun(s, info);
  REQUIRE(b.ok());
  story.run_b = *b;
  story.b_start = head();
  REQUIRE(EndRun(s, *b, "ok", 0, "{}").ok());
  story.b_end = head();
  Hold h;
  h.matter = "M-1";
  h.reason = "litigation";
  h.author = "counsel";
  h.scope.subject_kind = "customer";
  h.scope.subject_id = "7";
  auto id = AddHold(s, h, "test-host");
  REQUIRE(id.ok());
  story.hold_placed = head();
  REQUIRE(ReleaseHold(s, *id, "counsel", "settled", SystemNow(), "test-host").ok());
  story.hold_released = head();
  return story;
}

void CutFrom(LedgerFixture& f, int64_t seq) {
  Db db(f.state_db);
  db.Exec("DROP TRIGGER IF EXISTS ledger_no_delete; DELETE FROM ledger WHERE seq >= " + std::to_string(seq) + ";");
}

TEST_CASE("verify fails when the ledger's tail was cut behind the runs, holds and anchors tables",
          "[audit][cross-check]") {
  LedgerFixture f(100);
  const Story story = Tell(f);
  auto good = f.Retention({"audit", "verify"});
  INFO(Describe(good));
  REQUIRE(good.exit_code == 0);

  SECTION("the hold's release entry cut") {
    CutFrom(f, story.hold_released);
    auto r = f.Retention({"audit", "verify"});
    INFO(Describe(r));
    CHECK(r.exit_code == 78);
    CHECK(Contains(r.err, "hold 1 (M-1) was released"));
    CHECK(Contains(r.err, "hold_released entry is not in the ledger"));
    CHECK(Contains(r.err, "tail was cut"));
  }
  SECTION("the hold's entries cut") {
    CutFrom(f, story.hold_placed);
    auto r = f.Retention({"audit", "verify"});
    INFO(Describe(r));
    CHECK(r.exit_code == 78);
    CHECK(Contains(r.err, "hold_placed entry is not in the ledger"));
  }
  SECTION("run B's run_end cut") {
    CutFrom(f, story.b_end);
    auto r = f.Retention({"audit", "verify", "--format", "json"});
    INFO(Describe(r));
    CHECK(r.exit_code == 78);
    const Json j = Json::parse(r.out);
    CHECK(j.at("ok") == false);
    CHECK(j.at("first_bad_seq") == story.b_end);
    CHECK(Contains(j.at("problem").get<std::string>(),
                   "the runs table says run " + std::to_string(story.run_b) +
                       " ended (ok at "));
    CHECK(Contains(j.at("problem").get<std::string>(),
                   "but its run_end entry is not in the ledger (the ledger's head is entry " +
                       std::to_string(story.b_end - 1)));
  }
  SECTION("all of run B cut") {
    CutFrom(f, story.b_start);
    auto r = f.Retention({"audit", "verify"});
    INFO(Describe(r));
    CHECK(r.exit_code == 78);
    CHECK(Contains(r.err, "run " + std::to_string(story.run_b) + " ended"));
  }
  SECTION("everything after the synthetic entries cut") {
    CutFrom(f, 101);
    auto r = f.Retention({"audit", "verify"});
    CHECK(r.exit_code == 78);
    CHECK(Contains(r.err, "run " + std::to_string(story.run_a) + " ended"));
    // No checkpoint is taken from it either.
    CHECK(f.Retention({"audit", "checkpoint"}).exit_code == 78);
  }
  SECTION("a ledger_anchors row for an entry that is no anchor") {
    Db(f.state_db).Exec("INSERT INTO ledger_anchors(seq, through) VALUES(50, 10)");
    auto r = f.Retention({"audit", "verify"});
    INFO(Describe(r));
    CHECK(r.exit_code == 78);
    CHECK(Contains(r.err, "ledger_anchors table has a row for entry 50, which is not an anchor entry"));
  }
}

// The purge reads the holds from the holds table, which is not chained: a
// row removed or edited by hand drops the hold, and verify must say so.
TEST_CASE("verify fails when a hold's row was removed or its scope edited by hand", "[audit][cross-check]") {
  LedgerFixture f(10);
  int64_t placed = 0;
  {
    auto db = OpenSqliteStateDb(f.state_db, false);
    REQUIRE(db.ok());
    Hold h;
    h.matter = "M-2";
    h.reason = "litigation";
    h.author = "counsel";
    h.scope.category = "request_logs";
    h.scope.clock_from = SystemNow() - std::chrono::hours(24 * 400);
    REQUIRE(AddHold(**db, h, "test-host").ok());
    placed = (*db)->Head()->seq;
  }
  REQUIRE(f.Retention({"audit", "verify"}).exit_code == 0);
  SECTION("its scope edited") {
    Db(f.state_db).Exec("UPDATE holds SET scope_category = 'nothing'");
    auto r = f.Retention({"audit", "verify"});
    INFO(Describe(r));
    CHECK(r.exit_code == 78);
    CHECK(Contains(r.err, "hold_placed entry " + std::to_string(placed)));
    CHECK(Contains(r.err, "edited by hand"));
  }
  SECTION("its clock range edited") {
    Db(f.state_db).Exec("UPDATE holds SET scope_clock_from = scope_clock_from + 1");
    CHECK(f.Retention({"audit", "verify"}).exit_code == 78);
  }
  SECTION("an expiry added") {
    Db(f.state_db).Exec("UPDATE holds SET expires_at = 1");
    CHECK(f.Retention({"audit", "verify"}).exit_code == 78);
  }
  SECTION("its row removed") {
    Db(f.state_db).Exec("DROP TRIGGER holds_never_deleted; DELETE FROM holds");
    auto r = f.Retention({"audit", "verify"});
    INFO(Describe(r));
    CHECK(r.exit_code == 78);
    CHECK(Contains(r.err, "the holds table has no row for it"));
  }
}

TEST_CASE("a run still running, and a crashed one, agree with the ledger", "[audit][cross-check]") {
  LedgerFixture f(10);
  {
    auto db = OpenSqliteStateDb(f.state_db, false);
    REQUIRE(db.ok());
    RunInfo info;
    info.command = "purge";
    info.as_of = SystemNow();
    auto a = BeginRun(**db, info);
    REQUIRE(a.ok());
    REQUIRE(MarkRunCrashed(**db, *a).ok());
    REQUIRE(BeginRun(**db, info).ok());  // running
  }
  auto r = f.Retention({"audit", "verify"});
  INFO(Describe(r));
  CHECK(r.exit_code == 0);
  // The running run's start cut: it started after the head left.
  CutFrom(f, 13);
  auto cut = f.Retention({"audit", "verify"});
  INFO(Describe(cut));
  CHECK(cut.exit_code == 78);
  CHECK(Contains(cut.err, "after the ledger's last entry"));
}

}  // namespace
}  // namespace retention::audit_test

namespace retention::audit_test {
namespace {

// The cross-check compares a hold's row with its hold_placed entry through
// the payloads (ledger/ledger_payloads.h): text that is not UTF-8 is
// recorded exactly today, and was recorded with its bad bytes replaced
// before issue 12; both agree with the row, an edited row with neither.
TEST_CASE("the cross-check reads hold entries with text that is not UTF-8 - old and new", "[audit][cross-check]") {
  testing::TempDir dir;
  auto db = OpenOrCreateStateDb(dir.path() / "state.db", false);
  REQUIRE(db.ok());
  StateDb& s = **db;
  Hold h;
  h.matter = "M-\xff";
  h.reason = "litigation";
  h.author = "counsel";
  h.placed_at = FromUnixMicros(1'700'000'000'000'000);
  h.scope.key = "logs/bad\xff.log";
  auto placed = AddHold(s, h, "test-host");  // written today
  REQUIRE(placed.ok());
  {
    // Placed by an older version: the same hold, its entry's text replaced.
    auto txn = s.BeginAppend();
    REQUIRE(txn.ok());
    auto id = (*txn)->InsertHold(h);
    REQUIRE(id.ok());
    Hold old = h;
    old.id = *id;
    std::string detail = HoldTermsWrittenBefore(old);  // {"scope":{"key":"logs/bad\ufffd.log"}}
    detail.pop_back();
    detail += ",\"author\":\"counsel\",\"id\":" + std::to_string(*id) +
              ",\"matter\":\"M-\xef\xbf\xbd\",\"placed_at\":\"2023-11-14T22:13:20Z\",\"reason\":\"litigation\"}";
    LedgerEntry e;
    e.kind = LedgerKind::kHoldPlaced;
    e.detail = detail;
    std::vector<LedgerEntry> v = {e};
    ChainWriter writer([] { return FromUnixMicros(1'700'000'000'000'000); });
    REQUIRE(writer.Chain(*(*txn)->Head(), &v).ok());
    REQUIRE((*txn)->Insert(v).ok());
    REQUIRE((*txn)->Commit().ok());
  }
  auto check = [&] {
    auto tables = audit::ReadStateTables(s);
    REQUIRE(tables.ok());
    auto report = VerifyLedger(s, SystemNow());
    REQUIRE(report.ok());
    REQUIRE(report->ok);
    return audit::CrossCheckState(*tables, *report);
  };
  const audit::CrossCheckFinding agree = check();
  INFO(agree.problem);
  CHECK_FALSE(agree.bad_seq);

  Db raw(dir.path() / "state.db");
  raw.Exec("UPDATE holds SET scope_key = 'logs/other.log' WHERE id = 2");
  const audit::CrossCheckFinding edited = check();
  CHECK(edited.bad_seq == 2);
  CHECK_THAT(edited.problem, Catch::Contains("the row was edited by hand"));
}

}  // namespace
}  // namespace retention::audit_test
