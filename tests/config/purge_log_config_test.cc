// The purge log as a store (ledger/anchor.h, rules/rule.h): built into
// every loaded config under the reserved name "purge-log", given a
// schedule by at most one rule target, which takes no key but its name.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "cli/exit_codes.h"
#include "config/config.h"
#include "config/loader_test_support.h"
#include "rules/rule_loader.h"

namespace retention {
namespace {

using loader_test::LoadConfigText;
using loader_test::LoadRuleFiles;
using loader_test::ScratchDir;
using loader_test::WithDir;
using loader_test::WriteFile;

constexpr const char* kReserved =
    "store name 'purge-log' is reserved: it names retention's own purge log (the ledger in the state database), "
    "which rules may give a schedule";

TEST_CASE("A config may not define the purge-log store itself", "[config][anchor]") {
  struct Case {
    const char* what;
    std::string text;
    std::string message;  // "$D" is the config's directory
  };
  const std::vector<Case> cases = {
      {"a sqlite store of that name",
       "rules = \"rules\"\nstate = \"state.db\"\n\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n\n"
       "[stores.purge-log]\ntype = \"sqlite\"\npath = \"other.db\"\n",
       "$D/retention.toml:8:1: " + std::string(kReserved)},
      {"the only store, with no keys at all",
       "rules = \"rules\"\n[stores.purge-log]\n", "$D/retention.toml:2:1: " + std::string(kReserved)},
      {"a quoted name", "rules = \"rules\"\n[stores.\"purge-log\"]\ntype = \"files\"\nroot = \"logs\"\n",
       "$D/retention.toml:2:1: " + std::string(kReserved)},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    ScratchDir dir;
    WriteFile(dir / "retention.toml", c.text);
    Result<Config> config = LoadConfig(dir / "retention.toml");
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == StatusCode::kInvalid);
    CHECK(ExitStatusOf(config.status()) == 65);
    CHECK(config.status().message() == WithDir(c.message, dir.path()));
  }
}

TEST_CASE("Every loaded config has the purge-log store, on the state database", "[config][anchor]") {
  CHECK(StoreTypeName(StoreType::kPurgeLog) == "purge log");
  SECTION("state given, relative to the config") {
    ScratchDir dir;
    WriteFile(dir / "retention.toml",
              "rules = \"rules\"\nstate = \"var/state.db\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n"
              "[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n");
    Result<Config> config = LoadConfig(dir / "retention.toml");
    INFO(config.status().message());
    REQUIRE(config.ok());
    CHECK(config->state.path == (dir / "var" / "state.db").string());
    REQUIRE(config->stores.count("purge-log") == 1);
    const StoreConfig& log = config->stores.at("purge-log");
    CHECK(log.name == "purge-log");
    CHECK(log.type == StoreType::kPurgeLog);
    CHECK(log.path == config->state.path);
    CHECK(config->stores.size() == 3);
    CHECK(config->stores.at("app").type == StoreType::kSqlite);
  }
  SECTION("state left to its default") {
    ScratchDir dir;
    WriteFile(dir / "retention.toml", "rules = \"rules\"\n[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n");
    Result<Config> config = LoadConfig(dir / "retention.toml");
    INFO(config.status().message());
    REQUIRE(config.ok());
    REQUIRE(config->stores.count("purge-log") == 1);
    CHECK(config->stores.at("purge-log").type == StoreType::kPurgeLog);
    CHECK(config->stores.at("purge-log").path == "/var/lib/retention/state.db");
  }
}

// Store `app` (sqlite); rules in DIR/rules.
Config LoadTestConfig(const ScratchDir& dir) {
  return LoadConfigText(dir, "rules = \"rules\"\nstate = \"state.db\"\n\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n");
}

Result<RuleSet> LoadFiles(const ScratchDir& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  return LoadRuleFiles(LoadTestConfig(dir), files);
}

const Category& Find(const RuleSet& rules, const std::string& name) {
  for (const Category& c : rules.categories) {
    if (c.name == name) return c;
  }
  FAIL("no category " << name);
  throw 0;  // not reached
}

TEST_CASE("A rule target on the purge-log store loads with the ledger's clock", "[config][anchor]") {
  ScratchDir dir;
  Result<RuleSet> rules = LoadFiles(dir, {{"audit.toml", R"toml([audit_security]
description = "Security audit logs"
delete_after = "12 months"
keep_at_least = "6 months"

[[audit_security.target]]
store = "purge-log"

[app_logs]
delete_after = "90 days"

[[app_logs.target]]
store = "app"
table = "logs"
clock = { column = "at" }
)toml"}});
  INFO(rules.status().message());
  REQUIRE(rules.ok());
  const Category& audit = Find(*rules, "audit_security");
  CHECK(audit.delete_after == CalendarDuration{12, DurationUnit::kMonths});
  CHECK(audit.keep_at_least == CalendarDuration{6, DurationUnit::kMonths});
  REQUIRE(audit.targets.size() == 1);
  const Target& t = audit.targets[0];
  CHECK(t.name == "purge-log");  // default: the store
  CHECK(t.store == "purge-log");
  CHECK(t.clock.source == ClockSource::kLedgerTime);
  CHECK(t.table.empty());
  CHECK(t.key.empty());
  CHECK(t.paths.empty());
  CHECK(t.filters.empty());
  CHECK_FALSE(t.subject);
  CHECK(t.where.file == (dir / "rules" / "audit.toml").string());
  CHECK(t.where.line == 6);
  // An ordinary target beside it keeps its column clock.
  CHECK(Find(*rules, "app_logs").targets.at(0).clock.source == ClockSource::kColumn);

  SECTION("with a name") {
    ScratchDir other;
    Result<RuleSet> named = LoadFiles(other, {{"r.toml", R"toml([audit]
delete_after = "1 year"

[[audit.target]]
name = "ledger"
store = "purge-log"
)toml"}});
    INFO(named.status().message());
    REQUIRE(named.ok());
    const Target& n = Find(*named, "audit").targets.at(0);
    CHECK(n.name == "ledger");
    CHECK(n.store == "purge-log");
    CHECK(n.clock.source == ClockSource::kLedgerTime);
  }
}

TEST_CASE("A purge-log target refuses the keys of other stores, at the key", "[config][anchor]") {
  constexpr const char* kWhy =
      " does not apply to the purge log: its records are the ledger's entries, aged by the time they were written";
  struct Case {
    std::string line;  // line 6 of the file
    std::string message;
  };
  const std::vector<Case> cases = {
      {"table = \"ledger\"", "$D/r.toml:6:9: 'table'" + std::string(kWhy)},
      {"key = \"seq\"", "$D/r.toml:6:7: 'key'" + std::string(kWhy)},
      {"paths = [\"*.log\"]", "$D/r.toml:6:9: 'paths'" + std::string(kWhy)},
      {"clock = { column = \"at\" }", "$D/r.toml:6:9: 'clock'" + std::string(kWhy)},
      {"where = { kind = \"delete\" }", "$D/r.toml:6:9: 'where'" + std::string(kWhy)},
      {"subject = { kind = \"customer\", column = \"subject\" }", "$D/r.toml:6:11: 'subject'" + std::string(kWhy)},
      {"name = \"a b\"",
       "$D/r.toml:6:8: target name 'a b' may contain only letters, digits, '_', '-' and '.'"},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    ScratchDir dir;
    Result<RuleSet> rules = LoadFiles(dir, {{"r.toml", "[c]\ndelete_after = \"12 months\"\n\n[[c.target]]\n"
                                                       "store = \"purge-log\"\n" +
                                                           c.line + "\n"}});
    REQUIRE_FALSE(rules.ok());
    CHECK(rules.status().code() == StatusCode::kInvalid);
    CHECK(rules.status().message() == WithDir(c.message, dir.path() / "rules"));
  }
  // Before the store key, the same.
  ScratchDir dir;
  Result<RuleSet> rules =
      LoadFiles(dir, {{"r.toml", "[c]\ndelete_after = \"12 months\"\n\n[[c.target]]\ntable = \"ledger\"\n"
                                 "store = \"purge-log\"\n"}});
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.status().message() == WithDir("$D/r.toml:5:9: 'table'" + std::string(kWhy), dir.path() / "rules"));
}

TEST_CASE("The purge log takes one schedule in all the rules", "[config][anchor]") {
  struct Case {
    const char* what;
    std::vector<std::pair<std::string, std::string>> files;
    std::string message;  // "$D" is the rules directory
  };
  const std::vector<Case> cases = {
      {"two rule files",
       {{"a.toml", "[audit_a]\ndelete_after = \"12 months\"\n\n[[audit_a.target]]\nstore = \"purge-log\"\n"},
        {"b.toml", "[audit_b]\ndelete_after = \"6 months\"\n\n[[audit_b.target]]\nstore = \"purge-log\"\n"}},
       "$D/b.toml:4:1: the purge log already has a schedule, at $D/a.toml:4:1; give it one target only"},
      {"two categories of one file",
       {{"r.toml", "[audit_a]\ndelete_after = \"12 months\"\n[[audit_a.target]]\nstore = \"purge-log\"\n"
                   "[audit_b]\ndelete_after = \"6 months\"\n[[audit_b.target]]\nstore = \"purge-log\"\n"}},
       "$D/r.toml:7:1: the purge log already has a schedule, at $D/r.toml:3:1; give it one target only"},
      {"two targets of one category",
       {{"r.toml", "[audit]\ndelete_after = \"12 months\"\n[[audit.target]]\nstore = \"purge-log\"\n"
                   "[[audit.target]]\nname = \"again\"\nstore = \"purge-log\"\n"}},
       "$D/r.toml:5:1: the purge log already has a schedule, at $D/r.toml:3:1; give it one target only"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    ScratchDir dir;
    Result<RuleSet> rules = LoadFiles(dir, c.files);
    REQUIRE_FALSE(rules.ok());
    CHECK(rules.status().code() == StatusCode::kInvalid);
    CHECK(rules.status().message() == WithDir(c.message, dir.path() / "rules"));
  }
  // Each of them alone is fine.
  ScratchDir dir;
  Result<RuleSet> one = LoadFiles(dir, {{"a.toml", "[audit_a]\ndelete_after = \"12 months\"\n\n[[audit_a.target]]\n"
                                                   "store = \"purge-log\"\n"}});
  INFO(one.status().message());
  CHECK(one.ok());
}

}  // namespace
}  // namespace retention
