// What the ledger's verifier and readers need from wherever the ledger is
// stored: its entries in seq order, and its head. The state database
// (state/state_db.h) implements it; the ledger layer never names the state.
#pragma once

#include <cstdint>
#include <functional>

#include "ledger/ledger_entry.h"
#include "util/status.h"

namespace retention {

class LedgerReader {
 public:
  virtual ~LedgerReader() = default;

  // Streams entries with seq >= `from_seq` in seq order; the callback
  // returns false to stop. The entry passed is only valid during the call;
  // the callback may take its fields (swap them out) rather than copy them.
  // An entry that cannot be decoded (a NULL field, an unknown kind) is an
  // AuditFailed status.
  virtual Status ScanLedger(int64_t from_seq, const std::function<bool(LedgerEntry&)>& visit) = 0;

  // The last entry's seq, hash and time ({0, 64 zeros} when the ledger is
  // empty).
  virtual Result<LedgerHead> Head() = 0;
};

}  // namespace retention
