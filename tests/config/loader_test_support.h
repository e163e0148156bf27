// Helpers for the config and rule loader tests: a scratch directory, files
// written into it, and expected messages that name files inside it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "config/config.h"
#include "rules/rule_loader.h"

namespace retention::loader_test {

namespace fs = std::filesystem;

class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "retention-loader-test-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);  // our own scratch directory only
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void WriteFile(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

// Replaces every "$D" in `text` with `dir` (messages name files by their
// full path, which only the test run knows).
inline std::string WithDir(std::string text, const fs::path& dir) {
  const std::string d = dir.string();
  for (size_t at = text.find("$D"); at != std::string::npos; at = text.find("$D", at + d.size())) {
    text.replace(at, 2, d);
  }
  return text;
}

// Writes `text` as DIR/retention.toml and loads it; the test stops if it
// does not load.
inline Config LoadConfigText(const ScratchDir& dir, const std::string& text) {
  WriteFile(dir / "retention.toml", text);
  Result<Config> config = LoadConfig(dir / "retention.toml");
  INFO(config.status().message());
  REQUIRE(config.ok());
  return *config;
}

// Writes `files` (name, text) into the config's rules directory and loads
// the rules.
inline Result<RuleSet> LoadRuleFiles(const Config& config,
                                     const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [name, text] : files) WriteFile(config.rules_dir / name, text);
  return LoadRules(config);
}

}  // namespace retention::loader_test
