// Property test of an erasure (SPEC 4, 5 `erase`): over random tables,
// subjects, overlapping rules with floors, exceptions (erasable = false)
// and holds, `erase` deletes exactly the records an independent oracle
// finds: the subject's, in an erasable category, not kept by any floor
// over them, by an exception category over them, or by a hold. The ledger,
// read by the independent checker (tests/support/ledger_checker.h), names
// exactly those keys, each with the request.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "calendar/cutoff.h"
#include "cli/exit_codes.h"
#include "erase/erase_run.h"
#include "state/sqlite_state_db.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "state/test_util.h"
#include "support/ledger_checker.h"

namespace retention {
namespace {

using std::chrono::hours;
using testing::RawDb;
using testing::TempDir;

struct Row {
  int64_t id;
  std::optional<int64_t> clock_seconds;  // nullopt: NULL
  int64_t subject;
  std::string kind;
};

bool Matches(const Target& t, const Row& r) {
  for (const Filter& f : t.filters)
    if (std::get<std::string>(f.values[0]) != r.kind) return false;
  return true;
}

// Written from SPEC 4 and the erase section, not from the engine.
bool OracleErases(const RuleSet& rules, const std::vector<Hold>& holds, Timestamp now, int64_t subject,
                  const Row& r) {
  if (r.subject != subject) return false;
  bool erasable = false;
  std::optional<Timestamp> clock;
  if (r.clock_seconds) clock = FromUnixMicros(*r.clock_seconds * 1000000);
  for (const Category& c : rules.categories) {
    if (!Matches(c.targets[0], r)) continue;
    if (!c.erasable) return false;  // an exception over the record keeps it
    erasable = true;
    if (c.keep_at_least && (!clock || !(*clock < ComputeCutoff(now, *c.keep_at_least, TimeZone::Utc()))))
      return false;  // a floor keeps it (undated: when unsure, keep)
  }
  if (!erasable) return false;
  for (const Hold& h : holds) {
    if (!h.ActiveAt(now)) continue;
    bool covers = true;
    if (h.scope.category) {
      bool in = false;
      for (const Category& c : rules.categories)
        if (c.name == *h.scope.category && Matches(c.targets[0], r)) in = true;
      covers &= in;
    }
    if (h.scope.subject_id) covers &= *h.scope.subject_id == std::to_string(r.subject);
    if (h.scope.key) covers &= *h.scope.key == std::to_string(r.id);
    if (h.scope.clock_from || h.scope.clock_until) {
      if (clock) {
        if (h.scope.clock_from) covers &= !(*clock < *h.scope.clock_from);
        if (h.scope.clock_until) covers &= *clock < *h.scope.clock_until;
      }  // undated: any clock range covers it
    }
    if (covers) return false;
  }
  return true;
}

TEST_CASE("erase deletes exactly the oracle's records, and the ledger names each with the request",
          "[erase][property]") {
  TempDir dir(std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path());
  std::mt19937_64 rng(20261130);
  const Timestamp now = SystemNow();
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const int kCases = 300;
  int64_t total_erased = 0, total_kept = 0;
  for (int iteration = 0; iteration < kCases; ++iteration) {
    INFO("case " << iteration);
    const std::filesystem::path app = dir / "app.db";
    const std::filesystem::path state = dir / "state.db";
    for (const auto& p : {app, state})
      for (const std::string suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
    const bool unix_clock = rng() % 2 == 0;
    std::vector<Row> rows;
    {
      RawDb db(app);
      REQUIRE(db.Exec(std::string("CREATE TABLE t (id INTEGER PRIMARY KEY, clk ") +
                      (unix_clock ? "INTEGER" : "TEXT") + ", subj INTEGER, kind TEXT); BEGIN") == "");
      const int n = 5 + static_cast<int>(rng() % 50);
      for (int i = 1; i <= n; ++i) {
        Row r{i, now_s - static_cast<int64_t>(rng() % (800 * 86400)), static_cast<int64_t>(rng() % 4),
              std::string(1, static_cast<char>('a' + rng() % 3))};
        std::string clk;
        if (rng() % 10 == 0) {
          r.clock_seconds.reset();
          clk = "NULL";
        } else if (unix_clock) {
          clk = std::to_string(*r.clock_seconds);
        } else {
          clk = "'" + FormatTimestamp(FromUnixMicros(*r.clock_seconds * 1000000)) + "'";
        }
        REQUIRE(db.Exec("INSERT INTO t VALUES (" + std::to_string(i) + ", " + clk + ", " +
                        std::to_string(r.subject) + ", '" + r.kind + "')") == "");
        rows.push_back(r);
      }
      REQUIRE(db.Exec("COMMIT") == "");
    }
    Config config;
    config.file = dir / "retention.toml";
    config.state.path = state.string();
    config.stores["app"] = StoreConfig{"app", StoreType::kSqlite, app, "", "", "", "", {}};
    config.limits.batch_size = 1 + static_cast<int64_t>(rng() % 7);
    RuleSet rules;
    rules.hash = "test";
    const int categories = 1 + static_cast<int>(rng() % 3);
    for (int c = 0; c < categories; ++c) {
      Category cat;
      cat.name = "cat" + std::to_string(c);
      cat.delete_after = CalendarDuration{static_cast<int64_t>(300 + rng() % 600), DurationUnit::kDays};
      if (rng() % 3 == 0) cat.keep_at_least = CalendarDuration{static_cast<int64_t>(1 + rng() % 299), DurationUnit::kDays};
      if (rng() % 4 == 0) {
        cat.erasable = false;
        cat.erasure_exception = "fraud investigation";
      }
      Target t;
      t.name = "t";
      t.store = "app";
      t.table = "t";
      t.clock.column = "clk";
      t.clock.encoding = unix_clock ? ClockEncoding::kUnixSeconds : ClockEncoding::kText;
      t.subject = SubjectSpec{"customer", "subj"};
      t.where = SourceLocation{"rules.toml", c + 1, 1};
      if (rng() % 2 == 0)
        t.filters.push_back({"kind", FilterOp::kEquals, {std::string(1, static_cast<char>('a' + rng() % 3))}, {}});
      cat.targets.push_back(t);
      rules.categories.push_back(cat);
    }
    std::vector<Hold> holds;
    {
      auto db = OpenOrCreateStateDb(state, false);
      REQUIRE(db.ok());
      const int n = static_cast<int>(rng() % 3);
      for (int h = 0; h < n; ++h) {
        Hold hold;
        hold.matter = "M-" + std::to_string(h);
        hold.reason = "r";
        hold.author = "test";
        hold.placed_at = now - hours(1);
        switch (rng() % 4) {
          case 0:
            hold.scope.subject_kind = "customer";
            hold.scope.subject_id = std::to_string(rng() % 4);
            break;
          case 1: hold.scope.key = std::to_string(1 + rng() % 50); break;
          case 2: {
            const int64_t from = now_s - static_cast<int64_t>(rng() % (800 * 86400));
            hold.scope.clock_from = FromUnixMicros(from * 1000000);
            hold.scope.clock_until = FromUnixMicros((from + 60 * 86400) * 1000000);
            break;
          }
          default: hold.scope.category = "cat0"; break;
        }
        auto id = AddHold(**db, hold, "test-host");
        REQUIRE(id.ok());
        hold.id = *id;
        holds.push_back(hold);
      }
    }
    const int64_t subject = static_cast<int64_t>(rng() % 4);
    std::set<int64_t> expected;
    for (const Row& r : rows)
      if (OracleErases(rules, holds, now, subject, r)) expected.insert(r.id);

    EraseOptions options;
    options.exit_code_of = ExitStatusOf;
    options.env = Env::Default();
    options.env.clock = [now] { return now; };
    options.now = now;
    options.subject = ErasureSubject{"customer", std::to_string(subject)};
    options.request = "DSR-" + std::to_string(iteration);
    Status run_status;
    auto receipt = RunErase(config, rules, options, &run_status);
    if (!receipt.ok()) FAIL(receipt.status().message());
    REQUIRE(run_status.ok());

    std::set<int64_t> remaining;
    {
      RawDb db(app);
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db.get(), "SELECT id FROM t", -1, &s, nullptr);
      while (sqlite3_step(s) == SQLITE_ROW) remaining.insert(sqlite3_column_int64(s, 0));
      sqlite3_finalize(s);
    }
    std::set<int64_t> deleted;
    for (const Row& r : rows)
      if (!remaining.count(r.id)) deleted.insert(r.id);
    REQUIRE(deleted == expected);
    REQUIRE(receipt->TotalErased() == static_cast<int64_t>(deleted.size()));

    // The ledger by the independent checker: one deletion per record, each
    // in a batch naming the request; the erase entry well formed.
    std::vector<std::string> problems;
    const checker::State st = checker::ReadState(state);
    checker::CheckChain(st.ledger, &problems);
    checker::CheckErasures(st, &problems);
    std::multiset<int64_t> ledger_keys;
    for (const checker::Entry& e : checker::BatchDeletes(st, &problems)) {
      ledger_keys.insert(std::stoll(e.record_key));
      CHECK(e.request == options.request);
    }
    INFO(checker::Report(problems));
    REQUIRE(problems.empty());
    REQUIRE(std::set<int64_t>(ledger_keys.begin(), ledger_keys.end()) == deleted);
    REQUIRE(ledger_keys.size() == deleted.size());
    total_erased += static_cast<int64_t>(deleted.size());
    for (const Row& r : rows)
      if (r.subject == subject && !deleted.count(r.id)) ++total_kept;
  }
  CHECK(total_erased > 300);
  CHECK(total_kept > 100);
}

}  // namespace
}  // namespace retention
