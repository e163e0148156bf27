#include "stores/postgres_store.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "stores/postgres_catalog.h"
#include "stores/postgres_connection.h"
#include "stores/postgres_partitions.h"
#include "stores/postgres_selection_sql.h"

namespace retention {

namespace {

// Keys per statement of Exist.
constexpr size_t kKeysPerStatement = 10000;
// How long the cursor waits, at the end of its scan, for the batches it
// handed out to pass DeleteBatch before it offers the locked ones again.
constexpr auto kRetryWait = std::chrono::seconds(2);

// Every session of the store reads and writes under the same settings, so
// that the text forms the cursor records (a candidate's clock) compare
// equal in the DELETE, whatever the role's or database's defaults:
//   - search_path: pg_catalog only, so no function or type the SQL names
//     resolves to an object of the application's schemas;
//   - DateStyle ISO and TimeZone UTC: timestamptz as "2026-01-01 00:00:00+00";
//   - extra_float_digits 1: floats in their shortest exact form;
//   - synchronous_commit on: COMMIT returns once the deletion is durable
//     (the WAL flushed), which is what Sync promises; a database or role
//     default of off must not weaken the ledger's guarantee.
Status SetUpSession(PgConnection& db, bool read_only) {
  std::string sql =
      "SET search_path = pg_catalog, pg_temp; SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC';"
      " SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; SET synchronous_commit = on;";
  if (read_only) sql += " SET default_transaction_read_only = on;";
  auto r = db.Exec(sql);
  return r.ok() ? Status::Ok() : r.status();
}

// What a store and the cursors it opened share: the candidates handed out
// and not yet through DeleteBatch, and those a batch skipped as locked,
// which the cursor offers once more at the end of its scan (a busy row is
// retried later in the run, never waited on for long).
struct RetryState {
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_multiset<std::string> pending;
  std::vector<Candidate> locked;
  // Partitions offered whole (postgres_partitions.h), until DeleteBatch
  // takes them.
  std::vector<PgPendingDrop> drops;
};

// The selection's deletable predicate over alias t, with the joins it needs.
PgRowPredicate DeletablePredicate(const PgSelectionSql& b) {
  PgQuery q;
  b.Deletable(&q);
  const std::string head = " FROM " + b.self().QualifiedTable() + " AS t";
  return {q.sql, q.params, b.From().substr(head.size())};
}

std::optional<std::string_view> Maybe(const PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return r.Text(row, col);
}

class PostgresCursor : public CandidateCursor {
 public:
  PostgresCursor(std::unique_ptr<PgConnection> db, std::vector<ResolvedPgTarget> scopes,
                 std::shared_ptr<RetryState> retry)
      : db_(std::move(db)), scopes_(std::move(scopes)), retry_(std::move(retry)) {}
  // A cursor of a read-only store (plan, explain) never sees a delete: its
  // scan is all there is.
  Result<std::vector<Candidate>> Next(const Selection& selection, size_t limit) override;

 private:
  Result<std::vector<Candidate>> Read(const PgQuery& q);

  std::unique_ptr<PgConnection> db_;
  std::vector<ResolvedPgTarget> scopes_;
  std::shared_ptr<RetryState> retry_;  // null for a read-only store
  std::optional<PgPageAfter> after_;
  bool scanned_ = false;
  bool partitions_read_ = false;
  std::vector<std::vector<Candidate>> partition_batches_;  // still to offer, one partition each
  std::vector<std::string> skip_partitions_;               // their oids, left out of the pages
  std::vector<Candidate> again_;  // locked ones still to offer
  std::set<std::string> offered_again_;
};

Result<std::vector<Candidate>> PostgresCursor::Read(const PgQuery& q) {
  auto r = db_->ExecParams(q.sql, q.params);
  if (!r.ok()) return r.status();
  std::vector<Candidate> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back({std::string(r->Text(i, 0)), std::string(r->Text(i, 1)), std::string(r->Text(i, 2)), std::string()});
    PgPageAfter after;
    if (!r->IsNull(i, 1)) after.clock = std::string(r->Text(i, 1));
    if (r->columns() == 3) after.keys.emplace_back(r->Text(i, 0));
    for (int k = 3; k < r->columns(); ++k) after.keys.emplace_back(r->Text(i, k));
    after_ = std::move(after);
  }
  return out;
}

Result<std::vector<Candidate>> PostgresCursor::Next(const Selection& selection, size_t limit) {
  auto rendered = PgSelectionSql::Make(selection, scopes_);
  if (!rendered.ok()) return rendered.status();
  const PgSelectionSql& b = *rendered;
  auto hand_out = [&](std::vector<Candidate> out) {
    if (!retry_) return out;
    std::lock_guard<std::mutex> lock(retry_->mu);
    for (const Candidate& c : out) retry_->pending.insert(c.key);
    return out;
  };
  // First, the partitions wholly before the cutoff to drop or empty
  // (postgres_partitions.h), each as one batch of all its deletable keys
  // (beyond `limit`): the intent names every key before DeleteBatch
  // removes them.
  // timestamptz clocks of the table's own only (the cutoff compares as an
  // instant); any other clock is purged row by row.
  if (retry_ && !partitions_read_) {
    partitions_read_ = true;
    const ResolvedPgTarget& self = b.self();
    if (self.partitioned && !self.join_key && self.clock_kind == PgClockKind::kTimestampTz &&
        selection.cutoff && !selection.any_age) {
      auto drops = PlanPgPartitionDrops(*db_, self.schema, self.table, self.clock.name,
                                        PgInstantText(*selection.cutoff), DeletablePredicate(b),
                                        b.KeyText() + ", " + b.ClockColumn() + "::text, " + b.SubjectText());
      if (!drops.ok()) return drops.status();
      std::lock_guard<std::mutex> lock(retry_->mu);
      for (auto& [drop, batch] : *drops) {
        skip_partitions_.push_back(drop.partition.oid);
        retry_->drops.push_back(std::move(drop));
        partition_batches_.push_back(std::move(batch));
      }
    }
  }
  if (!partition_batches_.empty()) {
    std::vector<Candidate> batch = std::move(partition_batches_.front());
    partition_batches_.erase(partition_batches_.begin());
    return hand_out(std::move(batch));
  }
  if (!scanned_) {
    auto page = Read(PgCandidatePageQuery(b, after_, limit, skip_partitions_));
    if (!page.ok()) return page.status();
    if (page->size() < limit) scanned_ = true;
    if (!page->empty()) return hand_out(std::move(*page));
  }
  if (!retry_) return std::vector<Candidate>();
  // The scan is over: the candidates a batch skipped as locked, once more,
  // re-judged under the selection as it is now.
  while (true) {
    if (again_.empty()) {
      std::unique_lock<std::mutex> lock(retry_->mu);
      retry_->cv.wait_for(lock, kRetryWait, [&] { return retry_->pending.empty(); });
      for (Candidate& c : retry_->locked)
        if (offered_again_.insert(c.key).second) again_.push_back(std::move(c));
      retry_->locked.clear();
    }
    if (again_.empty()) return std::vector<Candidate>();
    std::vector<std::string> keys;
    while (!again_.empty() && keys.size() < limit) {
      keys.push_back(again_.back().key);
      again_.pop_back();
    }
    PgQuery q;
    q.sql = "SELECT " + b.KeyText() + ", " + b.ClockColumn() + "::text, " + b.SubjectText() + ", NULL::text" +
            b.From() + " WHERE ";
    b.Deletable(&q);
    q += " AND ";
    PgKeyIn(&q, b.self(), keys);
    q += " ORDER BY " + b.ClockColumn();
    for (const std::string& k : b.KeyColumns()) q += ", " + k;
    auto r = db_->ExecParams(q.sql, q.params);
    if (!r.ok()) return r.status();
    std::vector<Candidate> out;
    for (int i = 0; i < r->rows(); ++i)
      out.push_back({std::string(r->Text(i, 0)), std::string(r->Text(i, 1)), std::string(r->Text(i, 2)), std::string()});
    if (!out.empty()) return hand_out(std::move(out));
  }
}

class PostgresStore : public Store {
 public:
  PostgresStore(StoreConfig config, std::unique_ptr<PgConnection> db, bool read_only)
      : config_(std::move(config)), db_(std::move(db)), read_only_(read_only) {}

  const StoreConfig& config() const override { return config_; }
  Status CheckTarget(const Category& category, const Target& target, TargetCheck* out) override;
  Result<TargetStats> Measure(const Selection& selection) override;
  Result<DueBound> BoundDue(const Selection& selection) override;
  Result<int64_t> CountCovered(const Selection& selection) override;
  Result<std::unique_ptr<CandidateCursor>> OpenCursor(const Selection& selection) override;
  Result<BatchResult> DeleteBatch(const Selection& selection, const std::vector<Candidate>& batch) override;
  Status Sync() override;
  Result<std::vector<Presence>> Exist(const Target& target, const std::vector<Candidate>& records) override;
  Result<RecordFacts> Lookup(const Selection& selection, const std::string& key) override;
  Result<std::optional<std::string>> Identity(const Target& target) override;

 private:
  std::string Label() const { return "store '" + config_.name + "'"; }
  Result<ResolvedPgTarget> Resolve(const Target& target);
  Result<PgSelectionSql> Render(const Selection& selection);
  Result<int64_t> Count(const PgQuery& q);
  // Removes the batch from what its cursors wait for, and hands them the
  // candidates skipped as locked.
  void Settle(const Target* target, const std::vector<Candidate>& batch, const std::vector<Candidate>& locked);

  StoreConfig config_;
  std::unique_ptr<PgConnection> db_;
  bool read_only_;
  // Targets resolved once per store (the rules do not change while a
  // command runs; a schema changed under a run fails its statements).
  std::unordered_map<const Target*, ResolvedPgTarget> resolved_;
  // The cluster and database this store's connection reaches, read once
  // (ReadPgDatabaseIdentity): a connection never moves to another.
  std::optional<std::string> database_identity_;
  std::vector<std::pair<const Target*, std::weak_ptr<RetryState>>> cursors_;
};

Result<ResolvedPgTarget> PostgresStore::Resolve(const Target& target) {
  if (auto it = resolved_.find(&target); it != resolved_.end()) return it->second;
  std::vector<std::string> errors, warnings;
  auto resolved = ResolvePgTarget(*db_, target, &errors, &warnings);
  if (!resolved.ok()) return resolved.status();
  if (!resolved->has_value())
    return Status::Invalid(target.where.ToString() + ": " + Label() + ": " +
                           (errors.empty() ? std::string("cannot resolve target") : errors.front()));
  resolved_.emplace(&target, **resolved);
  return std::move(**resolved);
}

Result<PgSelectionSql> PostgresStore::Render(const Selection& selection) {
  RETENTION_RETURN_IF_ERROR(CheckRenderable(selection));
  std::vector<ResolvedPgTarget> scopes;
  for (const SelectionScope& scope : selection.scopes) {
    auto r = Resolve(*scope.target);
    if (!r.ok()) return r.status();
    scopes.push_back(std::move(*r));
  }
  return PgSelectionSql::Make(selection, std::move(scopes));
}

Result<int64_t> PostgresStore::Count(const PgQuery& q) {
  auto r = db_->ExecParams(q.sql, q.params);
  if (!r.ok()) return r.status();
  return static_cast<int64_t>(std::stoll(std::string(r->Text(0, 0))));
}

Status PostgresStore::CheckTarget(const Category& category, const Target& target, TargetCheck* out) {
  std::vector<std::string> errors, warnings;
  auto resolved = ResolvePgTarget(*db_, target, &errors, &warnings);
  if (!resolved.ok()) return resolved.status();
  const std::string where = target.where.ToString() + ": " + Label() + ": ";
  for (auto& e : errors) out->errors.push_back(where + e);
  for (auto& w : warnings) out->warnings.push_back(where + w);
  if (!resolved->has_value()) return Status::Ok();
  const ResolvedPgTarget& r = **resolved;
  if (!r.clock_indexed) {
    // CONCURRENTLY builds it without blocking the application's writes (not
    // possible on a partitioned parent: there each partition gets one).
    const std::string create = r.partitioned ? "CREATE INDEX ON " : "CREATE INDEX CONCURRENTLY ON ";
    out->warnings.push_back(where + "no index on " + r.clock_schema + "." + r.clock_table + " leads with the clock column '" +
                            r.clock.name + "': every plan and purge scans the table (" + create +
                            r.QualifiedClockTable() + " (" + QuotePgIdent(r.clock.name) + "))");
  }
  // A purge that may not delete must stop before it deletes anything: an
  // error at every depth (kGate included).
  auto priv = db_->ExecParams(
      "SELECT has_table_privilege($1::oid, 'DELETE'), has_table_privilege($1::oid, 'SELECT'), current_user::text",
      {r.table_oid});
  if (!priv.ok()) return priv.status();
  if (priv->Text(0, 0) != "t")
    out->errors.push_back(where + "role '" + std::string(priv->Text(0, 2)) + "' may not DELETE from " + r.schema + "." +
                          r.table + " (GRANT DELETE ON " + r.QualifiedTable() + " TO " +
                          QuotePgIdent(priv->Text(0, 2)) + ")");
  if (priv->Text(0, 1) != "t")
    out->errors.push_back(where + "role '" + std::string(priv->Text(0, 2)) + "' may not SELECT from " + r.schema + "." +
                          r.table);
  if (!out->errors.empty()) return Status::Ok();
  // A clock column whose values never parse under the declared encoding is
  // almost certainly a wrong encoding: every record would be kept forever.
  Selection sel;
  sel.category = &category;
  sel.target = &target;
  sel.scopes.push_back({&category, &target});
  sel.holds_applied = true;
  if (!config_.time_zone.empty()) {
    auto zone = TimeZone::Load(config_.time_zone);
    if (zone.ok()) sel.zone = *zone;
  }
  auto b = PgSelectionSql::Make(sel, {r});
  if (!b.ok()) return b.status();
  PgQuery q;
  q.sql = "SELECT count(x.c), count(*) FILTER (WHERE x.c IS NOT NULL AND x.u) FROM (SELECT " + b->ClockColumn() +
          " AS c, ";
  b->Undated(&q, 0);
  q += " AS u" + b->From() + " LIMIT 200) AS x";
  auto sample = db_->ExecParams(q.sql, q.params);
  if (!sample.ok()) return sample.status();
  const int64_t non_null = std::stoll(std::string(sample->Text(0, 0)));
  const int64_t unparsed = std::stoll(std::string(sample->Text(0, 1)));
  const std::string column = r.clock_table + "." + r.clock.name;
  const std::string encoding(ClockEncodingName(target.clock.encoding));
  if (non_null > 0 && unparsed == non_null)
    out->errors.push_back(where + "none of the first " + std::to_string(non_null) + " values of " + column +
                          " parse as " + encoding + ": wrong clock encoding?");
  else if (unparsed > 0)
    out->warnings.push_back(where + std::to_string(unparsed) + " of the first " + std::to_string(non_null) +
                            " values of " + column + " do not parse as " + encoding + " (kept as undated)");
  return Status::Ok();
}

Result<TargetStats> PostgresStore::Measure(const Selection& selection) {
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  const PgSelectionSql& b = *rendered;
  TargetStats stats;
  // One pass: every count as a FILTER of the same scan.
  PgQuery q;
  q.sql = "SELECT count(*), count(*) FILTER (WHERE ";
  b.Undated(&q, 0);
  q += "), count(*) FILTER (WHERE ";
  b.Due(&q);
  q += "), count(*) FILTER (WHERE ";
  b.Due(&q);
  q += " AND ";
  b.Held(&q);
  q += "), count(*) FILTER (WHERE ";
  b.Due(&q);
  q += " AND NOT ";
  b.Held(&q);
  q += " AND NOT ";
  b.FloorsPass(&q);
  q += ")" + b.From() + " WHERE ";
  b.Filters(&q);
  q += " AND ";
  b.Subject(&q);
  auto r = db_->ExecParams(q.sql, q.params);
  if (!r.ok()) return r.status();
  auto at = [&](int col) { return static_cast<int64_t>(std::stoll(std::string(r->Text(0, col)))); };
  stats.total = at(0);
  stats.undated = at(1);
  stats.due = at(2);
  stats.held = at(3);
  stats.floor_protected = at(4);
  stats.deletable = stats.due - stats.held - stats.floor_protected;
  if (stats.deletable > 0) {
    // The sample keys are the first deletable in clock order; the oldest
    // is the earliest instant among the first thousand of them (exact for
    // timestamptz and unix clocks, whose order is their instants'; texts
    // with offsets and wall times near a DST change may differ by hours).
    PgQuery s;
    s.sql = "SELECT " + b.KeyText() + ", " + b.ClockColumn() + "::text, " + b.ClockEpoch(0) + b.From() + " WHERE ";
    b.Deletable(&s);
    s += " ORDER BY " + b.ClockColumn();
    for (const std::string& k : b.KeyColumns()) s += ", " + k;
    s += " LIMIT 1000";
    auto rows = db_->ExecParams(s.sql, s.params);
    if (!rows.ok()) return rows.status();
    for (int i = 0; i < rows->rows(); ++i) {
      if (i < 5) stats.sample_keys.emplace_back(rows->Text(i, 0));
      auto clock = ReadPgClock(b.self().clock_kind, selection.target->clock.encoding, Maybe(*rows, i, 1),
                               Maybe(*rows, i, 2), b.zone(0));
      if (clock && (!stats.oldest_due || *clock < *stats.oldest_due)) stats.oldest_due = clock;
    }
  }
  return stats;
}

Result<DueBound> PostgresStore::BoundDue(const Selection& selection) {
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  const PgSelectionSql& b = *rendered;
  PgQuery total_q;
  total_q.sql = "SELECT count(*) FROM " + b.self().QualifiedTable() + " AS t WHERE ";
  b.Filters(&total_q);
  auto total = Count(total_q);
  if (!total.ok()) return total.status();
  DueBound bound;
  bound.total_at_least = *total;
  if (selection.any_age || b.self().join_key) {
    bound.deletable_at_most = *total;
    return bound;
  }
  if (!selection.cutoff) {
    bound.exact = true;
    return bound;
  }
  // The due range on the raw clock column alone (the clock index): wider
  // than Due, holds, floors and filters, never narrower.
  PgQuery due_q;
  due_q.sql = "SELECT count(*) FROM " + b.self().QualifiedTable() + " AS t WHERE ";
  b.DueRange(&due_q);
  auto due = Count(due_q);
  if (!due.ok()) return due.status();
  bound.deletable_at_most = std::min(*due, *total);
  return bound;
}

Result<int64_t> PostgresStore::CountCovered(const Selection& selection) {
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  const PgSelectionSql& b = *rendered;
  PgQuery q;
  q.sql = "SELECT count(*)" + b.From() + " WHERE ";
  b.Filters(&q);
  q += " AND ";
  b.Held(&q);
  return Count(q);
}

Result<std::unique_ptr<CandidateCursor>> PostgresStore::OpenCursor(const Selection& selection) {
  RETENTION_RETURN_IF_ERROR(CheckRenderable(selection));
  std::vector<ResolvedPgTarget> scopes;
  for (const SelectionScope& scope : selection.scopes) {
    auto r = Resolve(*scope.target);
    if (!r.ok()) return r.status();
    scopes.push_back(std::move(*r));
  }
  // A connection of the cursor's own: Next runs on another thread than
  // DeleteBatch (CandidateCursor's threading rule).
  auto conn = PgConnection::Open(config_);
  if (!conn.ok()) return conn.status();
  RETENTION_RETURN_IF_ERROR(SetUpSession(**conn, /*read_only=*/true));
  std::shared_ptr<RetryState> retry;
  if (!read_only_) {
    retry = std::make_shared<RetryState>();
    cursors_.emplace_back(selection.target, retry);
  }
  return std::unique_ptr<CandidateCursor>(new PostgresCursor(std::move(*conn), std::move(scopes), retry));
}

void PostgresStore::Settle(const Target* target, const std::vector<Candidate>& batch,
                           const std::vector<Candidate>& locked) {
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    auto shared = it->second.lock();
    if (!shared) {
      it = cursors_.erase(it);
      continue;
    }
    if (it->first == target) {
      std::lock_guard<std::mutex> lock(shared->mu);
      for (const Candidate& c : batch)
        if (auto p = shared->pending.find(c.key); p != shared->pending.end()) shared->pending.erase(p);
      shared->locked.insert(shared->locked.end(), locked.begin(), locked.end());
      shared->cv.notify_all();
    }
    ++it;
  }
}

Result<BatchResult> PostgresStore::DeleteBatch(const Selection& selection, const std::vector<Candidate>& batch) {
  if (read_only_) return Status::Internal(Label() + " was opened read-only");
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  BatchResult result;
  if (batch.empty()) return result;
  const PgSelectionSql& b = *rendered;

  // A batch that is exactly a partition the cursor offered whole: detached
  // and dropped in one transaction when its rows are still exactly these,
  // all deletable; else (changed, or a lock not granted in time) it is
  // purged row by row below.
  std::optional<PgPendingDrop> drop;
  for (auto& [target, weak] : cursors_) {
    auto shared = weak.lock();
    if (target != selection.target || !shared) continue;
    std::lock_guard<std::mutex> lock(shared->mu);
    for (auto it = shared->drops.begin(); it != shared->drops.end(); ++it) {
      if (!IsPgPartitionBatch(*it, batch)) continue;
      drop = std::move(*it);
      shared->drops.erase(it);
      break;
    }
  }
  if (drop) {
    auto outcome = drop->kept > 0 ? EmptyPgPartition(*db_, drop->partition, drop->keys, drop->kept, b.KeyText(),
                                                     DeletablePredicate(b))
                                  : DropPgPartition(*db_, drop->parting, drop->partition, drop->keys, b.KeyText(),
                                                    DeletablePredicate(b));
    if (!outcome.ok()) {
      Settle(selection.target, batch, {});
      return outcome.status();
    }
    if (*outcome == PgDropOutcome::kDropped) {
      for (const Candidate& c : batch) result.deleted.push_back({c.key, c.clock, c.subject});
      Settle(selection.target, batch, {});
      return result;
    }
  }

  // One statement (PgDeleteBatchQuery): the candidates still the records
  // selected (clock and subject as stored, SPEC 6.2) and still deletable
  // under the selection (the whole rule re-checked, holds as re-read by the
  // caller) deleted; those another transaction holds locked skipped, never
  // waited on, and named as such by the same statement.
  std::vector<PgBatchRow> rows;
  rows.reserve(batch.size());
  std::unordered_map<std::string_view, const Candidate*> by_key;
  by_key.reserve(batch.size());
  for (const Candidate& c : batch) {
    rows.push_back({c.key, c.clock, c.subject, c.identity.has_value()});
    by_key.emplace(c.key, &c);
  }
  const PgQuery q = PgDeleteBatchQuery(b, rows);

  // A short transaction of its own; lock_timeout bounds a wait for the
  // table's lock (the rows are never waited on), statement_timeout the rest.
  auto begin = db_->Exec("BEGIN; SET LOCAL lock_timeout = '50ms'; SET LOCAL statement_timeout = '5s'");
  if (!begin.ok()) return begin.status();
  auto busy = [&](const Status& s) {
    const std::string& state = db_->last_sqlstate();
    return !s.ok() && (state == "55P03" || state == "40P01" || state == "57014");
  };
  auto fail = [&](Status s) -> Result<BatchResult> {
    const bool retry = busy(s);
    (void)db_->Exec("ROLLBACK");
    if (!retry) {
      Settle(selection.target, batch, {});
      return s;
    }
    // A lock timeout, deadlock or statement timeout: nothing went; every
    // candidate is offered again later in the run.
    BatchResult locked;
    for (const Candidate& c : batch)
      locked.skipped.push_back({c.key, c.clock, c.subject, SkipReason::kLocked, "busy: " + s.message()});
    Settle(selection.target, batch, batch);
    return locked;
  };
  auto deleted = db_->ExecParams(q.sql, q.params);
  if (!deleted.ok()) return fail(deleted.status());
  std::vector<Candidate> locked;
  for (int i = 0; i < deleted->rows(); ++i) {
    auto it = by_key.find(deleted->Text(i, 0));
    if (it == by_key.end()) continue;  // not a key of the batch: cannot be (key = ANY)
    const Candidate& c = *it->second;
    if (deleted->Text(i, 2) == "t") {
      // The clock compared equal; the subject only when it was part of
      // the identity: recorded as stored.
      result.deleted.push_back({c.key, c.clock, std::string(deleted->Text(i, 1))});
    } else {
      locked.push_back(c);
      result.skipped.push_back({c.key, c.clock, c.subject, SkipReason::kLocked,
                                "locked by another transaction: retried later in the run"});
    }
  }
  // The hold barrier still held: the holds this transaction judged by are
  // the latest (Selection::confirm_barrier).
  if (Status held = selection.ConfirmBarrier(); !held.ok()) {
    (void)db_->Exec("ROLLBACK");
    Settle(selection.target, batch, {});
    return held.WithContext(Label());
  }
  auto commit = db_->Exec("COMMIT");
  if (!commit.ok()) return fail(commit.status());
  Settle(selection.target, batch, locked);
  return result;
}

// Every DELETE commits with synchronous_commit = on (SetUpSession): when
// COMMIT returned, the WAL holding it was flushed, so there is nothing left
// to make durable here.
Status PostgresStore::Sync() {
  if (read_only_) return Status::Ok();
  if (!db_->healthy()) return Status::Unavailable(Label() + ": the connection to PostgreSQL was lost");
  return Status::Ok();
}

Result<std::vector<Presence>> PostgresStore::Exist(const Target& target, const std::vector<Candidate>& records) {
  auto resolved = Resolve(target);
  if (!resolved.ok()) return resolved.status();
  const ResolvedPgTarget& r = *resolved;
  // The clock and subject exactly as the cursor reads them (through the
  // clock's join when it has one), so that an untouched record compares equal.
  const std::string clock = PgCol(r.join_key ? "j" : "t", r.clock);
  std::string from = " FROM " + r.QualifiedTable() + " AS t";
  if (r.join_key)
    from += " LEFT JOIN " + r.QualifiedClockTable() + " AS j ON " + PgCol("j", *r.join_key) + " = " + PgCol("t", *r.join_on);
  const std::string subject = r.subject ? PgCol("t", *r.subject) + "::text" : std::string("NULL::text");
  std::unordered_map<std::string, std::pair<std::string, std::string>> found;
  for (size_t start = 0; start < records.size(); start += kKeysPerStatement) {
    std::vector<std::string> keys;
    for (size_t i = start; i < std::min(records.size(), start + kKeysPerStatement); ++i) keys.push_back(records[i].key);
    PgQuery q;
    q.sql = "SELECT " + PgKeyText(r) + ", coalesce(" + clock + "::text, ''), coalesce(" + subject + ", '')" + from + " WHERE ";
    PgKeyIn(&q, r, keys);
    auto rows = db_->ExecParams(q.sql, q.params);
    if (!rows.ok()) return rows.status();
    for (int i = 0; i < rows->rows(); ++i)
      found[std::string(rows->Text(i, 0))] = {std::string(rows->Text(i, 1)), std::string(rows->Text(i, 2))};
  }
  std::vector<Presence> out;
  out.reserve(records.size());
  for (const Candidate& c : records) {
    auto it = found.find(c.key);
    if (it == found.end()) out.push_back(Presence::kAbsent);
    else if (it->second.first != c.clock || (c.identity && it->second.second != c.subject)) out.push_back(Presence::kReplaced);
    else out.push_back(Presence::kSame);
  }
  return out;
}

Result<RecordFacts> PostgresStore::Lookup(const Selection& selection, const std::string& key) {
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  const PgSelectionSql& b = *rendered;
  PgQuery q;
  q.sql = "SELECT " + b.KeyText();
  for (size_t i = 0; i < selection.scopes.size(); ++i) {
    q += ", ";
    b.ScopeFilters(&q, i);
    q += ", " + b.ClockColumn(i) + "::text, " + b.ClockEpoch(i) + ", " + b.SubjectText(i);
  }
  q += b.From() + " WHERE ";
  PgKeyIn(&q, b.self(), {key});
  RecordFacts facts;
  auto r = db_->ExecParams(q.sql, q.params);
  if (!r.ok()) {
    // A key that is no value of the key's type names no record.
    if (db_->last_sqlstate().rfind("22", 0) == 0) return facts;
    return r.status();
  }
  if (r->rows() == 0) return facts;
  facts.exists = true;
  facts.key = std::string(r->Text(0, 0));
  for (size_t i = 0; i < selection.scopes.size(); ++i) {
    const int at = 1 + 4 * static_cast<int>(i);
    RecordFacts::ScopeFacts scope;
    scope.matches_filters = r->Text(0, at) == "t";
    scope.clock_text = std::string(r->Text(0, at + 1));
    const Target& target = *selection.scopes[i].target;
    scope.clock = ReadPgClock(b.scope(i).clock_kind, target.clock.encoding, Maybe(*r, 0, at + 1), Maybe(*r, 0, at + 2),
                              b.zone(i));
    if (target.subject && !r->IsNull(0, at + 3)) {
      scope.subject_kind = target.subject->kind;
      scope.subject_id = std::string(r->Text(0, at + 3));
    }
    facts.scopes.push_back(std::move(scope));
  }
  return facts;
}

// The table's oid as the resolved target read it: a table dropped and
// created again under the same name is another table, whose rows say
// nothing of what a batch over the first one deleted.
Result<std::optional<std::string>> PostgresStore::Identity(const Target& target) {
  auto resolved = Resolve(target);
  if (!resolved.ok()) return resolved.status();
  if (!database_identity_) {
    auto database = ReadPgDatabaseIdentity(*db_);
    if (!database.ok()) return database.status().WithContext(Label());
    database_identity_ = std::move(*database);
  }
  return std::optional<std::string>(*database_identity_ + ", table " + resolved->QualifiedTable() + " (oid " +
                                    resolved->table_oid + ")");
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const StoreConfig& config, bool read_only) {
  auto db = PgConnection::Open(config);
  if (!db.ok()) return db.status();
  RETENTION_RETURN_IF_ERROR(SetUpSession(**db, read_only));
  return std::unique_ptr<Store>(new PostgresStore(config, std::move(*db), read_only));
}

}  // namespace retention
