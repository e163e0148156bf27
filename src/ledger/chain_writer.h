// Chaining new entries onto a ledger: the one place that assigns seq,
// prev_hash and hash (the layout hashed is written out at the top of
// ledger.cc).
//
// The storage reads the head inside the transaction that will insert the
// entries (state/state_db.h, StateAppend) and refuses entries that do not
// follow it, so entries chained on a stale head can never be inserted.
#pragma once

#include <functional>
#include <vector>

#include "calendar/timestamp.h"
#include "ledger/ledger.h"
#include "ledger/ledger_entry.h"
#include "util/status.h"

namespace retention {

class ChainWriter {
 public:
  // `clock` stamps entries whose `at` is unset (the epoch); it is read once
  // per Chain call, so a batch shares one time.
  explicit ChainWriter(std::function<Timestamp()> clock) : clock_(std::move(clock)) {}

  // Chains `entries` after `head`: seq head.seq+1, +2 ..., prev_hash the
  // hash of the entry before (head.hash for the first), hash over them.
  // Any seq, prev_hash or hash passed in is replaced. Internal when an
  // entry's kind is not one of LedgerKind's.
  Status Chain(const LedgerHead& head, std::vector<LedgerEntry>* entries);

 private:
  std::function<Timestamp()> clock_;
  EntryHasher hasher_;
};

}  // namespace retention
