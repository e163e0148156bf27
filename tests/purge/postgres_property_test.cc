// The purge invariant (SPEC 6.1, 6.2, 6.3) on PostgreSQL, through the built
// binary: over random tables (timestamptz, date, text, unix seconds and
// milliseconds clocks, an event clock through a join, NULL and garbage
// clocks), random overlapping rules with floors and filters, random holds
// (subject, key, clock range, category + subject) and random as-of moments,
// `purge --as-of` deletes exactly the rows an oracle written here finds due,
// unheld and past every floor; the ledger (read by the independent checker)
// names exactly those keys, once each; a one-category plan counts them.
//
// The oracle is plain C++ over the rows the test generated: cutoffs from
// e2e::MinusMonthsUtc and fixed-length hours/days/weeks (the zone is UTC),
// `clock < cutoff` strictly, the longest floor wins, holds always win. It
// shares no code with src/.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "support/pg_fixture.h"

namespace retention::pgtest {
namespace {

using e2e::Describe;

enum class ClockKind { kTimestamptz, kDate, kText, kUnixSeconds, kUnixMillis, kJoin };
const char* const kClockKindNames[] = {"timestamptz", "date", "text", "unix_seconds", "unix_millis", "join"};

struct Row {
  int64_t id;
  std::optional<int64_t> clock_ms;  // nullopt: NULL or unparseable, never due
  std::string subject;
  std::string kind;
};

struct Duration {
  int64_t n;
  std::string unit;  // hours, days, weeks, months, years
  std::string Text() const { return std::to_string(n) + " " + unit; }
  // as_of - this, in unix seconds, on the UTC calendar.
  int64_t CutoffFrom(int64_t as_of_s) const {
    if (unit == "hours") return as_of_s - n * 3600;
    if (unit == "days") return as_of_s - n * 86400;
    if (unit == "weeks") return as_of_s - n * 7 * 86400;
    if (unit == "months") return e2e::MinusMonthsUtc(as_of_s, static_cast<int>(n));
    return e2e::MinusMonthsUtc(as_of_s, static_cast<int>(12 * n));
  }
};

struct Category {
  std::string name;
  std::optional<Duration> delete_after, keep_at_least;
  std::vector<std::string> kinds;  // empty: no filter; one: equality; more: IN
  bool Matches(const Row& r) const {
    return kinds.empty() || std::find(kinds.begin(), kinds.end(), r.kind) != kinds.end();
  }
};

struct HoldSpec {
  std::optional<std::string> category, subject;
  std::optional<int64_t> key, from_s, until_s;
};

bool OracleDeletes(const std::vector<Category>& cats, const std::vector<HoldSpec>& holds, int64_t as_of_s,
                   const Row& r) {
  if (!r.clock_ms) return false;
  const int64_t clock = *r.clock_ms;
  bool due = false;
  for (const Category& c : cats) {
    if (!c.Matches(r)) continue;
    if (c.delete_after && clock < c.delete_after->CutoffFrom(as_of_s) * 1000) due = true;
    if (c.keep_at_least && !(clock < c.keep_at_least->CutoffFrom(as_of_s) * 1000)) return false;
  }
  if (!due) return false;
  for (const HoldSpec& h : holds) {
    bool covers = true;
    if (h.category) {
      bool in = false;
      for (const Category& c : cats) in |= c.name == *h.category && c.Matches(r);
      covers &= in;
    }
    if (h.subject) covers &= *h.subject == r.subject;
    if (h.key) covers &= *h.key == r.id;
    if (h.from_s) covers &= !(clock < *h.from_s * 1000);
    if (h.until_s) covers &= clock < *h.until_s * 1000;
    if (covers) return false;
  }
  return true;
}

Duration RandomDuration(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0: return {static_cast<int64_t>(1 + rng() % 300), "days"};
    case 1: return {static_cast<int64_t>(1 + rng() % 12), "months"};
    case 2: return {static_cast<int64_t>(1 + rng() % 30), "weeks"};
    case 3: return {static_cast<int64_t>(1 + rng() % 1), "years"};
    default: return {static_cast<int64_t>(1 + rng() % 2000), "hours"};
  }
}

std::string Iso(int64_t s) { return e2e::FormatUtc(s, "%Y-%m-%dT%H:%M:%SZ"); }

TEST_CASE("postgres purge --as-of deletes exactly what an independent oracle finds due, unheld and past every floor",
          "[postgres][purge][property]") {
  PgStoreFixture f;
  PgConnection conn = f.Connect();
  std::mt19937_64 rng(20261130);
  const int64_t now_s = e2e::NowUnixSeconds();
  const int kCases = 36;
  int64_t total_deleted = 0, total_kept_by_hold = 0;
  std::map<std::string, int64_t> deleted_per_kind;

  for (int iteration = 0; iteration < kCases; ++iteration) {
    const auto clock_kind = static_cast<ClockKind>(iteration % 6);
    const int64_t as_of_s = now_s - 3600 - static_cast<int64_t>(rng() % (24 * 30)) * 3600;
    INFO("case " << iteration << " (" << kClockKindNames[iteration % 6] << "), as of " << Iso(as_of_s));

    // A fresh state database: each case is a first run.
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(f.state().string() + suffix);
    f.WriteConfig(3 + static_cast<int>(rng() % 30));
    {
      RunResult init = f.Retention({"state", "init"});
      INFO(Describe(init));
      REQUIRE(init.exit_code == 0);
    }

    // A random table.
    std::string clock_type = "timestamptz", encoding = "native";
    if (clock_kind == ClockKind::kDate) clock_type = "date";
    if (clock_kind == ClockKind::kText) clock_type = "text", encoding = "text";
    if (clock_kind == ClockKind::kUnixSeconds) clock_type = "bigint", encoding = "unix_seconds";
    if (clock_kind == ClockKind::kUnixMillis) clock_type = "bigint", encoding = "unix_millis";
    conn.Exec("DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS p;"
              "CREATE TABLE p (id int PRIMARY KEY, closed_at timestamptz);"
              "CREATE TABLE t (id bigint PRIMARY KEY, clk " + clock_type +
              ", pid int, subj text, kind text); CREATE INDEX t_clk ON t (clk); CREATE INDEX t_pid ON t (pid)");
    auto random_clock_s = [&] { return as_of_s - static_cast<int64_t>(rng() % (400 * 86400)) + 10 * 86400; };
    std::map<int, std::optional<int64_t>> parents;
    for (int p = 1; p <= 10; ++p) {
      parents[p] = rng() % 6 == 0 ? std::nullopt : std::optional<int64_t>(random_clock_s());
      conn.Exec("INSERT INTO p VALUES (" + std::to_string(p) + ", " +
                (parents[p] ? "to_timestamp(" + std::to_string(*parents[p]) + ")" : "NULL") + ")");
    }
    std::vector<Row> rows;
    std::string insert = "BEGIN;";
    const int n = 5 + static_cast<int>(rng() % 80);
    for (int i = 1; i <= n; ++i) {
      Row r{i, std::nullopt, "s" + std::to_string(rng() % 8), std::string(1, static_cast<char>('a' + rng() % 3))};
      const int pid = 1 + static_cast<int>(rng() % 10);
      int64_t s = random_clock_s();
      std::string clk;
      if (clock_kind == ClockKind::kJoin) {
        clk = "NULL";  // the row's own column is not the clock: its parent's closed_at is
        r.clock_ms = parents[pid] ? std::optional<int64_t>(*parents[pid] * 1000) : std::nullopt;
      } else if (rng() % 20 == 0) {
        clk = "NULL";
      } else if (clock_kind == ClockKind::kText && rng() % 15 == 0) {
        clk = "'soon'";
      } else {
        switch (clock_kind) {
          case ClockKind::kTimestamptz:
            clk = "to_timestamp(" + std::to_string(s) + ")";
            r.clock_ms = s * 1000;
            break;
          case ClockKind::kDate:
            s -= ((s % 86400) + 86400) % 86400;  // midnight UTC: the store's zone
            clk = "date '" + e2e::FormatUtc(s, "%Y-%m-%d") + "'";
            r.clock_ms = s * 1000;
            break;
          case ClockKind::kText:
            clk = "'" + (rng() % 2 ? Iso(s) : e2e::FormatUtc(s)) + "'";
            r.clock_ms = s * 1000;
            break;
          case ClockKind::kUnixSeconds:
            clk = std::to_string(s);
            r.clock_ms = s * 1000;
            break;
          case ClockKind::kUnixMillis: {
            const int64_t ms = s * 1000 + static_cast<int64_t>(rng() % 1000);
            clk = std::to_string(ms);
            r.clock_ms = ms;
            break;
          }
          case ClockKind::kJoin:
            break;  // above
        }
      }
      insert += "INSERT INTO t VALUES (" + std::to_string(i) + ", " + clk + ", " + std::to_string(pid) + ", " +
                Lit(r.subject) + ", " + Lit(r.kind) + ");";
      rows.push_back(r);
    }
    conn.Exec(insert + "COMMIT");

    // Random overlapping rules over the table, with floors and filters.
    std::vector<Category> cats;
    std::string rules;
    const int ncats = 1 + static_cast<int>(rng() % 3);
    for (int c = 0; c < ncats; ++c) {
      Category cat;
      cat.name = "cat" + std::to_string(c);
      const int shape = static_cast<int>(rng() % 4);
      const Duration a = RandomDuration(rng);
      if (shape != 1) cat.delete_after = a;
      if (shape != 0) {
        Duration b = RandomDuration(rng);
        // delete_after >= keep_at_least: a floor of the same unit, no longer.
        if (cat.delete_after) b = {1 + static_cast<int64_t>(rng() % a.n), a.unit};
        cat.keep_at_least = b;
      }
      switch (rng() % 3) {
        case 0: cat.kinds = {"a"}; break;
        case 1: cat.kinds = {"a", "c"}; break;
        default: break;
      }
      rules += "[" + cat.name + "]\ndescription = \"random\"\n";
      if (cat.delete_after) rules += "delete_after = \"" + cat.delete_after->Text() + "\"\n";
      if (cat.keep_at_least) rules += "keep_at_least = \"" + cat.keep_at_least->Text() + "\"\n";
      rules += "[[" + cat.name + ".target]]\nstore = \"app\"\ntable = \"t\"\nkey = \"id\"\n";
      if (clock_kind == ClockKind::kJoin)
        rules += "clock = { column = \"closed_at\", encoding = \"native\", join = { table = \"p\", key = \"id\", on = "
                 "\"pid\" } }\n";
      else
        rules += "clock = { column = \"clk\", encoding = \"" + encoding + "\" }\n";
      rules += "subject = { kind = \"customer\", column = \"subj\" }\n";
      if (cat.kinds.size() == 1) rules += "where = { kind = \"a\" }\n";
      if (cat.kinds.size() == 2) rules += "where = { kind = [\"a\", \"c\"] }\n";
      rules += "\n";
      cats.push_back(cat);
    }
    f.WriteRules("random", rules);
    INFO("rules:\n" << rules);

    // Random holds, placed with `hold add`.
    std::vector<HoldSpec> holds;
    const int nholds = static_cast<int>(rng() % 4);
    for (int h = 0; h < nholds; ++h) {
      HoldSpec hold;
      std::vector<std::string> args = {"hold", "add", "--matter", "m", "--reason", "r", "--by", "test"};
      switch (rng() % 4) {
        case 0: hold.subject = "s" + std::to_string(rng() % 8); break;
        case 1: hold.key = 1 + static_cast<int64_t>(rng() % 80); break;
        case 2:
          hold.from_s = as_of_s - static_cast<int64_t>(rng() % (400 * 86400));
          hold.until_s = *hold.from_s + 30 * 86400;
          break;
        default:
          hold.category = "cat0";
          hold.subject = "s" + std::to_string(rng() % 8);
          break;
      }
      if (hold.category) args.insert(args.end(), {"--category", *hold.category});
      if (hold.subject) args.insert(args.end(), {"--subject", "customer:" + *hold.subject});
      if (hold.key) args.insert(args.end(), {"--target", "t", "--key", std::to_string(*hold.key)});
      if (hold.from_s) args.insert(args.end(), {"--from", Iso(*hold.from_s), "--until", Iso(*hold.until_s)});
      RunResult placed = f.Retention(args);
      INFO(Describe(placed));
      REQUIRE(placed.exit_code == 0);
      holds.push_back(hold);
    }

    std::set<std::string> expected;
    for (const Row& r : rows) {
      if (OracleDeletes(cats, holds, as_of_s, r)) expected.insert(std::to_string(r.id));
      else if (OracleDeletes(cats, {}, as_of_s, r)) ++total_kept_by_hold;
    }

    if (ncats == 1) {
      RunResult plan = f.Retention({"plan", "--as-of", Iso(as_of_s), "--format", "json"});
      INFO(Describe(plan));
      REQUIRE(plan.exit_code == 0);
      const auto j = nlohmann::json::parse(plan.out, nullptr, false);
      REQUIRE(!j.is_discarded());
      CHECK(j["deletable"] == static_cast<int64_t>(expected.size()));
    }

    const std::set<std::string> before = ColumnSet(conn, "SELECT id FROM t");
    RunResult purge = f.Retention({"purge", "--as-of", Iso(as_of_s)});
    INFO(Describe(purge));
    REQUIRE(purge.exit_code == 0);
    const std::set<std::string> deleted = Minus(before, ColumnSet(conn, "SELECT id FROM t"));
    if (deleted != expected) {
      for (const Row& r : rows)
        UNSCOPED_INFO("row " << r.id << " clock " << (r.clock_ms ? Iso(*r.clock_ms / 1000) : "-") << " subj "
                             << r.subject << " kind " << r.kind);
      for (const HoldSpec& h : holds)
        UNSCOPED_INFO("hold cat " << h.category.value_or("-") << " subj " << h.subject.value_or("-") << " key "
                                  << (h.key ? std::to_string(*h.key) : "-") << " from "
                                  << (h.from_s ? Iso(*h.from_s) : "-"));
    }
    REQUIRE(deleted == expected);
    size_t claims = 0;
    REQUIRE(f.LedgerDeleted(&claims) == deleted);
    REQUIRE(claims == deleted.size());
    total_deleted += static_cast<int64_t>(deleted.size());
    deleted_per_kind[kClockKindNames[iteration % 6]] += static_cast<int64_t>(deleted.size());
  }
  // The generator must exercise both outcomes on every clock, or it proves nothing.
  CHECK(total_deleted > 200);
  CHECK(total_kept_by_hold > 10);
  for (const auto& [kind, n] : deleted_per_kind) {
    INFO(kind);
    CHECK(n > 0);
  }
}

}  // namespace
}  // namespace retention::pgtest
