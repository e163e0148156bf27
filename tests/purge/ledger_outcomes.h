// What the ledger says happened to each record, for the purge tests: the
// per-record `delete` and `kept` entries written before the packed batch
// entry, and the batch entries (ledger/batch_entry.h) with the settlements
// later entries carry. Read through the engine's decoder; the independent
// check is tests/support/ledger_checker.h.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger/batch_entry.h"
#include "ledger/kept_reason.h"
#include "state/sqlite_state_db.h"

namespace retention {

// One batch entry and what its settlement says.
struct BatchOutcome {
  int64_t seq = 0;
  int64_t run_id = 0;
  int64_t batch = 0;  // the run's batch number
  size_t candidates = 0;
  size_t deleted = 0;
  bool settled = false;
};

struct LedgerOutcomes {
  std::vector<BatchOutcome> batches;
  std::multiset<std::string> deleted;             // a key per deletion claimed
  std::multiset<std::pair<std::string, std::string>> deleted_clocks;  // (key, clock) per deletion claimed
  std::set<std::string> replaced;                 // keys reconciled as gone under another identity
  std::map<std::string, std::set<std::string>> deleted_in;  // "store/target" -> keys claimed deleted
  std::map<std::string, nlohmann::json> kept;     // key -> the kept detail ({"why","reason",...})
  std::map<std::string, std::string> subject;     // key -> "kind:id" as the batch named it
  std::set<std::string> candidates;               // every key a batch entry names
  std::vector<int64_t> open;                      // batch entries not settled
  int64_t batch_entries = 0;
  int64_t reconciled_settlements = 0;
};

inline LedgerOutcomes ReadLedgerOutcomes(const std::filesystem::path& state_db) {
  auto state = OpenSqliteStateDb(state_db, /*read_only=*/true);
  REQUIRE(state.ok());
  std::map<int64_t, BatchPayload> batches;
  std::map<int64_t, BatchOutcome> heads;
  std::map<int64_t, std::string> where;  // batch seq -> "store/target"
  std::map<int64_t, Settlement> settled;
  LedgerOutcomes out;
  Status scanned = (*state)->ScanLedger(1, [&](LedgerEntry& e) {
    if (e.kind == LedgerKind::kDelete) {
      out.deleted.insert(e.record_key);
      out.deleted_clocks.insert({e.record_key, e.clock});
      out.deleted_in[e.store + "/" + e.target].insert(e.record_key);
      if (e.detail.find("\"replaced\":true") != std::string::npos) out.replaced.insert(e.record_key);
    }
    if (e.kind == LedgerKind::kKept) out.kept[e.record_key] = nlohmann::json::parse(e.detail);
    if (e.kind == LedgerKind::kBatch) {
      auto payload = DecodeBatchPayload(e.payload);
      REQUIRE(payload.ok());
      where[e.seq] = e.store + "/" + e.target;
      heads[e.seq] = BatchOutcome{e.seq, e.run_id, e.batch, payload->records.size(), 0, false};
      batches[e.seq] = std::move(*payload);
      ++out.batch_entries;
    }
    auto settles = SettlementsOf(e.detail);
    REQUIRE(settles.ok());
    for (Settlement& s : *settles) {
      REQUIRE(settled.count(s.batch_seq) == 0);  // at most once
      REQUIRE(s.batch_seq < e.seq);              // by a later entry
      if (s.reconciled) ++out.reconciled_settlements;
      settled[s.batch_seq] = std::move(s);
    }
    return true;
  });
  REQUIRE(scanned.ok());
  for (const auto& [seq, payload] : batches) {
    for (const BatchRecord& r : payload.records) {
      out.candidates.insert(r.key);
      if (!r.subject.empty()) out.subject[r.key] = payload.subject_kind + ":" + r.subject;
    }
    BatchOutcome& head = heads[seq];
    auto it = settled.find(seq);
    if (it == settled.end()) {
      out.open.push_back(seq);
      out.batches.push_back(head);
      continue;
    }
    head.settled = true;
    std::set<uint32_t> kept;
    for (const Settlement::Kept& k : it->second.kept) {
      REQUIRE(k.index < payload.records.size());
      kept.insert(k.index);
      out.kept[payload.records[k.index].key] = nlohmann::json::parse(KeptDetail(k.reason));
    }
    for (uint32_t i : it->second.replaced) {
      REQUIRE(it->second.reconciled);
      REQUIRE(i < payload.records.size());
      out.replaced.insert(payload.records[i].key);
    }
    for (uint32_t i = 0; i < payload.records.size(); ++i) {
      if (kept.count(i)) continue;
      out.deleted.insert(payload.records[i].key);
      out.deleted_clocks.insert({payload.records[i].key, payload.records[i].clock});
      out.deleted_in[where[seq]].insert(payload.records[i].key);
      ++head.deleted;
    }
    out.batches.push_back(head);
  }
  return out;
}

}  // namespace retention
