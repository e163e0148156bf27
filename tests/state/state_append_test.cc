// The append transaction (state/state_db.h, StateAppend): appenders are
// serialized, and entries chained on a head other than the one read inside
// the transaction are never stored.
#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "ledger/chain_writer.h"
#include "ledger/ledger.h"
#include "state/sqlite_state_db.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "state/test_util.h"

namespace retention {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

Timestamp At(int64_t seconds) { return FromUnixMicros(seconds * 1'000'000); }

std::unique_ptr<StateDb> MustOpen(const fs::path& path) {
  SqliteStateDbOptions o;
  o.clock = [] { return At(1'750'000'000); };
  o.busy_timeout_ms = 30'000;
  auto db = OpenOrCreateStateDb(path, o);
  INFO(db.status().message());
  REQUIRE(db.ok());
  return std::move(db.value());
}

LedgerEntry Entry(const std::string& key) {
  LedgerEntry e;
  e.kind = LedgerKind::kDelete;
  e.store = "app";
  e.target = "t";
  e.record_key = key;
  return e;
}

std::vector<LedgerEntry> AllEntries(StateDb& db) {
  std::vector<LedgerEntry> out;
  REQUIRE(db.ScanLedger(0, [&](const LedgerEntry& e) {
                out.push_back(e);
                return true;
              }).ok());
  return out;
}

TEST_CASE("an append transaction makes a second appender wait until it ends", "[state][ledger]") {
  TempDir dir;
  const fs::path path = dir.path() / "state.db";
  auto first = MustOpen(path);
  auto second = MustOpen(path);

  auto txn = first->BeginAppend();
  REQUIRE(txn.ok());
  auto head = (*txn)->Head();
  REQUIRE(head.ok());
  CHECK(head->seq == 0);

  // Another connection appends meanwhile: it must wait for the first.
  std::atomic<bool> done{false};
  Status second_status;
  std::thread other([&] {
    second_status = Append(*second, {Entry("second")});
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK_FALSE(done.load());  // still waiting on the first transaction

  std::vector<LedgerEntry> mine = {Entry("first")};
  ChainWriter writer([] { return At(1'750'000'000); });
  REQUIRE(writer.Chain(*head, &mine).ok());
  REQUIRE((*txn)->Insert(mine).ok());
  REQUIRE((*txn)->Commit().ok());
  other.join();
  INFO(second_status.message());
  REQUIRE(second_status.ok());

  // One chain: the second appender read the head only once it could write.
  const std::vector<LedgerEntry> all = AllEntries(*first);
  REQUIRE(all.size() == 2);
  CHECK(all[0].record_key == "first");
  CHECK(all[1].record_key == "second");
  CHECK(all[1].prev_hash == all[0].hash);
  auto report = VerifyLedger(*first, SystemNow());
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->entries == 2);
}

TEST_CASE("entries chained on a stale head are never inserted", "[state][ledger]") {
  TempDir dir;
  const fs::path path = dir.path() / "state.db";
  auto db = MustOpen(path);
  auto other = MustOpen(path);
  REQUIRE(Append(*db, {Entry("a"), Entry("b")}).ok());
  size_t expected = 2;  // entries in the ledger after the section
  ChainWriter writer([] { return At(1'750'000'000); });

  SECTION("a head read before another process appended") {
    auto stale = db->Head();  // outside any transaction
    REQUIRE(stale.ok());
    REQUIRE(Append(*other, {Entry("c")}).ok());  // moves the head on
    expected = 3;
    std::vector<LedgerEntry> late = {Entry("late")};
    REQUIRE(writer.Chain(*stale, &late).ok());
    auto txn = db->BeginAppend();
    REQUIRE(txn.ok());
    const Status st = (*txn)->Insert(late);
    CHECK(st.code() == StatusCode::kInternal);
    CHECK_THAT(st.message(), Catch::Contains("not chained onto the ledger's head (entry 3)"));
  }

  SECTION("the right seq after a hash that is not the head's") {
    auto head = db->Head();
    REQUIRE(head.ok());
    LedgerHead forged = *head;
    forged.hash = std::string(64, 'f');
    std::vector<LedgerEntry> fork = {Entry("fork")};
    REQUIRE(writer.Chain(forged, &fork).ok());
    REQUIRE(fork[0].seq == head->seq + 1);
    auto txn = db->BeginAppend();
    REQUIRE(txn.ok());
    const Status st = (*txn)->Insert(fork);
    CHECK_THAT(st.message(), Catch::Contains("not chained onto the ledger's head"));
  }

  SECTION("a batch whose own links are broken") {
    auto txn = db->BeginAppend();
    REQUIRE(txn.ok());
    auto head = (*txn)->Head();
    REQUIRE(head.ok());
    std::vector<LedgerEntry> batch = {Entry("x"), Entry("y")};
    REQUIRE(writer.Chain(*head, &batch).ok());
    batch[1].prev_hash = std::string(64, '1');
    CHECK_THAT((*txn)->Insert(batch).message(), Catch::Contains("not chained"));
  }

  // Nothing was stored, and the chain still verifies.
  const std::vector<LedgerEntry> all = AllEntries(*db);
  CHECK(all.size() == expected);
  auto report = VerifyLedger(*db, SystemNow());
  REQUIRE(report.ok());
  CHECK(report->ok);
}

TEST_CASE("an append transaction not committed leaves nothing behind", "[state][ledger]") {
  TempDir dir;
  auto db = MustOpen(dir.path() / "state.db");
  {
    auto txn = db->BeginAppend();
    REQUIRE(txn.ok());
    Hold h;
    h.matter = "m";
    h.placed_at = At(1'700'000'000);
    REQUIRE((*txn)->InsertHold(h).ok());
    std::vector<LedgerEntry> v = {Entry("a")};
    ChainWriter writer([] { return At(1'750'000'000); });
    REQUIRE(writer.Chain(*(*txn)->Head(), &v).ok());
    REQUIRE((*txn)->Insert(v).ok());
  }  // destroyed uncommitted: rolled back
  CHECK(AllEntries(*db).empty());
  auto holds = db->ListHolds(true);
  REQUIRE(holds.ok());
  CHECK(holds->empty());
  // And the next append is not blocked by it.
  REQUIRE(Append(*db, {Entry("b")}).ok());
  CHECK(AllEntries(*db).size() == 1);
}

}  // namespace
}  // namespace retention
