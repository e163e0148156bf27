// The rule keys of an erasure exception (rules/rule.h): `erasable = false`
// needs its legal basis, a basis needs the exception, and the shipped
// audit/security rules carry one.
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

constexpr const char* kConfig = R"toml(rules = "rules"
state = "state.db"

[stores.app]
type = "sqlite"
path = "app.db"
)toml";

Result<RuleSet> Load(const ScratchDir& dir, const std::string& text) {
  return LoadRuleFiles(LoadConfigText(dir, kConfig), {{"r.toml", text}});
}

constexpr const char* kTarget = R"toml(
[[c.target]]
store = "app"
table = "t"
clock = { column = "at" }
)toml";

TEST_CASE("erasable = false loads with its erasure_exception", "[erase][rules]") {
  ScratchDir dir;
  auto rules = Load(dir, std::string("[c]\ndelete_after = \"90 days\"\nerasable = false\n"
                                     "erasure_exception = \"fraud investigation (policy 2.4)\"\n") + kTarget);
  REQUIRE(rules.ok());
  CHECK_FALSE(rules->categories[0].erasable);
  CHECK(rules->categories[0].erasure_exception == "fraud investigation (policy 2.4)");
  auto plain = Load(dir, std::string("[c]\ndelete_after = \"90 days\"\n") + kTarget);
  REQUIRE(plain.ok());
  CHECK(plain->categories[0].erasable);
  CHECK(plain->categories[0].erasure_exception.empty());
}

TEST_CASE("An erasure exception without its basis, or a basis without one, is refused at FILE:LINE", "[erase][rules]") {
  ScratchDir dir;
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"[c]\ndelete_after = \"90 days\"\nerasable = false\n",
       "$D/r.toml:3:12: erasable = false needs erasure_exception = \"...\" (the legal basis)"},
      {"[c]\ndelete_after = \"90 days\"\nerasable = false\nerasure_exception = \"\"\n",
       "$D/r.toml:3:12: erasable = false needs erasure_exception = \"...\" (the legal basis)"},
      {"[c]\ndelete_after = \"90 days\"\nerasure_exception = \"tax\"\n",
       "$D/r.toml:3:21: erasure_exception is given but the category is erasable (add erasable = false)"},
      {"[c]\ndelete_after = \"90 days\"\nerasable = true\nerasure_exception = \"tax\"\n",
       "$D/r.toml:4:21: erasure_exception is given but the category is erasable (add erasable = false)"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto rules = Load(dir, c.text + kTarget);
    REQUIRE_FALSE(rules.ok());
    CHECK(ExitStatusOf(rules.status()) == 65);
    CHECK(rules.status().message() == WithDir(c.message, dir / "rules"));
  }
}

TEST_CASE("The shipped rules except audit and security logs from erasure, quoting the policy", "[erase][rules]") {
  ScratchDir dir;
  Config config = LoadConfigText(dir, std::string("rules = \"") + RETENTION_SHIPPED_RULES + R"toml("
state = "state.db"

[stores.app]
type = "sqlite"
path = "app.db"

[stores.logs]
type = "files"
root = "logs"

[stores.backups]
type = "files"
root = "backups"
)toml");
  auto rules = LoadRules(config);
  if (!rules.ok()) FAIL(rules.status().message());
  for (const Category& c : rules->categories) {
    INFO(c.name);
    if (c.name == "audit_security") {
      CHECK_FALSE(c.erasable);
      CHECK(c.erasure_exception.find("to investigate fraud or security incidents") != std::string::npos);
    } else {
      CHECK(c.erasable);
    }
    if (c.name == "transactions") CHECK(c.keep_at_least.has_value());
  }
}

}  // namespace
}  // namespace retention
