// Helpers for the files store tests: temp trees, mtimes, rules, selections.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <date/date.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "calendar/cutoff.h"
#include "config/config.h"
#include "holds/hold_set.h"
#include "rules/rule.h"
#include "stores/files_store.h"
#include "stores/store.h"
#include "support/immutable_file.h"

namespace retention::files_test {

using test_support::ImmutableFile;

namespace fs = std::filesystem;

// Removes a tree with descriptors only, so that trees deeper than PATH_MAX
// go too. Never follows symlinks (unlinkat removes the link itself).
inline void RemoveTreeAt(int dirfd, const char* name) {
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    DIR* d = ::fdopendir(fd);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    for (const std::string& n : names) {
      if (::unlinkat(fd, n.c_str(), 0) != 0) RemoveTreeAt(fd, n.c_str());
    }
    ::closedir(d);
  }
  ::unlinkat(dirfd, name, AT_REMOVEDIR);
}

class TempDir {
 public:
  // `base`: where to create it; empty for the system's temp directory.
  explicit TempDir(const fs::path& base = {}) {
    const fs::path dir = base.empty() ? fs::temp_directory_path() : base;
    std::string tmpl = (dir / "retention-files-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    RemoveTreeAt(AT_FDCWD, path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& rel) const { return path_ / rel; }
  // Mounts a tmpfs at `dir` (created); false when not permitted here.
  bool MountTmpfs(const fs::path& dir) {
    fs::create_directories(dir);
    if (::mount("none", dir.c_str(), "tmpfs", 0, "size=1m") != 0) return false;
    mounts_.push_back(dir.string());
    return true;
  }
  // Bind-mounts `from` (a directory or a file) at `to`, which must exist and
  // be of the same kind; unmounted (detached) when this TempDir goes, before
  // anything under it is removed. False when not permitted here (not root,
  // no CAP_SYS_ADMIN in this namespace).
  bool BindMount(const fs::path& from, const fs::path& to) {
    if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) return false;
    mounts_.push_back(to.string());
    return true;
  }

 private:
  fs::path path_;
  std::vector<std::string> mounts_;
};

inline Timestamp Day(int y, unsigned m, unsigned d, int hours = 0) {
  return Timestamp(date::sys_days(date::year{y} / m / d)) + std::chrono::hours{hours};
}

inline void SetMtime(const fs::path& p, Timestamp t) {
  const int64_t us = ToUnixMicros(t);
  struct timespec times[2];
  times[0].tv_sec = us / 1000000;
  times[0].tv_nsec = (us % 1000000) * 1000;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

inline void WriteFile(const fs::path& p, std::optional<Timestamp> mtime = std::nullopt,
                      const std::string& content = "x\n") {
  fs::create_directories(p.parent_path());
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
  }
  if (mtime) SetMtime(p, *mtime);
}

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Regular files under `dir`, relative, not following symlinks.
inline std::set<std::string> RegularFiles(const fs::path& dir) {
  std::set<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_symlink()) continue;
    if (it->is_regular_file()) out.insert(fs::relative(it->path(), dir).string());
  }
  return out;
}

inline StoreConfig FilesConfig(const fs::path& root, const std::string& name = "logs") {
  StoreConfig c;
  c.name = name;
  c.type = StoreType::kFiles;
  c.root = root;
  return c;
}

inline std::unique_ptr<Store> OpenOrFail(const StoreConfig& c, bool read_only = false) {
  auto s = OpenFilesStore(c, read_only);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return std::move(*s);
}

inline ClockSpec MtimeClock() {
  ClockSpec c;
  c.source = ClockSource::kFileMtime;
  return c;
}

inline ClockSpec NameClock(const std::string& pattern, const std::string& zone = "") {
  ClockSpec c;
  c.source = ClockSource::kFileName;
  c.name_pattern = pattern;
  c.time_zone = zone;
  return c;
}

// One category with one files target. Not movable: selections point into it.
struct FilesRule {
  FilesRule(std::string category, std::string target, std::string store, std::vector<std::string> paths,
            ClockSpec clock) {
    c.name = std::move(category);
    Target t;
    t.name = std::move(target);
    t.store = std::move(store);
    t.paths = std::move(paths);
    t.clock = std::move(clock);
    c.targets.push_back(std::move(t));
  }
  FilesRule(const FilesRule&) = delete;
  FilesRule& operator=(const FilesRule&) = delete;

  const Target& target() const { return c.targets[0]; }

  // A floor of some rule over these files, as Decide takes it.
  struct Floor {
    const Category* category;
    const Target* target;
    Timestamp floor_cutoff;
  };

  // The selection of this rule's target under `holds` (nullptr: holds not
  // applied, which every store refuses), each floor's rule a scope.
  Selection Decide(std::optional<Timestamp> cutoff, const HoldSet* holds, std::vector<Floor> floors = {}) const {
    Selection d;
    d.category = &c;
    d.target = &c.targets[0];
    d.cutoff = cutoff;
    d.scopes.push_back({&c, &c.targets[0]});
    for (const Floor& f : floors) {
      size_t scope = 0;
      while (scope < d.scopes.size() && d.scopes[scope].target != f.target) ++scope;
      if (scope == d.scopes.size()) d.scopes.push_back({f.category, f.target});
      d.floors.push_back({scope, f.floor_cutoff});
    }
    return holds ? WithHolds(std::move(d), *holds) : d;
  }
  Floor Guard(Timestamp floor_cutoff) const { return Floor{&c, &c.targets[0], floor_cutoff}; }

  Category c;
};

inline Hold MakeHold(HoldScope scope, int64_t id = 1) {
  Hold h;
  h.id = id;
  h.matter = "matter-" + std::to_string(id);
  h.reason = "test";
  h.author = "tester";
  h.placed_at = FromUnixMicros(0);
  h.scope = std::move(scope);
  return h;
}

inline std::vector<Candidate> Drain(Store& store, const Selection& d, size_t page = 7) {
  auto cursor = store.OpenCursor(d);
  INFO(cursor.status().message());
  REQUIRE(cursor.ok());
  std::vector<Candidate> all;
  while (true) {
    auto next = (*cursor)->Next(d, page);
    INFO(next.status().message());
    REQUIRE(next.ok());
    if (next->empty()) break;
    REQUIRE(next->size() <= page);
    all.insert(all.end(), next->begin(), next->end());
  }
  return all;
}

inline std::set<std::string> Keys(const std::vector<Candidate>& cs) {
  std::set<std::string> out;
  for (const Candidate& c : cs) out.insert(c.key);
  return out;
}

inline std::set<std::string> Keys(const std::vector<DeletedRecord>& ds) {
  std::set<std::string> out;
  for (const DeletedRecord& d : ds) out.insert(d.key);
  return out;
}

inline std::set<std::string> Keys(const BatchResult& r) { return Keys(r.deleted); }

inline std::set<std::string> SkippedKeys(const BatchResult& r) {
  std::set<std::string> out;
  for (const SkippedRecord& s : r.skipped) out.insert(s.key);
  return out;
}

inline std::vector<Candidate> CandidatesFor(const std::vector<std::string>& keys) {
  std::vector<Candidate> out;
  for (const std::string& k : keys) out.push_back(Candidate{k, "", ""});
  return out;
}

}  // namespace retention::files_test
