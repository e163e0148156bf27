// SPEC 6.8 and 6.14 for the files store: a bind mount of the same file
// system inside the root is never crossed (told apart by mount id, which
// st_dev cannot do), and a file the system refuses to unlink is skipped with
// its reason instead of stopping the batch.
//
// These need root (mount, chattr); they run as root here and in CI, and
// elsewhere skip with a warning.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "stores/files_mount.h"
#include "stores/files_test_support.h"

using namespace retention;
using namespace retention::files_test;

namespace {

const Timestamp kNow = Day(2026, 3, 15, 12);
const Timestamp kOld = Day(2025, 6, 1);  // well before the cutoff

}  // namespace

TEST_CASE("mount ids tell a same-file-system bind mount from its parent", "[files][mount]") {
  TempDir tmp;
  fs::create_directories(tmp / "root/sub");
  fs::create_directories(tmp / "outside");
  if (!tmp.BindMount(tmp / "outside", tmp / "root/sub")) {
    WARN("cannot bind-mount here (not root?); skipping");
    return;
  }
  int root = ::open((tmp / "root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(root >= 0);
  struct stat root_st, sub_st;
  files::MountId root_mount, sub_mount;
  REQUIRE(files::StatWithMount(*files::PosixFileSystem(), root, nullptr, &root_st, &root_mount) == 0);
  REQUIRE(files::StatWithMount(*files::PosixFileSystem(), root, "sub", &sub_st, &sub_mount) == 0);
  ::close(root);
  // The very thing st_dev cannot see.
  CHECK(sub_st.st_dev == root_st.st_dev);
  REQUIRE(root_mount.has_value());
  REQUIRE(sub_mount.has_value());
  CHECK(*sub_mount != *root_mount);
  CHECK_FALSE(files::OnRootMount(root_st.st_dev, root_mount, sub_st, sub_mount));
  CHECK(files::OnRootMount(root_st.st_dev, root_mount, root_st, root_mount));
  // The fallbacks for kernels without STATX_MNT_ID see the same ids.
  int again = ::open((tmp / "root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(again >= 0);
  CHECK(files::MountIdByHandle(*files::PosixFileSystem(), again, nullptr) == root_mount);
  CHECK(files::MountIdByHandle(*files::PosixFileSystem(), again, "sub") == sub_mount);
  CHECK(files::MountIdByFdinfo(*files::PosixFileSystem(), again, nullptr) == root_mount);
  CHECK(files::MountIdByFdinfo(*files::PosixFileSystem(), again, "sub") == sub_mount);
  ::close(again);
  // An entry whose mount id cannot be read, under a root whose can: kept.
  CHECK_FALSE(files::OnRootMount(root_st.st_dev, root_mount, root_st, std::nullopt));
}

TEST_CASE("a bind mount inside the root is never walked into, counted or deleted in", "[files][mount]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  const fs::path outside = tmp / "outside";
  WriteFile(root / "a.log", kOld);
  WriteFile(outside / "x.log", kOld, "outside x");
  WriteFile(outside / "deep/y.log", kOld, "outside y");
  WriteFile(tmp / "outside-file.log", kOld, "outside file");
  fs::create_directories(root / "sub");
  WriteFile(root / "file.log", kOld, "placeholder");  // a file bind mount lands on it
  if (!tmp.BindMount(outside, root / "sub") || !tmp.BindMount(tmp / "outside-file.log", root / "file.log")) {
    WARN("cannot bind-mount here (not root?); skipping");
    return;
  }
  SetMtime(tmp / "outside-file.log", kOld);

  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("c", "t", "logs", {"**/*.log"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kNow, &holds);

  // The plan does not count them.
  auto stats = store->Measure(d);
  REQUIRE(stats.ok());
  CHECK(stats->total == 1);
  CHECK(stats->deletable == 1);
  CHECK(Keys(Drain(*store, d)) == std::set<std::string>{"a.log"});

  // Named anyway (a saved plan, a race): not deleted.
  auto deleted = store->DeleteBatch(d, CandidatesFor({"sub/x.log", "sub/deep/y.log", "file.log", "a.log"}));
  REQUIRE(deleted.ok());
  CHECK(Keys(*deleted) == std::set<std::string>{"a.log"});
  CHECK(ReadFile(outside / "x.log") == "outside x");
  CHECK(ReadFile(outside / "deep/y.log") == "outside y");
  CHECK(ReadFile(tmp / "outside-file.log") == "outside file");
  // What the store refused, it says, with the reason as a value.
  CHECK(SkippedKeys(*deleted) == std::set<std::string>{"sub/x.log", "sub/deep/y.log", "file.log"});
  for (const SkippedRecord& s : deleted->skipped) {
    INFO(s.key << ": " << s.detail);
    CHECK(s.reason == (s.key == "file.log" ? SkipReason::kUndeletable : SkipReason::kChanged));
  }

  // explain sees no record there either.
  auto facts = store->Lookup(d, "sub/x.log");
  REQUIRE(facts.ok());
  CHECK_FALSE(facts->exists);
  auto file_facts = store->Lookup(d, "file.log");
  REQUIRE(file_facts.ok());
  CHECK_FALSE(file_facts->exists);
}

TEST_CASE("an immutable file is skipped with its reason and the rest of the batch goes", "[files][undeletable]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  for (const char* f : {"a.log", "b.log", "c.log"}) WriteFile(root / f, kOld);
  ImmutableFile immutable(root / "b.log");
  if (!immutable.ok()) {
    WARN("cannot set the immutable flag here (not root, or the file system has none); skipping");
    return;
  }
  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("c", "t", "logs", {"*.log"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kNow, &holds);
  auto candidates = Drain(*store, d);
  REQUIRE(Keys(candidates) == std::set<std::string>{"a.log", "b.log", "c.log"});

  auto result = store->DeleteBatch(d, candidates);
  INFO(result.status().message());
  REQUIRE(result.ok());
  CHECK(Keys(*result) == std::set<std::string>{"a.log", "c.log"});
  REQUIRE(result->skipped.size() == 1);
  const SkippedRecord& s = result->skipped[0];
  CHECK(s.key == "b.log");
  CHECK(s.reason == SkipReason::kUndeletable);
  CHECK(s.detail == "cannot be deleted: Operation not permitted (immutable)");
  CHECK_FALSE(s.clock.empty());
  CHECK(fs::exists(root / "b.log"));

  // And again next time, the same way: never an error.
  auto again = store->DeleteBatch(d, CandidatesFor({"b.log"}));
  REQUIRE(again.ok());
  CHECK(again->deleted.empty());
  CHECK(SkippedKeys(*again) == std::set<std::string>{"b.log"});
}
