#include "ledger/batch_entry.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <limits>
#include <random>

#include "ledger/batch_scan.h"
#include "ledger/ledger.h"
#include "util/json_text.h"

namespace retention {
namespace {

BatchPayload RoundTrip(const BatchPayload& p) {
  auto bytes = EncodeBatchPayload(p);
  REQUIRE(bytes.ok());
  auto count = CountBatchRecords(*bytes);
  REQUIRE(count.ok());
  CHECK(*count == p.records.size());
  auto back = DecodeBatchPayload(*bytes);
  REQUIRE(back.ok());
  return *back;
}

std::string RandomText(std::mt19937_64& rng, size_t max_len) {
  static const char kAlphabet[] = "ab0-9:\xff\x00 Z";
  std::string s(rng() % (max_len + 1), 'a');
  for (char& c : s) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return s;
}

int64_t RandomInt(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0: return std::numeric_limits<int64_t>::max() - static_cast<int64_t>(rng() % 3);
    case 1: return std::numeric_limits<int64_t>::min() + static_cast<int64_t>(rng() % 3);
    case 2: return -static_cast<int64_t>(rng() % 1000);
    default: return static_cast<int64_t>(rng() % 100000);
  }
}

TEST_CASE("batch payloads round trip over random records", "[ledger][batch]") {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 400; ++round) {
    BatchPayload p;
    p.subject_kind = rng() % 3 == 0 ? "" : "customer";
    const size_t n = 1 + rng() % 40;
    const int key_mode = static_cast<int>(rng() % 3);      // int, text, mixed
    const int subject_mode = static_cast<int>(rng() % 4);  // none, int, text, int with gaps
    const int identity_mode = static_cast<int>(rng() % 4); // nullopt, "", mixed, every set
    for (size_t i = 0; i < n; ++i) {
      BatchRecord r;
      const bool int_key = key_mode == 0 || (key_mode == 2 && rng() % 2 == 0);
      r.key = int_key ? std::to_string(RandomInt(rng)) : RandomText(rng, 12);
      r.clock = RandomText(rng, 20);
      if (subject_mode == 1) r.subject = std::to_string(RandomInt(rng));
      if (subject_mode == 2) r.subject = RandomText(rng, 6);
      if (subject_mode == 3 && rng() % 2 == 0) r.subject = std::to_string(RandomInt(rng));
      if (identity_mode == 1) r.identity = "";
      if (identity_mode == 2 && rng() % 3 != 0) r.identity = rng() % 2 ? RandomText(rng, 10) : "";
      if (identity_mode == 3) r.identity = RandomText(rng, 10);
      p.records.push_back(std::move(r));
    }
    INFO("round " << round);
    CHECK(RoundTrip(p) == p);
  }
}

TEST_CASE("batch payloads keep keys and subjects that only look like integers", "[ledger][batch]") {
  BatchPayload p;
  p.subject_kind = "customer";
  for (const char* k : {"007", "-0", "+5", "1", "9223372036854775808", "-9223372036854775809", " 3", ""})
    p.records.push_back({k, "2024-01-01", k, std::nullopt});
  CHECK(RoundTrip(p) == p);
  BatchPayload extremes;
  for (int64_t v : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), int64_t{0},
                    std::numeric_limits<int64_t>::min(), int64_t{-1}})
    extremes.records.push_back({std::to_string(v), "", v == std::numeric_limits<int64_t>::min() ? "" : std::to_string(v),
                                std::string("")});
  CHECK(RoundTrip(extremes) == extremes);
  // INT64_MIN as a subject cannot take the integer form; it still survives.
  BatchPayload min_subject;
  min_subject.records.push_back({"1", "c", std::to_string(std::numeric_limits<int64_t>::min()), std::nullopt});
  CHECK(RoundTrip(min_subject) == min_subject);
}

TEST_CASE("an empty batch or one over the limit is not encoded", "[ledger][batch]") {
  CHECK(EncodeBatchPayload(BatchPayload{}).status().code() == StatusCode::kInvalid);
  BatchPayload big;
  big.records.resize(kMaxBatchRecords + 1, BatchRecord{"1", "c", "", std::nullopt});
  CHECK(EncodeBatchPayload(big).status().code() == StatusCode::kInvalid);
}

// The payload of two integer-keyed records, by hand from the layout.
std::string TwoRecords() {
  return std::string(
      "\x01"          // version
      "\x02"          // n
      "\x01"          // integer keys
      "\x0a\x02"      // 5, 6
      "\x00\x02" "ab" // "ab"
      "\x01\x01" "c"  // "ac"
      "\x00"          // no subject kind
      "\x00"          // no subjects
      "\x00",         // identities unknown
      15);
}

TEST_CASE("a batch payload written by hand from the layout decodes", "[ledger][batch]") {
  auto p = DecodeBatchPayload(TwoRecords());
  REQUIRE(p.ok());
  REQUIRE(p->records.size() == 2);
  CHECK(p->records[0].key == "5");
  CHECK(p->records[1].key == "6");
  CHECK(p->records[0].clock == "ab");
  CHECK(p->records[1].clock == "ac");
  CHECK(!p->records[0].identity);
  BatchPayload same = *p;
  CHECK(EncodeBatchPayload(same).value() == TwoRecords());
}

TEST_CASE("every malformed batch payload is refused", "[ledger][batch]") {
  const std::string good = TwoRecords();
  struct Bad {
    const char* what;
    std::string bytes;
  };
  std::vector<Bad> bad = {
      {"empty", ""},
      {"version 2", "\x02" + good.substr(1)},
      {"no records", std::string("\x01\x00\x01\x00\x00\x00\x00", 7)},
      {"count over the limit", std::string("\x01\xc1\x84\x3d", 4) + good.substr(2)},  // 1,000,001
      {"count over the bytes", "\x01\x7f" + good.substr(2)},
      {"unknown key form", good.substr(0, 2) + "\x07" + good.substr(3)},
      {"unknown subject form", good.substr(0, 13) + "\x05" + good.substr(14)},
      {"unknown identity form", good.substr(0, 14) + "\x03"},
      {"trailing byte", good + std::string(1, '\0')},
      {"prefix longer than the previous value", good.substr(0, 9) + "\x03" + good.substr(10)},
      {"first prefix not 0", good.substr(0, 5) + "\x01" + good.substr(6)},
      {"overlong varint", std::string("\x01\x82\x00", 3) + good.substr(2)},
      {"varint over 64 bits", good.substr(0, 3) + std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10) +
                                  good.substr(4)},
      {"varint of 11 bytes", good.substr(0, 3) + std::string(10, '\x80') + "\x01" + good.substr(4)},
      {"identity prefix past the previous", good.substr(0, 14) + std::string("\x02\x02\x01" "a", 4)},
  };
  for (size_t cut = 0; cut < good.size(); ++cut) bad.push_back({"truncated", good.substr(0, cut)});
  for (const Bad& b : bad) {
    INFO(b.what);
    auto d = DecodeBatchPayload(b.bytes);
    CHECK(d.status().code() == StatusCode::kAuditFailed);
    auto c = CountBatchRecords(b.bytes);
    CHECK(c.status().code() == StatusCode::kAuditFailed);
  }
  // Random corruption never crashes either decoder, and they agree.
  std::mt19937_64 rng(7);
  BatchPayload p;
  p.subject_kind = "customer";
  for (int i = 0; i < 30; ++i)
    p.records.push_back({"k" + std::to_string(i * 7), "2024-01-01 00:00:" + std::to_string(i), std::to_string(i),
                         i % 3 ? std::optional<std::string>("id" + std::to_string(i)) : std::nullopt});
  const std::string bytes = EncodeBatchPayload(p).value();
  for (int round = 0; round < 3000; ++round) {
    std::string b = bytes;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) b[rng() % b.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    CHECK(DecodeBatchPayload(b).ok() == CountBatchRecords(b).ok());
  }
}

// SQLite bench-like data: sequential ids, clocks about 30 s apart as
// "YYYY-MM-DD HH:MM:SS", integer subjects 1..10000, identity unknown.
BatchPayload BenchLike(size_t n, int64_t first_id) {
  std::mt19937_64 rng(42);
  BatchPayload p;
  p.subject_kind = "customer";
  int64_t t = 1'600'000'000 + first_id * 30;
  for (size_t i = 0; i < n; ++i) {
    t += 25 + static_cast<int64_t>(rng() % 11);
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char clock[32];
    std::strftime(clock, sizeof(clock), "%Y-%m-%d %H:%M:%S", &tm);
    p.records.push_back({std::to_string(first_id + static_cast<int64_t>(i)), clock,
                         std::to_string(1 + rng() % 10000), std::nullopt});
  }
  return p;
}

TEST_CASE("bench-like records take at most 12 bytes each", "[ledger][batch]") {
  for (size_t n : {size_t{1000}, size_t{20000}}) {
    const BatchPayload p = BenchLike(n, 1'000'000);
    const std::string bytes = EncodeBatchPayload(p).value();
    INFO(n << " records: " << bytes.size() << " bytes");
    CHECK(static_cast<double>(bytes.size()) / static_cast<double>(n) <= 12.0);
    CHECK(DecodeBatchPayload(bytes).value() == p);
  }
}

TEST_CASE("batch payload check speed", "[.bench][ledger][batch]") {
  const BatchPayload p = BenchLike(5000, 1);
  const std::string bytes = EncodeBatchPayload(p).value();
  const int rounds = 2000;
  size_t total = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) total += CountBatchRecords(bytes).value();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("CountBatchRecords: %.1f M records/s\n", static_cast<double>(total) / s / 1e6);
  total = 0;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds / 10; ++i) total += DecodeBatchPayload(bytes).value().records.size();
  s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("DecodeBatchPayload: %.1f M records/s\n", static_cast<double>(total) / s / 1e6);
  CHECK(total > 0);
}

TEST_CASE("key ranges compare integers as integers, text as bytes", "[ledger][batch]") {
  BatchPayload ints;
  for (const char* k : {"10", "9", "-3", "100"}) ints.records.push_back({k, "", "", std::nullopt});
  BatchKeyRange r = KeyRangeOf(ints);
  CHECK(r.integer_keys);
  CHECK(r.lo == "-3");
  CHECK(r.hi == "100");
  BatchPayload text = ints;
  text.records.push_back({"010", "", "", std::nullopt});
  r = KeyRangeOf(text);
  CHECK_FALSE(r.integer_keys);
  CHECK(r.lo == "-3");
  CHECK(r.hi == "9");
}

TEST_CASE("settlements round trip through an entry's detail", "[ledger][batch]") {
  Settlement a;
  a.batch_seq = 12;
  a.kept.push_back({3, KeptReason{KeptWhy::kHeld, "held by hold 7 (M-1)", std::nullopt, 7}});
  a.kept.push_back({5, KeptReason{KeptWhy::kLocked, "locked \xff", std::string("locked"), std::nullopt}});
  Settlement b;
  b.batch_seq = 14;
  b.replaced = {0, 2};
  b.reconciled = true;
  nlohmann::json detail{{"outcome", "ok"}, {"settles", SettlementsJson({a, b})}};
  auto back = SettlementsOf(DumpJson(detail));
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  const Settlement& x = (*back)[0];
  CHECK(x.batch_seq == 12);
  REQUIRE(x.kept.size() == 2);
  CHECK(x.kept[0].index == 3);
  CHECK(x.kept[0].reason.why == KeptWhy::kHeld);
  CHECK(x.kept[0].reason.hold_id == std::optional<int64_t>(7));
  CHECK(x.kept[1].reason.skip == std::optional<std::string>("locked"));
  CHECK_FALSE(x.reconciled);
  const Settlement& y = (*back)[1];
  CHECK(y.batch_seq == 14);
  CHECK(y.replaced == std::vector<uint32_t>{0, 2});
  CHECK(y.reconciled);
  CHECK(y.kept.empty());
  // Members left empty are omitted.
  CHECK(DumpJson(SettlementsJson({b})) == R"([{"reconciled":true,"replaced":[0,2],"seq":14}])");

  CHECK(SettlementsOf("").value().empty());
  CHECK(SettlementsOf(R"({"outcome":"ok"})").value().empty());
  for (const char* bad : {R"({"settles":{}})", R"({"settles":[1]})", R"({"settles":[{"kept":[]}]})",
                          R"({"settles":[{"seq":0}]})", R"({"settles":[{"seq":3,"kept":[{"why":"held"}]}]})",
                          R"({"settles":[{"seq":3,"kept":[{"i":-1,"why":"held"}]}]})",
                          R"({"settles":[{"seq":3,"kept":[{"i":1,"why":"bogus"}]}]})",
                          R"({"settles":[{"seq":3,"replaced":["1"]}]})",
                          R"({"settles":[{"seq":3,"reconciled":1}]})"}) {
    INFO(bad);
    CHECK(SettlementsOf(bad).status().code() == StatusCode::kAuditFailed);
  }
}

TEST_CASE("a batch entry's hash covers its payload, other kinds' do not", "[ledger][batch]") {
  LedgerEntry e;
  e.kind = LedgerKind::kBatch;
  e.seq = 4;
  e.prev_hash = std::string(kGenesisHash);
  e.payload = TwoRecords();
  const std::string h = ComputeEntryHash(e);
  e.payload[4] ^= 1;
  CHECK(ComputeEntryHash(e) != h);
  LedgerEntry d = e;
  d.kind = LedgerKind::kDelete;
  const std::string hd = ComputeEntryHash(d);
  d.payload.clear();
  CHECK(ComputeEntryHash(d) == hd);  // delete entries hash 15 fields, as ever
}

}  // namespace
}  // namespace retention
