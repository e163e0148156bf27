// The StateDb contract (state/state_db.h) as scenarios written against the
// interface alone: each backend's tests run them on a state of their own
// (tests/state/sqlite_state_db_test.cc, batch_index_test.cc,
// state_append_test.cc for SQLite; postgres_state_db_test.cc for
// PostgreSQL), so both keep one behaviour.
//
// A scenario that looks under the interface (a trigger refusing a DELETE,
// rows left behind) does it through RawSql, the backend's own SQL.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger/batch_entry.h"
#include "ledger/chain_writer.h"
#include "ledger/ledger.h"
#include "state/state_db.h"
#include "state/state_ops.h"

namespace retention::contract {

// The backend's SQL beside the StateDb: `exec` runs a statement and returns
// "" or the error message; `query` returns the first column of the first
// row as text.
struct RawSql {
  std::function<std::string(const std::string&)> exec;
  std::function<std::string(const std::string&)> query;
};

// Opens a new connection to the same state each call, stamping the fixed
// clock At(1'750'000'000).
using StateOpener = std::function<std::unique_ptr<StateDb>()>;

inline Timestamp At(int64_t seconds) { return FromUnixMicros(seconds * 1'000'000); }

inline std::vector<LedgerEntry> AllEntries(StateDb& db) {
  std::vector<LedgerEntry> out;
  REQUIRE(db.ScanLedger(0, [&](const LedgerEntry& e) {
                out.push_back(e);
                return true;
              }).ok());
  return out;
}

inline int64_t Entries(StateDb& db) {
  int64_t n = 0;
  REQUIRE(db.ScanLedger(0, [&](const LedgerEntry&) { return ++n, true; }).ok());
  return n;
}

inline Hold SampleHold() {
  Hold h;
  h.matter = "Smith v. Acme";
  h.reason = "litigation hold";
  h.author = "alice";
  h.placed_at = At(1'700'000'000);
  h.expires_at = At(1'800'000'000);
  h.scope.category = "support_tickets";
  h.scope.subject_kind = "customer";
  h.scope.subject_id = "42";
  h.scope.clock_from = At(1'600'000'000);
  return h;
}

// A delete entry of app/t.
inline LedgerEntry Entry(const std::string& key) {
  LedgerEntry e;
  e.kind = LedgerKind::kDelete;
  e.store = "app";
  e.target = "t";
  e.record_key = key;
  return e;
}

inline BatchPayload Payload(std::vector<std::string> keys) {
  BatchPayload p;
  p.subject_kind = "customer";
  for (auto& k : keys) p.records.push_back({k, "2024-01-01 00:00:00", "7", std::nullopt});
  return p;
}

// A batch entry of `keys` for store app, target `target`.
inline LedgerEntry BatchOf(const BatchPayload& p, const std::string& target = "events") {
  LedgerEntry e;
  e.kind = LedgerKind::kBatch;
  e.run_id = 1;
  e.category = "logs";
  e.store = "app";
  e.target = target;
  e.rule = "logs.toml:1";
  e.cutoff = "2024-06-01T00:00:00Z";
  e.batch = 1;
  e.payload = EncodeBatchPayload(p).value();
  return e;
}

inline BatchIndexRow IndexOf(const BatchPayload& p, const std::string& target = "events") {
  const BatchKeyRange r = KeyRangeOf(p);
  return BatchIndexRow{"app", target, r.lo, r.hi, r.integer_keys};
}

inline Result<int64_t> Add(StateDb& db, const std::vector<std::string>& keys,
                           const std::vector<Settlement>& settles = {}, const std::string& target = "events") {
  const BatchPayload p = Payload(keys);
  return AppendBatch(db, BatchOf(p, target), IndexOf(p, target), settles);
}

inline Settlement Settle(int64_t seq) {
  Settlement s;
  s.batch_seq = seq;
  return s;
}

inline void HoldsContract(StateDb& db_ref, const RawSql& raw) {
  StateDb* db = &db_ref;

  const Hold in = SampleHold();
  auto id = AddHold(*db, in, "test-host");
  REQUIRE(id.ok());
  Hold all_scope;
  all_scope.matter = "freeze";
  all_scope.reason = "audit";
  all_scope.author = "bob";
  all_scope.placed_at = At(1'700'000'100);
  auto id2 = AddHold(*db, all_scope, "test-host");
  REQUIRE(id2.ok());
  CHECK(*id2 > *id);

  auto got = db->GetHold(*id);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  const Hold& h = **got;
  CHECK(h.id == *id);
  CHECK(h.matter == in.matter);
  CHECK(h.reason == in.reason);
  CHECK(h.author == in.author);
  CHECK(h.placed_at == in.placed_at);
  CHECK(h.expires_at == in.expires_at);
  CHECK(h.scope.category == in.scope.category);
  CHECK_FALSE(h.scope.target.has_value());
  CHECK(h.scope.subject_kind == in.scope.subject_kind);
  CHECK(h.scope.subject_id == in.scope.subject_id);
  CHECK_FALSE(h.scope.key.has_value());
  CHECK(h.scope.clock_from == in.scope.clock_from);
  CHECK_FALSE(h.scope.clock_until.has_value());
  CHECK_FALSE(h.released_at.has_value());
  CHECK((*db->GetHold(*id2))->scope.empty());
  CHECK_FALSE(db->GetHold(999)->has_value());

  CHECK(db->ListHolds(false)->size() == 2);
  REQUIRE(ReleaseHold(*db, *id, "carol", "case settled", At(1'750'000'000), "test-host").ok());
  auto active = db->ListHolds(false);
  REQUIRE(active->size() == 1);
  CHECK((*active)[0].id == *id2);
  auto all = db->ListHolds(true);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].released_at == At(1'750'000'000));
  CHECK((*all)[0].released_by == "carol");
  CHECK((*all)[0].release_reason == "case settled");

  Status twice = ReleaseHold(*db, *id, "dave", "again", At(1'760'000'000), "test-host");
  CHECK(twice.code() == StatusCode::kInvalid);
  CHECK_THAT(twice.message(), Catch::Contains("already released"));
  Status unknown = ReleaseHold(*db, 999, "dave", "x", At(1'760'000'000), "test-host");
  CHECK(unknown.code() == StatusCode::kInvalid);
  CHECK_THAT(unknown.message(), Catch::Contains("hold 999 does not exist"));

  const auto entries = AllEntries(*db);
  REQUIRE(entries.size() == 3);  // placed, placed, released; failures left nothing
  CHECK(entries[0].kind == LedgerKind::kHoldPlaced);
  CHECK(entries[1].kind == LedgerKind::kHoldPlaced);
  CHECK(entries[2].kind == LedgerKind::kHoldReleased);
  CHECK(entries[0].at == At(1'750'000'000));  // the injected clock
  const auto placed = nlohmann::json::parse(entries[0].detail);
  CHECK(placed["id"] == *id);
  CHECK(placed["matter"] == "Smith v. Acme");
  CHECK(placed["scope"]["subject_id"] == "42");
  CHECK(placed["placed_at"] == FormatTimestamp(in.placed_at));
  CHECK(entries[0].detail == placed.dump());  // compact, sorted keys
  const auto released = nlohmann::json::parse(entries[2].detail);
  CHECK(released["id"] == *id);
  CHECK(released["by"] == "carol");
  CHECK(released["reason"] == "case settled");

  CHECK_THAT(raw.exec("DELETE FROM holds"), Catch::Contains("never deleted"));
}

inline void RunsContract(StateDb& db_ref) {
  StateDb* db = &db_ref;
  CHECK_FALSE(db->LastRun()->has_value());

  RunInfo info;
  info.started_at = At(1'700'000'000);
  info.as_of = At(1'699'999'000);
  info.user = "retention";
  info.host = "db1";
  info.version = "0.1.0";
  info.rules_hash = "abc123";
  info.command = "retention purge";
  auto r1 = BeginRun(*db, info);
  REQUIRE(r1.ok());
  auto unfinished = db->UnfinishedRuns();
  REQUIRE(unfinished->size() == 1);
  const RunInfo& u = (*unfinished)[0];
  CHECK(u.id == *r1);
  CHECK(u.outcome == "running");
  CHECK(u.started_at == info.started_at);
  CHECK(u.as_of == info.as_of);
  CHECK(u.user == "retention");
  CHECK(u.host == "db1");
  CHECK(u.rules_hash == "abc123");
  CHECK(u.command == "retention purge");
  CHECK_FALSE(u.ended_at.has_value());

  REQUIRE(EndRun(*db, *r1, "ok", 0, R"({"deleted":{"server_logs":12}})").ok());
  CHECK(db->UnfinishedRuns()->empty());
  auto last = db->LastRun();
  REQUIRE(last->has_value());
  CHECK((*last)->outcome == "ok");
  CHECK((*last)->ended_at == At(1'750'000'000));
  CHECK(EndRun(*db, *r1, "ok", 0, "").code() == StatusCode::kInvalid);

  auto r2 = BeginRun(*db, info);
  REQUIRE(r2.ok());
  REQUIRE(MarkRunCrashed(*db, *r2).ok());
  CHECK(db->UnfinishedRuns()->empty());
  CHECK((*db->LastRun())->outcome == "crashed");
  CHECK_FALSE(MarkRunCrashed(*db, *r2).ok());

  const auto e = AllEntries(*db);
  REQUIRE(e.size() == 4);
  CHECK(e[0].kind == LedgerKind::kRunStart);
  CHECK(e[0].run_id == *r1);
  CHECK(nlohmann::json::parse(e[0].detail)["rules_hash"] == "abc123");
  CHECK(e[1].kind == LedgerKind::kRunEnd);
  const auto end = nlohmann::json::parse(e[1].detail);
  CHECK(end["outcome"] == "ok");
  CHECK(end["exit_code"] == 0);
  CHECK(end["deleted"]["server_logs"] == 12);
  CHECK(e[2].kind == LedgerKind::kRunStart);
  CHECK(e[3].kind == LedgerKind::kRunEnd);
  CHECK(e[3].run_id == *r2);
  CHECK(nlohmann::json::parse(e[3].detail)["outcome"] == "crashed");
}

inline void PendingContract(StateDb& db_ref, const RawSql& raw) {
  StateDb* db = &db_ref;
  PendingBatch b;
  b.run_id = 3;
  b.batch = 7;
  b.category = "server_logs";
  b.store = "app";
  b.target = "request_log";
  b.rule = "logs.toml:4";
  b.cutoff = "2026-01-01T00:00:00Z";
  b.records = {{"1", "2025-01-01T00:00:00Z", ""},
               {"2", "2025-01-02T00:00:00Z", "customer:9"},
               {"3", "2025-01-03T00:00:00Z", ""}};
  auto id = db->AddPending(b);
  REQUIRE(id.ok());
  PendingBatch empty_batch = b;
  empty_batch.records.clear();
  auto id2 = db->AddPending(empty_batch);
  REQUIRE(id2.ok());

  auto list = db->ListPending();
  REQUIRE(list->size() == 2);
  const PendingBatch& p = (*list)[0];
  CHECK(p.id == *id);
  CHECK(p.run_id == 3);
  CHECK(p.batch == 7);
  CHECK(p.category == "server_logs");
  CHECK(p.store == "app");
  CHECK(p.target == "request_log");
  CHECK(p.rule == "logs.toml:4");
  CHECK(p.cutoff == "2026-01-01T00:00:00Z");
  REQUIRE(p.records.size() == 3);
  CHECK(p.records[1].key == "2");
  CHECK(p.records[1].clock == "2025-01-02T00:00:00Z");
  CHECK(p.records[1].subject == "customer:9");
  CHECK((*list)[1].records.empty());

  std::vector<LedgerEntry> entries;
  for (const auto& r : p.records) {
    LedgerEntry e;
    e.kind = LedgerKind::kDelete;
    e.run_id = p.run_id;
    e.category = p.category;
    e.store = p.store;
    e.target = p.target;
    e.record_key = r.key;
    e.clock = r.clock;
    e.cutoff = p.cutoff;
    e.rule = p.rule;
    e.subject = r.subject;
    e.batch = p.batch;
    entries.push_back(e);
  }
  REQUIRE(SettlePending(*db, *id, entries).ok());
  list = db->ListPending();
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].id == *id2);
  const auto ledger = AllEntries(*db);
  REQUIRE(ledger.size() == 3);
  CHECK(ledger[1].record_key == "2");
  CHECK(ledger[1].subject == "customer:9");

  // Settling again fails and appends nothing: one transaction.
  CHECK_FALSE(SettlePending(*db, *id, entries).ok());
  CHECK(AllEntries(*db).size() == 3);
  CHECK(raw.query("SELECT count(*) FROM pending_records") == "0");
}

inline void AppendAssignsContract(StateDb& db_ref) {
  StateDb* db = &db_ref;
  LedgerEntry e;
  e.seq = 77;
  e.prev_hash = "bogus";
  e.hash = "bogus";
  e.record_key = "k";
  REQUIRE(Append(*db, {e, e}).ok());
  REQUIRE(Append(*db, {}).ok());
  const auto all = AllEntries(*db);
  REQUIRE(all.size() == 2);
  CHECK(all[0].seq == 1);
  CHECK(all[0].prev_hash == kGenesisHash);
  CHECK(all[1].seq == 2);
  CHECK(all[1].prev_hash == all[0].hash);
  CHECK(all[1].hash == ComputeEntryHash(all[1]));
  CHECK(all[0].at == At(1'750'000'000));  // unset `at` takes the clock
  auto head = db->Head();
  CHECK(head->seq == 2);
  CHECK(head->hash == all[1].hash);
}

inline void BatchesReachingContract(StateDb& db_ref) {
  StateDb* db = &db_ref;
  REQUIRE(Add(*db, {"1", "2x"}).ok());       // text: "1" .. "2x"
  REQUIRE(Add(*db, {"12", "30"}).ok());      // integer: 12 .. 30
  REQUIRE(Add(*db, {"a.log", "c.log"}).ok()); // text
  // "15" is inside the text range "1".."2x" and the integer range 12..30.
  CHECK(db->BatchesReaching("app", "events", "15").value() == std::vector<int64_t>{1, 2});
  CHECK(db->BatchesReaching("app", "events", "30").value() == std::vector<int64_t>{2});
  CHECK(db->BatchesReaching("app", "events", "3").value().empty());
  CHECK(db->BatchesReaching("app", "events", "b").value() == std::vector<int64_t>{3});
  CHECK(db->BatchesReaching("app", "events", "1a").value() == std::vector<int64_t>{1});
  CHECK(db->BatchesReaching("app", "events", "").value().empty());
}

inline void SettlementsContract(StateDb& db_ref) {
  StateDb* db = &db_ref;
  auto first = Add(*db, {"1", "2"});
  auto second = Add(*db, {"3", "4"});
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(db->OpenBatches().value() == std::vector<int64_t>{1, 2});

  Settlement s = Settle(*first);
  s.kept.push_back({1, KeptReason{KeptWhy::kHeld, "held by hold 2 (M)", std::nullopt, 2}});
  auto third = Add(*db, {"5"}, {s});
  REQUIRE(third.ok());
  CHECK(db->OpenBatches().value() == std::vector<int64_t>{2, 3});
  auto e = db->ReadEntry(*third).value();
  REQUIRE(e);
  auto settled = SettlementsOf(e->detail);
  REQUIRE(settled.ok());
  REQUIRE(settled->size() == 1);
  CHECK((*settled)[0].batch_seq == *first);
  CHECK((*settled)[0].kept.at(0).index == 1);

  // Settling it again, or a seq that is no batch, or the entry itself: refused,
  // and nothing is written.
  const int64_t before = Entries(*db);
  CHECK(Add(*db, {"6"}, {Settle(*first)}).status().code() == StatusCode::kInternal);
  CHECK(Add(*db, {"6"}, {Settle(99)}).status().code() == StatusCode::kInternal);
  CHECK(Add(*db, {"6"}, {Settle(before + 1)}).status().code() == StatusCode::kInternal);
  LedgerEntry rec;
  rec.kind = LedgerKind::kReconciled;
  CHECK(AppendSettling(*db, rec, {Settle(*second), Settle(*first)}).code() == StatusCode::kInternal);
  CHECK(Entries(*db) == before);
  CHECK(db->OpenBatches().value() == std::vector<int64_t>{2, 3});

  // A reconciled entry settles one; the run's end the other.
  Settlement r = Settle(*second);
  r.reconciled = true;
  r.replaced = {0};
  REQUIRE(AppendSettling(*db, rec, {r}).ok());
  CHECK(db->OpenBatches().value() == std::vector<int64_t>{3});
  auto run = BeginRun(*db, RunInfo{});
  REQUIRE(run.ok());
  REQUIRE(EndRun(*db, *run, "ok", 0, R"({"deleted":3})", {Settle(*third)}).ok());
  CHECK(db->OpenBatches().value().empty());
  LedgerHead head = db->Head().value();
  auto end = db->ReadEntry(head.seq).value();
  REQUIRE(end);
  CHECK(end->kind == LedgerKind::kRunEnd);
  CHECK_THAT(end->detail, Catch::Contains(R"("deleted":3)") && Catch::Contains(R"("settles":[{"seq":3}])"));
  // A run that ends settling a closed batch does not end.
  auto run2 = BeginRun(*db, RunInfo{});
  REQUIRE(run2.ok());
  CHECK(EndRun(*db, *run2, "ok", 0, "", {Settle(*third)}).code() == StatusCode::kInternal);
  CHECK(db->UnfinishedRuns().value().size() == 1);
  auto v = VerifyLedger(*db, At(1'750'000'000));
  REQUIRE(v.ok());
  CHECK(v->ok);
}

inline void AppenderWaitsContract(const StateOpener& open) {
  auto first = open();
  auto second = open();

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

inline void StaleHeadContract(const StateOpener& open) {
  auto db = open();
  auto other = open();
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

inline void UncommittedContract(const StateOpener& open) {
  auto db = open();
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

}  // namespace retention::contract
