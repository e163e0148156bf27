#include "state/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "state/lock_file.h"

namespace retention {

namespace {

// The pid a lock file holds, for messages.
std::string PidIn(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) pid = "unknown";
  return pid;
}

}  // namespace

Result<RunLock> RunLock::TryAcquire(const std::filesystem::path& lock_path) {
  const std::string file = "'" + lock_path.string() + "'";
  for (int attempt = 0;; ++attempt) {
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
        const std::string pid = PidIn(fd);
        ::close(fd);
        return Status::Busy("another run holds the lock on " + file + " (pid " + pid + ")");
      }
      ::close(fd);
      return Status::Unavailable("cannot lock " + file + ": " + std::strerror(err));
    }
    // The file may have been removed or replaced between open() and
    // flock(): then we locked an inode no one else will find. Try again.
    if (!PathNamesDescriptor(lock_path, fd)) {
      ::close(fd);
      if (attempt + 1 >= kLockInPlaceAttempts) {
        return Status::Busy("lock file " + file +
                                " keeps being removed or replaced while it is taken; not running");
      }
      continue;
    }
    // Ours now. The pid is informative only; failing to write it is harmless.
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) {
      [[maybe_unused]] ssize_t w = ::pwrite(fd, pid.data(), pid.size(), 0);
    }
    return RunLock(fd, lock_path);
  }
}

Status RunLock::CheckInPlace() {
  if (fd_ >= 0 && PathNamesDescriptor(path_, fd_)) return Status::Ok();
  const std::string file = "'" + path_.string() + "'";
  const std::string why = "the run lock file " + file +
                          " was removed or replaced during the run, so a second run could start "
                          "beside this one; this run stops here with work left (exit 75)";
  if (replacement_fd_ >= 0) return Status::Busy(why);
  // Keep new runs out until this one has ended: lock what the path names now.
  auto again = TryAcquire(path_);
  if (!again.ok()) {
    return Status::Busy(why + "; " + again.status().message());
  }
  replacement_fd_ = again->fd_;
  again->fd_ = -1;
  return Status::Busy(why + "; it holds the re-created lock file until it exits");
}

RunLock::RunLock(RunLock&& other) noexcept
    : fd_(other.fd_), replacement_fd_(other.replacement_fd_), path_(std::move(other.path_)) {
  other.fd_ = other.replacement_fd_ = -1;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    if (replacement_fd_ >= 0) ::close(replacement_fd_);
    fd_ = other.fd_;
    replacement_fd_ = other.replacement_fd_;
    path_ = std::move(other.path_);
    other.fd_ = other.replacement_fd_ = -1;
  }
  return *this;
}

RunLock::~RunLock() {
  // Closing the descriptor releases the flock. The stale pid stays in the
  // file; the next holder overwrites it.
  if (fd_ >= 0) ::close(fd_);
  if (replacement_fd_ >= 0) ::close(replacement_fd_);
}

}  // namespace retention
