// Copying a whole state into an empty PostgreSQL state (`retention state
// migrate`, issue 15): how a host that has run alone on its SQLite state
// joins a fleet without losing its holds or starting a new purge log.
//
// The copy keeps everything that names something: hold and run ids (the
// ledger's entries and the operators' commands refer to them), every
// ledger entry's seq, hashes and payload byte for byte (the chain is the
// evidence: re-chaining would make a new one), the anchors, erasure
// requests. The PostgreSQL state's own indexes (batch index, subjects,
// settlements) are rebuilt from the copied entries by the same rules its
// appends follow, not copied from the source's, which are not evidence.
#pragma once

#include <cstdint>

#include "ledger/ledger_entry.h"
#include "state/postgres_state_db.h"
#include "state/state_db.h"
#include "util/status.h"

namespace retention {

struct StateCopyReport {
  int64_t entries = 0;  // ledger entries copied
  int64_t holds = 0, runs = 0, erasure_requests = 0, anchors = 0;
  LedgerHead head;  // the copied ledger's head (the source's, unchanged)
};

// Copies `source` into the PostgreSQL state `target` names, in one
// transaction: nothing is left half copied. The target schema is created
// when missing; one that holds anything (a ledger entry, a hold, a run, an
// erasure request) is refused, Invalid. A source with unfinished work (a
// run still "running", a pending or an open batch) is refused, Busy: its
// reconciliation needs the targets of the host that ran it, so it happens
// there first (the next purge does it). A source whose ledger head moved
// while it was copied is refused, Busy, and nothing is written. The chain
// itself is not judged here: the caller verifies source and copy.
Result<StateCopyReport> CopyStateIntoPostgres(StateDb& source, const PostgresStateDbOptions& target);

}  // namespace retention
