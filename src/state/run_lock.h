// One run at a time per state database (SPEC 6.5).
//
// An exclusive flock() on a lock file beside the state database (state path
// + ".lock", derived in state/state_open.h: LockPathsFor). The kernel
// releases it when the holder's descriptor closes,
// including when the process is killed, so a crashed run never leaves a
// stale lock. The holder writes its pid into the file for the message a
// second run prints. The file itself is never removed: removing a lock file
// others may have open lets two processes each lock a different inode.
// Someone else may remove it anyway: the lock is taken only once the path
// is seen to name the locked file (lock_file.h), and a run calls
// CheckInPlace() before each batch and stops when it no longer does. (A
// second run that started on the new file meanwhile is stopped by the state
// database's own claim, StateDb::ClaimForRun.)
#pragma once

#include <filesystem>

#include "util/status.h"

namespace retention {

class RunLock {
 public:
  // Takes the lock without waiting. Held elsewhere: Busy "another run
  // holds the lock on FILE (pid N)". The descriptor is O_CLOEXEC: a child
  // program started by the run does not inherit the lock.
  static Result<RunLock> TryAcquire(const std::filesystem::path& lock_path);

  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();  // releases

  const std::filesystem::path& path() const { return path_; }

  // Ok while the path still names the locked file. Otherwise the lock file
  // was removed or replaced: this takes the lock on whatever the path names
  // now (so that no new run starts until this one has ended), and returns
  // Busy saying so: the run must stop.
  Status CheckInPlace();

 private:
  RunLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  int replacement_fd_ = -1;  // the lock retaken by CheckInPlace, if any
  std::filesystem::path path_;
};

}  // namespace retention
