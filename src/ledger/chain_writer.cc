#include "ledger/chain_writer.h"

#include <string>

namespace retention {

Status ChainWriter::Chain(const LedgerHead& head, std::vector<LedgerEntry>* entries) {
  if (entries->empty()) return Status::Ok();
  const Timestamp now = clock_();
  int64_t seq = head.seq;
  // An empty ledger's head may come with no hash: entry 1 links to the
  // genesis hash either way.
  std::string prev = head.seq == 0 ? std::string(kGenesisHash) : head.hash;
  for (LedgerEntry& e : *entries) {
    if (!LedgerKindFromName(LedgerKindName(e.kind))) {
      return Status::Internal("ledger entry with an invalid kind " + std::to_string(static_cast<int>(e.kind)));
    }
    e.seq = ++seq;
    if (e.at == Timestamp{}) e.at = now;
    e.prev_hash = prev;
    hasher_.Hash(e, &e.hash);
    prev = e.hash;
  }
  return Status::Ok();
}

}  // namespace retention
