#include "stores/files_store.h"

#include <sys/file.h>
#include <sys/resource.h>

#include <atomic>
#include <map>
#include <thread>

#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>

#include "stores/files_test_support.h"

using namespace retention;
using namespace retention::files_test;

namespace {

const Timestamp kNow = Day(2026, 3, 15, 12);
const Timestamp kOld = Day(2025, 6, 1);    // well before the cutoff
const Timestamp kCutoff = Day(2025, 12, 15);

}  // namespace

TEST_CASE("a missing or symlinked root is unavailable", "[files]") {
  TempDir tmp;
  auto missing = OpenFilesStore(FilesConfig(tmp / "nope"), true);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kUnavailable);
  CHECK(missing.status().message() ==
        "store 'logs': root " + (tmp / "nope").string() + ": No such file or directory");

  fs::create_directories(tmp / "real");
  fs::create_directory_symlink(tmp / "real", tmp / "link");
  auto link = OpenFilesStore(FilesConfig(tmp / "link"), true);
  REQUIRE_FALSE(link.ok());
  CHECK(link.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(link.status().message(), Catch::Contains("symbolic link"));
  auto slash = OpenFilesStore(FilesConfig(tmp.path().string() + "/link/"), true);
  CHECK_FALSE(slash.ok());

  WriteFile(tmp / "file");
  auto file = OpenFilesStore(FilesConfig(tmp / "file"), true);
  REQUIRE_FALSE(file.ok());
  CHECK_THAT(file.status().message(), Catch::Contains("not a directory"));
}

TEST_CASE("rotated logs are measured, streamed and deleted - the live file stays", "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "logs";
  WriteFile(root / "access.log", kNow);
  WriteFile(root / "app.log", kNow);
  for (int d = 1; d <= 9; ++d) {
    const std::string day = "2025060" + std::to_string(d);
    WriteFile(root / ("access.log-" + day + ".gz"), Day(2025, 6, d, 23));
    WriteFile(root / ("app.log-" + day + ".gz"), Day(2025, 6, d, 23));
  }
  WriteFile(root / "access.log-20260310.gz", Day(2026, 3, 10, 23));  // young
  WriteFile(root / "old/access.log-20250101.gz", Day(2025, 1, 1));   // not at top level
  WriteFile(root / "README", kOld);

  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("server_log_files", "rotated", "logs", {"access.log-*", "app.log-*"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kCutoff, &holds);

  auto stats = store->Measure(d);
  REQUIRE(stats.ok());
  CHECK(stats->total == 19);
  CHECK(stats->due == 18);
  CHECK(stats->deletable == 18);
  CHECK(stats->held == 0);
  CHECK(stats->undated == 0);
  REQUIRE(stats->oldest_due);
  CHECK(FormatTimestamp(*stats->oldest_due) == "2025-06-01T23:00:00Z");
  CHECK(stats->sample_keys == std::vector<std::string>{"access.log-20250601.gz", "app.log-20250601.gz",
                                                        "access.log-20250602.gz", "app.log-20250602.gz",
                                                        "access.log-20250603.gz"});

  std::vector<Candidate> candidates = Drain(*store, d);
  REQUIRE(candidates.size() == 18);
  CHECK(candidates[0].clock == "2025-06-01T23:00:00Z");
  CHECK(candidates[0].subject.empty());

  auto deleted = store->DeleteBatch(d, candidates);
  REQUIRE(deleted.ok());
  CHECK(Keys(*deleted) == Keys(candidates));
  CHECK(RegularFiles(root) == std::set<std::string>{"README", "access.log", "access.log-20260310.gz",
                                                    "app.log", "old/access.log-20250101.gz"});
  // Already gone: not deleted again, not reported.
  auto again = store->DeleteBatch(d, candidates);
  REQUIRE(again.ok());
  CHECK(again->deleted.empty());
  // By identity: the live file is not the file a candidate with another
  // identity names.
  auto exist = store->Exist(rule.target(), {candidates[0], Candidate{"access.log", "", "", "1:2:3:4"},
                                            Candidate{"x/../access.log", "", "", "1:2:3:4"}});
  REQUIRE(exist.ok());
  CHECK(*exist == std::vector<Presence>{Presence::kAbsent, Presence::kReplaced, Presence::kAbsent});
}

TEST_CASE("a category with only a floor has nothing due", "[files]") {
  TempDir tmp;
  WriteFile(tmp / "a.log-1", kOld);
  auto store = OpenOrFail(FilesConfig(tmp.path()));
  FilesRule rule("c", "t", "logs", {"*.log-*"}, MtimeClock());
  HoldSet holds;
  auto stats = store->Measure(rule.Decide(std::nullopt, &holds));
  REQUIRE(stats.ok());
  CHECK(stats->total == 1);
  CHECK(stats->due == 0);
  CHECK(Drain(*store, rule.Decide(std::nullopt, &holds)).empty());
}

TEST_CASE("name clocks: undated names are kept and counted", "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "backups";
  WriteFile(root / "db-2025-01-31.sqlite.gz", kNow);
  WriteFile(root / "db-2025-02-30.sqlite.gz", kNow);  // not a date
  WriteFile(root / "db-latest.sqlite.gz", kNow);      // no date at all
  WriteFile(root / "db-2026-03-01.sqlite.gz", kNow);  // young
  auto store = OpenOrFail(FilesConfig(root, "backups"));
  FilesRule rule("backups", "db", "backups", {"db-*.sqlite.gz"}, NameClock("db-%Y-%m-%d"));
  HoldSet holds;
  Selection d = rule.Decide(kCutoff, &holds);
  auto stats = store->Measure(d);
  REQUIRE(stats.ok());
  CHECK(stats->total == 4);
  CHECK(stats->undated == 2);
  CHECK(stats->due == 1);
  CHECK(stats->deletable == 1);
  auto candidates = Drain(*store, d);
  REQUIRE(candidates.size() == 1);
  CHECK(candidates[0].key == "db-2025-01-31.sqlite.gz");
  CHECK(candidates[0].clock == "db-2025-01-31");
  // Undated files offered anyway are re-evaluated and kept.
  auto deleted = store->DeleteBatch(
      d, CandidatesFor({"db-2025-01-31.sqlite.gz", "db-2025-02-30.sqlite.gz", "db-latest.sqlite.gz"}));
  REQUIRE(deleted.ok());
  REQUIRE(deleted->deleted.size() == 1);
  CHECK(deleted->deleted[0].key == "db-2025-01-31.sqlite.gz");
  CHECK(deleted->deleted[0].clock == "db-2025-01-31");
  CHECK(RegularFiles(root).size() == 3);

  // The zone of the clock decides when the name's midnight is.
  WriteFile(root / "db-2025-12-15.sqlite.gz", kNow);
  FilesRule tokyo("backups", "db", "backups", {"db-*.sqlite.gz"}, NameClock("db-%Y-%m-%d", "Asia/Tokyo"));
  FilesRule utc("backups", "db", "backups", {"db-*.sqlite.gz"}, NameClock("db-%Y-%m-%d"));
  auto in_tokyo = store->Measure(tokyo.Decide(kCutoff, &holds));
  auto in_utc = store->Measure(utc.Decide(kCutoff, &holds));
  REQUIRE(in_tokyo.ok());
  REQUIRE(in_utc.ok());
  CHECK(in_tokyo->due == 1);  // 2025-12-14T15:00Z < cutoff 2025-12-15T00:00Z
  CHECK(in_utc->due == 0);    // 2025-12-15T00:00Z is not < the cutoff
}

TEST_CASE("symlinks are never followed, reported or deleted", "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  const fs::path outside = tmp / "outside";
  WriteFile(outside / "old.log", kOld, "outside file");
  WriteFile(outside / "dir/old.log", kOld, "outside dir file");
  WriteFile(root / "real/old.log", kOld);
  fs::create_directories(root / "real");
  fs::create_symlink(outside / "old.log", root / "link.log");              // to a file outside
  fs::create_directory_symlink(outside / "dir", root / "linkdir");         // to a directory outside
  fs::create_directory_symlink(outside / "dir", root / "real/inner");      // a symlinked subdirectory
  fs::create_symlink(root / "real/old.log", root / "inside-link.log");     // to a file inside
  fs::create_directory_symlink(root / "real", root / "alias");             // to a directory inside

  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("c", "t", "logs", {"**/*.log"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kNow, &holds);
  auto stats = store->Measure(d);
  REQUIRE(stats.ok());
  CHECK(stats->total == 1);
  CHECK(Keys(Drain(*store, d)) == std::set<std::string>{"real/old.log"});

  auto deleted = store->DeleteBatch(
      d, CandidatesFor({"link.log", "linkdir/old.log", "real/inner/old.log", "inside-link.log",
                        "alias/old.log", "../outside/old.log", "/etc/hostname", "real/./old.log",
                        "real//old.log", "real/old.log"}));
  REQUIRE(deleted.ok());
  CHECK(Keys(*deleted) == std::set<std::string>{"real/old.log"});
  CHECK(ReadFile(outside / "old.log") == "outside file");
  CHECK(ReadFile(outside / "dir/old.log") == "outside dir file");
  CHECK(fs::is_symlink(root / "link.log"));
  CHECK(fs::is_symlink(root / "inside-link.log"));
  CHECK(fs::is_symlink(root / "linkdir"));

  // Through a symlinked directory the store cannot see: an error, never a
  // guess either way. A symlink under the name is not the file selected.
  auto unsure = store->Exist(rule.target(), CandidatesFor({"linkdir/old.log"}));
  REQUIRE_FALSE(unsure.ok());
  CHECK_THAT(unsure.status().message(), Catch::Contains("cannot tell whether linkdir/old.log"));
  auto exist = store->Exist(rule.target(), CandidatesFor({"link.log"}));
  REQUIRE(exist.ok());
  CHECK(*exist == std::vector<Presence>{Presence::kReplaced});
  auto facts = store->Lookup(d, "link.log");
  REQUIRE(facts.ok());
  CHECK_FALSE(facts->exists);
}

TEST_CASE("the walk never crosses into another file system", "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  WriteFile(root / "a.log", kOld);
  if (!tmp.MountTmpfs(root / "mnt")) {
    WARN("cannot mount a tmpfs here; skipping the mount test");
    return;
  }
  WriteFile(root / "mnt/b.log", kOld);
  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("c", "t", "logs", {"**/*.log"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kNow, &holds);
  auto stats = store->Measure(d);
  REQUIRE(stats.ok());
  CHECK(stats->total == 1);
  CHECK(Keys(Drain(*store, d)) == std::set<std::string>{"a.log"});
  auto deleted = store->DeleteBatch(d, CandidatesFor({"mnt/b.log", "a.log"}));
  REQUIRE(deleted.ok());
  CHECK(Keys(*deleted) == std::set<std::string>{"a.log"});
  CHECK(fs::exists(root / "mnt/b.log"));
}

TEST_CASE("swapping a directory for a symlink during deletion never deletes outside the root",
          "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  const fs::path canary = tmp / "canary";
  constexpr int kFiles = 150;
  std::vector<std::string> victim_keys;
  for (int i = 0; i < kFiles; ++i) {
    const std::string f = "f" + std::to_string(i) + ".log";
    WriteFile(root / "victim" / f, kOld);
    WriteFile(root / "victim/sub" / f, kOld);
    WriteFile(canary / f, kOld, "canary " + f);
    WriteFile(canary / "sub" / f, kOld, "canary sub " + f);
    WriteFile(canary / ("canary-only-" + std::to_string(i) + ".log"), kOld, "canary only");
    victim_keys.push_back("victim/" + f);
    victim_keys.push_back("victim/sub/" + f);
    WriteFile(root / "other" / f, kOld);
  }
  const std::set<std::string> canary_files = RegularFiles(canary);
  fs::create_directory_symlink(canary, root / "victim.staged");

  // Thousands of "not deleting" warnings otherwise.
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::err);
  std::atomic<bool> stop{false};
  std::atomic<int> swaps{0};
  std::thread swapper([&] {
    const std::string v = (root / "victim").string(), real = (root / "victim.real").string(),
                      staged = (root / "victim.staged").string();
    while (!stop.load()) {
      // real dir -> symlink to the canary, then back; each step a rename.
      if (::rename(v.c_str(), real.c_str()) != 0) break;
      if (::rename(staged.c_str(), v.c_str()) != 0) break;
      std::this_thread::yield();
      if (::rename(v.c_str(), staged.c_str()) != 0) break;
      if (::rename(real.c_str(), v.c_str()) != 0) break;
      swaps.fetch_add(1);
    }
  });

  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("c", "t", "logs", {"**/*.log"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kNow, &holds);
  std::set<std::string> deleted_keys;
  for (int batch = 0; batch < 200; ++batch) {
    std::vector<Candidate> candidates = CandidatesFor(victim_keys);
    if (batch % 10 == 0) {
      // Also what the walker itself finds while the tree moves.
      auto cursor = store->OpenCursor(d);
      REQUIRE(cursor.ok());
      auto page = (*cursor)->Next(d, 100);
      REQUIRE(page.ok());
      for (const Candidate& c : *page) {
        CHECK(c.key.find("canary-only") == std::string::npos);
        candidates.push_back(c);
      }
    }
    auto deleted = store->DeleteBatch(d, candidates);
    REQUIRE(deleted.ok());
    for (const DeletedRecord& r : deleted->deleted) deleted_keys.insert(r.key);
  }
  stop = true;
  swapper.join();
  spdlog::set_level(level);
  INFO("swaps: " << swaps.load() << ", deleted: " << deleted_keys.size());
  CHECK(swaps.load() > 0);
  CHECK(RegularFiles(canary) == canary_files);
  for (const std::string& f : canary_files) {
    if (f.find("canary-only") != std::string::npos) continue;
    CHECK(ReadFile(canary / f).rfind("canary", 0) == 0);
  }
}

TEST_CASE("a locked file is skipped - a file that became young is kept", "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  WriteFile(root / "locked.log", kOld);
  WriteFile(root / "touched.log", kOld);
  WriteFile(root / "plain.log", kOld);
  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("c", "t", "logs", {"*.log"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kCutoff, &holds);
  std::vector<Candidate> candidates = Drain(*store, d);
  REQUIRE(candidates.size() == 3);

  // Another open file description holds the lock, as another process would.
  int lock_fd = ::open((root / "locked.log").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(lock_fd >= 0);
  REQUIRE(::flock(lock_fd, LOCK_EX) == 0);
  SetMtime(root / "touched.log", kNow);  // written to since the cursor saw it

  auto deleted = store->DeleteBatch(d, candidates);
  REQUIRE(deleted.ok());
  CHECK(Keys(*deleted) == std::set<std::string>{"plain.log"});
  CHECK(fs::exists(root / "locked.log"));
  CHECK(fs::exists(root / "touched.log"));
  // The lock is the store's reason, a value; so is the file written to
  // since selection: it is no longer the file selected (its identity).
  REQUIRE(deleted->skipped.size() == 2);
  std::map<std::string, SkipReason> why;
  for (const auto& s : deleted->skipped) why[s.key] = s.reason;
  CHECK(why == std::map<std::string, SkipReason>{{"locked.log", SkipReason::kLocked},
                                                 {"touched.log", SkipReason::kChanged}});

  ::close(lock_fd);
  auto later = store->DeleteBatch(d, candidates);
  REQUIRE(later.ok());
  CHECK(Keys(*later) == std::set<std::string>{"locked.log"});
}

TEST_CASE("holds keep files: by key, by target, by clock range", "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  WriteFile(root / "a.log", Day(2025, 1, 10));
  WriteFile(root / "b.log", Day(2025, 2, 10));
  WriteFile(root / "c.log", Day(2025, 3, 10));
  WriteFile(root / "d/e.log", Day(2025, 4, 10));
  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("cat", "tgt", "logs", {"**/*.log"}, MtimeClock());
  const std::vector<Candidate> all = CandidatesFor({"a.log", "b.log", "c.log", "d/e.log"});

  SECTION("by key") {
    HoldScope s;
    s.key = "d/e.log";
    HoldSet holds({MakeHold(s)}, kNow);
    Selection d = rule.Decide(kCutoff, &holds);
    auto stats = store->Measure(d);
    REQUIRE(stats.ok());
    CHECK(stats->due == 4);
    CHECK(stats->held == 1);
    CHECK(stats->deletable == 3);
    CHECK(Keys(Drain(*store, d)) == std::set<std::string>{"a.log", "b.log", "c.log"});
    auto deleted = store->DeleteBatch(d, all);
    REQUIRE(deleted.ok());
    CHECK(Keys(*deleted) == std::set<std::string>{"a.log", "b.log", "c.log"});
    CHECK(fs::exists(root / "d/e.log"));
  }
  SECTION("by target and category") {
    HoldScope s;
    s.category = "cat";
    s.target = "tgt";
    HoldSet holds({MakeHold(s)}, kNow);
    Selection d = rule.Decide(kCutoff, &holds);
    auto stats = store->Measure(d);
    REQUIRE(stats.ok());
    CHECK(stats->held == 4);
    CHECK(stats->deletable == 0);
    CHECK(Drain(*store, d).empty());
    auto deleted = store->DeleteBatch(d, all);
    REQUIRE(deleted.ok());
    CHECK(deleted->deleted.empty());
    auto covered = store->CountCovered(rule.Decide(std::nullopt, &holds));
    REQUIRE(covered.ok());
    CHECK(*covered == 4);
  }
  SECTION("by clock range") {
    HoldScope s;
    s.clock_from = Day(2025, 2, 1);
    s.clock_until = Day(2025, 3, 11);
    HoldSet holds({MakeHold(s)}, kNow);
    Selection d = rule.Decide(kCutoff, &holds);
    auto stats = store->Measure(d);
    REQUIRE(stats.ok());
    CHECK(stats->held == 2);
    auto deleted = store->DeleteBatch(d, all);
    REQUIRE(deleted.ok());
    CHECK(Keys(*deleted) == std::set<std::string>{"a.log", "d/e.log"});
    auto covered = store->CountCovered(rule.Decide(std::nullopt, &holds));
    REQUIRE(covered.ok());
    CHECK(*covered == 2);
  }
  SECTION("a hold placed after the cursor ran still wins in DeleteBatch") {
    HoldSet none;
    Selection d = rule.Decide(kCutoff, &none);
    std::vector<Candidate> candidates = Drain(*store, d);
    REQUIRE(candidates.size() == 4);
    HoldScope s;
    s.key = "a.log";
    HoldSet holds({MakeHold(s)}, kNow);
    d = WithHolds(d, holds);  // what purge does before each batch
    auto deleted = store->DeleteBatch(d, candidates);
    REQUIRE(deleted.ok());
    CHECK(Keys(*deleted) == std::set<std::string>{"b.log", "c.log", "d/e.log"});
  }
  SECTION("a hold under an overlapping rule holds the file here too") {
    FilesRule other("audit", "all", "logs", {"*.log"}, MtimeClock());
    HoldScope s;
    s.category = "audit";
    s.key = "b.log";
    HoldSet holds({MakeHold(s)}, kNow);
    // A floor that keeps nothing here: only the hold matters.
    Selection d = rule.Decide(kCutoff, &holds, {other.Guard(Day(2030, 1, 1))});
    auto deleted = store->DeleteBatch(d, all);
    REQUIRE(deleted.ok());
    CHECK(Keys(*deleted) == std::set<std::string>{"a.log", "c.log", "d/e.log"});
  }
}

TEST_CASE("floor guards keep young files and files they cannot date", "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  // mtime old everywhere; the guard reads the date in the name.
  WriteFile(root / "x-20250101.log", kOld);  // guard clock old: deletable
  WriteFile(root / "x-20251201.log", kOld);  // guard clock younger than the floor
  WriteFile(root / "x-undated.log", kOld);   // no date under the guard: protected
  WriteFile(root / "sub/y-20251201.log", kOld);  // the guard's globs do not reach it
  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("c", "t", "logs", {"**/*.log"}, MtimeClock());
  FilesRule floor("f", "g", "logs", {"*.log"}, NameClock("%Y%m%d"));
  FilesRule elsewhere("e", "h", "other-store", {"**/*.log"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kNow, &holds,
                                 {floor.Guard(Day(2025, 6, 1)), elsewhere.Guard(Day(2030, 1, 1))});
  auto stats = store->Measure(d);
  REQUIRE(stats.ok());
  CHECK(stats->due == 4);
  CHECK(stats->floor_protected == 2);
  CHECK(stats->deletable == 2);
  CHECK(Keys(Drain(*store, d)) == std::set<std::string>{"x-20250101.log", "sub/y-20251201.log"});
  auto deleted =
      store->DeleteBatch(d, CandidatesFor({"x-20250101.log", "x-20251201.log", "x-undated.log", "sub/y-20251201.log"}));
  REQUIRE(deleted.ok());
  CHECK(Keys(*deleted) == std::set<std::string>{"x-20250101.log", "sub/y-20251201.log"});

  auto facts = store->Lookup(d, "x-20251201.log");
  REQUIRE(facts.ok());
  CHECK(facts->exists);
  REQUIRE(facts->scopes.size() == 3);  // the own target, then each floor's
  CHECK(facts->scopes[0].matches_filters);
  CHECK(facts->scopes[1].matches_filters);
  REQUIRE(facts->scopes[1].clock);
  CHECK(FormatTimestamp(*facts->scopes[1].clock) == "2025-12-01T00:00:00Z");
  CHECK_FALSE(facts->scopes[2].matches_filters);
  CHECK(facts->scopes[0].clock_text == FormatTimestamp(kOld));
  // explain may name the file by its full path.
  auto by_path = store->Lookup(d, (root / "x-undated.log").string());
  REQUIRE(by_path.ok());
  CHECK(by_path->exists);
  CHECK(by_path->scopes[1].matches_filters);
  CHECK_FALSE(by_path->scopes[1].clock);
}

TEST_CASE("a read-only store refuses to delete", "[files]") {
  TempDir tmp;
  WriteFile(tmp / "a.log", kOld);
  auto store = OpenOrFail(FilesConfig(tmp.path()), /*read_only=*/true);
  FilesRule rule("c", "t", "logs", {"*.log"}, MtimeClock());
  HoldSet holds;
  auto deleted = store->DeleteBatch(rule.Decide(kNow, &holds), CandidatesFor({"a.log"}));
  CHECK_FALSE(deleted.ok());
  CHECK(fs::exists(tmp / "a.log"));
}

TEST_CASE("a tree 2000 directories deep walks with few descriptors", "[files]") {
  // On tmpfs when there is one: removing 2000 nested directories takes
  // seconds on ext4.
  TempDir tmp(::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::path());
  constexpr int kDepth = 2000;
  // Built with descriptors: the path is longer than PATH_MAX allows.
  int fd = ::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::string key;
  for (int i = 0; i < kDepth; ++i) {
    const std::string name = i % 2 ? "dir" : "d";
    REQUIRE(::mkdirat(fd, name.c_str(), 0755) == 0);
    if (i == kDepth / 2) {
      int f = ::openat(fd, "mid.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      REQUIRE(f >= 0);
      const struct timespec young[2] = {{1900000000, 0}, {1900000000, 0}};  // 2030
      REQUIRE(::futimens(f, young) == 0);
      ::close(f);
    }
    int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(next >= 0);
    ::close(fd);
    fd = next;
    key += name + "/";
  }
  int f = ::openat(fd, "deep.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(f >= 0);
  const struct timespec old[2] = {{1700000000, 0}, {1700000000, 0}};
  REQUIRE(::futimens(f, old) == 0);
  ::close(f);
  ::close(fd);
  key += "deep.log";

  auto store = OpenOrFail(FilesConfig(tmp.path()));
  FilesRule rule("c", "t", "logs", {"**/*.log"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kNow, &holds);

  // Few descriptors allowed while walking and deleting.
  struct rlimit saved;
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  struct rlimit low = saved;
  low.rlim_cur = 64;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  auto stats = store->Measure(d);
  std::vector<Candidate> candidates;
  Result<BatchResult> deleted = Status::Internal("not run");
  {
    auto cursor = store->OpenCursor(d);
    if (cursor.ok()) {
      while (true) {
        auto page = (*cursor)->Next(d, 1);
        if (!page.ok() || page->empty()) break;
        candidates.insert(candidates.end(), page->begin(), page->end());
      }
    }
    deleted = store->DeleteBatch(d, candidates);
  }
  ::setrlimit(RLIMIT_NOFILE, &saved);

  REQUIRE(stats.ok());
  CHECK(stats->total == 2);  // mid.log is young, deep.log is old
  CHECK(stats->deletable == 1);
  REQUIRE(candidates.size() == 1);
  CHECK(candidates[0].key == key);
  REQUIRE(deleted.ok());
  REQUIRE(deleted->deleted.size() == 1);
  CHECK(deleted->deleted[0].key == key);
}

TEST_CASE("ancestors whose descriptors were closed are reopened on the way back up", "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  // 100 levels, each with a subdirectory "d" listed before a file "z.log":
  // each z.log is reached only after the walk comes back from below, when
  // its directory's descriptor has been closed (more than 32 levels deep).
  fs::path dir = root;
  std::set<std::string> expected;
  std::string rel;
  for (int i = 0; i < 100; ++i) {
    WriteFile(dir / "z.log", kOld);
    expected.insert(rel + "z.log");
    dir /= "d";
    rel += "d/";
  }
  fs::create_directories(dir);
  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("c", "t", "logs", {"**/*.log"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kNow, &holds);
  auto stats = store->Measure(d);
  REQUIRE(stats.ok());
  CHECK(stats->total == 100);
  CHECK(Keys(Drain(*store, d, 1)) == expected);

  // A directory moved while the cursor is below it: the walk goes on
  // without error, and what it returns still only names files that exist
  // or existed under the root.
  auto cursor = store->OpenCursor(d);
  REQUIRE(cursor.ok());
  auto first = (*cursor)->Next(d, 1);  // the deepest z.log: every ancestor's fd is open or closed now
  REQUIRE(first.ok());
  REQUIRE(first->size() == 1);
  fs::rename(root / "d/d/d", root / "moved");
  size_t more = 0;
  while (true) {
    auto page = (*cursor)->Next(d, 5);
    REQUIRE(page.ok());
    if (page->empty()) break;
    more += page->size();
  }
  CHECK(more <= 99);
}

TEST_CASE("checking a target", "[files]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  WriteFile(root / "db-2026-01-01.sqlite.gz", kOld);
  WriteFile(root / "db-latest.sqlite.gz", kOld);
  auto store = OpenOrFail(FilesConfig(root), true);

  FilesRule good("c", "t", "logs", {"db-*.sqlite.gz"}, NameClock("db-%Y-%m-%d"));
  TargetCheck check;
  REQUIRE(store->CheckTarget(good.c, good.target(), &check).ok());
  CHECK(check.errors.empty());
  REQUIRE(check.warnings.size() == 1);
  CHECK_THAT(check.warnings[0], Catch::Contains("1 of 2 matching files have no usable date"));

  FilesRule none("c", "t", "logs", {"access.log-*"}, MtimeClock());
  TargetCheck check2;
  REQUIRE(store->CheckTarget(none.c, none.target(), &check2).ok());
  CHECK(check2.errors.empty());
  REQUIRE(check2.warnings.size() == 1);
  CHECK_THAT(check2.warnings[0], Catch::Contains("no file under"));

  FilesRule bad("c", "t", "logs", {"db-*"}, NameClock("db-%Y-%j"));
  TargetCheck check3;
  REQUIRE(store->CheckTarget(bad.c, bad.target(), &check3).ok());
  REQUIRE(check3.errors.size() == 1);
  CHECK_THAT(check3.errors[0], Catch::Contains("%j is not supported"));
  HoldSet holds;
  auto measured = store->Measure(bad.Decide(kNow, &holds));
  CHECK(measured.status().code() == StatusCode::kInvalid);
}

TEST_CASE("Exist judges a selected file by device, inode, size and mtime, not its name alone", "[files][reconcile]") {
  TempDir tmp;
  const fs::path root = tmp / "logs";
  for (const char* name : {"a.log-1", "b.log-1", "c.log-1", "d.log-1"}) WriteFile(root / name, kOld, "x\n");
  auto store = OpenOrFail(FilesConfig(root));
  FilesRule rule("logs", "rotated", "logs", {"*.log-*"}, MtimeClock());
  HoldSet holds;
  Selection d = rule.Decide(kCutoff, &holds);
  std::vector<Candidate> selected = Drain(*store, d);
  REQUIRE(selected.size() == 4);
  for (const Candidate& c : selected) {
    REQUIRE(c.identity);
    CHECK_THAT(*c.identity, Catch::Matches("[0-9]+:[0-9]+:2:[0-9]+"));
  }
  auto same = store->Exist(rule.target(), selected);
  REQUIRE(same.ok());
  CHECK(*same == std::vector<Presence>(4, Presence::kSame));

  // a: gone. b: rewritten in place (mtime put back). c: re-created, the old
  // inode held open so that its number cannot be reused. d: untouched.
  fs::remove(root / "a.log-1");
  WriteFile(root / "b.log-1", kOld, "longer\n");
  const int keep_open = ::open((root / "c.log-1").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(keep_open >= 0);
  fs::remove(root / "c.log-1");
  WriteFile(root / "c.log-1", kOld, "x\n");
  auto now = store->Exist(rule.target(), selected);
  REQUIRE(now.ok());
  CHECK(*now == std::vector<Presence>{Presence::kAbsent, Presence::kReplaced, Presence::kReplaced, Presence::kSame});

  // Without an identity (a saved plan, a version 2 batch): name and clock,
  // so the re-created c with the old mtime reads as the file selected.
  std::vector<Candidate> bare = selected;
  for (Candidate& c : bare) c.identity.reset();
  auto fallback = store->Exist(rule.target(), bare);
  REQUIRE(fallback.ok());
  CHECK(*fallback == std::vector<Presence>{Presence::kAbsent, Presence::kSame, Presence::kSame, Presence::kSame});
  SetMtime(root / "c.log-1", kNow);
  fallback = store->Exist(rule.target(), bare);
  REQUIRE(fallback.ok());
  CHECK((*fallback)[2] == Presence::kReplaced);
  ::close(keep_open);
}
