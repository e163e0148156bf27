// The ledger's batch index (ledger_batches) is not covered by the chain,
// yet reconciliation, `explain` and `audit log --key` read it. Edited by
// hand with plain SQL, `audit verify` fails with exit 78 naming the batch
// entry, and a purge refuses to reconcile from it rather than skip an open
// batch.
#include <catch2/catch.hpp>

#include <set>

#include "e2e/e2e_util.h"
#include "purge/events_checker.h"

namespace retention {
namespace {

namespace ck = checker;
using e2e::Db;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;

constexpr int kAuditFailed = 78;

RunResult Verify(const TempDir& dir) { return RunWith(dir / "retention.toml", {"audit", "verify"}); }

// The seq of the batch entries, oldest first.
std::vector<int64_t> BatchSeqs(const TempDir& dir) {
  Db state(dir / "state.db", true);
  std::vector<int64_t> out;
  for (const std::string& s : state.Column("SELECT seq FROM ledger WHERE kind = 'batch' ORDER BY seq"))
    out.push_back(std::stoll(s));
  return out;
}

void EditIndex(const TempDir& dir, const std::string& sql) { Db(dir / "state.db").Exec(sql); }

TEST_CASE("audit verify fails with 78 naming the batch entry whose index row was edited by hand",
          "[audit][verify][batch-index][e2e]") {
  TempDir dir;
  WriteDueEventsFixture(dir);
  RunResult purge = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  const std::vector<int64_t> batches = BatchSeqs(dir);
  REQUIRE(batches.size() >= 3);
  RunResult clean = Verify(dir);
  INFO(Describe(clean));
  REQUIRE(clean.exit_code == 0);

  const std::string seq = std::to_string(batches[1]);
  struct Edit {
    const char* what;
    std::string sql;
    int64_t named;
  };
  int64_t run_start = 0;
  {
    Db state(dir / "state.db", true);
    run_start = state.Int("SELECT min(seq) FROM ledger WHERE kind = 'run_start'");
  }
  const std::vector<Edit> edits = {
      {"a row deleted", "DELETE FROM ledger_batches WHERE seq = " + seq, batches[1]},
      {"the key range shrunk", "UPDATE ledger_batches SET key_hi = key_hi - 1 WHERE seq = " + seq, batches[1]},
      {"the key range widened", "UPDATE ledger_batches SET key_lo = key_lo - 100 WHERE seq = " + seq, batches[1]},
      {"the keys' type changed", "UPDATE ledger_batches SET key_lo = CAST(key_lo AS TEXT) WHERE seq = " + seq,
       batches[1]},
      {"a settled batch flipped open", "UPDATE ledger_batches SET open = 1 WHERE seq = " + seq, batches[1]},
      {"the target renamed", "UPDATE ledger_batches SET target = 'other' WHERE seq = " + seq, batches[1]},
      {"a row for an entry that is no batch",
       "INSERT INTO ledger_batches(seq, store, target, key_lo, key_hi, open) VALUES (" + std::to_string(run_start) +
           ", 'app', 'events', 1, 1, 0)",
       run_start},
  };
  for (const Edit& edit : edits) {
    DYNAMIC_SECTION(edit.what) {
      EditIndex(dir, edit.sql);
      RunResult r = Verify(dir);
      INFO(Describe(r));
      CHECK(r.exit_code == kAuditFailed);
      CHECK((r.out + r.err).find("entry " + std::to_string(edit.named)) != std::string::npos);
      CHECK((r.out + r.err).find("batch index") != std::string::npos);
    }
  }
}

TEST_CASE("an open batch hidden by a hand-edited index: verify fails, and purge refuses instead of skipping it",
          "[audit][verify][batch-index][reconcile][crash][e2e]") {
  TempDir dir;
  WriteDueEventsFixture(dir);
  const ck::StoreSpec spec = EventsSpec(dir / "app.db");
  const ck::Snapshot before = KilledPurge(dir, "after_delete:2");
  std::vector<std::string> open;
  {
    Db state(dir / "state.db", true);
    open = state.Column("SELECT seq FROM ledger_batches WHERE open = 1 ORDER BY seq");
  }
  REQUIRE_FALSE(open.empty());
  const int64_t remaining = Db(dir / "app.db", true).Count("events");
  REQUIRE(remaining < kDueEventRows);

  std::string key_lo, key_hi;
  {
    Db state(dir / "state.db", true);
    auto row = state.Query("SELECT key_lo, key_hi FROM ledger_batches WHERE seq = " + open.front());
    REQUIRE(row.size() == 1);
    key_lo = row[0][0].value_or("");
    key_hi = row[0][1].value_or("");
  }
  SECTION("flagged settled") { EditIndex(dir, "UPDATE ledger_batches SET open = 0 WHERE seq = " + open.front()); }
  SECTION("its row deleted") { EditIndex(dir, "DELETE FROM ledger_batches WHERE seq = " + open.front()); }

  RunResult verify = Verify(dir);
  INFO(Describe(verify));
  CHECK(verify.exit_code == kAuditFailed);
  CHECK((verify.out + verify.err).find("entry " + open.front()) != std::string::npos);

  // The purge does not reconcile from the edited index: it stops before
  // anything is written or deleted.
  int64_t entries = 0;
  {
    Db state(dir / "state.db", true);
    entries = state.Int("SELECT count(*) FROM ledger");
  }
  RunResult refused = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(refused));
  CHECK(refused.exit_code == kAuditFailed);
  CHECK((refused.out + refused.err).find("batch entry " + open.front()) != std::string::npos);
  CHECK(Db(dir / "app.db", true).Count("events") == remaining);
  {
    Db state(dir / "state.db", true);
    CHECK(state.Int("SELECT count(*) FROM ledger") == entries);
  }

  // The row restored as the engine wrote it, the next purge reconciles the
  // batch, and the ledger is exact by the independent checker.
  EditIndex(dir, "INSERT OR REPLACE INTO ledger_batches(seq, store, target, key_lo, key_hi, open) VALUES (" +
                     open.front() + ", 'app', 'events', " + key_lo + ", " + key_hi + ", 1)");
  RunResult next = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(next));
  REQUIRE(next.exit_code == 0);
  CHECK(Db(dir / "app.db", true).Count("events") == 0);
  const ck::Snapshot after = ck::TakeSnapshot(spec, dir / "state.db");
  const std::vector<std::string> problems = ck::Check(before, after, dir / "state.db");
  INFO(ck::Report(problems));
  CHECK(problems.empty());
  const std::vector<std::string> deleted = e2e::DeletedKeys(dir / "state.db");
  CHECK(deleted.size() == static_cast<size_t>(kDueEventRows));
  CHECK(std::set<std::string>(deleted.begin(), deleted.end()).size() == deleted.size());
  RunResult verified = Verify(dir);
  INFO(Describe(verified));
  CHECK(verified.exit_code == 0);
}

}  // namespace
}  // namespace retention
