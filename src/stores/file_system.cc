#include "stores/file_system.h"

#include <dirent.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace retention::files {

namespace {

class Posix final : public FileSystem {
 public:
  int Open(const char* path, int flags) const override { return ::open(path, flags); }
  int OpenAt(int dirfd, const char* name, int flags) const override { return ::openat(dirfd, name, flags); }
  int Fstat(int fd, struct stat* st) const override { return ::fstat(fd, st); }
  int FstatAt(int dirfd, const char* name, struct stat* st, int flags) const override {
    return ::fstatat(dirfd, name, st, flags);
  }
  int Lstat(const char* path, struct stat* st) const override { return ::lstat(path, st); }
  int Statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* sx) const override {
    return ::statx(dirfd, path, flags, mask, sx);
  }
  int NameToHandleAt(int dirfd, const char* name, struct file_handle* handle, int* mount_id,
                     int flags) const override {
    return ::name_to_handle_at(dirfd, name, handle, mount_id, flags);
  }
  ssize_t Read(int fd, void* buf, size_t count) const override { return ::read(fd, buf, count); }
  int UnlinkAt(int dirfd, const char* name, int flags) const override { return ::unlinkat(dirfd, name, flags); }
  int Flock(int fd, int operation) const override { return ::flock(fd, operation); }
  int GetInodeFlags(int fd, int* flags) const override { return ::ioctl(fd, FS_IOC_GETFLAGS, flags); }
  int ReadDirectory(int fd, std::vector<DirectoryEntry>* out) const override {
    out->clear();
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      const int err = errno;
      ::close(fd);
      return err;
    }
    int err = 0;
    while (true) {
      errno = 0;
      struct dirent* d = ::readdir(dir);
      if (d == nullptr) {
        err = errno;
        break;
      }
      if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) continue;
      out->push_back(DirectoryEntry{d->d_name, d->d_type});
    }
    ::closedir(dir);
    return err;
  }
  int Fsync(int fd) const override { return ::fsync(fd); }
  int SyncFs(int fd) const override { return ::syncfs(fd); }
};

}  // namespace

std::shared_ptr<const FileSystem> PosixFileSystem() {
  static const std::shared_ptr<const FileSystem> posix = std::make_shared<Posix>();
  return posix;
}

}  // namespace retention::files
