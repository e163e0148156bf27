#include "state/run_lock.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "state/state_open.h"
#include "state/test_util.h"

namespace retention {
namespace {

using testing::ForkChild;
using testing::TempDir;
using testing::WaitChild;

TEST_CASE("RunLock path is beside the state database", "[state]") {
  CHECK(LockPathsFor("/var/lib/retention/state.db").run_lock == "/var/lib/retention/state.db.lock");
}

TEST_CASE("RunLock: one holder at a time, released on destruction", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db.lock";
  {
    auto lock = RunLock::TryAcquire(path);
    REQUIRE(lock.ok());
    auto second = RunLock::TryAcquire(path);  // another descriptor, same process
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == StatusCode::kBusy);
    CHECK_THAT(second.status().message(),
               Catch::Contains("another run holds the lock on '" + path.string() + "' (pid " +
                               std::to_string(::getpid()) + ")"));

    // Another process is refused at once while we hold it.
    const pid_t child = ForkChild([&] {
      auto l = RunLock::TryAcquire(path);
      return !l.ok() && l.status().code() == StatusCode::kBusy ? 0 : 1;
    });
    CHECK(WaitChild(child) == 0);

    RunLock moved = std::move(lock.value());  // still held after a move
    CHECK_FALSE(RunLock::TryAcquire(path).ok());
  }
  CHECK(RunLock::TryAcquire(path).ok());
}

TEST_CASE("RunLock of a killed process is released by the kernel", "[state]") {
  TempDir dir;
  const auto path = dir / "state.db.lock";
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ForkChild([&] {
    ::close(ready[0]);
    auto l = RunLock::TryAcquire(path);
    const char c = l.ok() ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) return 2;
    for (;;) ::pause();  // until killed
  });
  ::close(ready[1]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  REQUIRE(c == 'y');

  auto refused = RunLock::TryAcquire(path);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kBusy);
  CHECK_THAT(refused.status().message(), Catch::Contains("(pid " + std::to_string(child) + ")"));

  REQUIRE(::kill(child, SIGKILL) == 0);
  CHECK(WaitChild(child) == 128 + SIGKILL);
  auto lock = RunLock::TryAcquire(path);
  INFO(lock.status().message());
  CHECK(lock.ok());
}

}  // namespace
}  // namespace retention
