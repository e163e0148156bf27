// A host that has run alone on its SQLite state joining a fleet whose
// PostgreSQL state already exists (`retention state migrate --join`,
// issue 15).
//
// One chain cannot be spliced into another, so the joining host's purge
// log stays where it is, in its SQLite file, as the record of what it did
// alone (verified, its head printed, and not written to again once the
// config names the shared state). What must not stay behind is what binds
// the future: every hold in force in it is placed in the shared state,
// with its terms and its placing time, by an ordinary `hold_placed` entry
// naming this host, under the fleet's hold barrier, so it binds every host
// from the moment the command returns. A hold the shared state already has
// in force with the same terms (legal placed it on each host) is not placed
// twice.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "state/state_db.h"
#include "state/state_locks.h"
#include "util/status.h"

namespace retention {

struct FleetJoinReport {
  std::vector<std::pair<int64_t, int64_t>> placed;   // (hold id here, its id in the shared state)
  std::vector<std::pair<int64_t, int64_t>> already;  // (hold id here, the same hold in force there)
  int64_t requests_not_done = 0;                     // erasure requests left unfinished here
  LedgerHead head;                                   // the joining ledger's head, unchanged
};

// `source` is the joining host's state (verified by the caller, its run
// lock held); `shared` and `locks` the fleet's state as `host`. A source
// with unfinished work (a run left running, a pending or open batch) is
// refused, Busy, nothing placed: its next purge reconciles it against its
// own targets first. So is a shared state with no runs and no ledger (an
// empty schema): Invalid, since a plain migrate keeps the whole log there;
// and a `host` name some run in the shared state already has (Invalid: two
// machines under one name would share a run lock and reconcile each
// other's batches against their own disks).
Result<FleetJoinReport> JoinFleetState(StateDb& source, StateDb& shared, StateLocks& locks, const std::string& host);

}  // namespace retention
