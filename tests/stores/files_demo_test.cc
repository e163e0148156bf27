// The demo's log and backup folders, read through the shipped rules
// (retention-rules/server-log-files.toml and backups.toml) and the files
// store: what `retention plan` will show on a fresh demo.
#include "demo/demo_files.h"

#include <catch2/catch.hpp>

#include "calendar/cutoff.h"
#include "rules/rule_loader.h"
#include "stores/files_test_support.h"

using namespace retention;
using namespace retention::files_test;

namespace {

#ifdef RETENTION_SHIPPED_RULES
const fs::path kRules = RETENTION_SHIPPED_RULES;
#else
const fs::path kRules = fs::path(__FILE__).parent_path().parent_path().parent_path() / "retention-rules";
#endif

const Category* Find(const RuleSet& rules, const std::string& name) {
  for (const Category& c : rules.categories)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

TEST_CASE("demo log and backup folders, through the shipped rules", "[files]") {
  TempDir tmp;
  const Timestamp now = Day(2026, 3, 15, 12);
  REQUIRE(CreateDemoFiles(tmp.path(), now, 42).ok());

  const std::set<std::string> logs = RegularFiles(tmp / "logs");
  const std::set<std::string> backups = RegularFiles(tmp / "backups");
  CHECK(logs.size() == 2 * kDemoFileDays + 2);
  CHECK(backups.size() == kDemoFileDays);
  CHECK(logs.count("access.log"));
  CHECK(logs.count("app.log"));
  CHECK(logs.count("access.log-20260314.gz"));  // yesterday
  CHECK(logs.count("app.log-20250827.gz"));     // 200 days before
  CHECK_FALSE(logs.count("app.log-20250826.gz"));
  CHECK(backups.count("db-2026-03-14.sqlite.gz"));
  CHECK(backups.count("db-2025-08-27.sqlite.gz"));
  // Real gzip streams.
  if (::access("/usr/bin/gzip", X_OK) == 0) {
    const std::string cmd = "cd '" + tmp.path().string() +
                            "' && gzip -t logs/access.log-20260314.gz logs/app.log-20251201.gz "
                            "backups/db-2026-01-01.sqlite.gz";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  CHECK_THAT(ReadFile(tmp / "logs/access.log"), Catch::Contains("HTTP/1.1\""));

  // The same seed gives the same bytes.
  TempDir again;
  REQUIRE(CreateDemoFiles(again.path(), now, 42).ok());
  CHECK(ReadFile(again / "logs/access.log-20260101.gz") == ReadFile(tmp / "logs/access.log-20260101.gz"));
  CHECK(ReadFile(again / "backups/db-2026-01-01.sqlite.gz") ==
        ReadFile(tmp / "backups/db-2026-01-01.sqlite.gz"));

  // The shipped rules for these folders.
  Config config;
  config.file = tmp / "retention.toml";
  config.rules_dir = kRules;
  config.stores["logs"] = FilesConfig(tmp / "logs", "logs");
  config.stores["backups"] = FilesConfig(tmp / "backups", "backups");
  RuleSet rules;
  for (const char* f : {"server-log-files.toml", "backups.toml"}) {
    Status s = LoadRuleFile(config, kRules / f, &rules);
    INFO(s.message());
    REQUIRE(s.ok());
  }
  const Category* logs_rule = Find(rules, "server_log_files");
  const Category* backups_rule = Find(rules, "backups");
  REQUIRE(logs_rule);
  REQUIRE(backups_rule);
  CHECK(logs_rule->policy == "Server logs | 30-90 days");
  CHECK(backups_rule->policy == "Backups | Encrypted, ~90 day rolling window");

  HoldSet holds;
  auto decide = [&](const Category& c) {
    Selection d;
    d.category = &c;
    d.target = &c.targets.at(0);
    d.cutoff = ComputeCutoff(now, *c.delete_after, TimeZone::Utc());  // 2025-12-15T12:00Z
    d.scopes.push_back({&c, &c.targets.at(0)});
    return WithHolds(std::move(d), holds);
  };

  auto log_store = OpenOrFail(config.stores["logs"], true);
  auto log_stats = log_store->Measure(decide(*logs_rule));
  REQUIRE(log_stats.ok());
  CHECK(log_stats->total == 2 * kDemoFileDays);  // the live files are not selected
  CHECK(log_stats->undated == 0);
  CHECK(log_stats->deletable == 2 * (kDemoFileDays - 90));  // last written before 2025-12-15T12:00
  CHECK(log_stats->sample_keys.front() == "access.log-20250827.gz");

  auto backup_store = OpenOrFail(config.stores["backups"], true);
  auto backup_stats = backup_store->Measure(decide(*backups_rule));
  REQUIRE(backup_stats.ok());
  CHECK(backup_stats->total == kDemoFileDays);
  CHECK(backup_stats->deletable == kDemoFileDays - 89);  // named up to 2025-12-15
  CHECK(backup_stats->sample_keys.front() == "db-2025-08-27.sqlite.gz");
  // By mtime every backup is young: only the name tells.
  FilesRule by_mtime("b", "t", "backups", {"db-*.sqlite.gz"}, MtimeClock());
  auto young = backup_store->Measure(by_mtime.Decide(decide(*backups_rule).cutoff, &holds));
  REQUIRE(young.ok());
  CHECK(young->due == 0);
}
