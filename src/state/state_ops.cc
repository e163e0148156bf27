#include "state/state_ops.h"

#include <algorithm>
#include <memory>
#include <set>

#include "ledger/anchor.h"
#include "ledger/chain_writer.h"
#include "ledger/ledger_payloads.h"
#include "util/json_text.h"

namespace retention {
namespace {

// Chains `entries` onto the head read inside `txn` and inserts them, each
// anchor with its row in the anchors index.
Status AppendIn(StateDb& state, StateAppend& txn, std::vector<LedgerEntry>* entries) {
  if (entries->empty()) return Status::Ok();
  auto head = txn.Head();
  if (!head.ok()) return head.status();
  ChainWriter writer([&state] { return state.Now(); });
  RETENTION_RETURN_IF_ERROR(writer.Chain(*head, entries));
  RETENTION_RETURN_IF_ERROR(txn.Insert(*entries));
  for (const LedgerEntry& e : *entries) {
    if (e.kind != LedgerKind::kAnchor) continue;
    auto anchor = ReadAnchor(e);
    if (!anchor.ok()) return Status::Internal("appending an unreadable anchor: " + anchor.status().message());
    RETENTION_RETURN_IF_ERROR(txn.RecordAnchor(e.seq, anchor->through));
  }
  return Status::Ok();
}

LedgerEntry NewEntry(LedgerKind kind, int64_t run_id, std::string detail) {
  LedgerEntry e;
  e.kind = kind;
  e.run_id = run_id;
  e.detail = std::move(detail);
  return e;
}

Status AppendOneIn(StateDb& state, StateAppend& txn, LedgerEntry entry) {
  std::vector<LedgerEntry> v;
  v.push_back(std::move(entry));
  return AppendIn(state, txn, &v);
}

// `detail` (a JSON object, or "") with `settles` as its "settles" member.
Result<std::string> WithSettles(const std::string& detail, const std::vector<Settlement>& settles) {
  if (settles.empty()) return detail;
  nlohmann::json j = nlohmann::json::object();
  if (!detail.empty()) {
    j = nlohmann::json::parse(detail, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return Status::Internal("a settling entry's detail is not a JSON object: " + detail);
  }
  if (j.contains("settles")) return Status::Internal("a settling entry's detail already has \"settles\"");
  j["settles"] = SettlementsJson(settles);
  return DumpJson(j);
}

// Closes the batches `settles` names, inside `txn`: Internal when one is not
// open (never indexed, or settled before), which aborts the transaction.
Status CloseSettled(StateAppend& txn, const std::vector<Settlement>& settles) {
  for (const Settlement& s : settles) RETENTION_RETURN_IF_ERROR(txn.CloseBatch(s.batch_seq));
  return Status::Ok();
}

}  // namespace

Result<int64_t> AddHold(StateDb& state, const Hold& hold, const std::string& host) {
  Hold h = hold;
  if (h.placed_at == Timestamp{}) h.placed_at = state.Now();
  h.released_at.reset();
  h.released_by.clear();
  h.release_reason.clear();
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  auto id = (*txn)->InsertHold(h);
  if (!id.ok()) return id.status();
  h.id = *id;
  RETENTION_RETURN_IF_ERROR(AppendOneIn(state, **txn, NewEntry(LedgerKind::kHoldPlaced, 0, EncodeHoldPlaced(h, host))));
  RETENTION_RETURN_IF_ERROR((*txn)->Commit());
  return h.id;
}

Status ReleaseHold(StateDb& state, int64_t id, const std::string& by, const std::string& reason, Timestamp at,
                   const std::string& host) {
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  auto released = (*txn)->MarkHoldReleased(id, by, reason, at);
  if (!released.ok()) return released.status();
  const std::string detail = EncodeHoldReleased({id, released->matter, by, reason, at, host});
  RETENTION_RETURN_IF_ERROR(AppendOneIn(state, **txn, NewEntry(LedgerKind::kHoldReleased, 0, detail)));
  return (*txn)->Commit();
}

Result<int64_t> BeginRun(StateDb& state, const RunInfo& info) {
  RunInfo run = info;
  if (run.started_at == Timestamp{}) run.started_at = state.Now();
  if (run.outcome.empty()) run.outcome = "running";
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  auto id = (*txn)->InsertRun(run);
  if (!id.ok()) return id.status();
  run.id = *id;
  const std::string detail = EncodeRunStart({run.user, run.host, run.version, run.rules_hash, run.command,
                                             FormatTimestamp(run.as_of), FormatTimestamp(run.started_at)});
  RETENTION_RETURN_IF_ERROR(AppendOneIn(state, **txn, NewEntry(LedgerKind::kRunStart, run.id, detail)));
  RETENTION_RETURN_IF_ERROR((*txn)->Commit());
  return run.id;
}

Status EndRun(StateDb& state, int64_t run_id, const std::string& outcome, int exit_code,
              const std::string& detail_json, const std::vector<Settlement>& settles,
              const ErasureRequest* request) {
  RunEndPayload end;
  if (!detail_json.empty()) {
    end.more = nlohmann::json::parse(detail_json, nullptr, /*allow_exceptions=*/false);
    if (!end.more.is_object()) return Status::Internal("EndRun: detail is not a JSON object: " + detail_json);
  }
  if (!settles.empty()) end.more["settles"] = SettlementsJson(settles);
  end.outcome = outcome;
  end.exit_code = exit_code;
  const Timestamp now = state.Now();
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  RETENTION_RETURN_IF_ERROR((*txn)->FinishRun(run_id, outcome, exit_code, now));
  if (request) RETENTION_RETURN_IF_ERROR((*txn)->PutErasureRequest(*request));
  RETENTION_RETURN_IF_ERROR(CloseSettled(**txn, settles));
  LedgerEntry entry = NewEntry(LedgerKind::kRunEnd, run_id, EncodeRunEnd(end));
  entry.at = now;
  RETENTION_RETURN_IF_ERROR(AppendOneIn(state, **txn, std::move(entry)));
  return (*txn)->Commit();
}

// The entry, its index row and the closes commit together: a batch is
// never open without its entry, nor settled without its settlement. The
// state database is synchronous=FULL (state/sqlite_state_db.cc), so when
// Commit returns the intent is on disk: the executor may then delete.
Result<int64_t> AppendBatch(StateDb& state, LedgerEntry entry, const BatchIndexRow& index,
                            const std::vector<Settlement>& settles) {
  if (entry.kind != LedgerKind::kBatch) return Status::Internal("AppendBatch: the entry is not of kind batch");
  if (entry.payload.empty()) return Status::Internal("AppendBatch: the batch entry has no payload");
  auto detail = WithSettles(entry.detail, settles);
  if (!detail.ok()) return detail.status();
  entry.detail = std::move(*detail);
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  // Closed before the new entry is indexed: no batch settles itself.
  RETENTION_RETURN_IF_ERROR(CloseSettled(**txn, settles));
  std::vector<LedgerEntry> v;
  v.push_back(std::move(entry));
  RETENTION_RETURN_IF_ERROR(AppendIn(state, **txn, &v));
  const int64_t seq = v.front().seq;
  RETENTION_RETURN_IF_ERROR((*txn)->IndexBatch(seq, index));
  RETENTION_RETURN_IF_ERROR((*txn)->Commit());
  return seq;
}

Status AppendSettling(StateDb& state, LedgerEntry entry, const std::vector<Settlement>& settles) {
  if (entry.kind == LedgerKind::kBatch) return Status::Internal("AppendSettling: a batch entry is appended by AppendBatch");
  auto detail = WithSettles(entry.detail, settles);
  if (!detail.ok()) return detail.status();
  entry.detail = std::move(*detail);
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  RETENTION_RETURN_IF_ERROR(CloseSettled(**txn, settles));
  RETENTION_RETURN_IF_ERROR(AppendOneIn(state, **txn, std::move(entry)));
  return (*txn)->Commit();
}

Status RecordErasure(StateDb& state, LedgerEntry entry, const ErasureRequest& request) {
  if (entry.kind != LedgerKind::kErase) return Status::Internal("RecordErasure: the entry is not of kind erase");
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  RETENTION_RETURN_IF_ERROR(AppendOneIn(state, **txn, std::move(entry)));
  // A new request starts at this entry (a known one keeps its first_seq:
  // PutErasureRequest never changes it).
  auto head = (*txn)->Head();
  if (!head.ok()) return head.status();
  ErasureRequest row = request;
  row.first_seq = head->seq;
  RETENTION_RETURN_IF_ERROR((*txn)->PutErasureRequest(row));
  return (*txn)->Commit();
}

Status MarkRunCrashed(StateDb& state, int64_t run_id) {
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  RETENTION_RETURN_IF_ERROR((*txn)->MarkRunCrashed(run_id));
  const Timestamp now = state.Now();
  LedgerEntry entry = NewEntry(LedgerKind::kRunEnd, run_id, EncodeRunEnd(RunCrashedPayload(now)));
  entry.at = now;
  RETENTION_RETURN_IF_ERROR(AppendOneIn(state, **txn, std::move(entry)));
  return (*txn)->Commit();
}

Status SettlePending(StateDb& state, int64_t pending_id, const std::vector<LedgerEntry>& entries) {
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  RETENTION_RETURN_IF_ERROR((*txn)->RemovePending(pending_id));
  std::vector<LedgerEntry> copy = entries;
  RETENTION_RETURN_IF_ERROR(AppendIn(state, **txn, &copy));
  return (*txn)->Commit();
}

Result<std::vector<int64_t>> UnsettledBatches(StateDb& state) {
  std::set<int64_t> open;
  Status bad = Status::Ok();
  RETENTION_RETURN_IF_ERROR(
      state.ScanBatchesAndSettlements([&](int64_t seq, LedgerKind kind, const std::string& detail) {
        // Settlements first: an entry never settles itself.
        if (detail.find("\"settles\"") != std::string::npos) {
          auto settles = SettlementsOf(detail);
          if (!settles.ok()) {
            bad = settles.status().WithContext("ledger entry " + std::to_string(seq));
            return false;
          }
          for (const Settlement& s : *settles) open.erase(s.batch_seq);
        }
        if (kind == LedgerKind::kBatch) open.insert(seq);
        return true;
      }));
  RETENTION_RETURN_IF_ERROR(bad);
  return std::vector<int64_t>(open.begin(), open.end());
}

namespace {

// Drops from `seqs` the batch entries of runs outside `runs`.
Status KeepBatchesOfRuns(StateDb& state, const std::set<int64_t>& runs, std::vector<int64_t>* seqs) {
  std::vector<int64_t> kept;
  for (int64_t seq : *seqs) {
    auto entry = state.ReadEntry(seq);
    if (!entry.ok()) return entry.status();
    if (!*entry || runs.count((*entry)->run_id)) kept.push_back(seq);
  }
  *seqs = std::move(kept);
  return Status::Ok();
}

}  // namespace

Result<std::vector<int64_t>> CheckedOpenBatches(StateDb& state, const std::set<int64_t>* runs) {
  auto indexed = state.OpenBatches();
  if (!indexed.ok()) return indexed.status();
  auto unsettled = UnsettledBatches(state);
  if (!unsettled.ok()) return unsettled.status();
  if (runs) {
    RETENTION_RETURN_IF_ERROR(KeepBatchesOfRuns(state, *runs, &*indexed));
    RETENTION_RETURN_IF_ERROR(KeepBatchesOfRuns(state, *runs, &*unsettled));
  }
  if (*indexed == *unsettled) return std::move(*indexed);
  const auto [in_index, in_ledger] = std::mismatch(indexed->begin(), indexed->end(), unsettled->begin(), unsettled->end());
  const bool index_only = in_ledger == unsettled->end() || (in_index != indexed->end() && *in_index < *in_ledger);
  const int64_t seq = index_only ? *in_index : *in_ledger;
  return Status::AuditFailed(
      "the ledger's batch index disagrees with the ledger: batch entry " + std::to_string(seq) +
      (index_only ? " is open in the index but settled in the ledger" : " is settled by no entry, yet the index does not list it open") +
      "; the state database was changed outside retention (run `audit verify`); nothing was reconciled");
}

Status Append(StateDb& state, std::vector<LedgerEntry> entries) {
  if (entries.empty()) return Status::Ok();
  auto txn = state.BeginAppend();
  if (!txn.ok()) return txn.status();
  RETENTION_RETURN_IF_ERROR(AppendIn(state, **txn, &entries));
  return (*txn)->Commit();
}

Status RequireNoUnfinishedWork(StateDb& state, const std::string& then_what) {
  auto unfinished = state.UnfinishedRuns();
  if (!unfinished.ok()) return unfinished.status();
  auto pending = state.ListPending();
  if (!pending.ok()) return pending.status();
  auto open = state.OpenBatches();
  if (!open.ok()) return open.status();
  if (unfinished->empty() && pending->empty() && open->empty()) return Status::Ok();
  return Status::Busy(
      "the state has unfinished work (a run left running, or batches not yet reconciled): run 'retention purge' on "
      "this host first, which reconciles them against its targets, then " + then_what);
}

}  // namespace retention
