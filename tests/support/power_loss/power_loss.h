// A power-loss simulator for end-to-end tests: run the binary under an
// LD_PRELOAD library (power_loss_shim.c) that records, for one watched
// directory, what a power cut could not take away (the "durable image");
// SIGKILL it at any moment; then Rebuild() turns the directory into what
// the machine would find on its disk after the power came back. The next
// run of the program must then find a consistent world (for the purge:
// the ledger claims no deletion the target does not show, and no record is
// gone without its entry).
//
//   Seed(dir, image);                       // everything there now is durable
//   setenv LD_PRELOAD=<shim> POWER_LOSS_DIR=dir POWER_LOSS_IMAGE=image
//   ... run, SIGKILL at a random moment ...
//   Rebuild(dir, image, seed);              // the disk after the power cut
//
// The model: ext4 data=ordered (the default), as SQLite in WAL or rollback
// mode and the files store use it. Each rule below is what POSIX and ext4
// guarantee at least; the image keeps no more than that, so it is the worst
// case of each (conservative) except where said.
//
// * A regular file's bytes are durable as of its last fsync/fdatasync that
//   returned; before any, as seeded. Everything written since is lost. (On
//   ext4 the writeback may have persisted some of it; the image keeps the
//   oldest content allowed.) SQLite tolerates exactly this by design: a
//   WAL frame after the last synced commit is gone or fails its checksum,
//   which is the same to it; a checkpoint syncs the WAL before writing the
//   database and the database before the WAL is reused; a rollback journal
//   is synced before the database is written. So the image is a disk SQLite
//   must recover from, and nothing the engine did not sync survives.
// * A directory's entries (creations, renames) are durable as of its last
//   fsync. ext4 commits a new file's entry with the journal transaction of
//   the file's own fsync as well; the image does not (stricter; SQLite
//   fsyncs the directory after creating a journal or WAL, and the engine's
//   atomic files do after their rename).
// * Unlinks: ext4 journals metadata operations in order and a power cut
//   leaves a prefix of the transactions committed. The rebuild applies a
//   random prefix (0..all, from the seed) of the unlinks logged since their
//   directory was last fsynced: none (the strict POSIX view: an unlink not
//   followed by an fsync of its directory did not happen) as well as some.
//   It draws this independently of the files' bytes, so it also produces
//   disks where unlinks persisted while the ledger lost its unsynced
//   writes -- a superset of what ext4's ordering allows.
// * SQLite's -shm is memory shared between connections, never synced: the
//   rebuild drops it, and the first connection rebuilds it from the WAL (as
//   after a reboot, where its content is whatever writeback left).
// * Identity survives: a file the rebuild brings back is the very inode
//   (the shim hard-links each file into IMAGE/limbo before it is unlinked
//   or renamed over), so device, inode, size and mtime -- the files store's
//   identity of a record -- are those of the file before the cut.
//
// Not modelled: torn or reordered writes inside one file between two syncs
// (a sector half written; SQLite's checksums detect these, so they would
// test SQLite, not the engine); renames persisting before their
// directory's fsync; changes of mode, owner or mtime after seeding (the
// inode keeps its current ones); symlinks, hard links the program makes,
// writes through mmap, O_SYNC/O_DSYNC writes (the engine uses none).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace retention::power_loss {

namespace fs = std::filesystem;

// The shim, built beside the tests (tests/CMakeLists.txt).
#ifdef RETENTION_POWER_LOSS_SHIM
inline const char* kShim = RETENTION_POWER_LOSS_SHIM;
#endif

namespace detail {

inline std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("power_loss: cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteAll(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out.flush()) throw std::runtime_error("power_loss: cannot write " + p.string());
}

inline uint64_t Ino(const fs::path& p) {
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("power_loss: cannot stat " + p.string());
  return st.st_ino;
}

struct DirEntry {
  char type = 'f';  // 'f' regular file, 'd' directory
  uint64_t ino = 0;
  std::string name;
};

// IMAGE/dirs/INO as the shim writes it: "f INO NAME" / "d INO NAME" lines.
inline std::vector<DirEntry> ReadListing(const fs::path& image, uint64_t ino) {
  std::vector<DirEntry> out;
  std::ifstream in(image / "dirs" / std::to_string(ino));
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find(' '), b = line.find(' ', a + 1);
    if (line.size() < 5 || a != 1 || b == std::string::npos) continue;
    out.push_back({line[0], std::stoull(line.substr(2, b - 2)), line.substr(b + 1)});
  }
  return out;
}

inline void SeedDir(const fs::path& dir, const fs::path& image) {
  std::ofstream list(image / "dirs" / std::to_string(Ino(dir)));
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto st = fs::symlink_status(e.path());
    const uint64_t ino = Ino(e.path());
    if (fs::is_regular_file(st)) {
      list << "f " << ino << ' ' << e.path().filename().string() << '\n';
      fs::copy_file(e.path(), image / "data" / std::to_string(ino), fs::copy_options::overwrite_existing);
    } else if (fs::is_directory(st)) {
      list << "d " << ino << ' ' << e.path().filename().string() << '\n';
      SeedDir(e.path(), image);
    }
  }
}

// Regular files under `dir` by inode.
inline void IndexFiles(const fs::path& dir, std::map<uint64_t, fs::path>* out) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_symlink() || !e.is_regular_file()) continue;
    out->emplace(Ino(e.path()), e.path());
  }
}

}  // namespace detail

// Makes everything under `dir` durable in a fresh image at `image` (which
// must be on the same file system: the shim hard-links into it).
inline void Seed(const fs::path& dir, const fs::path& image) {
  fs::remove_all(image);
  for (const char* sub : {"data", "dirs", "limbo"}) fs::create_directories(image / sub);
  detail::SeedDir(dir, image);
  detail::WriteAll(image / "root", std::to_string(detail::Ino(dir)));
  detail::WriteAll(image / "log", "");
}

// What a rebuild did, for the test's messages and its coverage counts.
struct RebuildReport {
  int pending_unlinks = 0;  // unlinks not followed by an fsync of their directory
  int applied_unlinks = 0;  // of those, how many the drawn prefix kept
  int revived = 0;          // files brought back from limbo
  int rewound = 0;          // files whose bytes went back to their last sync
  int emptied = 0;          // files whose entry is durable but bytes never synced
  int dropped = 0;          // files and directories not durable at all
  std::string Describe() const {
    return "unlinks pending " + std::to_string(pending_unlinks) + ", applied " + std::to_string(applied_unlinks) +
           "; revived " + std::to_string(revived) + ", rewound " + std::to_string(rewound) + ", emptied " +
           std::to_string(emptied) + ", dropped " + std::to_string(dropped);
  }
};

// Replaces `dir` with its durable image (the model above); `seed` draws the
// prefix of pending unlinks. The process that wrote it must be dead.
inline RebuildReport Rebuild(const fs::path& dir, const fs::path& image, uint64_t seed) {
  RebuildReport report;
  // The log: "S INO" (a directory synced), "U DIR_INO NAME" (an unlink).
  std::map<uint64_t, size_t> last_sync;
  struct Unlink {
    size_t at;
    uint64_t dir;
    std::string name;
  };
  std::vector<Unlink> unlinks;
  {
    std::ifstream in(image / "log");
    std::string line;
    for (size_t i = 1; std::getline(in, line); ++i) {
      if (line.rfind("S ", 0) == 0) last_sync[std::stoull(line.substr(2))] = i;
      if (line.rfind("U ", 0) == 0) {
        const size_t b = line.find(' ', 2);
        if (b == std::string::npos) continue;
        unlinks.push_back({i, std::stoull(line.substr(2, b - 2)), line.substr(b + 1)});
      }
    }
  }
  std::vector<Unlink> pending;
  for (const Unlink& u : unlinks) {
    auto it = last_sync.find(u.dir);
    if (it == last_sync.end() || it->second < u.at) pending.push_back(u);
  }
  std::mt19937_64 rng(seed);
  const size_t applied = std::uniform_int_distribution<size_t>(0, pending.size())(rng);
  report.pending_unlinks = static_cast<int>(pending.size());
  report.applied_unlinks = static_cast<int>(applied);

  // Every inode the rebuild may link back: where it is now, or in limbo.
  std::map<uint64_t, fs::path> where;
  const fs::path crashed = dir.string() + ".crashed";
  fs::remove_all(crashed);
  fs::rename(dir, crashed);
  detail::IndexFiles(crashed, &where);
  for (const auto& e : fs::directory_iterator(image / "limbo")) where.emplace(std::stoull(e.path().filename()), e.path());
  std::map<uint64_t, int> listed_files;  // how many durable names each inode has

  // Builds directory `ino` of the image at `to`.
  std::function<void(uint64_t, const fs::path&)> build = [&](uint64_t ino, const fs::path& to) {
    fs::create_directory(to);
    std::vector<detail::DirEntry> entries = detail::ReadListing(image, ino);
    for (size_t i = 0; i < applied; ++i) {
      if (pending[i].dir != ino) continue;
      std::erase_if(entries, [&](const detail::DirEntry& e) { return e.name == pending[i].name; });
    }
    for (const detail::DirEntry& e : entries) {
      const fs::path p = to / e.name;
      if (e.type == 'd') {
        build(e.ino, p);
        continue;
      }
      // SQLite's shared memory: never durable, rebuilt from the WAL.
      if (e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, "-shm") == 0) continue;
      const fs::path data = image / "data" / std::to_string(e.ino);
      auto at = where.find(e.ino);
      if (at != where.end()) {
        if (::link(at->second.c_str(), p.c_str()) != 0)
          throw std::runtime_error("power_loss: cannot link " + at->second.string() + " to " + p.string());
        if (at->second.parent_path() == image / "limbo") ++report.revived;
      } else {
        detail::WriteAll(p, "");  // its inode is gone for good: only its synced bytes are left
      }
      if (fs::exists(data)) {
        const std::string durable = detail::ReadAll(data);
        if (detail::ReadAll(p) != durable) {
          detail::WriteAll(p, durable);
          ++report.rewound;
        }
      } else if (fs::file_size(p) != 0) {
        fs::resize_file(p, 0);
        ++report.emptied;
      }
      ++listed_files[e.ino];
    }
  };
  build(std::stoull(detail::ReadAll(image / "root")), dir);
  for (const auto& [ino, path] : where)
    if (path.parent_path() != image / "limbo" && !listed_files.count(ino)) ++report.dropped;
  fs::remove_all(crashed);
  return report;
}

}  // namespace retention::power_loss
