// A fault-injecting files::FileSystem for tests (STYLE.md, "Seams for
// tests"): wraps the real one and fails chosen calls with a chosen errno,
// so I/O-error guarantees are tested without tmpfs or chattr tricks.
//
//   auto fs = std::make_shared<FaultFileSystem>();
//   fs->FailNth(FsCall::kUnlinkAt, 3, EIO);          // the 3rd unlinkat fails
//   fs->FailName("app.log-1003.gz", EPERM, FsCall::kUnlinkAt);  // every unlinkat of that name
//   env.file_system = fs;
//
// Every call is counted by kind (calls()), failed or not; injected() says
// how many were failed. Safe to share between threads once its rules are
// set (counting is atomic). A failed call does nothing and returns what the
// POSIX call returns on failure with errno set.
#pragma once

#include <linux/limits.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stores/file_system.h"

namespace retention::testing {

// The kinds of call the files store makes (stores/file_system.h).
enum class FsCall {
  kOpen,
  kOpenAt,
  kFstat,
  kFstatAt,
  kLstat,
  kStatx,
  kNameToHandleAt,
  kRead,
  kUnlinkAt,
  kFlock,
  kGetInodeFlags,
  kReadDirectory,
  kFsync,
  kSyncFs,
};
inline constexpr size_t kFsCallKinds = 14;

inline const char* FsCallName(FsCall c) {
  static constexpr const char* kNames[kFsCallKinds] = {"open",  "openat", "fstat",  "fstatat",
                                                       "lstat", "statx",  "name_to_handle_at", "read",
                                                       "unlinkat", "flock", "ioctl(FS_IOC_GETFLAGS)",
                                                       "readdir", "fsync", "syncfs"};
  return kNames[static_cast<size_t>(c)];
}

class FaultFileSystem final : public files::FileSystem {
 public:
  explicit FaultFileSystem(std::shared_ptr<const files::FileSystem> base = files::PosixFileSystem())
      : base_(std::move(base)) {}

  // Fails the `nth` call (1-based, counted from construction) of `kind`
  // with `err`.
  void FailNth(FsCall kind, int nth, int err) { rules_.push_back({kind, nth, "", err}); }
  // Fails every call of `kind` (any kind: nullopt) on a file whose name or
  // path ends with `name`. Descriptor calls see the descriptor's path
  // (/proc/self/fd).
  void FailName(const std::string& name, int err, std::optional<FsCall> kind = std::nullopt) {
    rules_.push_back({kind, 0, name, err});
  }

  // Answers statx without STATX_MNT_ID, as kernels before 5.8 do, so that
  // the store reads mount ids through its fallbacks (files_mount.h).
  void HideStatxMountId() { hide_mount_id_ = true; }
  // And name_to_handle_at unsupported (EOPNOTSUPP), as on file systems
  // without handles: mount ids come from /proc/self/fdinfo. Not counted as
  // an injected fault.
  void WithoutHandles() { no_handles_ = true; }

  int calls(FsCall kind) const { return counts_[static_cast<size_t>(kind)]; }
  int injected() const { return injected_; }

  int Open(const char* path, int flags) const override {
    if (Fail(FsCall::kOpen, path, -1)) return -1;
    return base_->Open(path, flags);
  }
  int OpenAt(int dirfd, const char* name, int flags) const override {
    if (Fail(FsCall::kOpenAt, name, dirfd)) return -1;
    return base_->OpenAt(dirfd, name, flags);
  }
  int Fstat(int fd, struct stat* st) const override {
    if (Fail(FsCall::kFstat, nullptr, fd)) return -1;
    return base_->Fstat(fd, st);
  }
  int FstatAt(int dirfd, const char* name, struct stat* st, int flags) const override {
    if (Fail(FsCall::kFstatAt, name, dirfd)) return -1;
    return base_->FstatAt(dirfd, name, st, flags);
  }
  int Lstat(const char* path, struct stat* st) const override {
    if (Fail(FsCall::kLstat, path, -1)) return -1;
    return base_->Lstat(path, st);
  }
  int Statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* sx) const override {
    if (Fail(FsCall::kStatx, path, dirfd)) return -1;
    const int rc = base_->Statx(dirfd, path, flags, mask, sx);
    if (rc == 0 && hide_mount_id_) sx->stx_mask &= ~static_cast<unsigned>(STATX_MNT_ID);
    return rc;
  }
  int NameToHandleAt(int dirfd, const char* name, struct file_handle* handle, int* mount_id,
                     int flags) const override {
    if (Fail(FsCall::kNameToHandleAt, name, dirfd)) return -1;
    if (no_handles_) {
      errno = EOPNOTSUPP;
      return -1;
    }
    return base_->NameToHandleAt(dirfd, name, handle, mount_id, flags);
  }
  ssize_t Read(int fd, void* buf, size_t count) const override {
    if (Fail(FsCall::kRead, nullptr, fd)) return -1;
    return base_->Read(fd, buf, count);
  }
  int UnlinkAt(int dirfd, const char* name, int flags) const override {
    if (Fail(FsCall::kUnlinkAt, name, dirfd)) return -1;
    return base_->UnlinkAt(dirfd, name, flags);
  }
  int Flock(int fd, int operation) const override {
    if (Fail(FsCall::kFlock, nullptr, fd)) return -1;
    return base_->Flock(fd, operation);
  }
  int GetInodeFlags(int fd, int* flags) const override {
    if (Fail(FsCall::kGetInodeFlags, nullptr, fd)) return -1;
    return base_->GetInodeFlags(fd, flags);
  }
  int ReadDirectory(int fd, std::vector<files::DirectoryEntry>* out) const override {
    if (Fail(FsCall::kReadDirectory, nullptr, fd)) {
      const int err = errno;
      ::close(fd);  // taken over in every case
      out->clear();
      return err;
    }
    return base_->ReadDirectory(fd, out);
  }
  int Fsync(int fd) const override {
    if (Fail(FsCall::kFsync, nullptr, fd)) return -1;
    return base_->Fsync(fd);
  }
  int SyncFs(int fd) const override {
    if (Fail(FsCall::kSyncFs, nullptr, fd)) return -1;
    return base_->SyncFs(fd);
  }

 private:
  struct Rule {
    std::optional<FsCall> kind;
    int nth = 0;       // > 0: the nth call of kind
    std::string name;  // else: calls on this name
    int err = 0;
  };

  static bool EndsWith(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  }

  // The path a call concerns: its name under its directory descriptor's
  // path, or the descriptor's path alone.
  static std::string PathOf(const char* name, int fd) {
    const bool has_name = name != nullptr && name[0] != '\0' && std::string(name) != ".";
    if (has_name && (name[0] == '/' || fd < 0)) return name;
    std::string path;
    if (fd >= 0) {
      char buf[PATH_MAX];
      const ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf);
      if (n > 0) path.assign(buf, static_cast<size_t>(n));
    }
    return has_name ? path + "/" + name : path;
  }

  // Counts the call; true (errno set) when a rule fails it.
  bool Fail(FsCall kind, const char* name, int fd) const {
    const int n = ++counts_[static_cast<size_t>(kind)];
    for (const Rule& r : rules_) {
      if (r.kind && *r.kind != kind) continue;
      const bool hit = r.nth > 0 ? n == r.nth : EndsWith(PathOf(name, fd), r.name);
      if (!hit) continue;
      ++injected_;
      errno = r.err;
      return true;
    }
    return false;
  }

  std::shared_ptr<const files::FileSystem> base_;
  std::vector<Rule> rules_;
  bool hide_mount_id_ = false;
  bool no_handles_ = false;
  // Atomic: the purge reads candidates on a second thread while it deletes.
  mutable std::array<std::atomic<int>, kFsCallKinds> counts_{};
  mutable std::atomic<int> injected_{0};
};

}  // namespace retention::testing
