// The rules overlay (SPEC 3): shipped and local rules directories merged by
// file name, a local file replacing the shipped one, a symlink to /dev/null
// masking it; errors naming the real file; the rules hash over the
// effective set.
#include "rules/rule_overlay.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/config.h"
#include "config/loader_test_support.h"
#include "ledger/sha256.h"
#include "rules/rule_loader.h"

namespace retention {
namespace {

using loader_test::LoadConfigText;
using loader_test::ScratchDir;
using loader_test::WriteFile;
namespace fs = std::filesystem;

constexpr const char* kOverlayConfig = R"toml(rules = ["usr/rules.d", "etc/rules.d"]
[stores.app]
type = "sqlite"
path = "app.db"
)toml";

// A rule file with one category `name` of the given schedule.
std::string Rule(const std::string& name, const std::string& delete_after = "90 days") {
  return "[" + name + "]\ndelete_after = \"" + delete_after +
         "\"\n[[" + name + ".target]]\nstore = \"app\"\ntable = \"" + name +
         "\"\nclock = { column = \"created_at\" }\n";
}

// The hash an independent reader computes over (name, bytes) in name order.
std::string HashOf(const std::vector<std::pair<std::string, std::string>>& files) {
  Sha256 h;
  for (const auto& [name, bytes] : files) {
    h.Update(name);
    h.Update(std::string_view("\0", 1));
    h.Update(bytes);
  }
  return h.FinalHex();
}

RuleSet LoadOk(const Config& config) {
  Result<RuleSet> rules = LoadRules(config);
  INFO(rules.status().message());
  REQUIRE(rules.ok());
  return *rules;
}

RuleOverlay ResolveOk(const Config& config) {
  Result<RuleOverlay> overlay = ResolveRuleOverlay(config);
  INFO(overlay.status().message());
  REQUIRE(overlay.ok());
  return *overlay;
}

const Category* FindCategory(const RuleSet& rules, const std::string& name) {
  for (const Category& c : rules.categories)
    if (c.name == name) return &c;
  return nullptr;
}

struct Overlay {
  ScratchDir dir;
  Config config;
  fs::path usr, etc;
  Overlay() : config(LoadConfigText(dir, kOverlayConfig)), usr(dir / "usr/rules.d"), etc(dir / "etc/rules.d") {
    WriteFile(usr / "audit.toml", Rule("audit", "12 months"));
    WriteFile(usr / "support.toml", Rule("support", "24 months"));
  }
  // A symlink NAME -> TO in the local directory.
  void Link(const std::string& name, const fs::path& to) {
    fs::create_directories(etc);
    fs::create_symlink(to, etc / name);
  }
};

TEST_CASE("Rules overlay: a local file replaces the shipped file of the same name", "[rules][overlay]") {
  Overlay o;
  const RuleSet shipped = LoadOk(o.config);
  CHECK(shipped.hash == HashOf({{"audit.toml", Rule("audit", "12 months")}, {"support.toml", Rule("support", "24 months")}}));

  WriteFile(o.etc / "support.toml", Rule("support", "36 months"));
  const RuleSet rules = LoadOk(o.config);
  CHECK(rules.files == std::vector<std::string>{(o.usr / "audit.toml").string(), (o.etc / "support.toml").string()});
  const Category* support = FindCategory(rules, "support");
  REQUIRE(support);
  CHECK(support->delete_after == CalendarDuration{36, DurationUnit::kMonths});
  CHECK(support->where.file == (o.etc / "support.toml").string());
  // The hash is of the effective set: another schedule, another hash.
  CHECK(rules.hash == HashOf({{"audit.toml", Rule("audit", "12 months")}, {"support.toml", Rule("support", "36 months")}}));
  CHECK(rules.hash != shipped.hash);

  const RuleOverlay overlay = ResolveOk(o.config);
  REQUIRE(overlay.files.size() == 2);
  CHECK(overlay.files[1].name == "support.toml");
  CHECK(overlay.files[1].path == o.etc / "support.toml");
  CHECK(overlay.files[1].overridden == std::vector<fs::path>{o.usr / "support.toml"});
  CHECK(overlay.files[0].overridden.empty());
}

TEST_CASE("Rules overlay: a symlink to /dev/null masks the shipped file", "[rules][overlay]") {
  Overlay o;
  const RuleSet shipped = LoadOk(o.config);
  o.Link("support.toml", "/dev/null");
  const RuleSet rules = LoadOk(o.config);
  CHECK(FindCategory(rules, "support") == nullptr);
  CHECK(FindCategory(rules, "audit") != nullptr);
  CHECK(rules.files == std::vector<std::string>{(o.usr / "audit.toml").string()});
  CHECK(rules.hash == HashOf({{"audit.toml", Rule("audit", "12 months")}}));
  CHECK(rules.hash != shipped.hash);

  const RuleOverlay overlay = ResolveOk(o.config);
  REQUIRE(overlay.files.size() == 2);
  const RuleFileOrigin& masked = overlay.files[1];
  CHECK(masked.masked());
  CHECK(masked.path.empty());
  CHECK(*masked.masked_by == o.etc / "support.toml");
  CHECK(masked.overridden == std::vector<fs::path>{o.usr / "support.toml"});
}

TEST_CASE("Rules overlay: a mask with no shipped file of its name masks nothing and loads", "[rules][overlay]") {
  Overlay o;
  const RuleSet shipped = LoadOk(o.config);
  // A relative symlink that resolves to /dev/null masks too.
  o.Link("gone.toml", "../../../../../../../../../../dev/null");
  const RuleSet rules = LoadOk(o.config);
  CHECK(rules.categories.size() == 2);
  CHECK(rules.hash == shipped.hash);
  const RuleOverlay overlay = ResolveOk(o.config);
  REQUIRE(overlay.files.size() == 3);
  CHECK(overlay.files[1].name == "gone.toml");
  CHECK(overlay.files[1].masked());
  CHECK(overlay.files[1].overridden.empty());
}

TEST_CASE("Rules overlay: leftovers in the local directory neither replace nor mask", "[rules][overlay]") {
  Overlay o;
  const RuleSet shipped = LoadOk(o.config);
  for (const char* leftover : {"support.toml~", "support.toml.bak", "support.toml.dpkg-old", ".support.toml"})
    WriteFile(o.etc / leftover, "[support\nnot toml = = =\n");
  o.Link("audit.toml.dpkg-old", "/dev/null");
  o.Link(".audit.toml", "/dev/null");
  o.Link("audit.toml~", "/nowhere/at/all");
  const RuleSet rules = LoadOk(o.config);
  CHECK(rules.files == shipped.files);
  CHECK(rules.hash == shipped.hash);
}

TEST_CASE("Rules overlay: a broken symlink is refused, naming it", "[rules][overlay]") {
  Overlay o;
  o.Link("support.toml", "/nowhere/support.toml");
  Result<RuleSet> rules = LoadRules(o.config);
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.status().code() == StatusCode::kInvalid);
  CHECK(rules.status().message() ==
        (o.etc / "support.toml").string() +
            ": a broken symlink (to /nowhere/support.toml); point it at a rule file, or at /dev/null to mask the "
            "rule file of that name");
}

TEST_CASE("Rules overlay: a local directory that does not exist is empty, the shipped one must exist",
          "[rules][overlay]") {
  Overlay o;
  REQUIRE_FALSE(fs::exists(o.etc));
  CHECK(LoadOk(o.config).categories.size() == 2);

  fs::remove_all(o.usr);
  WriteFile(o.etc / "support.toml", Rule("support"));
  Result<RuleSet> rules = LoadRules(o.config);
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.status().message() ==
        (o.dir / "retention.toml").string() + ": rules directory " + o.usr.string() + " does not exist");

  // A local "directory" that is a file is a mistake, not an empty overlay.
  WriteFile(o.usr / "audit.toml", Rule("audit"));
  fs::remove_all(o.etc);
  WriteFile(o.etc, "not a directory\n");
  rules = LoadRules(o.config);
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.status().message() == o.etc.string() + ": a rules directory, but not a directory");
}

TEST_CASE("Rules overlay: errors name the local file that has them, at FILE:LINE:COL", "[rules][overlay]") {
  Overlay o;
  WriteFile(o.etc / "support.toml", "[support]\ndelete_after = \"24 moons\"\n");
  Result<RuleSet> rules = LoadRules(o.config);
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.status().message().rfind((o.etc / "support.toml").string() + ":2:", 0) == 0);
}

TEST_CASE("Rules overlay: files are read in name order across the directories", "[rules][overlay]") {
  Overlay o;
  WriteFile(o.etc / "b_local.toml", Rule("b_local"));
  WriteFile(o.etc / "0_first.toml", Rule("first"));
  const RuleSet rules = LoadOk(o.config);
  CHECK(rules.files == std::vector<std::string>{(o.etc / "0_first.toml").string(), (o.usr / "audit.toml").string(),
                                                (o.etc / "b_local.toml").string(), (o.usr / "support.toml").string()});
  // Files are replaced by name, not categories: a local file defining a
  // shipped category under another name is a second definition.
  WriteFile(o.etc / "support_local.toml", Rule("support"));
  Result<RuleSet> twice = LoadRules(o.config);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().message() == (o.etc / "support_local.toml").string() +
                                         ":1:1: category 'support' is already defined at " +
                                         (o.usr / "support.toml").string() + ":1:1");
}

TEST_CASE("Config rules: one directory or a list, refused at FILE:LINE:COL otherwise", "[rules][overlay][config]") {
  ScratchDir dir;
  const Config one = LoadConfigText(dir, "rules = \"r\"\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n");
  CHECK(one.rules_dir == dir / "r");
  CHECK(one.rules_overlay_dirs.empty());
  CHECK(RulesDirs(one) == std::vector<fs::path>{dir / "r"});
  const Config list = LoadConfigText(dir, std::string(kOverlayConfig));
  CHECK(RulesDirs(list) == std::vector<fs::path>{dir / "usr/rules.d", dir / "etc/rules.d"});

  const std::string stores = "\n[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n";
  const std::string shape =
      "'rules' is a directory or a list of directories, later ones replacing files of the same name: "
      "[\"/usr/share/retention/rules.d\", \"/etc/retention/rules.d\"]";
  struct Bad {
    std::string rules;
    std::string message;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"rules = []", ":1:9: " + shape},
           {"rules = 7", ":1:9: " + shape},
           {"rules = [\"a\", 7]", ":1:15: " + shape},
           {"rules = [\"a\", \"\"]", ":1:15: " + shape},
           {"rules = [\"a\", \"./a\"]", ":1:15: rules directory " + (dir / "a").string() + " is listed twice"},
           {"rules = \"\"", ":1:9: 'rules' must not be empty"},
       }) {
    WriteFile(dir / "retention.toml", bad.rules + stores);
    Result<Config> config = LoadConfig(dir / "retention.toml");
    INFO(bad.rules);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().message() == (dir / "retention.toml").string() + bad.message);
  }
}

}  // namespace
}  // namespace retention
