// Replays the fuzzers' inputs in the test suite: every file of the seed
// corpus (fuzz/corpus/NAME/) and every crash found and fixed since
// (tests/fixtures/fuzz/NAME/) goes through the harness once, so the
// ordinary and the sanitizer builds check them without clang or libFuzzer.
// Each *_replay_test.cc includes one harness with its entry point renamed
// (they all define LLVMFuzzerTestOneInput). A broken invariant aborts, a
// failure of the test run.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "util/file_util.h"

namespace retention::fuzz_replay {

// Runs `one` on every input of fuzzer `name`; returns how many.
inline int Replay(const std::string& name, int (*one)(const uint8_t*, size_t)) {
  int n = 0;
  for (const std::filesystem::path dir : {std::filesystem::path(RETENTION_SOURCE_DIR) / "fuzz" / "corpus" / name,
                                          std::filesystem::path(RETENTION_TEST_FIXTURES) / "fuzz" / name}) {
    if (!std::filesystem::is_directory(dir)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      INFO("input " << file.string());
      const std::string bytes = ReadFileBytes(file);
      CHECK(one(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == 0);
      ++n;
    }
  }
  return n;
}

}  // namespace retention::fuzz_replay
