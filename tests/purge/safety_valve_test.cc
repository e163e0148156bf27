// The safety valve from the cheap bound refuses and passes exactly as the
// valve over the exact plan: the bound decides when it stays within every
// limit, the exact count when it crosses one.
#include <catch2/catch.hpp>

#include "calendar/clock_value.h"
#include "holds/hold_set.h"
#include "plan/plan.h"
#include "purge/run_guards.h"
#include "state/test_util.h"
#include "stores/selection_test_support.h"
#include "stores/store_set.h"

namespace retention {
namespace {

Timestamp At(const std::string& text) { return *ParseClockText(text, TimeZone::Utc()); }

TEST_CASE("the valve from bounds refuses and passes exactly as the valve over the plan", "[purge][valve]") {
  testing::TempDir dir;
  {
    // Ten records, six due of which two are held: exactly 4 deletable, the
    // bound (the due range on the index) says at most 6.
    testing::RawDb db(dir / "app.db");
    REQUIRE(db.Exec("CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT, subject INTEGER);"
                    "CREATE INDEX events_at ON events(at);"
                    "INSERT INTO events VALUES (1, '2023-01-01 00:00:00', 1), (2, '2023-02-01 00:00:00', 2),"
                    "(3, '2023-03-01 00:00:00', 9), (4, '2023-04-01 00:00:00', 9), (5, '2023-05-01 00:00:00', 3),"
                    "(6, '2023-06-01 00:00:00', 4), (7, '2024-06-01 00:00:00', 5), (8, '2024-07-01 00:00:00', 6),"
                    "(9, '2024-08-01 00:00:00', 7), (10, NULL, 8);") == "");
  }
  Config config;
  config.stores["app"] = StoreConfig{"app", StoreType::kSqlite, dir / "app.db", "", "", "", "", {}};
  RuleSet rules;
  Category c;
  c.name = "events";
  c.delete_after = CalendarDuration{1, DurationUnit::kYears};
  Target t;
  t.name = "events";
  t.store = "app";
  t.table = "events";
  t.clock.column = "at";
  t.subject = SubjectSpec{"customer", "subject"};
  c.targets.push_back(t);
  rules.categories.push_back(c);
  Hold hold;
  hold.placed_at = At("2024-01-01 00:00:00");
  hold.scope.subject_kind = "customer";
  hold.scope.subject_id = "9";
  const Timestamp as_of = At("2025-01-01 00:00:00");
  const HoldSet holds({hold}, as_of);
  auto selections = testing::HeldSelections(config, rules, as_of, "", holds);
  REQUIRE(selections.ok());
  StoreSet stores(config, true, files::PosixFileSystem());

  auto plan = MakePlan(*selections, stores, as_of, as_of, "", holds);
  REQUIRE(plan.ok());
  REQUIRE(plan->targets[0].stats.deletable == 4);
  auto store = stores.Get("app");
  REQUIRE(store.ok());
  auto bound = (*store)->BoundDue((*selections)[0]);
  REQUIRE(bound.ok());
  REQUIRE(bound->deletable_at_most == 6);  // what makes the exact path necessary below
  REQUIRE(bound->total_at_least == 10);

  int refused = 0, passed_by_exact = 0;
  for (double fraction : {0.3, 0.4, 0.5, 0.6, 1.0}) {
    for (int64_t max_delete : {3, 4, 5, 6, 100}) {
      for (bool allow : {false, true}) {
        Limits limits;
        limits.max_delete_fraction = fraction;
        limits.max_delete = max_delete;
        CAPTURE(fraction, max_delete, allow);
        const Status exact = CheckSafetyValve(*plan, rules, limits, allow);
        const Status from_bound = CheckSafetyValveBound(stores, *selections, rules, limits, allow);
        CHECK(from_bound.code() == exact.code());
        CHECK(from_bound.message() == exact.message());
        if (!exact.ok()) {
          CHECK(exact.code() == StatusCode::kSafetyValve);
          ++refused;
        }
        // The bound alone crosses a limit the exact count does not.
        if (exact.ok() && !allow && (fraction < 0.6 || max_delete < 6)) ++passed_by_exact;
      }
    }
  }
  CHECK(refused > 0);
  CHECK(passed_by_exact > 0);
}

TEST_CASE("the batch size argument is an upper bound from 1 to 100000, the config's default at the top", "[purge][guards]") {
  const Timestamp now = At("2025-01-01 00:00:00");
  for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{100000}, Limits{}.batch_size}) {
    INFO(n);
    CHECK(CheckRunArguments(now, now, n).ok());
  }
  CHECK(Limits{}.batch_size == 100000);
  for (int64_t n : {int64_t{0}, int64_t{-1}, int64_t{100001}}) {
    INFO(n);
    Status s = CheckRunArguments(now, now, n);
    CHECK(s.code() == StatusCode::kUsage);
    CHECK(s.message() == "--batch-size must be between 1 and 100000");
  }
}

}  // namespace
}  // namespace retention
