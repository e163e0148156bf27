// The one mapping from domain codes to the exit codes of SPEC section 5.
#include "cli/exit_codes.h"

#include <catch2/catch.hpp>

namespace retention {
namespace {

TEST_CASE("every domain code maps to the exit code SPEC 5 gives it", "[exit_codes]") {
  struct Case {
    Status status;
    int exit;
    bool retry_later;
  };
  const Case cases[] = {
      {Status::Ok(), 0, false},
      {Status::Usage("u"), 64, false},
      {Status::Invalid("i"), 65, false},
      {Status::Unavailable("u"), 69, false},
      {Status::Internal("bug"), 70, false},
      {Status::IoError("io"), 74, false},
      {Status::Busy("lock held"), 75, true},
      {Status::Stopped("max runtime"), 75, true},
      {Status::OutOfCompliance("overdue"), 75, true},
      {Status::SafetyValve("too much"), 76, false},
      {Status::ClockSanity("jump"), 77, false},
      {Status::AuditFailed("chain"), 78, false},
  };
  for (const Case& c : cases) {
    INFO(c.status.message());
    CHECK(ExitStatusOf(c.status) == c.exit);
    CHECK(IsRetryLater(c.status.code()) == c.retry_later);
  }
  // Context keeps the code (and so the exit code).
  CHECK(ExitStatusOf(Status::Busy("x").WithContext("store app")) == 75);
}

}  // namespace
}  // namespace retention
