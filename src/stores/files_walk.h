// Walking a files store's root safely (SPEC 6.8).
//
// Everything is opened relative to directory descriptors with O_NOFOLLOW:
// a symbolic link is never followed, never descended into and never a
// record (this version selects regular files only); a directory on another
// mount than the root -- another file system or a bind mount of the same
// one, told apart by mount id (files_mount.h) -- is never entered, and a file
// that is a mount point (a file bind mount) is never a record. Keys are paths
// relative to the root, resolved again from the root descriptor one
// component at a time whenever they are used (OpenDirUnder), never handed
// to a path-based call.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stores/file_system.h"
#include "stores/files_glob.h"
#include "stores/files_mount.h"
#include "util/status.h"

namespace retention::files {

// Owns a file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) Reset(std::exchange(o.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// The root every walk stays under. `fd` is owned by the store.
struct RootDir {
  const FileSystem* fs = nullptr;  // every call under the root; owned by the store
  int fd = -1;
  dev_t dev = 0;
  MountId mount;      // the root's mount id; nullopt: unavailable here
  std::string store;  // store name, for messages
  std::string path;   // the configured root, for messages
};

// Splits a key into its components. False for "", an absolute path, an
// empty, "." or ".." component, or a NUL byte: such a key names nothing.
bool SplitKey(std::string_view key, std::vector<std::string_view>* parts);

// Whether an open descriptor (O_PATH or not) is on the root's mount.
bool FdOnRootMount(const RootDir& root, int fd, struct stat* st);

// Opens the directory reached by the first `count` of `parts` under the
// root, one openat(O_DIRECTORY|O_NOFOLLOW) per component, each checked to be
// on the root's mount. `flags` adds O_PATH or O_RDONLY. Returns the fd, or
// -errno: -ENOENT gone; -ELOOP a component is a symlink; -ENOTDIR a component
// is a file or other non-directory; -EXDEV on another mount; others as is.
int OpenDirUnder(const RootDir& root, const std::vector<std::string_view>& parts, size_t count,
                 int flags);

// A matched regular file, as the walk found it.
struct WalkEntry {
  std::string key;        // path relative to the root
  size_t name_begin = 0;  // the base name is key.substr(name_begin)
  struct stat st {};
  std::string_view basename() const { return std::string_view(key).substr(name_begin); }
};

// A depth-first walk yielding, one by one, the regular files whose path
// matches a GlobSet. Each directory's entries are read once, when it is
// entered, and visited in byte order; the walk position is the stack of
// those listings, so memory is the listings on the current path, never the
// whole tree. The stack is explicit (no recursion) and at most
// kMaxOpenDirs directory descriptors stay open: deeper ancestors are closed
// and reopened through ".." (checked by device and inode, falling back to a
// walk from the root) when the walk comes back up.
//
// Between calls the walk holds no lock and sees the tree as it is then:
// entries removed meanwhile are skipped, entries added to directories
// already listed are not seen (the next run finds them).
class DirWalker {
 public:
  static constexpr size_t kMaxOpenDirs = 32;

  // Precondition: `root` and `globs` outlive the walker.
  DirWalker(const RootDir& root, const GlobSet& globs) : root_(root), globs_(globs) {}

  // The next match; false when the walk is over. An error is returned only
  // when the root itself cannot be read; unreadable subdirectories are
  // logged and skipped.
  Result<bool> Next(WalkEntry* out);

 private:
  using Entry = DirectoryEntry;
  struct Frame {
    UniqueFd fd;  // O_RDONLY|O_DIRECTORY; closed when far from the top
    dev_t dev = 0;
    ino_t ino = 0;
    size_t path_len = 0;  // path_.substr(0, path_len) is "" or "a/b/"
    GlobSet::State state;
    std::vector<Entry> entries;
    size_t next = 0;
  };

  Status Start();
  // Opens, lists and pushes a subdirectory of the top frame.
  void Push(const std::string& name, GlobSet::State state);
  void Pop();
  bool Reopen(Frame& frame, int child_fd);
  int ListDir(int fd, std::vector<Entry>* out) const;

  const RootDir& root_;
  const GlobSet& globs_;
  bool started_ = false;
  std::string path_;  // directory of the top frame, "" or "a/b/"
  std::vector<Frame> stack_;
};

}  // namespace retention::files
