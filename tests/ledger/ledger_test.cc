#include "ledger/ledger.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>

#include "state/sqlite_state_db.h"
#include "state/test_util.h"

namespace retention {
namespace {

using testing::RawDb;
using testing::TempDir;

Timestamp At(int64_t micros) { return FromUnixMicros(micros); }

LedgerEntry DeleteEntry(int64_t run, int64_t batch, int64_t i) {
  LedgerEntry e;
  e.kind = LedgerKind::kDelete;
  e.at = At(1'700'000'000'000'000 + i);
  e.run_id = run;
  e.category = "server_logs";
  e.store = "app";
  e.target = "request_log";
  e.record_key = std::to_string(1000 + i);
  e.clock = "2024-01-01T00:00:00Z";
  e.cutoff = "2024-04-01T00:00:00Z";
  e.rule = "retention-rules/logs.toml:12";
  e.subject = i % 3 == 0 ? "customer:" + std::to_string(i % 97) : "";
  e.batch = batch;
  return e;
}

Result<std::unique_ptr<StateDb>> Open(const std::filesystem::path& p, bool read_only = false) {
  return OpenOrCreateStateDb(p, read_only);
}

// Appends `total` entries in calls of 1..max_per_call entries, mixing kinds.
void Fill(StateDb& db, int total, int max_per_call, std::mt19937& rng) {
  int done = 0;
  int64_t batch = 0;
  while (done < total) {
    const int n = std::min<int>(total - done, 1 + static_cast<int>(rng() % max_per_call));
    std::vector<LedgerEntry> v;
    for (int i = 0; i < n; ++i) {
      LedgerEntry e = DeleteEntry(1, batch, done + i);
      if ((done + i) % 50 == 7) {
        e = LedgerEntry{};
        e.kind = LedgerKind::kReconciled;
        e.run_id = 1;
        e.detail = R"({"how":"target row gone","pending":)" + std::to_string(done + i) + "}";
      }
      v.push_back(std::move(e));
    }
    REQUIRE(Append(db, std::move(v)).ok());
    done += n;
    ++batch;
  }
}

TEST_CASE("ledger kind names round trip", "[ledger]") {
  for (LedgerKind k : {LedgerKind::kRunStart, LedgerKind::kRunEnd, LedgerKind::kDelete,
                       LedgerKind::kHoldPlaced, LedgerKind::kHoldReleased,
                       LedgerKind::kReconciled}) {
    auto back = LedgerKindFromName(LedgerKindName(k));
    REQUIRE(back.has_value());
    CHECK(*back == k);
  }
  CHECK(LedgerKindName(LedgerKind::kDelete) == "delete");
  CHECK(LedgerKindName(LedgerKind::kHoldPlaced) == "hold_placed");
  CHECK_FALSE(LedgerKindFromName("Delete").has_value());
  CHECK_FALSE(LedgerKindFromName("").has_value());
}

// The byte layout written at the top of ledger.cc, built independently.
TEST_CASE("entry hash follows the documented byte layout", "[ledger]") {
  LedgerEntry e = DeleteEntry(7, 3, 5);
  e.seq = 42;
  e.prev_hash = std::string(kGenesisHash);
  e.detail = R"({"note":"x"})";
  std::string bytes;
  auto u32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<char>(v >> s));
  };
  auto text = [&](const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes += s;
  };
  auto integer = [&](int64_t v) {
    u32(8);
    for (int s = 56; s >= 0; s -= 8) bytes.push_back(static_cast<char>(static_cast<uint64_t>(v) >> s));
  };
  text(e.prev_hash);
  integer(e.seq);
  integer(ToUnixMicros(e.at));
  text("delete");
  integer(e.run_id);
  text(e.category);
  text(e.store);
  text(e.target);
  text(e.record_key);
  text(e.clock);
  text(e.cutoff);
  text(e.rule);
  text(e.subject);
  integer(e.batch);
  text(e.detail);
  CHECK(ComputeEntryHash(e) == Sha256::HexOf(bytes));
  EntryHasher hasher;
  CHECK(hasher.Hash(e) == Sha256::HexOf(bytes));
}

TEST_CASE("every field changes the entry hash", "[ledger]") {
  LedgerEntry base = DeleteEntry(7, 3, 5);
  base.seq = 9;
  base.prev_hash = std::string(kGenesisHash);
  const std::string h = ComputeEntryHash(base);
  std::vector<std::function<void(LedgerEntry&)>> changes = {
      [](LedgerEntry& e) { e.seq++; },
      [](LedgerEntry& e) { e.at += std::chrono::microseconds(1); },
      [](LedgerEntry& e) { e.kind = LedgerKind::kReconciled; },
      [](LedgerEntry& e) { e.run_id++; },
      [](LedgerEntry& e) { e.category += "x"; },
      [](LedgerEntry& e) { e.store += "x"; },
      [](LedgerEntry& e) { e.target += "x"; },
      [](LedgerEntry& e) { e.record_key += "x"; },
      [](LedgerEntry& e) { e.clock += "x"; },
      [](LedgerEntry& e) { e.cutoff += "x"; },
      [](LedgerEntry& e) { e.rule += "x"; },
      [](LedgerEntry& e) { e.subject += "x"; },
      [](LedgerEntry& e) { e.batch++; },
      [](LedgerEntry& e) { e.detail += "x"; },
      [](LedgerEntry& e) { e.prev_hash[0] = '1'; },
      // Moving a byte from one field to the next must not collide.
      [](LedgerEntry& e) {
        e.target = e.store.substr(1) + e.target;
        e.store = e.store.substr(0, 1);
      },
  };
  std::set<std::string> seen{h};
  for (size_t i = 0; i < changes.size(); ++i) {
    LedgerEntry e = base;
    changes[i](e);
    INFO("change " << i);
    CHECK(seen.insert(ComputeEntryHash(e)).second);
  }
  LedgerEntry e = base;
  e.hash = "anything";  // the stored hash is not an input
  CHECK(ComputeEntryHash(e) == h);
}

TEST_CASE("a ledger built by many appends verifies", "[ledger]") {
  TempDir dir;
  auto db = Open(dir / "state.db");
  REQUIRE(db.ok());

  auto empty = VerifyLedger(**db, SystemNow());
  REQUIRE(empty.ok());
  CHECK(empty->ok);
  CHECK(empty->entries == 0);
  CHECK(empty->head_seq == 0);
  CHECK(empty->head_hash == kGenesisHash);

  std::mt19937 rng(1234);
  Fill(**db, 5000, 200, rng);
  Hold hold;
  hold.matter = "M-1";
  hold.reason = "litigation";
  hold.author = "alice";
  hold.placed_at = At(1'700'000'000'000'000);
  hold.scope.subject_kind = "customer";
  hold.scope.subject_id = "42";
  REQUIRE(AddHold(**db, hold, "test-host").ok());

  auto report = VerifyLedger(**db, SystemNow());
  REQUIRE(report.ok());
  INFO(report->problem);
  CHECK(report->ok);
  CHECK(report->entries == 5001);
  CHECK(report->head_seq == 5001);
  CHECK_FALSE(report->first_bad_seq.has_value());
  auto head = (*db)->Head();
  REQUIRE(head.ok());
  CHECK(head->seq == 5001);
  CHECK(report->head_hash == head->hash);

  // Stored entries carry the chain and hash to their stored hash.
  std::string prev(kGenesisHash);
  int64_t n = 0;
  REQUIRE((*db)->ScanLedger(0, [&](const LedgerEntry& e) {
                 CHECK(e.seq == ++n);
                 CHECK(e.prev_hash == prev);
                 CHECK(ComputeEntryHash(e) == e.hash);
                 prev = e.hash;
                 return true;
               }).ok());
  CHECK(n == 5001);

  auto with_checkpoint = VerifyLedger(**db, *head, SystemNow());
  REQUIRE(with_checkpoint.ok());
  CHECK(with_checkpoint->ok);
  auto earlier = VerifyLedger(**db, LedgerCheckpoint{100, ""}, SystemNow());
  REQUIRE(earlier.ok());
  CHECK_FALSE(earlier->ok);  // wrong hash for entry 100
  CHECK(earlier->first_bad_seq == 100);
}

// A ledger someone appends to between the verifier reading its head and
// scanning its tail (a `hold add` while a purge starts).
class GrowingLedger final : public LedgerReader {
 public:
  GrowingLedger(StateDb& db, int appends) : db_(db), appends_(appends) {}
  Result<LedgerHead> Head() override {
    auto head = db_.Head();
    for (int i = 0; i < appends_; ++i) {
      Status st = Append(db_, {DeleteEntry(9, 1, i)});
      if (!st.ok()) return st;
    }
    return head;
  }
  Status ScanLedger(int64_t from_seq, const std::function<bool(LedgerEntry&)>& visit) override {
    return db_.ScanLedger(from_seq, visit);
  }

 private:
  StateDb& db_;
  int appends_;
};

TEST_CASE("the tail check of a ledger appended to while it reads is not a false alarm", "[ledger]") {
  TempDir dir;
  auto db = Open(dir / "state.db");
  REQUIRE(db.ok());
  for (int before : {0, 3}) {
    std::mt19937 rng(before);
    if (before) Fill(**db, before, 1, rng);
    auto head = (**db).Head();
    REQUIRE(head.ok());
    GrowingLedger growing(**db, 2);
    auto tail = VerifyLedgerTail(growing, 10000, SystemNow());
    REQUIRE(tail.ok());
    INFO(tail->problem);
    CHECK(tail->ok);
    CHECK(tail->head_seq == head->seq);
  }
}

TEST_CASE("truncating the tail is caught against a checkpoint", "[ledger]") {
  TempDir dir;
  const auto path = dir / "state.db";
  LedgerHead head;
  {
    auto db = Open(path);
    REQUIRE(db.ok());
    std::mt19937 rng(7);
    Fill(**db, 300, 20, rng);
    head = *(*db)->Head();
  }
  {
    RawDb raw(path);
    REQUIRE(raw.Exec("DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq > 290") == "");
  }
  auto db = Open(path, /*read_only=*/true);
  REQUIRE(db.ok());
  auto plain = VerifyLedger(**db, SystemNow());
  REQUIRE(plain.ok());
  CHECK(plain->ok);  // a shorter chain is still a chain
  CHECK(plain->head_seq == 290);
  auto checked = VerifyLedger(**db, head, SystemNow());
  REQUIRE(checked.ok());
  CHECK_FALSE(checked->ok);
  CHECK(checked->first_bad_seq == 291);
  CHECK_THAT(checked->problem, Catch::Contains("removed from the end"));
}

TEST_CASE("ordinary SQL cannot change or delete ledger entries", "[ledger]") {
  TempDir dir;
  const auto path = dir / "state.db";
  {
    auto db = Open(path);
    REQUIRE(db.ok());
    std::mt19937 rng(1);
    Fill(**db, 10, 5, rng);
  }
  RawDb raw(path);
  CHECK_THAT(raw.Exec("UPDATE ledger SET record_key = 'x' WHERE seq = 3"),
             Catch::Contains("append-only"));
  CHECK_THAT(raw.Exec("DELETE FROM ledger WHERE seq = 3"), Catch::Contains("append-only"));
}

// ---- tampering --------------------------------------------------------

struct Tampering {
  TempDir dir;
  std::filesystem::path base = dir / "base.db";
  std::filesystem::path trial = dir / "trial.db";
  int64_t n = 0;
  std::vector<std::string> hashes{std::string(kGenesisHash)};  // hashes[seq]

  Tampering() {
    {
      auto db = Open(base);
      REQUIRE(db.ok());
      RunInfo run;
      run.as_of = At(1'700'000'000'000'000);
      run.user = "root";
      auto id = BeginRun(**db, run);
      REQUIRE(id.ok());
      std::mt19937 rng(99);
      Fill(**db, 250, 30, rng);
      Hold hold;
      hold.matter = "M";
      hold.reason = "r";
      hold.author = "a";
      hold.scope.key = "1005";
      auto hid = AddHold(**db, hold, "test-host");
      REQUIRE(hid.ok());
      REQUIRE(ReleaseHold(**db, *hid, "bob", "case closed", At(1'800'000'000'000'000), "test-host").ok());
      REQUIRE(EndRun(**db, *id, "ok", 0, R"({"deleted":250})").ok());
      REQUIRE((*db)->ScanLedger(0, [&](const LedgerEntry& e) {
                     hashes.push_back(e.hash);
                     return true;
                   }).ok());
      n = static_cast<int64_t>(hashes.size()) - 1;
    }
    RawDb raw(base);  // an attacker removes the guards first
    REQUIRE(raw.Exec("DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_no_delete") == "");
  }

  // Copies the base, applies `sql`, and verifies the copy.
  VerifyReport Run(const std::string& sql) {
    std::filesystem::copy_file(base, trial, std::filesystem::copy_options::overwrite_existing);
    {
      RawDb raw(trial);
      REQUIRE(raw.Exec("PRAGMA synchronous=OFF") == "");  // a scratch copy
      const std::string err = raw.Exec(sql);
      REQUIRE(err == "");
    }
    auto db = Open(trial, /*read_only=*/true);
    REQUIRE(db.ok());
    auto report = VerifyLedger(**db, SystemNow());
    REQUIRE(report.ok());
    return *report;
  }

  void Expect(const std::string& sql, int64_t bad_seq) {
    const VerifyReport r = Run(sql);
    INFO("tampering: " << sql);
    INFO("problem: " << r.problem);
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad_seq == std::optional<int64_t>(bad_seq));
    CHECK_FALSE(r.problem.empty());
    CHECK(r.head_seq == bad_seq - 1);
  }
};

std::string S(int64_t v) { return std::to_string(v); }

TEST_CASE("verify detects modified, deleted, inserted and reordered entries", "[ledger]") {
  Tampering t;
  REQUIRE(t.n > 250);
  {
    const VerifyReport clean = t.Run("SELECT 1");
    CHECK(clean.ok);
    CHECK(clean.entries == t.n);
  }
  std::mt19937 rng(20260101);
  auto pick = [&](int64_t lo, int64_t hi) {  // uniform in [lo, hi]
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  constexpr int kTrials = 100;

  SECTION("a changed field") {
    const std::vector<std::string> updates = {
        "at = at + 1", "kind = CASE kind WHEN 'delete' THEN 'reconciled' ELSE 'delete' END",
        "kind = 'purged'", "run_id = run_id + 1", "category = category || 'x'",
        "store = 'other'", "target = target || 'x'", "record_key = record_key || '0'",
        "clock = '1999-01-01T00:00:00Z'", "cutoff = cutoff || ' '", "rule = rule || '3'",
        "subject = subject || 'x'", "batch = batch + 1", "detail = detail || ' '",
        "prev_hash = prev_hash || '0'", "hash = hash || '0'",
        "at = 0", "batch = 'seven'",
    };
    for (int i = 0; i < kTrials; ++i) {
      const int64_t k = pick(1, t.n);
      const std::string& u = updates[static_cast<size_t>(pick(0, updates.size() - 1))];
      t.Expect("UPDATE ledger SET " + u + " WHERE seq = " + S(k), k);
    }
  }

  SECTION("a deleted entry") {
    for (int i = 0; i < kTrials; ++i) {
      const int64_t k = pick(1, t.n - 1);  // the last one: see the checkpoint test
      t.Expect("DELETE FROM ledger WHERE seq = " + S(k), k);
    }
  }

  SECTION("an inserted forged entry") {
    for (int i = 0; i < kTrials; ++i) {
      // A forged entry at seq k with a correct hash of its own; later
      // entries are renumbered to make room.
      const bool linked = i % 2 == 1;  // its prev_hash is entry k-1's real hash
      const int64_t k = linked ? pick(1, t.n) : pick(1, t.n + 1);
      LedgerEntry f = DeleteEntry(1, 99, 777);
      f.seq = k;
      f.prev_hash = linked ? t.hashes[k - 1] : Sha256::HexOf("forged" + S(i));
      f.hash = ComputeEntryHash(f);
      const std::string shift =
          "UPDATE ledger SET seq = -seq WHERE seq >= " + S(k) + ";" +
          "UPDATE ledger SET seq = 1 - seq WHERE seq < 0;";
      const std::string insert =
          "INSERT INTO ledger VALUES(" + S(k) + "," + S(ToUnixMicros(f.at)) + ",'delete'," +
          S(f.run_id) + ",'" + f.category + "','" + f.store + "','" + f.target + "','" +
          f.record_key + "','" + f.clock + "','" + f.cutoff + "','" + f.rule + "','" +
          f.subject + "'," + S(f.batch) + ",'','" + f.prev_hash + "','" + f.hash + "',x'');";
      // Linked: the forgery itself checks out; the entry after it does not.
      t.Expect(shift + insert, linked ? k + 1 : k);
    }
  }

  SECTION("two entries swapped") {
    for (int i = 0; i < kTrials; ++i) {
      const int64_t a = pick(1, t.n - 1);
      const int64_t b = pick(a + 1, t.n);
      t.Expect("UPDATE ledger SET seq = -1 WHERE seq = " + S(a) + ";" +
                   "UPDATE ledger SET seq = " + S(a) + " WHERE seq = " + S(b) + ";" +
                   "UPDATE ledger SET seq = " + S(b) + " WHERE seq = -1;",
               a);
    }
  }

  SECTION("problems are named in plain words") {
    CHECK_THAT(t.Run("DELETE FROM ledger WHERE seq = 5").problem,
               Catch::Contains("entry 5 is missing"));
    CHECK_THAT(t.Run("DELETE FROM ledger WHERE seq BETWEEN 5 AND 9").problem,
               Catch::Contains("entries 5 to 9 are missing"));
    CHECK_THAT(t.Run("UPDATE ledger SET record_key = 'x' WHERE seq = 8").problem,
               Catch::Contains("entry 8 was modified"));
    CHECK_THAT(t.Run("UPDATE ledger SET prev_hash = hash WHERE seq = 8").problem,
               Catch::Contains("entry 8 does not follow entry 7"));
    CHECK_THAT(t.Run("UPDATE ledger SET kind = 'nope' WHERE seq = 8").problem,
               Catch::Contains("unknown kind 'nope'"));
    CHECK_THAT(t.Run("DELETE FROM ledger WHERE seq = 1").problem,
               Catch::Contains("entry 1 is missing"));
  }
}

TEST_CASE("appends from two processes form one chain", "[ledger][state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  { REQUIRE(Open(path).ok()); }  // create the schema first
  constexpr int kCalls = 100, kPerCall = 10;
  auto child = [&](const std::string& who) {
    return testing::ForkChild([&]() -> int {
      auto db = Open(path);
      if (!db.ok()) return 1;
      for (int c = 0; c < kCalls; ++c) {
        std::vector<LedgerEntry> v;
        for (int i = 0; i < kPerCall; ++i) {
          LedgerEntry e = DeleteEntry(0, c, i);
          e.store = who;
          v.push_back(std::move(e));
        }
        if (!Append(**db, std::move(v)).ok()) return 2;
      }
      return 0;
    });
  };
  const pid_t a = child("a");
  const pid_t b = child("b");
  CHECK(testing::WaitChild(a) == 0);
  CHECK(testing::WaitChild(b) == 0);

  auto db = Open(path, /*read_only=*/true);
  REQUIRE(db.ok());
  auto report = VerifyLedger(**db, SystemNow());
  REQUIRE(report.ok());
  INFO(report->problem);
  CHECK(report->ok);
  CHECK(report->entries == 2 * kCalls * kPerCall);
  std::map<std::string, int> per_store;
  REQUIRE((*db)->ScanLedger(0, [&](const LedgerEntry& e) {
                 per_store[e.store]++;
                 return true;
               }).ok());
  CHECK(per_store["a"] == kCalls * kPerCall);
  CHECK(per_store["b"] == kCalls * kPerCall);
}

}  // namespace
}  // namespace retention
