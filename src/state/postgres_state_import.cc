#include "state/postgres_state_import.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/batch_entry.h"
#include "ledger/entry_index.h"
#include "state/chained_entries.h"
#include "state/state_ops.h"
#include "stores/postgres_connection.h"
#include "stores/postgres_selection_sql.h"

namespace retention {

namespace {

// Entries sent in one INSERT: one round trip for many rows (a statement
// takes at most 65535 parameters; a row has 17).
constexpr size_t kEntriesPerInsert = 200;
constexpr int kLedgerParams = 17;

PgParam P(int64_t v) { return std::to_string(v); }
PgParam P(Timestamp t) { return std::to_string(ToUnixMicros(t)); }
PgParam P(const std::optional<Timestamp>& t) { return t ? P(*t) : PgParam(); }

// The copy, on a connection of its own inside one transaction.
class StateCopier {
 public:
  StateCopier(StateDb& source, const PostgresStateDbOptions& target, PgConnection& conn)
      : source_(source), target_(target), conn_(conn) {}

  Result<StateCopyReport> Run();

 private:
  Status Do(std::string_view sql, const std::vector<PgParam>& params = {}) {
    auto r = conn_.ExecParams(sql, params);
    return r.ok() ? Status::Ok() : r.status();
  }
  std::string Named() const { return target_.who + ", schema " + target_.schema; }

  Status RequireEmptyTarget();
  Status CopyHolds();
  Status CopyRuns();
  Status CopyErasureRequests();
  Status CopyLedger();
  Status FlushEntries();
  Status IndexEntry(const LedgerEntry& e);
  Status CopyAnchors();
  Status RestartIdentity(const char* table, int64_t max_id);
  std::string ByteaText(std::string_view bytes);

  StateDb& source_;
  const PostgresStateDbOptions& target_;
  PgConnection& conn_;
  StateCopyReport report_;
  std::vector<LedgerEntry> chunk_;
  std::optional<LedgerHead> chained_;  // the last entry copied
  int64_t max_hold_ = 0, max_run_ = 0;
};

// One statement under the head lock, inside the copy's transaction: a host
// that starts appending to this schema meanwhile waits for the copy, and
// then appends onto the copied head.
Status StateCopier::RequireEmptyTarget() {
  RETENTION_RETURN_IF_ERROR(Do("SELECT value FROM meta WHERE key = 'schema_version' FOR UPDATE"));
  auto r = conn_.ExecParams(
      "SELECT EXISTS(SELECT 1 FROM ledger) OR EXISTS(SELECT 1 FROM holds) OR EXISTS(SELECT 1 FROM runs) "
      "OR EXISTS(SELECT 1 FROM erasure_requests) OR EXISTS(SELECT 1 FROM pending) "
      "OR EXISTS(SELECT 1 FROM ledger_anchors)",
      {});
  if (!r.ok()) return r.status();
  if (r->Text(0, 0) == "t") {
    return Status::Invalid(Named() +
                           " already holds a state (ledger entries, holds or runs): a state is copied only into an "
                           "empty schema; name another with --schema, or join that fleet's state with --join (this host's holds "
                           "placed there, its own log kept here). If it is this state's own copy from a migration that did not "
                           "finish (this state is not marked moved), drop it (DROP SCHEMA ... CASCADE, as its owner) "
                           "and migrate again");
  }
  return Status::Ok();
}

Status StateCopier::CopyHolds() {
  auto holds = source_.ListHolds(/*include_released=*/true);
  if (!holds.ok()) return holds.status();
  for (const Hold& h : *holds) {
    RETENTION_RETURN_IF_ERROR(
        Do("INSERT INTO holds(id, matter, reason, author, placed_at, expires_at, scope_category, scope_target, "
           "scope_subject_kind, scope_subject_id, scope_key, scope_clock_from, scope_clock_until, released_at, "
           "released_by, release_reason) OVERRIDING SYSTEM VALUE "
           "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
           {P(h.id), h.matter, h.reason, h.author, P(h.placed_at), P(h.expires_at), h.scope.category, h.scope.target,
            h.scope.subject_kind, h.scope.subject_id, h.scope.key, P(h.scope.clock_from), P(h.scope.clock_until),
            P(h.released_at), h.released_by, h.release_reason}));
    max_hold_ = std::max(max_hold_, h.id);
    ++report_.holds;
  }
  return RestartIdentity("holds", max_hold_);
}

Status StateCopier::CopyRuns() {
  auto runs = source_.ListRuns();
  if (!runs.ok()) return runs.status();
  for (const RunInfo& run : *runs) {
    RETENTION_RETURN_IF_ERROR(
        Do("INSERT INTO runs(id, started_at, ended_at, as_of, \"user\", host, version, rules_hash, command, outcome, "
           "exit_code) OVERRIDING SYSTEM VALUE VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
           {P(run.id), P(run.started_at), P(run.ended_at), P(run.as_of), run.user, run.host, run.version,
            run.rules_hash, run.command, run.outcome, P(run.exit_code)}));
    max_run_ = std::max(max_run_, run.id);
    ++report_.runs;
  }
  return RestartIdentity("runs", max_run_);
}

Status StateCopier::CopyErasureRequests() {
  auto requests = source_.ListErasureRequests();
  if (!requests.ok()) return requests.status();
  for (const ErasureRequest& r : *requests) {
    RETENTION_RETURN_IF_ERROR(
        Do("INSERT INTO erasure_requests(reference, subject, received, deadline, executed, outcome, erased, kept, "
           "last_run_id, first_seq) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
           {r.reference, r.subject, P(r.received), P(r.deadline), P(r.executed), r.outcome, P(r.erased), P(r.kept),
            P(r.last_run_id), P(r.first_seq)}));
    ++report_.erasure_requests;
  }
  return Status::Ok();
}

// The next id a new hold or run gets follows the copied ones: ids are
// never reused, in either state.
Status StateCopier::RestartIdentity(const char* table, int64_t max_id) {
  if (max_id <= 0) return Status::Ok();
  const std::string qualified = QuotePgIdent(target_.schema) + "." + QuotePgIdent(table);
  return Do("SELECT setval(pg_get_serial_sequence($1, 'id'), $2)", {qualified, P(max_id)});
}

std::string StateCopier::ByteaText(std::string_view bytes) {
  size_t length = 0;
  unsigned char* escaped = PQescapeByteaConn(conn_.raw(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                             bytes.size(), &length);
  if (escaped == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(escaped), length > 0 ? length - 1 : 0);  // without its NUL
  PQfreemem(escaped);
  return out;
}

Status StateCopier::CopyLedger() {
  Status failed = Status::Ok();
  RETENTION_RETURN_IF_ERROR(source_.ScanLedger(0, [&](LedgerEntry& e) {
    chunk_.push_back(std::move(e));
    if (chunk_.size() < kEntriesPerInsert) return true;
    failed = FlushEntries();
    return failed.ok();
  }));
  RETENTION_RETURN_IF_ERROR(failed);
  return FlushEntries();
}

// The chunk's entries, checked to continue the chain copied so far (the
// first one continues whatever the log's own retention pruned before it),
// then their index rows in entry order, as the appends wrote them.
Status StateCopier::FlushEntries() {
  if (chunk_.empty()) return Status::Ok();
  if (!chained_) chained_ = LedgerHead{chunk_.front().seq - 1, chunk_.front().prev_hash, std::nullopt};
  RETENTION_RETURN_IF_ERROR(CheckChainedOnto(*chained_, chunk_).WithContext("the source's ledger"));
  std::string sql =
      "INSERT INTO ledger(seq, at, kind, run_id, category, store, target, record_key, clock, cutoff, rule, "
      "subject, batch, detail, prev_hash, hash, payload) VALUES";
  std::vector<PgParam> params;
  params.reserve(chunk_.size() * kLedgerParams);
  for (size_t i = 0; i < chunk_.size(); ++i) {
    const LedgerEntry& e = chunk_[i];
    sql += i ? ",(" : "(";
    for (int c = 1; c <= kLedgerParams; ++c) {
      sql += '$' + std::to_string(i * kLedgerParams + c);
      sql += c == kLedgerParams ? "::bytea)" : ", ";
    }
    for (PgParam& p : std::vector<PgParam>{P(e.seq), P(e.at), std::string(LedgerKindName(e.kind)), P(e.run_id),
                                           e.category, e.store, e.target, e.record_key, e.clock, e.cutoff, e.rule,
                                           e.subject, P(e.batch), e.detail, e.prev_hash, e.hash,
                                           ByteaText(e.payload)})
      params.push_back(std::move(p));
  }
  RETENTION_RETURN_IF_ERROR(Do(sql, params));
  for (const LedgerEntry& e : chunk_) RETENTION_RETURN_IF_ERROR(IndexEntry(e));
  report_.entries += static_cast<int64_t>(chunk_.size());
  chained_ = LedgerHead{chunk_.back().seq, chunk_.back().hash, chunk_.back().at};
  chunk_.clear();
  return Status::Ok();
}

// What AppendBatch and AppendSettling write beside an entry
// (state/state_ops.cc): a batch entry's index row, open; the closes of the
// batches it settles; its subjects. An entry whose settlement or payload
// does not decode gets no rows, as in the appends; verify names it.
Status StateCopier::IndexEntry(const LedgerEntry& e) {
  if (e.kind != LedgerKind::kBatch && e.detail.find("\"settles\"") == std::string::npos) return Status::Ok();
  auto rows = IndexRowsOf(e);
  if (!rows.ok()) return rows.status().code() == StatusCode::kAuditFailed ? Status::Ok() : rows.status();
  for (int64_t batch : rows->settles) {
    auto closed = conn_.ExecParams(
        "UPDATE ledger_batches SET open = false, settled_by = $2 WHERE seq = $1 AND open", {P(batch), P(e.seq)});
    if (!closed.ok()) return closed.status();
    if (closed->AffectedRows() != 1) {
      return Status::AuditFailed("the source's ledger entry " + std::to_string(e.seq) + " settles batch entry " +
                                 std::to_string(batch) +
                                 ", which is not an open batch there: run 'retention audit verify' on it");
    }
  }
  if (e.kind == LedgerKind::kBatch) {
    auto range = KeyRangeOfPayload(e.payload);
    if (!range.ok()) return Status::Ok();
    PgParam lo_int, hi_int;
    if (range->integer_keys) {
      const auto lo = CanonicalInt(range->lo), hi = CanonicalInt(range->hi);
      if (lo && hi) {
        lo_int = std::to_string(*lo);
        hi_int = std::to_string(*hi);
      }
    }
    RETENTION_RETURN_IF_ERROR(
        Do("INSERT INTO ledger_batches(seq, store, target, integer_keys, key_lo, key_hi, key_lo_int, key_hi_int, "
           "open) VALUES($1, $2, $3, $4, $5, $6, $7, $8, true)",
           {P(e.seq), e.store, e.target, std::string(lo_int ? "true" : "false"), range->lo, range->hi, lo_int,
            hi_int}));
  }
  if (!rows->subjects.empty()) {
    RETENTION_RETURN_IF_ERROR(Do("INSERT INTO ledger_subjects(subject, seq) SELECT unnest($1::text[]), $2 "
                                 "ON CONFLICT DO NOTHING",
                                 {PgArrayLiteral(rows->subjects), P(e.seq)}));
  }
  return Status::Ok();
}

Status StateCopier::CopyAnchors() {
  auto anchors = source_.ListAnchorRows();
  if (!anchors.ok()) return anchors.status();
  for (const auto& [seq, through] : *anchors) {
    RETENTION_RETURN_IF_ERROR(Do("INSERT INTO ledger_anchors(seq, through) VALUES($1, $2)", {P(seq), P(through)}));
    ++report_.anchors;
  }
  return Status::Ok();
}

Result<StateCopyReport> StateCopier::Run() {
  auto before = source_.Head();
  if (!before.ok()) return before.status();
  RETENTION_RETURN_IF_ERROR(RequireNoUnfinishedWork(source_, "migrate"));

  RETENTION_RETURN_IF_ERROR(Do("BEGIN"));
  RETENTION_RETURN_IF_ERROR(RequireEmptyTarget());
  RETENTION_RETURN_IF_ERROR(CopyHolds());
  RETENTION_RETURN_IF_ERROR(CopyRuns());
  RETENTION_RETURN_IF_ERROR(CopyErasureRequests());
  RETENTION_RETURN_IF_ERROR(CopyLedger());
  RETENTION_RETURN_IF_ERROR(CopyAnchors());

  // Every change to a state appends an entry (a hold placed or released, a
  // run's start and end), so an unchanged head means the rows read above
  // are one state's.
  auto after = source_.Head();
  if (!after.ok()) return after.status();
  if (after->seq != before->seq || after->hash != before->hash) {
    return Status::Busy("the state changed while it was being copied (its ledger grew from entry " +
                        std::to_string(before->seq) + " to " + std::to_string(after->seq) +
                        "); nothing was written: run the migration again when no command is using the state");
  }
  const int64_t copied_through = chained_ ? chained_->seq : 0;
  if (copied_through != before->seq) {
    return Status::Internal("the copy ended at ledger entry " + std::to_string(copied_through) +
                            " but the source's head is entry " + std::to_string(before->seq));
  }
  auto commit = conn_.Exec("COMMIT");
  if (!commit.ok()) return commit.status();
  if (std::string_view(PQcmdStatus(commit->get())) != "COMMIT")
    return Status::Internal(Named() + ": the copy was rolled back, not committed");
  report_.head = *before;
  return report_;
}

}  // namespace

Result<StateCopyReport> CopyStateIntoPostgres(StateDb& source, const PostgresStateDbOptions& target) {
  if (target.read_only) return Status::Internal("CopyStateIntoPostgres: the target is opened read-only");
  {
    // Creates the schema (or brings it to this binary's version) in its
    // own transaction; an empty schema left by a copy that failed later is
    // one a new attempt copies into.
    auto created = OpenPostgresStateDb(target);
    if (!created.ok()) return created.status();
  }
  auto conn = PgConnection::OpenConninfo(target.conninfo, target.who);
  if (!conn.ok()) return conn.status();
  auto path = (*conn)->ExecParams(
      "SELECT set_config('search_path', $1, false), set_config('lock_timeout', $2, false)",
      {QuotePgIdent(target.schema), std::to_string(target.lock_timeout_ms) + "ms"});
  if (!path.ok()) return path.status();
  // The connection's end rolls back whatever a failure left open.
  return StateCopier(source, target, **conn).Run();
}

}  // namespace retention
