// The check every StateAppend::Insert makes before it stores anything
// (state/state_db.h): entries chained onto a head other than the one read
// inside the append transaction are refused, so that a stale head can never
// fork the chain, whatever the backend.
#pragma once

#include <vector>

#include "ledger/ledger_entry.h"
#include "util/status.h"

namespace retention {

// Ok when the first of `entries` follows `head` (seq + 1, prev_hash = its
// hash), each next one follows the one before, and every kind is known;
// Internal naming the entry otherwise.
Status CheckChainedOnto(const LedgerHead& head, const std::vector<LedgerEntry>& entries);

}  // namespace retention
