// Shared pieces of the libFuzzer harnesses: one scratch directory per
// fuzzing process, files written into it, and a way to stop on a broken
// invariant that libFuzzer reports as a crash (with the input saved).
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace retention::fuzz {

namespace fs = std::filesystem;

// A directory under $TMPDIR, removed at exit. One per process: libFuzzer
// runs inputs one after another, so every input may reuse the same files.
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "retention-fuzz-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
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

inline ScratchDir& Scratch() {
  static ScratchDir dir;
  return dir;
}

inline void WriteFile(const fs::path& file, std::string_view bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", file.c_str());
    std::abort();
  }
}

// A broken invariant: print why and abort, which libFuzzer records as a
// crash with the input that caused it.
[[noreturn]] inline void Violated(const std::string& why) {
  std::fprintf(stderr, "INVARIANT VIOLATED: %s\n", why.c_str());
  std::fflush(stderr);
  std::abort();
}

// Splits an input into fields at '\n' (the last field takes the rest).
inline std::vector<std::string> SplitFields(std::string_view in, size_t max_fields) {
  std::vector<std::string> out;
  while (out.size() + 1 < max_fields) {
    auto nl = in.find('\n');
    if (nl == std::string_view::npos) break;
    out.emplace_back(in.substr(0, nl));
    in.remove_prefix(nl + 1);
  }
  out.emplace_back(in);
  return out;
}

}  // namespace retention::fuzz
