// A ledger verified as `audit verify` does it, for every command that
// states a verify result (audit verify, audit checkpoint, report): the
// hash chain (against a checkpoint when given), the schedules the anchors
// claim against the checkpoint's pin and the rules
// (audit/anchor_schedule.h), and the state's own tables against the
// ledger (audit/state_cross_check.h).
#pragma once

#include <string>
#include <vector>

#include "audit/checkpoint.h"
#include "config/config.h"
#include "ledger/ledger.h"
#include "ledger/ledger_reader.h"
#include "state/state_db.h"
#include "util/status.h"

namespace retention::audit {

struct FullVerification {
  VerifyReport report;  // .ok false when any check failed
  std::vector<std::string> warnings;
};

// Reads the ledger through `reader` (the state itself, or a wrapper that
// shows progress) and the state's tables from `state`. `checkpoint` may be
// null. With `accept_anchor_schedules`, an anchor that pruned under a
// shorter schedule than the rules' is a warning, not a failure.
Result<FullVerification> VerifyFully(const Config& config, StateDb& state, LedgerReader& reader,
                                     const Checkpoint* checkpoint, bool accept_anchor_schedules);

}  // namespace retention::audit
