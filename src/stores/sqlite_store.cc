#include "stores/sqlite_store.h"

#include <chrono>
#include <map>

#include "stores/sqlite_catalog.h"
#include "stores/sqlite_connection.h"
#include "stores/sqlite_functions.h"
#include "stores/sqlite_selection_sql.h"

namespace retention {

namespace {

// Keys per DELETE statement; a batch larger than this is split into several
// statements inside the same transaction (SQLite's parameter limit).
constexpr size_t kKeysPerStatement = 500;

class SqliteStore;

class SqliteCursor : public CandidateCursor {
 public:
  SqliteCursor(SqliteStore* store, std::vector<ResolvedSqliteTarget> scopes)
      : store_(store), scopes_(std::move(scopes)) {}
  Result<std::vector<Candidate>> Next(const Selection& selection, size_t limit) override;

 private:
  SqliteStore* store_;
  std::vector<ResolvedSqliteTarget> scopes_;  // parallel to the selection's scopes
  SqliteValue last_clock_;
  SqliteValue last_order_;
  bool done_ = false;
};

class SqliteStore : public Store {
 public:
  SqliteStore(StoreConfig config, std::unique_ptr<SqliteConnection> db, bool read_only)
      : config_(std::move(config)), db_(std::move(db)), read_only_(read_only) {}

  Status Init() { return RegisterRetentionFunctions(db_->get()); }

  const StoreConfig& config() const override { return config_; }

  Status CheckTarget(const Category& category, const Target& target, TargetCheck* out) override;
  Result<TargetStats> Measure(const Selection& selection) override;
  Result<int64_t> CountCovered(const Selection& selection) override;
  Result<std::unique_ptr<CandidateCursor>> OpenCursor(const Selection& selection) override;
  Result<BatchResult> DeleteBatch(const Selection& selection, const std::vector<Candidate>& batch) override;
  Result<std::vector<Presence>> Exist(const Target& target, const std::vector<Candidate>& records) override;
  Result<RecordFacts> Lookup(const Selection& selection, const std::string& key) override;
  // CONTRACT-STUB: replaced by the store's owner.
  Result<DueBound> BoundDue(const Selection&) override { return Status::Internal("CONTRACT-STUB: not yet built"); }
  Status Sync() override { return Status::Internal("CONTRACT-STUB: not yet built"); }

  // Every scope of the selection resolved on this database, in order.
  Result<std::vector<ResolvedSqliteTarget>> ResolveScopes(const Selection& selection);
  // The renderer for `selection`, its scopes resolved afresh.
  Result<SqliteSelectionSql> Render(const Selection& selection);
  SqliteConnection& db() { return *db_; }
  std::string Label() const { return "store '" + config_.name + "'"; }

 private:
  Result<ResolvedSqliteTarget> Resolve(const Target& target);

  StoreConfig config_;
  std::unique_ptr<SqliteConnection> db_;
  bool read_only_;
};

Result<ResolvedSqliteTarget> SqliteStore::Resolve(const Target& target) {
  std::vector<std::string> errors, warnings;
  auto resolved = ResolveSqliteTarget(*db_, target, &errors, &warnings);
  if (!resolved)
    return Status::Invalid(target.where.ToString() + ": " + Label() + ": " +
                           (errors.empty() ? std::string("cannot resolve target") : errors.front()));
  return std::move(*resolved);
}

Result<std::vector<ResolvedSqliteTarget>> SqliteStore::ResolveScopes(const Selection& selection) {
  RETENTION_RETURN_IF_ERROR(CheckRenderable(selection));
  std::vector<ResolvedSqliteTarget> scopes;
  for (const SelectionScope& scope : selection.scopes) {
    auto resolved = Resolve(*scope.target);
    if (!resolved.ok()) return resolved.status();
    scopes.push_back(std::move(*resolved));
  }
  return scopes;
}

Result<SqliteSelectionSql> SqliteStore::Render(const Selection& selection) {
  auto scopes = ResolveScopes(selection);
  if (!scopes.ok()) return scopes.status();
  return SqliteSelectionSql::Make(selection, std::move(*scopes));
}

Status SqliteStore::CheckTarget(const Category&, const Target& target, TargetCheck* out) {
  std::vector<std::string> errors, warnings;
  auto resolved = ResolveSqliteTarget(*db_, target, &errors, &warnings);
  const std::string where = target.where.ToString() + ": ";
  for (auto& e : errors) out->errors.push_back(where + Label() + ": " + e);
  for (auto& w : warnings) out->warnings.push_back(where + Label() + ": " + w);
  if (!resolved) return Status::Ok();
  if (!resolved->clock_indexed) {
    out->warnings.push_back(where + Label() + ": no index on " + resolved->clock_table + "(" +
                            resolved->clock_column + "): every plan and purge scans the table (CREATE INDEX " +
                            resolved->clock_table + "_" + resolved->clock_column + "_idx ON " +
                            resolved->clock_table + "(" + resolved->clock_column + "))");
  }
  // A clock column whose values never parse under the declared encoding is
  // almost certainly a wrong encoding: every record would be kept forever.
  std::string sql = "SELECT count(*), count(v), count(retention_clock(v, ?, ?)) FROM (SELECT " +
                    std::string(resolved->join_key ? "j." : "t.") + QuoteIdentifier(resolved->clock_column) +
                    " AS v";
  SqliteTargetSql table(target, *resolved, TimeZone::Utc());
  SqlFragment from = table.From();
  sql += from.sql + " LIMIT 200)";
  auto stmt = db_->Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, static_cast<int64_t>(target.clock.encoding));
  stmt->BindText(2, target.clock.time_zone.empty() ? "UTC" : target.clock.time_zone);
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  const int64_t non_null = stmt->ColumnInt(1), parsed = stmt->ColumnInt(2);
  if (non_null > 0 && parsed == 0)
    out->errors.push_back(where + Label() + ": none of the first " + std::to_string(non_null) +
                          " values of " + resolved->clock_table + "." + resolved->clock_column +
                          " parse as " + std::string(ClockEncodingName(target.clock.encoding)) +
                          ": wrong clock encoding?");
  else if (parsed < non_null)
    out->warnings.push_back(where + Label() + ": " + std::to_string(non_null - parsed) + " of the first " +
                            std::to_string(non_null) + " values of " + resolved->clock_table + "." +
                            resolved->clock_column + " do not parse as " +
                            std::string(ClockEncodingName(target.clock.encoding)) + " (kept as undated)");
  return Status::Ok();
}

Result<TargetStats> SqliteStore::Measure(const Selection& selection) {
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  const SqliteSelectionSql& b = *rendered;

  // One pass over the target's records: the inner query computes, per
  // record, its clock and whether it is due, held and floor-protected; the
  // outer one counts. Held and guards are evaluated only for due records.
  SqlFragment inner;
  inner.sql = "SELECT c, d, CASE WHEN d THEN h ELSE 0 END AS held, CASE WHEN d THEN gp ELSE 1 END AS gp FROM (SELECT ";
  inner += b.ClockMicros();
  inner.sql += " AS c, coalesce(";
  inner += b.Due();
  inner.sql += ", 0) AS d, ";
  inner += b.Held();
  inner.sql += " AS h, ";
  inner += b.FloorsPass();
  inner.sql += " AS gp";
  inner += b.From();
  inner.sql += " WHERE ";
  inner += b.Filters();
  inner.sql += " AND ";
  inner += b.Subject();
  inner.sql += ")";

  SqlFragment q;
  q.sql = "SELECT count(*), coalesce(sum(c IS NULL), 0), coalesce(sum(d), 0), coalesce(sum(d AND held), 0), "
          "coalesce(sum(d AND NOT held AND NOT gp), 0), min(CASE WHEN d AND NOT held AND gp THEN c END) FROM (";
  q += inner;
  q.sql += ")";
  auto stmt = db_->Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  BindParams(*stmt, q.params);
  auto row = stmt->Step();
  if (!row.ok()) return row.status().WithContext(Label());
  TargetStats stats;
  stats.total = stmt->ColumnInt(0);
  stats.undated = stmt->ColumnInt(1);
  stats.due = stmt->ColumnInt(2);
  stats.held = stmt->ColumnInt(3);
  stats.floor_protected = stmt->ColumnInt(4);
  stats.deletable = stats.due - stats.held - stats.floor_protected;
  if (!stmt->ColumnIsNull(5)) stats.oldest_due = FromUnixMicros(stmt->ColumnInt(5));

  if (stats.deletable > 0) {
    SqlFragment sample;
    sample.sql = "SELECT " + b.KeyColumn();
    sample += b.From();
    sample.sql += " WHERE ";
    sample += b.Deletable();
    sample.sql += " ORDER BY " + b.ClockColumn() + ", " + b.OrderColumn() + " LIMIT 5";
    auto s = db_->Prepare(sample.sql);
    if (!s.ok()) return s.status();
    BindParams(*s, sample.params);
    while (true) {
      auto r = s->Step();
      if (!r.ok()) return r.status().WithContext(Label());
      if (!*r) break;
      stats.sample_keys.push_back(s->ColumnText(0));
    }
  }
  return stats;
}

Result<int64_t> SqliteStore::CountCovered(const Selection& selection) {
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  const SqliteSelectionSql& b = *rendered;
  SqlFragment q;
  q.sql = "SELECT count(*)";
  q += b.From();
  q.sql += " WHERE ";
  q += b.Filters();
  q.sql += " AND ";
  q += b.Held();
  auto stmt = db_->Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  BindParams(*stmt, q.params);
  auto row = stmt->Step();
  if (!row.ok()) return row.status().WithContext(Label());
  return stmt->ColumnInt(0);
}

Result<std::unique_ptr<CandidateCursor>> SqliteStore::OpenCursor(const Selection& selection) {
  auto scopes = ResolveScopes(selection);
  if (!scopes.ok()) return scopes.status();
  return std::unique_ptr<CandidateCursor>(new SqliteCursor(this, std::move(*scopes)));
}

Result<std::vector<Candidate>> SqliteCursor::Next(const Selection& selection, size_t limit) {
  std::vector<Candidate> out;
  if (done_) return out;
  auto rendered = SqliteSelectionSql::Make(selection, scopes_);
  if (!rendered.ok()) return rendered.status();
  const SqliteSelectionSql& b = *rendered;
  const bool paging = !last_order_.empty();
  SqlFragment q = CandidatePageQuery(b, paging);
  auto stmt = store_->db().Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  BindParams(*stmt, q.params);
  int next = static_cast<int>(q.params.size()) + 1;
  for (int pass = 0; paging && pass < (b.PagesUndated() ? 2 : 1); ++pass) {
    stmt->BindValue(next++, last_clock_.get());
    stmt->BindValue(next++, last_order_.get());
  }
  stmt->BindInt(next, static_cast<int64_t>(limit));
  while (true) {
    auto r = stmt->Step();
    if (!r.ok()) return r.status().WithContext(store_->Label());
    if (!*r) break;
    // Identity: the clock and subject as stored (nothing more to record).
    out.push_back({stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnText(2), std::string()});
    last_clock_ = SqliteValue(stmt->ColumnValue(1));
    last_order_ = SqliteValue(stmt->ColumnValue(3));
  }
  if (out.size() < limit) done_ = true;
  return out;
}

// A column of the target table in a statement without aliases.
std::string ColumnName(const std::string& column) {
  return column == "rowid" ? column : QuoteIdentifier(column);
}

// Binds a key the way the column compares: rowid keys as integers.
void BindKey(SqliteStatement& stmt, int index, const std::string& key, bool as_integer) {
  if (as_integer) {
    char* end = nullptr;
    long long v = std::strtoll(key.c_str(), &end, 10);
    if (end && *end == '\0' && !key.empty()) {
      stmt.BindInt(index, v);
      return;
    }
  }
  stmt.BindText(index, key);
}

Result<BatchResult> SqliteStore::DeleteBatch(const Selection& selection, const std::vector<Candidate>& batch) {
  if (read_only_) return Status::Internal(Label() + " was opened read-only");
  // A row is never skipped by the store itself: the DELETE re-evaluates
  // the selection, and what it leaves is judged by the caller.
  BatchResult result;
  std::vector<DeletedRecord>& deleted = result.deleted;
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  if (batch.empty()) return result;
  const SqliteSelectionSql& b = *rendered;
  const ResolvedSqliteTarget* self = &b.self().resolved();

  std::map<std::string, const Candidate*> by_key;
  for (const Candidate& c : batch) by_key.emplace(c.key, &c);

  // The transaction re-evaluates the whole selection — due, floors, holds as
  // re-read by the caller — for exactly these keys, and RETURNING tells
  // what went. BEGIN IMMEDIATE takes the write lock up front, so the
  // application waits at most one short batch.
  RETENTION_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE").WithContext(Label()));
  auto rollback = [&](Status s) {
    (void)db_->Exec("ROLLBACK");
    return s;
  };
  const bool has_join_clock = self->join_key.has_value();
  // A record goes only while it is the record selected (SPEC 6.2): its clock
  // as stored, and its subject when the candidate knows it, still equal the
  // candidate's. A row updated in place, or a rowid taken by a new row since
  // the selection, is kept; reconciliation relies on this (reconcile.h). The
  // text forms compare as the cursor read them (sqlite3_column_text and CAST
  // AS TEXT render numbers alike).
  const std::string clock_text = "CAST(" + b.ClockColumn() + " AS TEXT)";
  const std::string subject_text = "coalesce(CAST(" + b.SubjectColumn() + " AS TEXT), '')";
  for (size_t start = 0; start < batch.size(); start += kKeysPerStatement) {
    const size_t end = std::min(batch.size(), start + kKeysPerStatement);
    std::vector<const Candidate*> full, partial;  // identity known / key and clock only
    for (size_t i = start; i < end; ++i) (batch[i].identity ? full : partial).push_back(&batch[i]);
    SqlFragment q;
    q.sql = "DELETE FROM main." + QuoteIdentifier(self->table) + " WHERE " +
            ColumnName(self->order_column) + " IN (SELECT " + b.OrderColumn();
    q += b.From();
    q.sql += " WHERE " + b.KeyColumn() + " IN (";
    for (size_t i = start; i < end; ++i) q.sql += i == start ? "?" : ",?";
    q.sql += ") AND (0";
    if (!full.empty()) {
      q.sql += " OR (" + b.KeyColumn() + ", " + clock_text + ", " + subject_text + ") IN (VALUES ";
      for (size_t i = 0; i < full.size(); ++i) q.sql += i == 0 ? "(?,?,?)" : ",(?,?,?)";
      q.sql += ")";
    }
    if (!partial.empty()) {
      q.sql += " OR (" + b.KeyColumn() + ", " + clock_text + ") IN (VALUES ";
      for (size_t i = 0; i < partial.size(); ++i) q.sql += i == 0 ? "(?,?)" : ",(?,?)";
      q.sql += ")";
    }
    q.sql += ") AND ";
    const size_t key_params_at = q.params.size();
    q += b.Deletable();
    q.sql += ") RETURNING " + ColumnName(self->key_column) + ", " +
             (has_join_clock ? std::string("NULL") : ColumnName(self->clock_column)) + ", " +
             (self->subject_column ? ColumnName(*self->subject_column) : std::string("NULL"));
    auto stmt = db_->Prepare(q.sql);
    if (!stmt.ok()) return rollback(stmt.status());
    int index = 1;
    for (size_t i = start; i < end; ++i) BindKey(*stmt, index++, batch[i].key, self->key_is_rowid);
    for (const Candidate* c : full) {
      BindKey(*stmt, index++, c->key, self->key_is_rowid);
      stmt->BindText(index++, c->clock);
      stmt->BindText(index++, c->subject);
    }
    for (const Candidate* c : partial) {
      BindKey(*stmt, index++, c->key, self->key_is_rowid);
      stmt->BindText(index++, c->clock);
    }
    std::vector<SqlParam> rest(q.params.begin() + key_params_at, q.params.end());
    BindParams(*stmt, rest, index);
    while (true) {
      auto r = stmt->Step();
      if (!r.ok()) return rollback(r.status().WithContext(Label()));
      if (!*r) break;
      DeletedRecord d{stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnText(2)};
      if (has_join_clock) {
        // The related row's clock is not a column of the deleted table; it
        // is the value read when the batch was selected (and re-tested due).
        auto it = by_key.find(d.key);
        d.clock = it != by_key.end() ? it->second->clock : std::string();
      }
      deleted.push_back(std::move(d));
    }
  }
  if (Status s = db_->Exec("COMMIT"); !s.ok()) return rollback(s.WithContext(Label()));
  return result;
}

Result<std::vector<Presence>> SqliteStore::Exist(const Target& target, const std::vector<Candidate>& records) {
  auto resolved = Resolve(target);
  if (!resolved.ok()) return resolved.status();
  // The clock and subject exactly as the cursor reads them (through the
  // clock's join when it has one), so that an untouched record compares
  // equal.
  SqliteTargetSql b(target, *resolved, TimeZone::Utc());
  SqlFragment q;
  q.sql = "SELECT " + b.ClockColumn() + ", " + b.SubjectColumn();
  q += b.From();
  q.sql += " WHERE " + b.KeyColumn() + " = ?";
  auto stmt = db_->Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  std::vector<Presence> out;
  out.reserve(records.size());
  for (const Candidate& c : records) {
    BindKey(*stmt, 1, c.key, resolved->key_is_rowid);
    auto r = stmt->Step();
    if (!r.ok()) return r.status().WithContext(Label());
    if (!*r) {
      out.push_back(Presence::kAbsent);
    } else if (stmt->ColumnText(0) != c.clock || (c.identity && stmt->ColumnText(1) != c.subject)) {
      out.push_back(Presence::kReplaced);
    } else {
      out.push_back(Presence::kSame);
    }
    (void)stmt->Reset();
  }
  return out;
}

Result<RecordFacts> SqliteStore::Lookup(const Selection& selection, const std::string& key) {
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  const SqliteSelectionSql& b = *rendered;
  // Per scope: its filters, raw clock, clock in microseconds and subject.
  SqlFragment q;
  q.sql = "SELECT " + b.KeyColumn();
  for (size_t i = 0; i < selection.scopes.size(); ++i) {
    q.sql += ", ";
    q += b.ScopeFilters(i);
    q.sql += ", " + b.ScopeClockColumn(i) + ", ";
    q += b.ScopeClockMicros(i);
    q.sql += ", " + b.ScopeSubjectColumn(i);
  }
  q += b.From();
  q.sql += " WHERE " + b.KeyColumn() + " = ?";
  auto stmt = db_->Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  BindParams(*stmt, q.params);
  BindKey(*stmt, static_cast<int>(q.params.size()) + 1, key, b.self().resolved().key_is_rowid);
  RecordFacts facts;
  auto r = stmt->Step();
  if (!r.ok()) return r.status().WithContext(Label());
  if (!*r) return facts;
  facts.exists = true;
  facts.key = stmt->ColumnText(0);
  for (size_t i = 0; i < selection.scopes.size(); ++i) {
    const int at = 1 + 4 * static_cast<int>(i);
    RecordFacts::ScopeFacts scope;
    scope.matches_filters = stmt->ColumnInt(at) != 0;
    scope.clock_text = stmt->ColumnText(at + 1);
    if (!stmt->ColumnIsNull(at + 2)) scope.clock = FromUnixMicros(stmt->ColumnInt(at + 2));
    const Target& target = *selection.scopes[i].target;
    if (target.subject && !stmt->ColumnIsNull(at + 3)) {
      scope.subject_kind = target.subject->kind;
      scope.subject_id = stmt->ColumnText(at + 3);
    }
    facts.scopes.push_back(std::move(scope));
  }
  return facts;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreConfig& config, bool read_only) {
  auto db = SqliteConnection::Open(config.path, read_only, "store '" + config.name + "'");
  if (!db.ok()) return db.status();
  auto store = std::make_unique<SqliteStore>(config, std::move(*db), read_only);
  RETENTION_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace retention
