// Property test of the purge invariant (SPEC 6.1, 6.2, 6.3): over thousands
// of random tables, overlapping rules with floors, holds and as-of moments,
// the records a purge deletes are exactly those an independent oracle finds
// due, unheld and past every floor; the ledger names exactly those keys;
// and the plan counted exactly that many.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>

#include "purge/ledger_outcomes.h"
#include "cli/exit_codes.h"
#include "calendar/clock_value.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "calendar/cutoff.h"
#include "holds/hold_set.h"
#include "plan/selection.h"
#include "plan/plan.h"
#include "purge/purge.h"
#include "state/sqlite_state_db.h"
#include "state/test_util.h"
#include "stores/store_set.h"
#include "support/trials_for_build.h"

namespace retention {
namespace {

using testing::RawDb;
using testing::TempDir;
using std::chrono::hours;

struct Row {
  int64_t id;
  std::optional<int64_t> clock_seconds;  // nullopt: NULL or garbage
  bool garbage = false;
  int64_t subject;
  std::string kind;
};

// The oracle, written from SPEC section 4 without the engine's code paths:
// a row is deleted when some rule makes it due, every floor whose filter
// matches lets it go, and no hold covers it.
bool FilterMatches(const Target& t, const Row& r) {
  for (const Filter& f : t.filters) {
    if (f.op == FilterOp::kEquals && std::get<std::string>(f.values[0]) != r.kind) return false;
    if (f.op == FilterOp::kIn) {
      bool any = false;
      for (const auto& v : f.values) any |= std::get<std::string>(v) == r.kind;
      if (!any) return false;
    }
  }
  return true;
}

bool OracleDeletes(const RuleSet& rules, const std::vector<Hold>& holds, Timestamp as_of, Timestamp now,
                   const Row& r) {
  if (!r.clock_seconds) return false;
  const Timestamp clock = std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::sys_seconds(std::chrono::seconds(*r.clock_seconds)));
  bool due = false;
  const TimeZone utc = TimeZone::Utc();
  for (const Category& c : rules.categories) {
    const Target& t = c.targets[0];
    if (!FilterMatches(t, r)) continue;
    if (c.delete_after && clock < ComputeCutoff(as_of, *c.delete_after, utc)) due = true;
    if (c.keep_at_least && !(clock < ComputeCutoff(as_of, *c.keep_at_least, utc))) return false;
  }
  if (!due) return false;
  for (const Hold& h : holds) {
    if (!h.ActiveAt(now)) continue;
    const HoldScope& s = h.scope;
    bool covers = true;
    // A hold scoped to a category covers the row when it is a record of
    // that category: the category's target's filters match it.
    if (s.category) {
      bool in_category = false;
      for (const Category& c : rules.categories)
        if (c.name == *s.category && FilterMatches(c.targets[0], r)) in_category = true;
      covers &= in_category;
    }
    if (s.subject_id) covers &= *s.subject_id == std::to_string(r.subject);
    if (s.key) covers &= *s.key == std::to_string(r.id);
    if (s.clock_from) covers &= !(clock < *s.clock_from);
    if (s.clock_until) covers &= clock < *s.clock_until;
    if (covers) return false;
  }
  return true;
}

CalendarDuration RandomDuration(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return {static_cast<int64_t>(1 + rng() % 300), DurationUnit::kDays};
    case 1: return {static_cast<int64_t>(1 + rng() % 12), DurationUnit::kMonths};
    case 2: return {static_cast<int64_t>(1 + rng() % 30), DurationUnit::kWeeks};
    default: return {static_cast<int64_t>(1 + rng() % 2000), DurationUnit::kHours};
  }
}

TEST_CASE("purge deletes exactly what the oracle finds due, unheld and past every floor", "[purge][property]") {
  // tmpfs: the state database syncs every batch, and thousands of cases
  // on a disk would spend minutes in fsync.
  TempDir dir(std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path());
  std::mt19937_64 rng(20261122);
  const Timestamp now = SystemNow();
  const int kCases = testing::TrialsForBuild(1500);
  int64_t total_deleted = 0, total_kept_by_hold = 0;

  for (int iteration = 0; iteration < kCases; ++iteration) {
    const std::filesystem::path app = dir / ("app" + std::to_string(iteration % 2) + ".db");
    const std::filesystem::path state = dir / "state.db";
    for (const auto& p : {app, state}) {
      std::filesystem::remove(p);
      std::filesystem::remove(p.string() + "-wal");
      std::filesystem::remove(p.string() + "-shm");
    }
    const bool unix_clock = rng() % 2 == 0;
    const Timestamp as_of = now - hours(rng() % (24 * 30));
    const int64_t as_of_s = std::chrono::duration_cast<std::chrono::seconds>(as_of.time_since_epoch()).count();

    // A random table.
    std::vector<Row> rows;
    {
      RawDb db(app);
      REQUIRE(db.Exec(std::string("CREATE TABLE t (id INTEGER PRIMARY KEY, clk ") + (unix_clock ? "INTEGER" : "TEXT") +
                      ", subj INTEGER, kind TEXT); CREATE INDEX t_clk ON t(clk); BEGIN") == "");
      const int n = 5 + static_cast<int>(rng() % 60);
      for (int i = 1; i <= n; ++i) {
        Row r{i, as_of_s - static_cast<int64_t>(rng() % (400 * 86400)) + 10 * 86400, false,
              static_cast<int64_t>(rng() % 8), std::string(1, static_cast<char>('a' + rng() % 3))};
        std::string clk;
        if (rng() % 20 == 0) {
          r.clock_seconds.reset();
          clk = "NULL";
        } else if (!unix_clock && rng() % 20 == 0) {
          r.clock_seconds.reset();
          r.garbage = true;
          clk = "'soon'";
        } else if (unix_clock) {
          clk = std::to_string(*r.clock_seconds);
        } else {
          clk = "'" + FormatTimestamp(FromUnixMicros(*r.clock_seconds * 1000000)) + "'";
        }
        REQUIRE(db.Exec("INSERT INTO t VALUES (" + std::to_string(i) + ", " + clk + ", " + std::to_string(r.subject) +
                        ", '" + r.kind + "')") == "");
        rows.push_back(r);
      }
      REQUIRE(db.Exec("COMMIT") == "");
    }

    // Random overlapping rules over the table, with floors.
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
      const int shape = static_cast<int>(rng() % 4);
      CalendarDuration a = RandomDuration(rng), b = RandomDuration(rng);
      if (shape != 1) cat.delete_after = a;
      if (shape != 0) {
        if (cat.delete_after && !AlwaysAtLeast(a, b)) b = a;
        cat.keep_at_least = b;
      }
      Target t;
      t.name = "t";
      t.store = "app";
      t.table = "t";
      t.clock.column = "clk";
      t.clock.encoding = unix_clock ? ClockEncoding::kUnixSeconds : ClockEncoding::kText;
      t.subject = SubjectSpec{"customer", "subj"};
      t.where = SourceLocation{"rules.toml", c + 1, 1};
      switch (rng() % 3) {
        case 0: t.filters.push_back({"kind", FilterOp::kEquals, {std::string("a")}, {}}); break;
        case 1: t.filters.push_back({"kind", FilterOp::kIn, {std::string("a"), std::string("c")}, {}}); break;
        default: break;
      }
      cat.targets.push_back(t);
      rules.categories.push_back(cat);
    }

    // Random holds, placed through the state database as `hold add` does.
    std::vector<Hold> holds;
    {
      auto db = OpenOrCreateStateDb(state, false);
      REQUIRE(db.ok());
      const int n = static_cast<int>(rng() % 4);
      for (int h = 0; h < n; ++h) {
        Hold hold;
        hold.matter = "m";
        hold.reason = "r";
        hold.author = "test";
        hold.placed_at = now - hours(1);
        switch (rng() % 4) {
          case 0:
            hold.scope.subject_kind = "customer";
            hold.scope.subject_id = std::to_string(rng() % 8);
            break;
          case 1: hold.scope.key = std::to_string(1 + rng() % 40); break;
          case 2: {
            const int64_t from = as_of_s - static_cast<int64_t>(rng() % (400 * 86400));
            hold.scope.clock_from = FromUnixMicros(from * 1000000);
            hold.scope.clock_until = FromUnixMicros((from + 30 * 86400) * 1000000);
            break;
          }
          default:
            hold.scope.category = "cat0";
            hold.scope.subject_kind = "customer";
            hold.scope.subject_id = std::to_string(rng() % 8);
            break;
        }
        if (rng() % 5 == 0) hold.expires_at = now - hours(0) - std::chrono::minutes(1);  // already expired
        auto id = AddHold(**db, hold, "test-host");
        REQUIRE(id.ok());
        hold.id = *id;
        holds.push_back(hold);
      }
    }

    std::set<int64_t> expected;
    for (const Row& r : rows)
      if (OracleDeletes(rules, holds, as_of, now, r)) expected.insert(r.id);

    // The plan counts what the purge will delete (one decision path).
    int64_t planned = 0;
    {
      HoldSet hold_set(holds, now);
      auto decisions = MakeSelections(config, rules, as_of, "");
      REQUIRE(decisions.ok());
      StoreSet stores(config, true, files::PosixFileSystem());
      auto plan = MakePlan(WithHolds(*decisions, hold_set), stores, as_of, now, rules.hash, hold_set);
      REQUIRE(plan.ok());
      // A record due under two categories is counted once per target.
      planned = plan->TotalDeletable();
      for (const auto& t : plan->targets) total_kept_by_hold += t.stats.held;
    }

    PurgeOptions options;

    options.exit_code_of = ExitStatusOf;
    options.env = Env::Default();
    options.env.clock = [now] { return now; };  // a fixed clock: the oracle's
    options.now = now;
    options.as_of = as_of;
    options.allow_mass_delete = true;
    auto report = RunPurge(config, rules, options);
    INFO("case " << iteration);
    REQUIRE(report.ok());
    REQUIRE(report->status.ok());

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
    if (deleted != expected) {
      for (const Category& c : rules.categories)
        UNSCOPED_INFO(c.name << ": " << ScheduleText(c) << " filters " << c.targets[0].filters.size()
                             << (c.targets[0].filters.empty() ? "" : (c.targets[0].filters[0].op == FilterOp::kIn ? " IN a,c" : " = a")));
      for (const Hold& h : holds)
        UNSCOPED_INFO("hold " << h.id << " subj " << h.scope.subject_id.value_or("-") << " key " << h.scope.key.value_or("-")
                              << " cat " << h.scope.category.value_or("-") << " expires "
                              << (h.expires_at ? FormatTimestamp(*h.expires_at) : "-"));
      for (const Row& r : rows)
        UNSCOPED_INFO("row " << r.id << " clock " << (r.clock_seconds ? FormatTimestamp(FromUnixMicros(*r.clock_seconds * 1000000)) : "-")
                             << " subj " << r.subject << " kind " << r.kind);
      UNSCOPED_INFO("as_of " << FormatTimestamp(as_of) << (unix_clock ? " unix" : " text"));
    }
    REQUIRE(deleted == expected);

    std::multiset<int64_t> ledger_keys;
    {
      const LedgerOutcomes ledger = ReadLedgerOutcomes(state);
      REQUIRE(ledger.open.empty());
      for (const std::string& key : ledger.deleted) ledger_keys.insert(std::stoll(key));
    }
    REQUIRE(std::set<int64_t>(ledger_keys.begin(), ledger_keys.end()) == deleted);
    REQUIRE(ledger_keys.size() == deleted.size());  // one entry per record, never two
    // Each category's target counts its own due records, so the plan's sum
    // is at least the union the purge removed.
    REQUIRE(planned >= static_cast<int64_t>(deleted.size()));
    if (categories == 1) REQUIRE(planned == static_cast<int64_t>(deleted.size()));
    total_deleted += static_cast<int64_t>(deleted.size());
  }
  // The generator must exercise both outcomes, or the test proves nothing.
  CHECK(total_deleted > 1000 / testing::kSweepDivisor);
  CHECK(total_kept_by_hold > 100 / testing::kSweepDivisor);
}

}  // namespace
}  // namespace retention
