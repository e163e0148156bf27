#include "ledger/entry_index.h"

#include <algorithm>

#include "ledger/batch_entry.h"

namespace retention {

Result<EntryIndexRows> IndexRowsOf(const LedgerEntry& entry) {
  EntryIndexRows rows;
  if (entry.kind == LedgerKind::kBatch) {
    auto payload = DecodeBatchPayload(entry.payload);
    if (!payload.ok())
      return Status::AuditFailed("batch entry " + std::to_string(entry.seq) + ": " + payload.status().message());
    const std::string prefix = payload->subject_kind.empty() ? "" : payload->subject_kind + ":";
    for (const BatchRecord& r : payload->records)
      if (!r.subject.empty()) rows.subjects.push_back(prefix + r.subject);
    std::sort(rows.subjects.begin(), rows.subjects.end());
    rows.subjects.erase(std::unique(rows.subjects.begin(), rows.subjects.end()), rows.subjects.end());
  }
  if (entry.detail.find("\"settles\"") != std::string::npos) {
    auto settles = SettlementsOf(entry.detail);
    if (!settles.ok()) return settles.status();
    for (const Settlement& s : *settles) rows.settles.push_back(s.batch_seq);
  }
  return rows;
}

}  // namespace retention
