// End-to-end: monitoring that tells the truth when it matters (issue 18,
// items 2 and 3). `status --check` does not flap on records that became due
// since the last run (--grace, config overdue_grace), and a purge refused
// by the safety valve or the run lock still writes every metrics series,
// with retention_last_success_timestamp_seconds 0 when no run ever
// succeeded, so the man page's alert fires.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <ctime>

#include "e2e/e2e_util.h"
#include "state/run_lock.h"
#include "state/state_open.h"
#include "unattended/unattended_util.h"

namespace retention::e2e {
namespace {

using Json = nlohmann::json;
using unattended::Exposition;
using unattended::ParseExposition;

// Every family the man page lists; each must have at least one sample.
const std::vector<std::string> kEveryFamily = {
    "retention_last_run_timestamp_seconds", "retention_last_success_timestamp_seconds",
    "retention_run_duration_seconds",       "retention_run_outcome",
    "retention_run_exit_code",              "retention_records_measured",
    "retention_deleted_records",            "retention_undeletable_records",
    "retention_due_records",                "retention_held_records",
    "retention_overdue_records"};

Exposition ReadMetrics(const fs::path& path) {
  const std::string text = ReadFile(path);
  INFO(text);
  Exposition m;
  REQUIRE_NOTHROW(m = ParseExposition(text));
  return m;
}

// The plan as of now, summed per category: due and held; and its targets.
struct PlanFigures {
  std::map<std::string, int64_t> due, held, deletable;
  size_t targets = 0;
};

// A moment a minute ago, as --as-of takes it. The plan and the refused
// purge are compared at this one moment: at "now" each, a record of the
// demo that became due between the two commands would make them differ.
std::string MinuteAgo() {
  const std::time_t t = static_cast<std::time_t>(NowUnixSeconds() - 60);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

PlanFigures PlanAt(DemoFixture& demo, const std::string& as_of) {
  auto r = demo.Retention({"plan", "--format", "json", "--as-of", as_of});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  PlanFigures p;
  const Json plan = Json::parse(r.out);
  for (const auto& t : plan.at("targets")) {
    const std::string category = t.at("category").get<std::string>();
    p.due[category] += t.at("due").get<int64_t>();
    p.held[category] += t.at("held").get<int64_t>();
    p.deletable[category] += t.at("deletable").get<int64_t>();
    ++p.targets;
  }
  return p;
}

// A refused run's metrics: every family has samples, nothing deleted, due
// and held as the plan measures them, overdue where records are due by
// more than a day.
void CheckRefusedRunMetrics(const Exposition& m, const PlanFigures& plan, int exit_code, const std::string& outcome) {
  for (const auto& name : kEveryFamily) {
    INFO(name);
    CHECK(m.type.count(name) == 1);
    CHECK_FALSE(m.All(name).empty());
  }
  CHECK(m.Value("retention_run_exit_code") == exit_code);
  CHECK(m.Value("retention_run_outcome", {{"outcome", outcome}}) == 1);
  CHECK(m.Value("retention_records_measured") == 1);
  CHECK(m.All("retention_deleted_records").size() == plan.targets);
  CHECK(m.All("retention_undeletable_records").size() == plan.targets);
  for (const auto& s : m.All("retention_deleted_records")) CHECK(s.value == 0);
  int64_t overdue = 0;
  for (const auto& [category, due] : plan.due) {
    INFO(category);
    CHECK(m.Value("retention_due_records", {{"category", category}}) == static_cast<double>(due));
    CHECK(m.Value("retention_held_records", {{"category", category}}) == static_cast<double>(plan.held.at(category)));
    const double o = m.Value("retention_overdue_records", {{"category", category}});
    CHECK(o >= 0);
    CHECK(o <= static_cast<double>(plan.deletable.at(category)));
    overdue += static_cast<int64_t>(o);
  }
  CHECK(overdue > 0);  // the demo has records due for years
}

// A purge at `as_of` that must be refused with `exit_code`; every series
// is checked against the plan at the same moment. Returns its metrics.
Exposition RefusedPurgeMetrics(DemoFixture& demo, const fs::path& metrics, const std::string& as_of,
                               const PlanFigures& plan, int exit_code, const std::string& outcome) {
  auto refused = demo.Retention({"purge", "--metrics-file", metrics.string(), "--as-of", as_of});
  INFO(Describe(refused));
  REQUIRE(refused.exit_code == exit_code);
  Exposition m = ReadMetrics(metrics);
  CheckRefusedRunMetrics(m, plan, exit_code, outcome);
  return m;
}

TEST_CASE("monitoring: a purge refused by the safety valve writes every metrics series, last success 0 when none",
          "[e2e][monitoring]") {
  DemoFixture demo(3000);
  demo.EditConfig("max_delete = 10000000", "max_delete = 10");
  const fs::path metrics = demo.dir / "retention.prom";
  const std::string as_of = MinuteAgo();
  const PlanFigures plan = PlanAt(demo, as_of);

  const Exposition m = RefusedPurgeMetrics(demo, metrics, as_of, plan, 76, "refused");
  // Never succeeded: 0, so `time() - retention_last_success_timestamp_seconds
  // > 2 * 86400` fires.
  CHECK(m.Value("retention_last_success_timestamp_seconds") == 0);
  CHECK(static_cast<double>(NowUnixSeconds()) - m.Value("retention_last_success_timestamp_seconds") > 2 * 86400);
}

TEST_CASE("monitoring: a purge refused by the run lock writes every metrics series, and the last success comes from "
          "the state",
          "[e2e][monitoring]") {
  DemoFixture demo(3000);
  const fs::path metrics = demo.dir / "retention.prom";
  const std::string as_of = MinuteAgo();
  const PlanFigures plan = PlanAt(demo, as_of);
  {
    auto lock = RunLock::TryAcquire(LockPathsFor(demo.state_db).run_lock);
    REQUIRE(lock.ok());
    const Exposition m = RefusedPurgeMetrics(demo, metrics, as_of, plan, 75, "locked");
    CHECK(m.Value("retention_last_success_timestamp_seconds") == 0);
  }

  const int64_t before = NowUnixSeconds();
  auto purge = demo.Retention({"purge", "--metrics-file", metrics.string()});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  const double success = ReadMetrics(metrics).Value("retention_last_success_timestamp_seconds");
  CHECK(success >= static_cast<double>(before) - 1);

  // The metrics file is gone (a new path, a cleaned directory): the last
  // success is still known, from the state database.
  fs::remove(metrics);
  auto lock = RunLock::TryAcquire(LockPathsFor(demo.state_db).run_lock);
  REQUIRE(lock.ok());
  auto locked = demo.Retention({"purge", "--metrics-file", metrics.string()});
  INFO(Describe(locked));
  REQUIRE(locked.exit_code == 75);
  const Exposition m = ReadMetrics(metrics);
  CHECK(m.Value("retention_last_success_timestamp_seconds") == success);
  CHECK(m.Value("retention_run_outcome", {{"outcome", "locked"}}) == 1);
  for (const auto& name : kEveryFamily) {
    INFO(name);
    CHECK_FALSE(m.All(name).empty());
  }
  // Right after a complete run nothing is overdue.
  for (const auto& s : m.All("retention_overdue_records")) CHECK(s.value == 0);
}

// One table of events with a 30-day rule; rows can be placed at any age.
struct EventsFixture {
  TempDir dir;
  fs::path config = dir / "retention.toml";
  fs::path app_db = dir / "app.db";
  int64_t next_id = 1;

  explicit EventsFixture(const std::string& extra_config = "") {
    WriteFile(config, "rules = \"rules\"\nstate = \"state.db\"\ntime_zone = \"UTC\"\n" + extra_config +
                          "[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n");
    WriteFile(dir / "rules" / "events.toml",
              "[events]\n"
              "description = \"Events\"\npolicy = \"Events | 30 days\"\npolicy_source = \"test\"\n"
              "delete_after = \"30 days\"\n"
              "[[events.target]]\nname = \"events\"\nstore = \"app\"\ntable = \"events\"\n"
              "clock = { column = \"created_at\", encoding = \"text\" }\n");
    Db(app_db).Exec(
        "CREATE TABLE events(id INTEGER PRIMARY KEY, created_at TEXT);"
        "CREATE INDEX events_created ON events(created_at);");
    InitState(config);
  }

  // `n` rows created `age_seconds` ago.
  void Add(int n, int64_t age_seconds) {
    Db db(app_db);
    const std::string at = FormatUtc(NowUnixSeconds() - age_seconds);
    for (int i = 0; i < n; ++i) db.Exec("INSERT INTO events VALUES(" + std::to_string(next_id++) + ", '" + at + "')");
  }

  RunResult Retention(std::vector<std::string> args) { return RunWith(config, std::move(args)); }
};

constexpr int64_t kDays30 = 30 * 86400;

TEST_CASE("monitoring: status --check right after a purge passes with the default grace and fails with --grace 0s",
          "[e2e][monitoring]") {
  EventsFixture f;
  f.Add(5, 60 * 86400);     // long due: the purge takes them
  f.Add(3, kDays30 + 60);   // due a minute ago: after the purge's moment
  // The purge ran two minutes ago, as far as the data is concerned.
  const fs::path metrics = f.dir / "retention.prom";
  auto purge = f.Retention({"purge", "--allow-mass-delete", "--as-of",
                            FormatUtc(NowUnixSeconds() - 120, "%Y-%m-%dT%H:%M:%SZ"), "--metrics-file",
                            metrics.string()});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  CHECK(Db(f.app_db, true).Count("events") == 3);
  // The metric has the same grace: nothing is overdue yet.
  CHECK(ReadMetrics(metrics).Value("retention_overdue_records", {{"category", "events"}}) == 0);

  auto check = f.Retention({"status", "--check", "--format", "json"});
  INFO(Describe(check));
  CHECK(check.exit_code == 0);
  const Json j = Json::parse(check.out);
  CHECK(j.at("grace") == "1 day");
  CHECK(j.at("overdue") == 0);
  CHECK(j.at("compliant") == true);
  CHECK(j.at("categories").at(0).at("due") == 3);
  CHECK(j.at("categories").at(0).at("deletable") == 3);
  CHECK(j.at("categories").at(0).at("overdue") == 0);

  auto table = f.Retention({"status", "--check"});
  INFO(Describe(table));
  CHECK(table.exit_code == 0);
  CHECK(Contains(table.out, "(grace 1 day)"));

  auto strict = f.Retention({"status", "--check", "--grace", "0s", "--format", "json"});
  INFO(Describe(strict));
  CHECK(strict.exit_code == 75);
  const Json s = Json::parse(strict.out);
  CHECK(s.at("grace") == "none");
  CHECK(s.at("overdue") == 3);
  CHECK(s.at("compliant") == false);

  auto strict_table = f.Retention({"status", "--check", "--grace", "0s"});
  CHECK(strict_table.exit_code == 75);
  CHECK(Contains(strict_table.out, "(grace none)"));
  CHECK(f.Retention({"status", "--check", "--grace", "2h"}).exit_code == 0);
  CHECK(f.Retention({"status", "--grace", "soon"}).exit_code == 64);
}

TEST_CASE("monitoring: config overdue_grace sets the grace of status and of the overdue metric", "[e2e][monitoring]") {
  EventsFixture f("overdue_grace = \"1 hour\"\n");
  f.Add(4, kDays30 + 2 * 3600);  // due two hours ago
  const fs::path metrics = f.dir / "retention.prom";
  // A purge three hours ago would not have taken them: they are late now.
  auto purge = f.Retention({"purge", "--allow-mass-delete", "--as-of",
                            FormatUtc(NowUnixSeconds() - 3 * 3600, "%Y-%m-%dT%H:%M:%SZ"), "--metrics-file",
                            metrics.string()});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  CHECK(ReadMetrics(metrics).Value("retention_overdue_records", {{"category", "events"}}) == 4);

  auto check = f.Retention({"status", "--check", "--format", "json"});
  INFO(Describe(check));
  CHECK(check.exit_code == 75);
  CHECK(Json::parse(check.out).at("grace") == "1 hour");
  CHECK(Json::parse(check.out).at("overdue") == 4);
  // The option overrides the config.
  CHECK(f.Retention({"status", "--check", "--grace", "1 day"}).exit_code == 0);
}

TEST_CASE("monitoring: a store that cannot be read leaves its category's series NaN, the others measured",
          "[e2e][monitoring]") {
  EventsFixture f("[stores.gone]\ntype = \"sqlite\"\npath = \"gone.db\"\n");
  f.Add(2, 60 * 86400);
  WriteFile(f.dir / "rules" / "other.toml",
            "[other]\n"
            "description = \"Other\"\npolicy = \"Other | 30 days\"\npolicy_source = \"test\"\n"
            "delete_after = \"30 days\"\n"
            "[[other.target]]\nname = \"things\"\nstore = \"gone\"\ntable = \"things\"\n"
            "clock = { column = \"created_at\", encoding = \"text\" }\n");
  const fs::path metrics = f.dir / "retention.prom";
  auto purge = f.Retention({"purge", "--metrics-file", metrics.string()});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code != 0);
  const Exposition m = ReadMetrics(metrics);
  CHECK(m.Value("retention_records_measured") == 0);
  CHECK(m.Value("retention_last_success_timestamp_seconds") == 0);
  CHECK(m.Value("retention_due_records", {{"category", "events"}}) == 2);
  CHECK(m.Value("retention_overdue_records", {{"category", "events"}}) == 2);
  CHECK(std::isnan(m.Value("retention_due_records", {{"category", "other"}})));
  CHECK(std::isnan(m.Value("retention_overdue_records", {{"category", "other"}})));
  CHECK(Contains(purge.err, "not measured"));
}

}  // namespace
}  // namespace retention::e2e
