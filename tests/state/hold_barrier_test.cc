#include "state/hold_barrier.h"

#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "state/run_lock.h"
#include "state/state_open.h"
#include "state/test_util.h"

namespace retention {
namespace {

using namespace std::chrono_literals;
using testing::ForkChild;
using testing::TempDir;
using testing::WaitChild;

bool PipeHasData(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST_CASE("HoldBarrier: shared guards coexist, exclusive excludes", "[state]") {
  TempDir dir;
  const auto path = LockPathsFor(dir / "state.db").hold_barrier;
  CHECK(path == dir / "state.db.holds-lock");
  {
    auto s1 = HoldBarrier::Shared(path, 0ms);
    auto s2 = HoldBarrier::Shared(path, 0ms);
    REQUIRE(s1.ok());
    REQUIRE(s2.ok());
    CHECK_FALSE(s1->exclusive());
    auto x = HoldBarrier::Exclusive(path, 0ms);
    REQUIRE_FALSE(x.ok());
    CHECK(x.status().code() == StatusCode::kBusy);
    CHECK_THAT(x.status().message(), Catch::Contains(path.string()));
  }
  {
    auto x = HoldBarrier::Exclusive(path, 0ms);
    REQUIRE(x.ok());
    CHECK(x->exclusive());
    auto s = HoldBarrier::Shared(path, 0ms);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kBusy);
    CHECK_FALSE(HoldBarrier::Exclusive(path, 0ms).ok());
    // A short wait times out rather than blocking for ever.
    CHECK(HoldBarrier::Shared(path, 30ms).status().code() == StatusCode::kBusy);
  }
  CHECK(HoldBarrier::Exclusive(path, 0ms).ok());
  CHECK(HoldBarrier::Shared(path, 0ms).ok());
}

// A config naming the state database through a symlink to the file (SQLite
// follows it: one database, one -wal) must meet the purge at the same
// barrier, or `hold add` returns while a batch that did not see the hold
// is still deleting.
TEST_CASE("HoldBarrier and RunLock: a symlink to the state database leads to the same lock files", "[state]") {
  TempDir dir;
  { std::ofstream(dir / "state.db") << "x"; }
  std::filesystem::create_symlink("state.db", dir / "link.db");
  CHECK(LockPathsFor(dir / "link.db").hold_barrier == LockPathsFor(dir / "state.db").hold_barrier);
  CHECK(LockPathsFor(dir / "link.db").run_lock == LockPathsFor(dir / "state.db").run_lock);
  auto batch = HoldBarrier::Shared(LockPathsFor(dir / "state.db").hold_barrier, 0ms);
  REQUIRE(batch.ok());
  auto hold = HoldBarrier::Exclusive(LockPathsFor(dir / "link.db").hold_barrier, 0ms);
  CHECK(hold.status().code() == StatusCode::kBusy);
}

// A purge batch holds the barrier shared; `hold add` in another process
// waits for it, and while it waits no new batch can start.
TEST_CASE("HoldBarrier: exclusive waits for shared, and blocks new shared", "[state]") {
  TempDir dir;
  const auto path = LockPathsFor(dir / "state.db").hold_barrier;
  int to_parent[2], to_child[2];
  REQUIRE(::pipe(to_parent) == 0);
  REQUIRE(::pipe(to_child) == 0);

  auto batch = HoldBarrier::Shared(path, 0ms);
  REQUIRE(batch.ok());

  const pid_t child = ForkChild([&] {
    ::close(to_parent[0]);
    ::close(to_child[1]);
    // fork() shared the parent's lock descriptor with us; a flock belongs to
    // the open file description, so drop our copy or we would hold the
    // parent's shared lock ourselves.
    { auto inherited = std::move(batch.value()); }
    char c = 'w';
    if (::write(to_parent[1], &c, 1) != 1) return 2;
    auto x = HoldBarrier::Exclusive(path, 60s);  // "hold add"
    c = x.ok() ? 'x' : 'f';
    if (::write(to_parent[1], &c, 1) != 1) return 3;
    if (::read(to_child[0], &c, 1) != 1) return 4;  // hold it until told
    return x.ok() ? 0 : 1;
  });
  ::close(to_parent[1]);
  ::close(to_child[0]);

  char c = 0;
  REQUIRE(::read(to_parent[0], &c, 1) == 1);
  REQUIRE(c == 'w');
  // Wait until the writer has queued (it takes the gate), without timing
  // assumptions: a new shared attempt succeeds until then.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool queued = false;
  while (!queued && std::chrono::steady_clock::now() < deadline) {
    auto probe = HoldBarrier::Shared(path, 0ms);
    queued = !probe.ok();
  }
  REQUIRE(queued);
  // The writer cannot have the barrier while our batch holds it.
  CHECK_FALSE(PipeHasData(to_parent[0]));

  { auto done = std::move(batch.value()); }  // the batch commits: release

  REQUIRE(::read(to_parent[0], &c, 1) == 1);
  CHECK(c == 'x');
  CHECK_FALSE(HoldBarrier::Shared(path, 0ms).ok());  // writer holds it now
  c = 'r';
  REQUIRE(::write(to_child[1], &c, 1) == 1);
  CHECK(WaitChild(child) == 0);
  ::close(to_parent[0]);
  ::close(to_child[1]);
  CHECK(HoldBarrier::Shared(path, 0ms).ok());
}

}  // namespace
}  // namespace retention
