#include "state/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace retention {

std::filesystem::path ResolvedStatePath(const std::filesystem::path& state_path) {
  std::error_code ec;
  std::filesystem::path resolved = std::filesystem::weakly_canonical(state_path, ec);
  if (ec || resolved.empty()) return state_path;
  return resolved;
}

bool PathNamesDescriptor(const std::filesystem::path& path, int fd) {
  struct stat held {}, named {};
  if (::fstat(fd, &held) != 0) return false;
  // lstat: the lock files are opened O_NOFOLLOW, so a symlink put in their
  // place names nothing we locked.
  if (::lstat(path.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

bool LockHeldElsewhere(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  int rc;
  do {
    rc = ::flock(fd, LOCK_SH | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  const bool held = rc != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the probe's shared lock, if it got one
  return held;
}

}  // namespace retention
