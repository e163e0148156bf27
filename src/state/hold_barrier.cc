// The hold barrier.
//
// CLAIM: once `hold add` has returned, no target deletion that commits
// afterwards removes a record the hold covers.
//
// PROTOCOL
//   hold add / release: take the barrier EXCLUSIVE; commit the hold row (and
//     its ledger entry) to the state database; release; return.
//   purge, each batch: take the barrier SHARED before reading the holds;
//     read the holds (a read transaction begun after taking the barrier);
//     choose the records; commit the DELETE on the target; release.
//
// WHY IT HOLDS: shared and exclusive exclude each other, so the interval in
// which a batch B holds the barrier, [b_take, b_release], and the interval in
// which `hold add` A holds it, [a_take, a_release], do not overlap. A
// commits its hold before a_release, and returns after it. Suppose B's
// DELETE commits after A returned: then b_release > B's commit > A's return
// > a_release, so B's interval cannot lie before A's; it lies after it:
// b_take > a_release. B reads the holds after b_take, hence after the hold
// committed, so it sees the hold and does not delete what it covers.
// (Releasing a hold only makes records deletable again, so correctness
// does not need the barrier there; it takes it anyway so that holds change
// only between batches.)
//
// The purge still re-checks holds inside the target transaction (SPEC 6.1):
// the barrier orders hold writes against batches; it does not replace the
// check.
//
// FAIRNESS: flock() grants a new shared lock while an exclusive request
// waits, so a purge taking the barrier batch after batch could starve
// `hold add` for the whole run. A second lock, the gate, fixes that:
//   shared    = gate SH, barrier SH, gate released at once;
//   exclusive = gate EX, barrier EX, both held until release.
// A writer waiting for the batches in flight holds the gate, so no new
// batch starts; a reader holds the gate only for the instant it takes the
// barrier, so the writer gets the gate at once. No deadlock: a writer holds
// the barrier only while holding the gate, so a reader holding the gate
// never waits on the barrier.
//
// REMOVED FILE: flock() locks an inode. If the barrier file is removed while
// a batch holds it shared, a `hold add` that then creates a new file and
// locks it exclusive would not wait for that batch. So: every side checks,
// after locking, that the path still names the file it locked (else it
// retries, lock_file.h); only the purge creates the barrier file while a
// run is in progress (a `hold add` finding it missing then waits until the
// run's next batch, which begins after the old batch ended, has created
// it); and the purge never takes a batch's barrier on a file the path no
// longer names.
//
// Locks are flock() on descriptors opened O_CLOEXEC, released by the kernel
// when the process dies. Waiting is polling with LOCK_NB (1 ms doubling to
// 20 ms) so that it can time out.
#include "state/hold_barrier.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "state/lock_file.h"

namespace retention {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path GatePathFor(const fs::path& lock_path) {
  fs::path p = lock_path;
  p += ".gate";
  return p;
}

// Opens (and unless `create` is false, creates) a lock file; -1 when it
// does not exist and `create` is false.
Result<int> OpenLockFile(const fs::path& path, bool create = true) {
  // Read-only is enough for flock, so users who may only read the lock file
  // can still take it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0644);
  if (fd < 0 && !create && errno == ENOENT) return -1;
  if (fd < 0) {
    return Status::Unavailable("cannot open hold barrier '" + path.string() +
                               "': " + std::strerror(errno));
  }
  return fd;
}

// flock with a deadline. Returns Ok, Busy on timeout, or Unavailable.
Status LockWithin(int fd, int op, Clock::time_point deadline, const fs::path& path,
                  const char* waiting_for) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (::flock(fd, op | LOCK_NB) == 0) return Status::Ok();
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      return Status::Unavailable("cannot lock hold barrier '" + path.string() +
                                 "': " + std::strerror(errno));
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      return Status::Busy(std::string("timed out waiting for the hold barrier '") +
                              path.string() + "': " + waiting_for);
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

}  // namespace

Result<HoldBarrier::Guard> HoldBarrier::Shared(const fs::path& lock_path,
                                               std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const char* why = "a hold is being placed or released";
  for (int attempt = 0;; ++attempt) {
    auto gate = OpenLockFile(GatePathFor(lock_path));
    if (!gate.ok()) return gate.status();
    Status st = LockWithin(*gate, LOCK_SH, deadline, lock_path, why);
    if (!st.ok()) {
      ::close(*gate);
      return st;
    }
    auto barrier = OpenLockFile(lock_path);
    if (!barrier.ok()) {
      ::close(*gate);
      return barrier.status();
    }
    st = LockWithin(*barrier, LOCK_SH, deadline, lock_path, why);
    ::close(*gate);  // let writers queue again
    if (!st.ok()) {
      ::close(*barrier);
      return st;
    }
    if (PathNamesDescriptor(lock_path, *barrier)) return Guard(*barrier, -1);
    // Removed or replaced meanwhile: a hold writer would lock the new file.
    ::close(*barrier);
    if (attempt + 1 >= kLockInPlaceAttempts || Clock::now() >= deadline) {
      return Status::Busy("hold barrier '" + lock_path.string() +
                              "' keeps being removed or replaced; stopping");
    }
  }
}

Result<HoldBarrier::Guard> HoldBarrier::Exclusive(const fs::path& lock_path,
                                                  std::chrono::milliseconds timeout,
                                                  const fs::path& run_lock_path) {
  const auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    auto gate = OpenLockFile(GatePathFor(lock_path));
    if (!gate.ok()) return gate.status();
    Status st = LockWithin(*gate, LOCK_EX, deadline, lock_path,
                           "another hold is being placed or released");
    if (!st.ok()) {
      ::close(*gate);
      return st;
    }
    auto barrier = OpenLockFile(lock_path, /*create=*/false);
    if (barrier.ok() && *barrier < 0) {
      if (!run_lock_path.empty() && LockHeldElsewhere(run_lock_path)) {
        // Removed under a running purge, whose batch in flight may still
        // hold the old file: wait (without the gate, which the purge's next
        // batch needs) until that batch re-creates it.
        ::close(*gate);
        const auto now = Clock::now();
        if (now >= deadline) {
          return Status::Busy("the hold barrier '" + lock_path.string() +
                                  "' was removed while a purge is running, and the purge did not "
                                  "re-create it in time; nothing was recorded: try again");
        }
        std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
        continue;
      }
      barrier = OpenLockFile(lock_path);  // no run: create it
    }
    if (!barrier.ok()) {
      ::close(*gate);
      return barrier.status();
    }
    st = LockWithin(*barrier, LOCK_EX, deadline, lock_path,
                    "a purge batch did not finish in time");
    if (!st.ok()) {
      ::close(*barrier);
      ::close(*gate);
      return st;
    }
    if (PathNamesDescriptor(lock_path, *barrier)) return Guard(*barrier, *gate);
    // Removed or replaced meanwhile: start again on what the path names.
    ::close(*barrier);
    ::close(*gate);
    if (Clock::now() >= deadline) {
      return Status::Busy("hold barrier '" + lock_path.string() +
                              "' keeps being removed or replaced; nothing was recorded");
    }
  }
}

HoldBarrier::Guard::Guard(Guard&& other) noexcept
    : barrier_fd_(other.barrier_fd_),
      gate_fd_(other.gate_fd_),
      held_(std::move(other.held_)),
      held_exclusive_(other.held_exclusive_) {
  other.barrier_fd_ = other.gate_fd_ = -1;
}

HoldBarrier::Guard& HoldBarrier::Guard::operator=(Guard&& other) noexcept {
  if (this != &other) {
    Release();
    barrier_fd_ = other.barrier_fd_;
    gate_fd_ = other.gate_fd_;
    held_ = std::move(other.held_);
    held_exclusive_ = other.held_exclusive_;
    other.barrier_fd_ = other.gate_fd_ = -1;
  }
  return *this;
}

HoldBarrier::Guard::~Guard() { Release(); }

void HoldBarrier::Guard::Release() {
  // Barrier first, then the gate: readers admitted by the gate find the
  // barrier free.
  if (barrier_fd_ >= 0) ::close(barrier_fd_);
  if (gate_fd_ >= 0) ::close(gate_fd_);
  barrier_fd_ = gate_fd_ = -1;
  held_.reset();
}

std::function<Status()> HoldBarrier::Guard::Confirmer() const {
  if (!held_) return [] { return Status::Ok(); };
  return [weak = std::weak_ptr<HeldLock>(held_)]() {
    auto held = weak.lock();
    if (!held) return Status::Internal("the hold barrier was confirmed after it was released");
    return held->Confirm();
  };
}

}  // namespace retention
