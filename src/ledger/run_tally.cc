#include "ledger/run_tally.h"

#include "ledger/batch_entry.h"
#include "ledger/kept_reason.h"

namespace retention {

bool KeptByHoldDetail(const std::string& detail) {
  if (auto parsed = ParseKeptDetail(detail); parsed && parsed->why) return KeptByHold(*parsed->why);
  return detail.find("\"held by hold") != std::string::npos || detail.find("held under") != std::string::npos;
}

Status TallyEntry(const LedgerEntry& entry, const BatchFactsLookup& batch_of, const TallyAdd& add) {
  if (entry.run_id != 0 && entry.kind == LedgerKind::kDelete)
    RETENTION_RETURN_IF_ERROR(add(entry.run_id, entry.category, RecordTally{1, 0, 0}));
  if (entry.run_id != 0 && entry.kind == LedgerKind::kKept)
    RETENTION_RETURN_IF_ERROR(
        add(entry.run_id, entry.category, RecordTally{0, 1, KeptByHoldDetail(entry.detail) ? 1 : 0}));
  if (entry.detail.find("\"settles\"") == std::string::npos) return Status::Ok();
  auto settles = SettlementsOf(entry.detail);
  if (!settles.ok()) return settles.status();
  for (const Settlement& s : *settles) {
    auto batch = batch_of(s.batch_seq);
    if (!batch.ok()) return batch.status();
    if (!*batch || (*batch)->run_id == 0) continue;
    RecordTally t;
    t.kept = static_cast<int64_t>(s.kept.size());
    for (const Settlement::Kept& k : s.kept)
      if (KeptByHold(k.reason.why)) ++t.kept_by_hold;
    t.deleted = static_cast<int64_t>((*batch)->records) - t.kept;
    RETENTION_RETURN_IF_ERROR(add((*batch)->run_id, (*batch)->category, t));
  }
  return Status::Ok();
}

}  // namespace retention
