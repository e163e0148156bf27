// AtomicFile: the file appears whole or not at all, and its .tmp never
// outlives the writer.
#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"
#include "util/atomic_file.h"

namespace retention {
namespace {

namespace fs = std::filesystem;

TEST_CASE("an atomic file replaces the old content whole and leaves no tmp", "[util][atomic]") {
  e2e::TempDir dir;
  const fs::path file = dir / "out.json";
  e2e::WriteFile(file, "old");
  auto f = AtomicFile::Create(file);
  REQUIRE(f.ok());
  (*f)->out() << "new content";
  CHECK(e2e::ReadFile(file) == "old");  // nothing visible before the commit
  CHECK(fs::exists(dir / "out.json.tmp"));
  REQUIRE((*f)->Commit().ok());
  CHECK(e2e::ReadFile(file) == "new content");
  CHECK_FALSE(fs::exists(dir / "out.json.tmp"));
  CHECK_FALSE((*f)->Commit().ok());  // once

  REQUIRE(WriteFileAtomically(file, "again").ok());
  CHECK(e2e::ReadFile(file) == "again");
}

TEST_CASE("an atomic file that fails or is dropped removes its tmp and keeps the old file", "[util][atomic]") {
  e2e::TempDir dir;
  {
    // Dropped before the commit (an error part way through writing).
    const fs::path file = dir / "dropped.txt";
    e2e::WriteFile(file, "old");
    {
      auto f = AtomicFile::Create(file);
      REQUIRE(f.ok());
      (*f)->out() << "half";
    }
    CHECK(e2e::ReadFile(file) == "old");
    CHECK_FALSE(fs::exists(dir / "dropped.txt.tmp"));
  }
  {
    // The rename fails: a non-empty directory is in the way.
    const fs::path file = dir / "blocked";
    fs::create_directories(file / "inside");
    auto f = AtomicFile::Create(file);
    REQUIRE(f.ok());
    (*f)->out() << "text";
    Status st = (*f)->Commit();
    CHECK(st.code() == StatusCode::kIoError);
    CHECK_FALSE(fs::exists(dir / "blocked.tmp"));
    CHECK(fs::is_directory(file / "inside"));
  }
  {
    // The tmp cannot be created: an I/O error naming it.
    auto f = AtomicFile::Create(dir / "no" / "such" / "dir" / "x");
    REQUIRE_FALSE(f.ok());
    CHECK(f.status().code() == StatusCode::kIoError);
  }
}

}  // namespace
}  // namespace retention
