// A guard that sets the immutable inode flag (chattr +i) on a file, for the
// tests of undeletable files: the store and the end-to-end tests share it.
#pragma once

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <filesystem>

namespace retention::test_support {

// Sets the immutable inode flag (chattr +i) on a file for the guard's
// life; ok() is false when the file system or the user cannot.
class ImmutableFile {
 public:
  explicit ImmutableFile(const std::filesystem::path& p) : path_(p) { ok_ = Set(true); }
  ~ImmutableFile() {
    if (ok_) Set(false);
  }
  ImmutableFile(const ImmutableFile&) = delete;
  ImmutableFile& operator=(const ImmutableFile&) = delete;
  bool ok() const { return ok_; }

 private:
  bool Set(bool on) {
    int fd = ::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    int flags = 0;
    bool done = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    if (done) {
      flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
      done = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
    ::close(fd);
    return done;
  }
  std::filesystem::path path_;
  bool ok_ = false;
};

}  // namespace retention::test_support
