#include "state/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace retention {

std::filesystem::path RunLock::PathFor(const std::filesystem::path& state_path) {
  std::filesystem::path p = state_path;
  p += ".lock";
  return p;
}

Result<RunLock> RunLock::TryAcquire(const std::filesystem::path& lock_path) {
  const std::string file = "'" + lock_path.string() + "'";
  // O_NOFOLLOW: the lock lives in a directory others may write to less
  // carefully than we do; never write our pid through a symlink.
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return Status::Unavailable("cannot open lock file " + file + ": " + std::strerror(errno));
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      char buf[32] = {};
      const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) {
        pid = "unknown";
      }
      return Status::TempFail("another run holds the lock on " + file + " (pid " + pid + ")");
    }
    ::close(fd);
    return Status::Unavailable("cannot lock " + file + ": " + std::strerror(err));
  }
  // Ours now. The pid is informative only; failing to write it is harmless.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t w = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return RunLock(fd, lock_path);
}

RunLock::RunLock(RunLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

RunLock::~RunLock() {
  // Closing the descriptor releases the flock. The stale pid stays in the
  // file; the next holder overwrites it.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace retention
