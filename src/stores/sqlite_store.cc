#include "stores/sqlite_store.h"

#include <chrono>
#include <map>

#include "stores/sqlite_catalog.h"
#include "stores/sqlite_connection.h"
#include "stores/sqlite_functions.h"
#include "stores/sqlite_query.h"

namespace retention {

namespace {

// Keys per DELETE statement; a batch larger than this is split into several
// statements inside the same transaction (SQLite's parameter limit).
constexpr size_t kKeysPerStatement = 500;

class SqliteStore;

// Resolves the decision's target and guards once, then builds statements.
struct PreparedDecision {
  ResolvedSqliteTarget self;
  std::vector<ResolvedSqliteTarget> guards;    // parallel to decision.floors
  std::vector<ResolvedSqliteTarget> overlaps;  // parallel to decision.overlaps
};

class SqliteCursor : public CandidateCursor {
 public:
  SqliteCursor(SqliteStore* store, const TargetDecision& decision, PreparedDecision prepared)
      : store_(store), decision_(decision), prepared_(std::move(prepared)) {}
  Result<std::vector<Candidate>> Next(size_t limit) override;

 private:
  SqliteStore* store_;
  TargetDecision decision_;
  PreparedDecision prepared_;
  SqliteValue last_clock_;
  SqliteValue last_order_;
  bool done_ = false;
};

class SqliteStore : public Store {
 public:
  SqliteStore(StoreConfig config, std::unique_ptr<SqliteConnection> db, bool read_only)
      : config_(std::move(config)), db_(std::move(db)), read_only_(read_only) {}

  Status Init() { return RegisterRetentionFunctions(db_->get(), &held_); }

  const StoreConfig& config() const override { return config_; }

  Status CheckTarget(const Category& category, const Target& target, TargetCheck* out) override;
  Result<TargetStats> Measure(const TargetDecision& decision) override;
  Result<int64_t> CountCovered(const Category& category, const Target& target, const HoldSet& holds,
                               const TimeZone& zone) override;
  Result<std::unique_ptr<CandidateCursor>> OpenCursor(const TargetDecision& decision) override;
  Result<BatchResult> DeleteBatch(const TargetDecision& decision,
                                                 const std::vector<Candidate>& batch) override;
  Result<std::vector<Presence>> Exist(const Target& target, const std::vector<Candidate>& records) override;
  Result<RecordFacts> Lookup(const TargetDecision& decision, const std::string& key) override;

  Result<PreparedDecision> Prepare(const TargetDecision& decision);
  void PointHeldAt(const TargetDecision& decision) {
    held_.holds = decision.holds;
    held_.scopes.clear();
    for (const auto& o : decision.overlaps)
      held_.scopes.push_back({o.category->name, o.target->name, o.target->subject ? o.target->subject->kind : ""});
  }
  SqliteConnection& db() { return *db_; }
  std::string Label() const { return "store '" + config_.name + "'"; }

 private:
  Result<ResolvedSqliteTarget> Resolve(const Target& target);

  StoreConfig config_;
  std::unique_ptr<SqliteConnection> db_;
  bool read_only_;
  HeldContext held_;
};

Result<ResolvedSqliteTarget> SqliteStore::Resolve(const Target& target) {
  std::vector<std::string> errors, warnings;
  auto resolved = ResolveSqliteTarget(*db_, target, &errors, &warnings);
  if (!resolved)
    return Status::Invalid(target.where.ToString() + ": " + Label() + ": " +
                           (errors.empty() ? std::string("cannot resolve target") : errors.front()));
  return std::move(*resolved);
}

Result<PreparedDecision> SqliteStore::Prepare(const TargetDecision& decision) {
  PreparedDecision p;
  auto self = Resolve(*decision.target);
  if (!self.ok()) return self.status();
  p.self = std::move(*self);
  for (const FloorGuard& g : decision.floors) {
    auto resolved = Resolve(*g.target);
    if (!resolved.ok()) return resolved.status();
    p.guards.push_back(std::move(*resolved));
  }
  for (const auto& o : decision.overlaps) {
    auto resolved = Resolve(*o.target);
    if (!resolved.ok()) return resolved.status();
    p.overlaps.push_back(std::move(*resolved));
  }
  return p;
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
  TargetDecision d;
  Category dummy;
  d.target = &target;
  d.category = &dummy;
  const std::vector<ResolvedSqliteTarget> no_guards, no_overlaps;
  SqliteQueryBuilder builder(d, *resolved, no_guards, no_overlaps);
  SqlFragment from = builder.From();
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

Result<TargetStats> SqliteStore::Measure(const TargetDecision& decision) {
  auto prepared = Prepare(decision);
  if (!prepared.ok()) return prepared.status();
  PointHeldAt(decision);
  SqliteQueryBuilder b(decision, prepared->self, prepared->guards, prepared->overlaps);

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
  inner += b.GuardsPass();
  inner.sql += " AS gp";
  inner += b.From();
  inner.sql += " WHERE ";
  inner += b.Filters();
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

Result<int64_t> SqliteStore::CountCovered(const Category& category, const Target& target, const HoldSet& holds,
                                          const TimeZone& zone) {
  TargetDecision d;
  d.category = &category;
  d.target = &target;
  d.holds = &holds;
  d.zone = zone;
  d.overlaps.push_back({&category, &target});
  auto prepared = Prepare(d);
  if (!prepared.ok()) return prepared.status();
  PointHeldAt(d);
  SqliteQueryBuilder b(d, prepared->self, prepared->guards, prepared->overlaps);
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

Result<std::unique_ptr<CandidateCursor>> SqliteStore::OpenCursor(const TargetDecision& decision) {
  auto prepared = Prepare(decision);
  if (!prepared.ok()) return prepared.status();
  return std::unique_ptr<CandidateCursor>(new SqliteCursor(this, decision, std::move(*prepared)));
}

Result<std::vector<Candidate>> SqliteCursor::Next(size_t limit) {
  std::vector<Candidate> out;
  if (done_) return out;
  store_->PointHeldAt(decision_);
  SqliteQueryBuilder b(decision_, prepared_.self, prepared_.guards, prepared_.overlaps);
  const bool paging = !last_order_.empty();
  SqlFragment q = CandidatePageQuery(b, paging);
  auto stmt = store_->db().Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  BindParams(*stmt, q.params);
  int next = static_cast<int>(q.params.size()) + 1;
  if (paging) {
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

Result<BatchResult> SqliteStore::DeleteBatch(const TargetDecision& decision, const std::vector<Candidate>& batch) {
  if (read_only_) return Status::Internal(Label() + " was opened read-only");
  // A row is never skipped by the store itself: the DELETE re-evaluates
  // the decision, and what it leaves is judged by the caller.
  BatchResult result;
  std::vector<DeletedRecord>& deleted = result.deleted;
  if (batch.empty()) return result;
  auto prepared = Prepare(decision);
  if (!prepared.ok()) return prepared.status();
  PointHeldAt(decision);
  SqliteQueryBuilder b(decision, prepared->self, prepared->guards, prepared->overlaps);

  std::map<std::string, const Candidate*> by_key;
  for (const Candidate& c : batch) by_key.emplace(c.key, &c);

  // The transaction re-evaluates the whole decision — due, floors, holds as
  // re-read by the caller — for exactly these keys, and RETURNING tells
  // what went. BEGIN IMMEDIATE takes the write lock up front, so the
  // application waits at most one short batch.
  RETENTION_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE").WithContext(Label()));
  auto rollback = [&](Status s) {
    (void)db_->Exec("ROLLBACK");
    return s;
  };
  const bool has_join_clock = prepared->self.join_key.has_value();
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
    q.sql = "DELETE FROM main." + QuoteIdentifier(prepared->self.table) + " WHERE " +
            ColumnName(prepared->self.order_column) + " IN (SELECT " + b.OrderColumn();
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
    q.sql += ") RETURNING " + ColumnName(prepared->self.key_column) + ", " +
             (has_join_clock ? std::string("NULL") : ColumnName(prepared->self.clock_column)) + ", " +
             (prepared->self.subject_column ? ColumnName(*prepared->self.subject_column) : std::string("NULL"));
    auto stmt = db_->Prepare(q.sql);
    if (!stmt.ok()) return rollback(stmt.status());
    int index = 1;
    for (size_t i = start; i < end; ++i) BindKey(*stmt, index++, batch[i].key, prepared->self.key_is_rowid);
    for (const Candidate* c : full) {
      BindKey(*stmt, index++, c->key, prepared->self.key_is_rowid);
      stmt->BindText(index++, c->clock);
      stmt->BindText(index++, c->subject);
    }
    for (const Candidate* c : partial) {
      BindKey(*stmt, index++, c->key, prepared->self.key_is_rowid);
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
  Category none;
  TargetDecision d;
  d.category = &none;
  d.target = &target;
  const std::vector<ResolvedSqliteTarget> no_guards, no_overlaps;
  SqliteQueryBuilder b(d, *resolved, no_guards, no_overlaps);
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

Result<RecordFacts> SqliteStore::Lookup(const TargetDecision& decision, const std::string& key) {
  auto prepared = Prepare(decision);
  if (!prepared.ok()) return prepared.status();
  PointHeldAt(decision);
  SqliteQueryBuilder b(decision, prepared->self, prepared->guards, prepared->overlaps);
  SqlFragment q;
  q.sql = "SELECT " + b.ClockColumn() + ", ";
  q += b.ClockMicros();
  q.sql += ", " + b.SubjectColumn() + ", ";
  q += b.Filters();
  for (size_t i = 0; i < decision.floors.size(); ++i) {
    q.sql += ", ";
    q += b.GuardApplies(i);
    q.sql += ", ";
    q += b.GuardClockMicros(i);
  }
  q += b.From();
  q.sql += " WHERE " + b.KeyColumn() + " = ?";
  auto stmt = db_->Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  BindParams(*stmt, q.params);
  BindKey(*stmt, static_cast<int>(q.params.size()) + 1, key, prepared->self.key_is_rowid);
  RecordFacts facts;
  auto r = stmt->Step();
  if (!r.ok()) return r.status().WithContext(Label());
  if (!*r) return facts;
  facts.exists = true;
  facts.clock_text = stmt->ColumnText(0);
  if (!stmt->ColumnIsNull(1)) facts.clock = FromUnixMicros(stmt->ColumnInt(1));
  facts.subject = stmt->ColumnText(2);
  facts.matches_filters = stmt->ColumnInt(3) != 0;
  for (size_t i = 0; i < decision.floors.size(); ++i) {
    RecordFacts::GuardFacts g;
    g.applies = stmt->ColumnInt(4 + 2 * i) != 0;
    if (!stmt->ColumnIsNull(5 + 2 * i)) g.clock = FromUnixMicros(stmt->ColumnInt(5 + 2 * i));
    facts.guards.push_back(g);
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
