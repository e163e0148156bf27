#include "state/state_locks.h"

#include <spdlog/spdlog.h>

#include <functional>

namespace retention {

Status WriteUnderHoldBarrier(StateLocks& locks, StateDb& state, const std::function<Status()>& write,
                             std::chrono::milliseconds timeout) {
  {
    auto barrier = locks.ExcludeHoldBarrier(timeout);
    if (!barrier.ok()) return barrier.status();
    RETENTION_RETURN_IF_ERROR(write());
    // Still held after the commit: it was held throughout, so no batch
    // read the holds between our taking it and the commit.
    if (Status held = barrier->Confirm(); !held.ok()) {
      spdlog::warn("the hold barrier was lost before the hold was committed ({}); taking it again so that "
                   "the batches that ran meanwhile finish first",
                   held.message());
      { HoldBarrier::Guard lost = std::move(*barrier); }  // released
      auto again = locks.ExcludeHoldBarrier(timeout);
      if (!again.ok()) {
        return again.status().WithContext(
            "the hold is recorded, but batches that did not see it may still be deleting; run the command again "
            "to be sure they have finished");
      }
    }
  }
  return locks.AwaitBarrierLosers(state);
}

}  // namespace retention
