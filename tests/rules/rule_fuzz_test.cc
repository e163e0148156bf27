// Fuzzing the rule loader with mutations of the shipped rules (SPEC 6.12):
// whatever the bytes, loading never crashes or throws, and every refusal is
// an Invalid status (exit 65) whose message starts with the file's name and
// a position.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <regex>

#include "rules/rule_loader.h"
#include "state/test_util.h"
#include "util/file_util.h"

namespace retention {
namespace {

std::string Mutate(std::string s, std::mt19937_64& rng) {
  static const std::vector<std::string> kTokens = {"=", "[", "]", "{", "}", "\"", "\n", "[[", "]]", ",", "#",
                                                   "days", "0", "-1", "999999999999999999999", "\\u0000",
                                                   "'", "\"\"\"", "target", "clock", "store", "null", "true"};
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = rng() % s.size();
    switch (rng() % 5) {
      case 0: s[at] = static_cast<char>(rng() % 256); break;
      case 1: s.erase(at, 1 + rng() % 16); break;
      case 2: s.insert(at, kTokens[rng() % kTokens.size()]); break;
      case 3: s.insert(at, s.substr(rng() % s.size(), rng() % 40)); break;
      default: {
        auto nl = s.find('\n', at);
        if (nl != std::string::npos) s.erase(at, nl - at);
      }
    }
  }
  return s;
}

TEST_CASE("mutated rule files are loaded or refused with FILE:LINE:COL, never a crash", "[rules][fuzz]") {
  testing::TempDir dir;
  Config config;
  config.file = dir / "retention.toml";
  config.rules_dir = dir.path();
  for (const char* name : {"app"}) config.stores[name] = StoreConfig{name, StoreType::kSqlite, dir / "app.db", "", "", "", "", {}};
  for (const char* name : {"logs", "backups"})
    config.stores[name] = StoreConfig{name, StoreType::kFiles, "", "", "", dir.path(), "", {}};

  std::vector<std::string> seeds;
  for (const auto& e : std::filesystem::directory_iterator(RETENTION_SHIPPED_RULES))
    if (e.path().extension() == ".toml") seeds.push_back(ReadFileBytes(e.path()));
  REQUIRE(seeds.size() >= 7);

  std::mt19937_64 rng(65);
  const std::filesystem::path file = dir / "fuzz.toml";
  const std::regex positioned("^" + std::regex_replace(file.string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                              "(:[0-9]+:[0-9]+)?: .+");
  int refused = 0, loaded = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string text = Mutate(seeds[rng() % seeds.size()], rng);
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << text;
    }
    RuleSet rules;
    Status s = LoadRuleFile(config, file, &rules);
    if (s.ok()) {
      ++loaded;
      continue;
    }
    ++refused;
    INFO("input:\n" << text);
    REQUIRE(s.code() == StatusCode::kInvalid);
    REQUIRE(std::regex_search(s.message(), positioned));
  }
  // Both outcomes occur, or the mutations are too weak or too strong.
  CHECK(refused > 1000);
  CHECK(loaded > 50);
}

}  // namespace
}  // namespace retention
