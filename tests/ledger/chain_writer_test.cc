#include "ledger/chain_writer.h"

#include <catch2/catch.hpp>

#include "support/ledger_checker.h"

namespace retention {
namespace {

Timestamp At(int64_t micros) { return FromUnixMicros(micros); }

// The entry as the independent checker reads it back from the ledger table.
checker::Entry AsChecker(const LedgerEntry& e) {
  checker::Entry c;
  c.seq = e.seq;
  c.at = ToUnixMicros(e.at);
  c.kind = std::string(LedgerKindName(e.kind));
  c.run_id = e.run_id;
  c.category = e.category;
  c.store = e.store;
  c.target = e.target;
  c.record_key = e.record_key;
  c.clock = e.clock;
  c.cutoff = e.cutoff;
  c.rule = e.rule;
  c.subject = e.subject;
  c.batch = e.batch;
  c.detail = e.detail;
  c.prev_hash = e.prev_hash;
  c.hash = e.hash;
  return c;
}

std::vector<LedgerEntry> ThreeEntries() {
  std::vector<LedgerEntry> v(3);
  v[0].kind = LedgerKind::kRunStart;
  v[0].run_id = 7;
  v[0].detail = R"({"user":"ops"})";
  v[1].kind = LedgerKind::kDelete;
  v[1].run_id = 7;
  v[1].category = "server_logs";
  v[1].store = "app";
  v[1].target = "request_log";
  v[1].record_key = "bad\xff key";  // not UTF-8: hashed as the bytes it is
  v[1].clock = "2024-01-01T00:00:00Z";
  v[1].cutoff = "2024-04-01T00:00:00Z";
  v[1].rule = "rules/logs.toml:3";
  v[1].subject = "customer:42";
  v[1].batch = 3;
  v[1].at = At(1'600'000'000'000'001);  // set: kept
  v[2].kind = LedgerKind::kRunEnd;
  v[2].run_id = 7;
  v[2].seq = 99;                       // replaced
  v[2].prev_hash = "not the link";     // replaced
  v[2].hash = "not the hash";          // replaced
  return v;
}

TEST_CASE("the chain writer links entries as the independent checker recomputes them", "[ledger]") {
  int calls = 0;
  ChainWriter writer([&] {
    ++calls;
    return At(1'750'000'000'000'000);
  });

  SECTION("onto an empty ledger") {
    std::vector<LedgerEntry> v = ThreeEntries();
    REQUIRE(writer.Chain(LedgerHead{0, std::string(kGenesisHash), std::nullopt}, &v).ok());
    CHECK(calls == 1);  // one time for the batch
    CHECK(v[0].seq == 1);
    CHECK(v[1].seq == 2);
    CHECK(v[2].seq == 3);
    CHECK(v[0].at == At(1'750'000'000'000'000));
    CHECK(v[1].at == At(1'600'000'000'000'001));
    CHECK(v[2].at == At(1'750'000'000'000'000));
    CHECK(v[0].prev_hash == checker::kZeroHash);
    CHECK(v[1].prev_hash == v[0].hash);
    CHECK(v[2].prev_hash == v[1].hash);
    std::vector<checker::Entry> ledger;
    for (const LedgerEntry& e : v) {
      CHECK(e.hash == checker::EntryHash(AsChecker(e)));
      ledger.push_back(AsChecker(e));
    }
    std::vector<std::string> problems;
    checker::CheckChain(ledger, &problems);
    INFO(checker::Report(problems));
    CHECK(problems.empty());
  }

  SECTION("an empty ledger's head without a hash still starts at the genesis hash") {
    std::vector<LedgerEntry> v = ThreeEntries();
    REQUIRE(writer.Chain(LedgerHead{}, &v).ok());
    CHECK(v[0].prev_hash == checker::kZeroHash);
    CHECK(v[0].hash == checker::EntryHash(AsChecker(v[0])));
  }

  SECTION("after a head") {
    const std::string head_hash(64, 'a');
    std::vector<LedgerEntry> v = ThreeEntries();
    REQUIRE(writer.Chain(LedgerHead{41, head_hash, At(1)}, &v).ok());
    CHECK(v[0].seq == 42);
    CHECK(v[2].seq == 44);
    CHECK(v[0].prev_hash == head_hash);
    CHECK(v[2].prev_hash == v[1].hash);
    for (const LedgerEntry& e : v) CHECK(e.hash == checker::EntryHash(AsChecker(e)));
  }

  SECTION("nothing to chain reads no clock") {
    std::vector<LedgerEntry> none;
    REQUIRE(writer.Chain(LedgerHead{}, &none).ok());
    CHECK(calls == 0);
  }

  SECTION("an entry of no known kind is refused") {
    std::vector<LedgerEntry> v = ThreeEntries();
    v[1].kind = static_cast<LedgerKind>(42);
    const Status st = writer.Chain(LedgerHead{}, &v);
    CHECK(st.code() == StatusCode::kInternal);
  }
}

}  // namespace
}  // namespace retention
