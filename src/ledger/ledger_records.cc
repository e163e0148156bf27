#include "ledger/ledger_records.h"

#include <algorithm>
#include <vector>

#include "ledger/ledger_reader.h"

namespace retention {

const char* LedgerRecord::OutcomeName() const {
  switch (outcome) {
    case Outcome::kDeleted: return "deleted";
    case Outcome::kKept: return "kept";
    case Outcome::kReplaced: return "replaced";
    case Outcome::kPending: return "pending";
  }
  return "pending";
}

std::optional<LedgerRecord> PerRecordRow(const LedgerEntry& entry) {
  if (entry.kind != LedgerKind::kDelete && entry.kind != LedgerKind::kKept) return std::nullopt;
  LedgerRecord r;
  r.outcome = entry.kind == LedgerKind::kDelete ? LedgerRecord::Outcome::kDeleted : LedgerRecord::Outcome::kKept;
  r.entry = entry;
  return r;
}

Result<bool> RecordStream::Add(const LedgerEntry& e) {
  if (e.kind == LedgerKind::kDelete || e.kind == LedgerKind::kKept) {
    row_ = LedgerRecord{};
    row_.outcome = e.kind == LedgerKind::kDelete ? LedgerRecord::Outcome::kDeleted : LedgerRecord::Outcome::kKept;
    row_.entry = e;
    if (!visit_(row_)) return false;
  }
  if (e.detail.find("\"settles\"") != std::string::npos && !open_.empty()) {
    auto settles = SettlementsOf(e.detail);
    if (!settles.ok()) return settles.status();
    for (const Settlement& s : *settles) {
      auto it = open_.find(s.batch_seq);
      if (it == open_.end()) continue;  // pruned, or not wanted
      const bool go_on = Emit(it->second, &s, &e);
      open_.erase(it);
      if (!go_on) return false;
    }
  }
  if (e.kind == LedgerKind::kBatch && (!want_ || want_(e))) {
    auto payload = DecodeBatchPayload(e.payload);
    if (!payload.ok())
      return Status::AuditFailed("batch entry " + std::to_string(e.seq) + ": " + payload.status().message());
    Open& open = open_[e.seq];
    open.entry = e;
    open.entry.payload.clear();
    open.payload = std::move(*payload);
  }
  return true;
}

bool RecordStream::Emit(Open& open, const Settlement* settlement, const LedgerEntry* by) {
  const size_t n = open.payload.records.size();
  // Per candidate: 0 deleted, else 1 + the kept item's place, or replaced.
  std::vector<uint32_t> how(n, 0);
  constexpr uint32_t kReplaced = UINT32_MAX;
  if (settlement != nullptr) {
    for (size_t k = 0; k < settlement->kept.size(); ++k)
      if (settlement->kept[k].index < n) how[settlement->kept[k].index] = static_cast<uint32_t>(k + 1);
    for (uint32_t i : settlement->replaced)
      if (i < n) how[i] = kReplaced;
  }
  const std::string kind_prefix = open.payload.subject_kind.empty() ? "" : open.payload.subject_kind + ":";
  for (size_t i = 0; i < n; ++i) {
    const BatchRecord& rec = open.payload.records[i];
    LedgerRecord& r = row_;
    r = LedgerRecord{};
    r.entry = open.entry;
    r.entry.record_key = rec.key;
    r.entry.clock = rec.clock;
    r.entry.subject = rec.subject.empty() ? "" : kind_prefix + rec.subject;
    r.entry.detail.clear();
    r.batch_seq = open.entry.seq;
    r.index = static_cast<uint32_t>(i);
    r.identity = rec.identity;
    if (settlement == nullptr) {
      r.outcome = LedgerRecord::Outcome::kPending;
      r.entry.kind = LedgerKind::kBatch;
    } else {
      r.settled_seq = by->seq;
      r.settled_at = by->at;
      r.reconciled = settlement->reconciled;
      if (how[i] == 0) {
        r.outcome = LedgerRecord::Outcome::kDeleted;
        r.entry.kind = LedgerKind::kDelete;
      } else if (how[i] == kReplaced) {
        r.outcome = LedgerRecord::Outcome::kReplaced;
        r.entry.kind = LedgerKind::kDelete;
      } else {
        r.outcome = LedgerRecord::Outcome::kKept;
        r.entry.kind = LedgerKind::kKept;
        r.entry.detail = KeptDetail(settlement->kept[how[i] - 1].reason);
      }
    }
    if (!visit_(r)) return false;
  }
  return true;
}

bool RecordStream::Finish() {
  // In seq order, so that output is stable.
  std::vector<int64_t> seqs;
  seqs.reserve(open_.size());
  for (const auto& [seq, open] : open_) seqs.push_back(seq);
  std::sort(seqs.begin(), seqs.end());
  for (int64_t seq : seqs) {
    if (!Emit(open_[seq], nullptr, nullptr)) return false;
  }
  open_.clear();
  return true;
}

Status ScanRecords(LedgerReader& ledger, int64_t from_seq, const RecordStream::Visit& visit,
                   std::function<bool(const LedgerEntry&)> want,
                   const std::function<bool(const LedgerEntry&)>& on_entry) {
  RecordStream stream(visit, std::move(want));
  Status failed;
  bool stopped = false;
  RETENTION_RETURN_IF_ERROR(ledger.ScanLedger(from_seq, [&](const LedgerEntry& e) {
    if (on_entry && !on_entry(e)) {
      stopped = true;
      return false;
    }
    auto go_on = stream.Add(e);
    if (!go_on.ok()) {
      failed = go_on.status();
      return false;
    }
    if (!*go_on) stopped = true;
    return *go_on;
  }));
  if (!failed.ok()) return failed;
  if (!stopped) stream.Finish();
  return Status::Ok();
}

}  // namespace retention
