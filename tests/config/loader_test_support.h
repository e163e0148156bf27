// Helpers for the config and rule loader tests: a scratch directory, files
// written into it, and expected messages that name files inside it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

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

}  // namespace retention::loader_test
