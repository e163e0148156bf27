#include "stores/files_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace retention::files {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

bool SplitKey(std::string_view key, std::vector<std::string_view>* parts) {
  parts->clear();
  if (key.empty() || key.front() == '/' || key.find('\0') != std::string_view::npos) return false;
  while (true) {
    const size_t slash = key.find('/');
    std::string_view part = key.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    parts->push_back(part);
    if (slash == std::string_view::npos) return true;
    key.remove_prefix(slash + 1);
  }
}

bool FdOnRootMount(const RootDir& root, int fd, struct stat* st) {
  MountId mount;
  if (StatWithMount(*root.fs, fd, nullptr, st, &mount) != 0) return false;
  return OnRootMount(root.dev, root.mount, *st, mount);
}

int OpenDirUnder(const RootDir& root, const std::vector<std::string_view>& parts, size_t count,
                 int flags) {
  UniqueFd current(root.fs->OpenAt(root.fd, ".", flags | O_DIRECTORY | O_CLOEXEC));
  if (!current.valid()) return -errno;
  std::string name;
  for (size_t i = 0; i < count; ++i) {
    name.assign(parts[i]);
    UniqueFd next(root.fs->OpenAt(current.get(), name.c_str(), flags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!next.valid()) {
      const int err = errno;
      // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR: say ELOOP.
      if (err == ENOTDIR && root.fs->FstatAt(current.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode))
        return -ELOOP;
      return -err;
    }
    MountId mount;
    if (int err = StatWithMount(*root.fs, next.get(), nullptr, &st, &mount); err != 0) return -err;
    if (S_ISLNK(st.st_mode)) return -ELOOP;
    if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
    if (!OnRootMount(root.dev, root.mount, st, mount)) return -EXDEV;
    current = std::move(next);
  }
  return current.Release();
}

int DirWalker::ListDir(int fd, std::vector<Entry>* out) const {
  out->clear();
  // A fresh open file description: the frame's fd may be shared (the root's),
  // and readdir moves the offset.
  int dfd = root_.fs->OpenAt(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno;
  if (int err = root_.fs->ReadDirectory(dfd, out); err != 0) return err;
  std::sort(out->begin(), out->end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return 0;
}

Status DirWalker::Start() {
  started_ = true;
  auto unavailable = [&](int err) {
    return Status::Unavailable("store '" + root_.store + "': root " + root_.path + ": " + std::strerror(err));
  };
  Frame f;
  f.fd.Reset(root_.fs->OpenAt(root_.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!f.fd.valid()) return unavailable(errno);
  struct stat st;
  if (root_.fs->Fstat(f.fd.get(), &st) != 0) return unavailable(errno);
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  if (int err = ListDir(f.fd.get(), &f.entries); err != 0) return unavailable(err);
  f.state = globs_.Root();
  path_.clear();
  stack_.push_back(std::move(f));
  return Status::Ok();
}

void DirWalker::Push(const std::string& name, GlobSet::State state) {
  const std::string where = path_ + name;
  UniqueFd fd(root_.fs->OpenAt(stack_.back().fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    // Gone, or swapped for a symlink or a file since the fstatat: skip it.
    if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) return;
    spdlog::warn("store '{}': skipping directory {}: {}", root_.store, where, std::strerror(errno));
    return;
  }
  // Checked again on the open directory: it may have become a mount point
  // since the walk looked at it by name.
  struct stat st;
  if (!FdOnRootMount(root_, fd.get(), &st) || !S_ISDIR(st.st_mode)) {
    spdlog::debug("store '{}': not crossing into {}: another mount", root_.store, where);
    return;
  }
  Frame f;
  if (int err = ListDir(fd.get(), &f.entries); err != 0) {
    spdlog::warn("store '{}': skipping directory {}: {}", root_.store, where, std::strerror(err));
    return;
  }
  f.fd = std::move(fd);
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  f.state = std::move(state);
  path_ += name;
  path_ += '/';
  f.path_len = path_.size();
  stack_.push_back(std::move(f));
  // Bound the open descriptors: close the ancestor leaving the window.
  if (stack_.size() > kMaxOpenDirs) stack_[stack_.size() - 1 - kMaxOpenDirs].fd.Reset();
}

bool DirWalker::Reopen(Frame& frame, int child_fd) {
  auto same = [&](int fd) {
    struct stat st;
    return FdOnRootMount(root_, fd, &st) && S_ISDIR(st.st_mode) && st.st_dev == frame.dev && st.st_ino == frame.ino;
  };
  if (child_fd >= 0) {
    UniqueFd up(root_.fs->OpenAt(child_fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (up.valid() && same(up.get())) {
      frame.fd = std::move(up);
      return true;
    }
  }
  // The child moved: walk down from the root again.
  std::vector<std::string_view> parts;
  std::string_view dir(path_);
  if (!dir.empty()) dir.remove_suffix(1);  // the trailing '/'
  if (!dir.empty() && !SplitKey(dir, &parts)) return false;
  UniqueFd fd(OpenDirUnder(root_, parts, parts.size(), O_RDONLY));
  if (!fd.valid() || !same(fd.get())) return false;
  frame.fd = std::move(fd);
  return true;
}

void DirWalker::Pop() {
  Frame top = std::move(stack_.back());
  stack_.pop_back();
  if (stack_.empty()) {
    path_.clear();
    return;
  }
  Frame& parent = stack_.back();
  path_.resize(parent.path_len);
  if (!parent.fd.valid() && parent.next < parent.entries.size() && !Reopen(parent, top.fd.get())) {
    // The directory was moved or replaced while the walk was below it: when
    // unsure, leave the rest of it for the next run.
    spdlog::warn("store '{}': directory {} changed during the walk; skipping the rest of it",
                 root_.store, path_.empty() ? std::string(".") : path_);
    parent.next = parent.entries.size();
  }
}

Result<bool> DirWalker::Next(WalkEntry* out) {
  if (!started_) RETENTION_RETURN_IF_ERROR(Start());
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (f.next >= f.entries.size() || !f.fd.valid()) {
      Pop();
      continue;
    }
    const Entry& e = f.entries[f.next++];
    const bool maybe_dir = e.type == DT_DIR || e.type == DT_UNKNOWN;
    const bool maybe_file = e.type == DT_REG || e.type == DT_UNKNOWN;
    bool file_match = maybe_file && globs_.MatchesFile(f.state, e.name);
    GlobSet::State child;
    if (maybe_dir) child = globs_.Enter(f.state, e.name);
    // Symlinks, sockets, fifos, and what no pattern can select: no syscall.
    if (!file_match && child.empty()) continue;

    struct stat st;
    MountId mount;
    if (int err = StatWithMount(*root_.fs, f.fd.get(), e.name.c_str(), &st, &mount); err != 0) {
      if (err != ENOENT)
        spdlog::warn("store '{}': skipping {}{}: {}", root_.store, path_, e.name, std::strerror(err));
      continue;
    }
    const bool on_root_mount = OnRootMount(root_.dev, root_.mount, st, mount);
    if (S_ISREG(st.st_mode)) {
      // The type may have changed since readdir: decide on the fresh stat.
      if (!maybe_file) file_match = globs_.MatchesFile(f.state, e.name);
      if (!file_match) continue;
      if (!on_root_mount) {
        // A file bind mount: what is mounted there is not ours, and the
        // name cannot be unlinked anyway (EBUSY).
        spdlog::debug("store '{}': skipping {}{}: a mount point", root_.store, path_, e.name);
        continue;
      }
      out->key = path_;
      out->key += e.name;
      out->name_begin = path_.size();
      out->st = st;
      return true;
    }
    if (S_ISDIR(st.st_mode)) {
      if (!maybe_dir) child = globs_.Enter(f.state, e.name);
      if (child.empty()) continue;
      if (!on_root_mount) {
        spdlog::debug("store '{}': not crossing into {}{}: another mount", root_.store, path_, e.name);
        continue;
      }
      const std::string name = e.name;  // Push grows the stack
      Push(name, std::move(child));
    }
    // Anything else, symlinks included, is never a record and never followed.
  }
  return false;
}

}  // namespace retention::files
