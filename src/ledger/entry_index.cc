#include "ledger/entry_index.h"

#include <algorithm>

#include "ledger/batch_entry.h"

namespace retention {

Result<EntryIndexRows> IndexRowsOf(const LedgerEntry& entry) {
  EntryIndexRows rows;
  if (entry.kind == LedgerKind::kBatch) {
    auto payload = SubjectsOfPayload(entry.payload);
    if (!payload.ok())
      return Status::AuditFailed("batch entry " + std::to_string(entry.seq) + ": " + payload.status().message());
    const std::string prefix = payload->kind.empty() ? "" : payload->kind + ":";
    rows.subjects.reserve(payload->ids.size());
    for (const std::string& id : payload->ids)
      if (!id.empty()) rows.subjects.push_back(prefix + id);
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

int SubjectBucket(std::string_view subject) {
  uint32_t h = 2166136261u;
  for (unsigned char c : subject) {
    h ^= c;
    h *= 16777619u;
  }
  return static_cast<int>(h % kSubjectBuckets);
}

}  // namespace retention
