#include "state/chained_entries.h"

#include <string>
#include <string_view>

namespace retention {

Status CheckChainedOnto(const LedgerHead& head, const std::vector<LedgerEntry>& entries) {
  int64_t seq = head.seq;
  std::string_view prev = head.hash;
  for (const LedgerEntry& e : entries) {
    if (e.seq != seq + 1 || e.prev_hash != prev) {
      return Status::Internal("refusing to append ledger entry " + std::to_string(e.seq) +
                              ": it is not chained onto the ledger's head (entry " + std::to_string(seq) +
                              "); another process appended since its head was read?");
    }
    if (!LedgerKindFromName(LedgerKindName(e.kind))) {
      return Status::Internal("ledger entry with an invalid kind " + std::to_string(static_cast<int>(e.kind)));
    }
    seq = e.seq;
    prev = e.hash;
  }
  return Status::Ok();
}

}  // namespace retention
