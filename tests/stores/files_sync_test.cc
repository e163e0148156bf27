// The files store's side of the packed-batch protocol (issue 13): Sync makes
// the unlinks durable (an fsync of each directory unlinked in, and only
// those), BoundDue is the exact count, and the cursor reads the next batch
// on a second thread while the first deletes and syncs (the executor's
// pipeline).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "stores/files_test_support.h"
#include "support/fault_file_system.h"

using namespace retention;
using namespace retention::files_test;
using retention::testing::FaultFileSystem;
using retention::testing::FsCall;

namespace {

const Timestamp kNew = Day(2026, 3, 15, 12);
const Timestamp kOld = Day(2025, 6, 1);
const Timestamp kCutoff = Day(2025, 12, 15);

std::unique_ptr<Store> OpenThrough(const fs::path& root, std::shared_ptr<const files::FileSystem> fs) {
  auto s = OpenFilesStore(FilesConfig(root), false, std::move(fs));
  INFO(s.status().message());
  REQUIRE(s.ok());
  return std::move(*s);
}

}  // namespace

TEST_CASE("Sync fsyncs each directory the store unlinked in since the last Sync, once", "[files][sync]") {
  TempDir tmp;
  const fs::path root = tmp / "logs";
  for (const char* f : {"app.log-1", "app.log-2", "a/app.log-3", "a/app.log-4", "b/c/app.log-5"})
    WriteFile(root / f, kOld);
  WriteFile(root / "d/app.log-6", kNew);  // young: nothing unlinked in d/
  auto counting = std::make_shared<FaultFileSystem>();
  auto store = OpenThrough(root, counting);
  FilesRule rule("logs", "rotated", "logs", {"**/app.log-*"}, MtimeClock());
  HoldSet holds;
  const Selection d = rule.Decide(kCutoff, &holds);

  // Nothing deleted yet: nothing to sync.
  REQUIRE(store->Sync().ok());
  CHECK(counting->calls(FsCall::kFsync) == 0);

  auto deleted = store->DeleteBatch(d, Drain(*store, d));
  REQUIRE(deleted.ok());
  CHECK(deleted->deleted.size() == 5);
  CHECK(counting->calls(FsCall::kFsync) == 0);  // not before Sync: one fsync per directory per batch
  REQUIRE(store->Sync().ok());
  CHECK(counting->calls(FsCall::kFsync) == 3);  // the root, a/, b/c/ -- not b/ or d/
  CHECK(counting->calls(FsCall::kSyncFs) == 0);
  REQUIRE(store->Sync().ok());
  CHECK(counting->calls(FsCall::kFsync) == 3);  // all synced already

  // Which directories: a failed fsync names the one it failed on.
  WriteFile(root / "b/c/app.log-7", kOld);
  auto failing = std::make_shared<FaultFileSystem>();
  failing->FailName("/b/c", EIO, FsCall::kFsync);
  auto store2 = OpenThrough(root, failing);
  REQUIRE(store2->DeleteBatch(d, Drain(*store2, d)).ok());
  const Status st = store2->Sync();
  REQUIRE(st.code() == StatusCode::kIoError);
  CHECK(st.message() == "store 'logs': cannot make the deletions in " + (root / "b/c/").string() +
                            " durable (fsync of the directory): Input/output error");
  // Still owed: the next Sync tries that directory again.
  CHECK(store2->Sync().code() == StatusCode::kIoError);
  CHECK(failing->calls(FsCall::kFsync) == 2);
}

TEST_CASE("Sync keeps at most 64 directories open: the oldest are synced early", "[files][sync]") {
  TempDir tmp;
  const fs::path root = tmp / "logs";
  for (int i = 0; i < 70; ++i) WriteFile(root / ("d" + std::to_string(100 + i)) / "app.log-1", kOld);
  auto counting = std::make_shared<FaultFileSystem>();
  auto store = OpenThrough(root, counting);
  FilesRule rule("logs", "rotated", "logs", {"*/app.log-*"}, MtimeClock());
  HoldSet holds;
  const Selection d = rule.Decide(kCutoff, &holds);
  auto deleted = store->DeleteBatch(d, Drain(*store, d, 100));
  REQUIRE(deleted.ok());
  CHECK(deleted->deleted.size() == 70);
  CHECK(counting->calls(FsCall::kFsync) == 6);
  REQUIRE(store->Sync().ok());
  CHECK(counting->calls(FsCall::kFsync) == 70);
}

TEST_CASE("BoundDue of a files store is the exact count of the walk", "[files][sync]") {
  TempDir tmp;
  const fs::path root = tmp / "logs";
  for (int i = 0; i < 6; ++i) WriteFile(root / ("app.log-" + std::to_string(i)), kOld);
  WriteFile(root / "app.log-young", kNew);
  WriteFile(root / "README", kOld);  // not the target's
  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("logs", "rotated", "logs", {"app.log-*"}, MtimeClock());
  HoldScope scope;
  scope.key = "app.log-0";
  HoldSet holds({MakeHold(scope)}, kNew);
  const Selection d = rule.Decide(kCutoff, &holds);
  auto bound = store->BoundDue(d);
  REQUIRE(bound.ok());
  CHECK(bound->exact);
  CHECK(bound->deletable_at_most == 5);  // six due, one held
  CHECK(bound->total_at_least == 7);
}

TEST_CASE("the cursor reads the next batch on a second thread while the first deletes and syncs",
          "[files][sync][threads]") {
  TempDir tmp;
  const fs::path root = tmp / "logs";
  constexpr int kDirs = 20, kPerDir = 60;
  int due = 0;
  std::set<std::string> young;
  for (int d = 0; d < kDirs; ++d) {
    for (int i = 0; i < kPerDir; ++i) {
      const bool old = (d + i) % 3 != 0;
      due += old;
      const std::string key = "d" + std::to_string(d) + "/app.log-" + std::to_string(i);
      if (!old) young.insert(key);
      WriteFile(root / key, old ? kOld : kNew);
    }
  }
  auto counting = std::make_shared<FaultFileSystem>();
  auto store = OpenThrough(root, counting);
  FilesRule rule("logs", "rotated", "logs", {"*/app.log-*"}, MtimeClock());
  HoldSet holds;
  const Selection d = rule.Decide(kCutoff, &holds);
  auto cursor = store->OpenCursor(d);
  REQUIRE(cursor.ok());

  // One batch ahead, as the executor pipelines: the reader blocks while
  // a page is waiting to be deleted.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::vector<Candidate>> pages;
  bool done = false;
  std::optional<Status> read_error;
  std::thread reader([&] {
    while (true) {
      auto page = (*cursor)->Next(d, 37);
      std::unique_lock<std::mutex> lock(mu);
      if (!page.ok()) read_error = page.status();
      if (!page.ok() || page->empty()) {
        done = true;
        cv.notify_all();
        return;
      }
      cv.wait(lock, [&] { return pages.size() < 1; });
      pages.push_back(std::move(*page));
      cv.notify_all();
    }
  });
  size_t deleted = 0, batches = 0;
  Status error;
  while (true) {
    std::vector<Candidate> page;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !pages.empty() || done; });
      if (pages.empty()) break;
      page = std::move(pages.front());
      pages.pop_front();
      cv.notify_all();  // the reader reads the next page while this one goes
    }
    auto r = store->DeleteBatch(d, page);
    if (!r.ok()) {
      error = r.status();
      break;
    }
    deleted += r->deleted.size();
    CHECK(r->skipped.empty());
    ++batches;
    if (Status s = store->Sync(); !s.ok()) {
      error = s;
      break;
    }
  }
  reader.join();
  REQUIRE(error.ok());
  REQUIRE_FALSE(read_error);
  CHECK(deleted == static_cast<size_t>(due));
  CHECK(batches >= static_cast<size_t>(due / 37));
  CHECK(RegularFiles(root) == young);  // what is left is exactly the young files
  // Each batch synced the directories it unlinked in, and no more.
  CHECK(counting->calls(FsCall::kFsync) >= static_cast<int>(batches));
  CHECK(counting->calls(FsCall::kFsync) <= static_cast<int>(batches) * 2);
}
