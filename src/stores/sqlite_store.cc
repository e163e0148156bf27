#include "stores/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "calendar/clock_value.h"
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

// A batch's candidates by key (an index into the batch): hashed on views of
// the candidates' own keys, so that a row returned by the delete is looked
// up without copying its text.
using CandidateIndex = std::unordered_map<std::string_view, size_t>;

// Column `i` of the current row as a view of SQLite's text ("" for NULL, as
// SqliteStatement::ColumnText), valid until the next step.
std::string_view ColumnView(const SqliteStatement& stmt, int i) {
  const unsigned char* text = sqlite3_column_text(stmt.get(), i);
  if (!text) return {};
  return {reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt.get(), i))};
}

// The cursor reads on a connection of its own (read-only), so that Next may
// run on another thread while DeleteBatch and Sync use the store's
// connection (CandidateCursor's threading rule): the two share no SQLite
// object, and each page is a short read transaction of its own.
class SqliteCursor : public CandidateCursor {
 public:
  SqliteCursor(std::unique_ptr<SqliteConnection> db, std::string label, std::vector<ResolvedSqliteTarget> scopes)
      : db_(std::move(db)), label_(std::move(label)), scopes_(std::move(scopes)) {}
  Result<std::vector<Candidate>> Next(const Selection& selection, size_t limit) override;

 private:
  std::unique_ptr<SqliteConnection> db_;
  std::string label_;
  std::vector<ResolvedSqliteTarget> scopes_;  // parallel to the selection's scopes
  SqliteValue last_clock_;
  SqliteValue last_order_;
  bool done_ = false;
};

class SqliteStore : public Store {
 public:
  SqliteStore(StoreConfig config, std::unique_ptr<SqliteConnection> db, bool read_only)
      : config_(std::move(config)), db_(std::move(db)), read_only_(read_only) {}

  Status Init();

  const StoreConfig& config() const override { return config_; }

  Status CheckTarget(const Category& category, const Target& target, TargetCheck* out) override;
  Result<TargetStats> Measure(const Selection& selection) override;
  Result<int64_t> CountCovered(const Selection& selection) override;
  Result<std::unique_ptr<CandidateCursor>> OpenCursor(const Selection& selection) override;
  Result<BatchResult> DeleteBatch(const Selection& selection, const std::vector<Candidate>& batch) override;
  Result<std::vector<Presence>> Exist(const Target& target, const std::vector<Candidate>& records) override;
  Result<RecordFacts> Lookup(const Selection& selection, const std::string& key) override;
  Result<DueBound> BoundDue(const Selection& selection) override;
  Status Sync() override;
  // A file on this host's disk: nothing another host could compare.
  Result<std::optional<std::string>> Identity(const Target&) override { return std::optional<std::string>(); }

  // The two ways DeleteBatch deletes, inside its transaction: one DELETE
  // over the batch's clock range (false when it removed a record that is
  // not a candidate: the caller must roll back), and by key.
  Result<bool> DeleteRangeInTxn(const SqliteSelectionSql& b, const std::vector<Candidate>& batch,
                                const CandidateIndex& by_key, std::vector<char>* gone, BatchResult* result);
  // The same DELETE without RETURNING, for a rowid key: the candidates'
  // identities are tested inside the statement (retention_batch_candidate),
  // so a row that is none of them is left, and the update hook names the
  // rowids that went. nullopt when the batch does not allow it (keys that
  // are not integers, a candidate without its identity).
  Result<std::optional<bool>> DeleteRangeByRowid(const SqliteSelectionSql& b, const std::vector<Candidate>& batch,
                                                 std::vector<char>* gone, BatchResult* result);
  Status DeleteKeysInTxn(const SqliteSelectionSql& b, const std::vector<const Candidate*>& batch,
                         const std::vector<Candidate>& candidates, const CandidateIndex& by_key,
                         BatchResult* result);

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
  // The WAL's salts as read by the last Sync that left every commit of this
  // connection durable (see Sync); nullopt before one, or without a WAL.
  std::optional<std::array<unsigned char, 8>> synced_wal_salts_;
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
  const Target& target = *selection.target;
  const ResolvedSqliteTarget& self = b.self().resolved();
  // Without filters, subject or clock join the counts read only the table's
  // B-tree or the clock index; otherwise they filter first.
  const bool plain = target.filters.empty() && !selection.subject && !self.join_key;
  auto where = [&](SqlFragment* q) {
    if (plain) return;
    q->sql += " WHERE ";
    *q += b.Filters();
    q->sql += " AND ";
    *q += b.Subject();
  };
  auto and_where = [&](SqlFragment* q) { q->sql += plain ? " WHERE " : " AND "; };
  auto run = [&](const SqlFragment& q) -> Result<SqliteStatement> {
    auto stmt = db_->Prepare(q.sql);
    if (!stmt.ok()) return stmt.status();
    BindParams(*stmt, q.params);
    auto row = stmt->Step();
    if (!row.ok()) return row.status().WithContext(Label());
    return std::move(*stmt);
  };
  TargetStats stats;
  // One read transaction: what the undated count finds (every clock
  // canonical, below) holds for the rows the due aggregate reads.
  RETENTION_RETURN_IF_ERROR(db_->Exec("SAVEPOINT measure").WithContext(Label()));
  struct Release {
    SqliteConnection* db;
    ~Release() { (void)db->Exec("RELEASE measure"); }
  } release{db_.get()};

  // 1. The records: SQLite's count of the table B-tree when nothing filters.
  SqlFragment total;
  total.sql = "SELECT count(*)";
  total += b.From();
  where(&total);
  auto total_row = run(total);
  if (!total_row.ok()) return total_row.status();
  stats.total = total_row->ColumnInt(0);

  // 2. Undated, counted exactly: NULLs from the clock index's NULL range,
  // the other values by one scan of the clock index (covering: no row is
  // read) in which canonical texts and in-range integers are decided by a
  // cheap test and only the rest are parsed by retention_clock.
  SqlFragment undated;
  undated.sql = "SELECT count(*)";
  undated += b.From();
  where(&undated);
  and_where(&undated);
  SqlFragment nulls = undated;
  nulls.sql += b.ClockColumn() + " IS NULL";
  auto null_row = run(nulls);
  if (!null_row.ok()) return null_row.status();
  stats.undated = null_row->ColumnInt(0);
  undated.sql += b.ClockColumn() + " IS NOT NULL AND ";
  // Text clocks read in UTC: the values that are not canonical counted, and
  // of those the ones that do not parse (the same undated count). When
  // there are none, Due is the string comparison alone for every row: the
  // due aggregate calls no function on the clock (retention_canonical on
  // every due row was a tenth of the plan).
  bool all_canonical = false;
  if (target.clock.encoding == ClockEncoding::kText && IsUtcZoneName(ClockZoneName(target, selection.zone))) {
    SqlFragment odd;
    odd.sql = "SELECT count(*), coalesce(sum(";
    odd += ClockMicrosSql(target, b.ClockColumn(), selection.zone);
    odd.sql += " IS NULL), 0)";
    odd += b.From();
    where(&odd);
    and_where(&odd);
    odd.sql += b.ClockColumn() + " IS NOT NULL AND NOT retention_canonical(" + b.ClockColumn() + ")";
    auto odd_row = run(odd);
    if (!odd_row.ok()) return odd_row.status();
    all_canonical = odd_row->ColumnInt(0) == 0;
    stats.undated += odd_row->ColumnInt(1);
  } else {
    undated += ClockUndated(target, b.ClockColumn(), selection.zone);
    auto unparsed_row = run(undated);
    if (!unparsed_row.ok()) return unparsed_row.status();
    stats.undated += unparsed_row->ColumnInt(0);
  }

  // 3. One aggregate over the due records (the clock index's range, each
  // row judged by Due in the WHERE clause, where SQLite short-circuits):
  // due, held and floor-protected, in CASEs so each is evaluated only as
  // far as needed (an AND in a value evaluates both sides).
  SqlFragment q;
  q.sql = "SELECT count(*), coalesce(sum(CASE WHEN ";
  q += b.Held();
  // Floors first: without any, the second sum never evaluates Held.
  q.sql += " THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN ";
  q += b.FloorsPass();
  q.sql += " THEN 0 WHEN ";
  q += b.Held();
  q.sql += " THEN 0 ELSE 1 END), 0)";
  q += b.From();
  where(&q);
  and_where(&q);
  q += all_canonical ? b.DueCanonical() : b.Due();
  auto due_row = run(q);
  if (!due_row.ok()) return due_row.status();
  stats.due = due_row->ColumnInt(0);
  stats.held = due_row->ColumnInt(1);
  stats.floor_protected = due_row->ColumnInt(2);
  stats.deletable = stats.due - stats.held - stats.floor_protected;

  // 4. The oldest deletable, exactly, without reading every due record:
  // the first deletable records in index order (the sample keys) give an
  // instant T; a record older than T has a text sorting before T's date
  // plus three days whatever its form or zone (an offset or a zone moves a
  // text less than a day from its instant), so the exact minimum is read
  // over that short stretch of the index.
  std::optional<Timestamp> first_clock;
  if (stats.deletable > 0) {
    SqlFragment sample;
    sample.sql = "SELECT " + b.KeyColumn() + ", ";
    sample += b.ClockMicros();
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
      if (!s->ColumnIsNull(1) && !first_clock) first_clock = FromUnixMicros(s->ColumnInt(1));
    }
  }
  if (stats.deletable > 0) {
    SqlFragment oldest;
    oldest.sql = "SELECT min(";
    oldest += b.ClockMicros();
    oldest.sql += ")";
    oldest += b.From();
    oldest.sql += " WHERE ";
    oldest += b.Deletable();
    if (first_clock) {
      oldest.sql += " AND " + b.ClockColumn() + " < ?";
      const int64_t at = ToUnixMicros(*first_clock);
      switch (target.clock.encoding) {
        case ClockEncoding::kUnixSeconds: oldest.params.push_back(int64_t{at / 1000000 + 1}); break;
        case ClockEncoding::kUnixMillis: oldest.params.push_back(int64_t{at / 1000 + 1}); break;
        default: oldest.params.push_back(DayText(*first_clock, 3)); break;
      }
    }
    auto row = run(oldest);
    if (!row.ok()) return row.status();
    if (!row->ColumnIsNull(0)) stats.oldest_due = FromUnixMicros(row->ColumnInt(0));
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
  auto conn = SqliteConnection::Open(db_->FilePath(), /*read_only=*/true, Label());
  if (!conn.ok()) return conn.status();
  RETENTION_RETURN_IF_ERROR(RegisterRetentionFunctions((*conn)->get()));
  return std::unique_ptr<CandidateCursor>(new SqliteCursor(std::move(*conn), Label(), std::move(*scopes)));
}

Result<std::vector<Candidate>> SqliteCursor::Next(const Selection& selection, size_t limit) {
  std::vector<Candidate> out;
  if (done_) return out;
  auto rendered = SqliteSelectionSql::Make(selection, scopes_);
  if (!rendered.ok()) return rendered.status();
  const SqliteSelectionSql& b = *rendered;
  const bool paging = !last_order_.empty();
  SqlFragment q = CandidatePageQuery(b, paging);
  auto stmt = db_->Prepare(q.sql);
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
    if (!r.ok()) return r.status().WithContext(label_);
    if (!*r) break;
    // Identity: the clock and subject as stored (nothing more to record).
    out.push_back({stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnText(2), std::string()});
    // The next page starts after the last row of a full page; a short page
    // is the last (copying every row's values cost 4% of a purge's CPU).
    if (out.size() == limit) {
      last_clock_ = SqliteValue(stmt->ColumnValue(1));
      last_order_ = SqliteValue(stmt->ColumnValue(3));
    }
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

// A candidate's clock bound as the column compares it: text for text
// clocks, numbers for unix clocks (as the cursor read them: sqlite renders
// integers exactly and reals to 15 digits, so a real may land a hair off —
// then it falls outside the range and is deleted by key).
void BindClock(SqliteStatement& stmt, int index, const std::string& clock, ClockEncoding encoding) {
  if (encoding == ClockEncoding::kUnixSeconds || encoding == ClockEncoding::kUnixMillis) {
    char* end = nullptr;
    long long i = std::strtoll(clock.c_str(), &end, 10);
    if (!clock.empty() && end && *end == '\0') return stmt.BindInt(index, i);
    double d = std::strtod(clock.c_str(), &end);
    if (!clock.empty() && end && *end == '\0') return stmt.BindDouble(index, d);
  }
  stmt.BindText(index, clock);
}

// Orders clocks as the column's index does for the values a range can hold
// (all text, or all numbers); false when the batch mixes them.
bool ClockRange(const std::vector<Candidate>& batch, ClockEncoding encoding, const Candidate** lo,
                const Candidate** hi) {
  const bool numeric = encoding == ClockEncoding::kUnixSeconds || encoding == ClockEncoding::kUnixMillis;
  auto number = [](const std::string& s, double* out) {
    char* end = nullptr;
    *out = std::strtod(s.c_str(), &end);
    return !s.empty() && end && *end == '\0';
  };
  *lo = *hi = &batch.front();
  for (const Candidate& c : batch) {
    if (numeric) {
      double v, l, h;
      if (!number(c.clock, &v) || !number((*lo)->clock, &l) || !number((*hi)->clock, &h)) return false;
      if (v < l) *lo = &c;
      if (v > h) *hi = &c;
    } else {
      if (c.clock.empty()) return false;  // NULL (an erasure's undated record): by key
      if (c.clock < (*lo)->clock) *lo = &c;
      if (c.clock > (*hi)->clock) *hi = &c;
    }
  }
  return true;
}

// The index of the candidate a returned row is, by identity (its key, its
// clock as stored, its subject when the candidate knows it); nullopt when it
// is none of them.
std::optional<size_t> CandidateOf(const std::vector<Candidate>& batch, const CandidateIndex& by_key,
                                  std::string_view key, std::string_view clock, std::string_view subject) {
  auto it = by_key.find(key);
  if (it == by_key.end()) return std::nullopt;
  const Candidate& c = batch[it->second];
  if (c.clock != clock || (c.identity && c.subject != subject)) return std::nullopt;
  return it->second;
}

// The candidates of a batch whose key is the rowid, bound into its range
// DELETE with sqlite3_bind_pointer: retention_batch_candidate(set, rowid,
// clock, subject) is 1 exactly when the row is one of them by identity (the
// clock as stored, as text, and the subject as text, "" for NULL: what the
// cursor read with sqlite3_column_text).
struct RowidCandidates {
  const std::vector<Candidate>* batch = nullptr;
  std::unordered_map<int64_t, size_t> by_rowid;  // index into *batch
};
constexpr char kRowidCandidatesType[] = "retention_rowid_candidates";

std::string_view ValueText(sqlite3_value* v) {
  const unsigned char* text = sqlite3_value_text(v);
  if (!text) return {};
  return {reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_value_bytes(v))};
}

void BatchCandidateFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* set = static_cast<const RowidCandidates*>(sqlite3_value_pointer(argv[0], kRowidCandidatesType));
  if (!set || sqlite3_value_type(argv[1]) != SQLITE_INTEGER) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  auto it = set->by_rowid.find(sqlite3_value_int64(argv[1]));
  if (it == set->by_rowid.end()) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  const Candidate& c = (*set->batch)[it->second];
  sqlite3_result_int(ctx, ValueText(argv[2]) == c.clock && ValueText(argv[3]) == c.subject ? 1 : 0);
}

// The rowids the statement deleted from one table (sqlite3_update_hook).
struct DeletedRowids {
  const std::string* table;
  std::vector<int64_t> rowids;
};

void OnRowChange(void* arg, int op, const char* db_name, const char* table, sqlite3_int64 rowid) {
  auto* out = static_cast<DeletedRowids*>(arg);
  if (op == SQLITE_DELETE && std::strcmp(db_name, "main") == 0 && *out->table == table) out->rowids.push_back(rowid);
}

Status SqliteStore::Init() {
  RETENTION_RETURN_IF_ERROR(RegisterRetentionFunctions(db_->get()));
  if (sqlite3_create_function_v2(db_->get(), "retention_batch_candidate", 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                 nullptr, BatchCandidateFunction, nullptr, nullptr, nullptr) != SQLITE_OK)
    return Status::Internal(Label() + ": cannot register retention_batch_candidate: " + sqlite3_errmsg(db_->get()));
  return Status::Ok();
}

Result<std::optional<bool>> SqliteStore::DeleteRangeByRowid(const SqliteSelectionSql& b,
                                                            const std::vector<Candidate>& batch,
                                                            std::vector<char>* gone, BatchResult* result) {
  const ResolvedSqliteTarget& self = b.self().resolved();
  if (!self.key_is_rowid) return std::optional<bool>();
  RowidCandidates set;
  set.batch = &batch;
  set.by_rowid.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const Candidate& c = batch[i];
    int64_t rowid = 0;
    const auto [end, ec] = std::from_chars(c.key.data(), c.key.data() + c.key.size(), rowid);
    // Only the key's canonical decimal text names that rowid (as the cursor
    // renders it); anything else goes the RETURNING way.
    if (!c.identity || ec != std::errc() || end != c.key.data() + c.key.size() || std::to_string(rowid) != c.key ||
        !set.by_rowid.emplace(rowid, i).second)
      return std::optional<bool>();
  }
  const Candidate *lo = nullptr, *hi = nullptr;
  if (!ClockRange(batch, b.selection().target->clock.encoding, &lo, &hi)) return std::optional<bool>(false);
  SqlFragment q;
  q.sql = "DELETE FROM main." + QuoteIdentifier(self.table) + " AS t WHERE " + b.ClockColumn() + " >= ? AND " +
          b.ClockColumn() + " <= ? AND ";
  q += b.Deletable();
  q.sql += " AND retention_batch_candidate(?, " + b.KeyColumn() + ", " + b.ClockColumn() + ", " +
           (self.subject_column ? b.SubjectColumn() : std::string("NULL")) + ")";
  auto stmt = db_->Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  const ClockEncoding encoding = b.selection().target->clock.encoding;
  BindClock(*stmt, 1, lo->clock, encoding);
  BindClock(*stmt, 2, hi->clock, encoding);
  BindParams(*stmt, q.params, 3);
  sqlite3_bind_pointer(stmt->get(), static_cast<int>(q.params.size()) + 3, &set, kRowidCandidatesType, nullptr);
  DeletedRowids deleted{&self.table, {}};
  deleted.rowids.reserve(batch.size());
  sqlite3_update_hook(db_->get(), OnRowChange, &deleted);
  auto r = stmt->Step();
  sqlite3_update_hook(db_->get(), nullptr, nullptr);
  if (!r.ok()) return r.status().WithContext(Label());
  for (int64_t rowid : deleted.rowids) {
    auto it = set.by_rowid.find(rowid);
    // Only candidates pass the function; anything else (a trigger deleting
    // from the same table) is not this batch's to claim: roll back.
    if (it == set.by_rowid.end() || (*gone)[it->second]) return std::optional<bool>(false);
    (*gone)[it->second] = 1;
    const Candidate& c = batch[it->second];
    result->deleted.push_back({c.key, c.clock, c.subject});
  }
  return std::optional<bool>(true);
}

Result<bool> SqliteStore::DeleteRangeInTxn(const SqliteSelectionSql& b, const std::vector<Candidate>& batch,
                                           const CandidateIndex& by_key, std::vector<char>* gone,
                                           BatchResult* result) {
  const ResolvedSqliteTarget& self = b.self().resolved();
  const Candidate *lo = nullptr, *hi = nullptr;
  if (!ClockRange(batch, b.selection().target->clock.encoding, &lo, &hi)) return false;
  // One statement over the batch's clock range, the whole selection
  // re-checked per row as the raw DELETE would; the table is aliased "t"
  // so the selection's fragments apply unchanged.
  SqlFragment q;
  q.sql = "DELETE FROM main." + QuoteIdentifier(self.table) + " AS t WHERE " + b.ClockColumn() + " >= ? AND " +
          b.ClockColumn() + " <= ? AND ";
  q += b.Deletable();
  q.sql += " RETURNING " + ColumnName(self.key_column) + ", " + ColumnName(self.clock_column) + ", " +
           (self.subject_column ? ColumnName(*self.subject_column) : std::string("NULL"));
  auto stmt = db_->Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  const ClockEncoding encoding = b.selection().target->clock.encoding;
  BindClock(*stmt, 1, lo->clock, encoding);
  BindClock(*stmt, 2, hi->clock, encoding);
  BindParams(*stmt, q.params, 3);
  while (true) {
    auto r = stmt->Step();
    if (!r.ok()) return r.status().WithContext(Label());
    if (!*r) break;
    const std::string_view subject = ColumnView(*stmt, 2);
    // A record that is not one of the batch's candidates (inserted or moved
    // into the range since the selection, or a candidate's key now naming
    // another record) must not go: the caller rolls back.
    auto at = CandidateOf(batch, by_key, ColumnView(*stmt, 0), ColumnView(*stmt, 1), subject);
    if (!at || (*gone)[*at]) return false;
    (*gone)[*at] = 1;
    // Key and clock are the candidate's (equal by the test above).
    const Candidate& c = batch[*at];
    result->deleted.push_back({c.key, c.clock, std::string(subject)});
  }
  return true;
}

Status SqliteStore::DeleteKeysInTxn(const SqliteSelectionSql& b, const std::vector<const Candidate*>& batch,
                                    const std::vector<Candidate>& candidates, const CandidateIndex& by_key,
                                    BatchResult* result) {
  const ResolvedSqliteTarget* self = &b.self().resolved();
  const bool has_join_clock = self->join_key.has_value();
  // A record goes only while it is the record selected (SPEC 6.2): its clock
  // as stored, and its subject when the candidate knows it, still equal the
  // candidate's. A row updated in place, or a rowid taken by a new row since
  // the selection, is kept; reconciliation relies on this (reconcile.h). The
  // text forms compare as the cursor read them (sqlite3_column_text and CAST
  // AS TEXT render numbers alike).
  // An undated record (NULL clock) reads as "" (an erasure selects it:
  // Selection::any_age), so NULL compares as "" here too.
  const std::string clock_text = "coalesce(CAST(" + b.ClockColumn() + " AS TEXT), '')";
  const std::string subject_text = "coalesce(CAST(" + b.SubjectColumn() + " AS TEXT), '')";
  for (size_t start = 0; start < batch.size(); start += kKeysPerStatement) {
    const size_t end = std::min(batch.size(), start + kKeysPerStatement);
    std::vector<const Candidate*> full, partial;  // identity known / key and clock only
    for (size_t i = start; i < end; ++i) (batch[i]->identity ? full : partial).push_back(batch[i]);
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
    if (!stmt.ok()) return stmt.status();
    int index = 1;
    for (size_t i = start; i < end; ++i) BindKey(*stmt, index++, batch[i]->key, self->key_is_rowid);
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
      if (!r.ok()) return r.status().WithContext(Label());
      if (!*r) break;
      DeletedRecord d{stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnText(2)};
      if (has_join_clock) {
        // The related row's clock is not a column of the deleted table; it
        // is the value read when the batch was selected (and re-tested due).
        auto it = by_key.find(d.key);
        d.clock = it != by_key.end() ? candidates[it->second].clock : std::string();
      }
      result->deleted.push_back(std::move(d));
    }
  }
  return Status::Ok();
}

Result<BatchResult> SqliteStore::DeleteBatch(const Selection& selection, const std::vector<Candidate>& batch) {
  if (read_only_) return Status::Internal(Label() + " was opened read-only");
  // A row is never skipped by the store itself: the DELETE re-evaluates
  // the selection, and what it leaves is judged by the caller.
  BatchResult result;
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  if (batch.empty()) return result;
  const SqliteSelectionSql& b = *rendered;

  // The candidates by key, built only for the paths that read rows back by
  // key (RETURNING, the by-key delete): the rowid path needs none.
  CandidateIndex by_key;
  auto index = [&]() -> const CandidateIndex& {
    if (by_key.empty()) {
      by_key.reserve(batch.size());
      for (size_t i = 0; i < batch.size(); ++i) by_key.emplace(batch[i].key, i);
    }
    return by_key;
  };
  std::vector<const Candidate*> all;
  all.reserve(batch.size());
  for (const Candidate& c : batch) all.push_back(&c);
  result.deleted.reserve(batch.size());

  // The transaction re-evaluates the whole selection — due, floors, holds as
  // re-read by the caller — and RETURNING tells what went. BEGIN IMMEDIATE
  // takes the write lock up front, so the application waits at most one
  // short batch.
  //
  // First one DELETE over the batch's clock range (what the raw DELETE
  // costs): when it removed only candidates, each with its identity, the
  // candidates it left (changed since, or outside the range as bound) are
  // deleted by key in the same transaction. When it removed anything else,
  // the transaction is rolled back and the batch deleted by key alone, so a
  // record that moved into the range is never deleted unless selected.
  RETENTION_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE").WithContext(Label()));
  auto rollback = [&](Status s) {
    (void)db_->Exec("ROLLBACK");
    return s;
  };
  if (!b.HasJoins()) {
    std::vector<char> gone(batch.size(), 0);  // by candidate index
    auto by_rowid = DeleteRangeByRowid(b, batch, &gone, &result);
    if (!by_rowid.ok()) return rollback(by_rowid.status());
    auto ranged = by_rowid->has_value() ? Result<bool>(**by_rowid) : DeleteRangeInTxn(b, batch, index(), &gone, &result);
    if (!ranged.ok()) return rollback(ranged.status());
    if (!*ranged) {
      RETENTION_RETURN_IF_ERROR(rollback(Status::Ok()));
      result.deleted.clear();
      RETENTION_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE").WithContext(Label()));
    } else {
      all.erase(std::remove_if(all.begin(), all.end(), [&](const Candidate* c) { return gone[c - batch.data()]; }),
                all.end());
    }
  }
  if (!all.empty())
    if (Status s = DeleteKeysInTxn(b, all, batch, index(), &result); !s.ok()) return rollback(s);
  // The hold barrier still held: the holds this transaction judged by are
  // the latest (Selection::confirm_barrier).
  if (Status held = selection.ConfirmBarrier(); !held.ok()) return rollback(held.WithContext(Label()));
  if (Status s = db_->Exec("COMMIT"); !s.ok()) return rollback(s.WithContext(Label()));
  return result;
}

// Syncs one of the files SQLite holds open for the connection (`op`:
// SQLITE_FCNTL_FILE_POINTER, the database; SQLITE_FCNTL_JOURNAL_POINTER, its
// WAL or rollback journal) through SQLite's own handle. A file it does not
// hold open (no journal now, no WAL yet) holds no commit of ours.
//
// Never open(2) and close(2) the database file beside the connection
// instead: POSIX advisory locks belong to the process and the inode, and
// closing ANY descriptor of the file drops every lock the process holds on
// it ("How To Corrupt An SQLite Database File", 2.2). In WAL mode that is
// the SHARED lock a connection keeps on the database for its whole life;
// without it, another process closing its own connection gets the
// EXCLUSIVE lock, believes it is the last user, checkpoints and deletes the
// WAL under us, and our next statement fails with "disk I/O error".
Status SyncOpenFile(sqlite3* db, int op, const std::string& what, const std::string& label) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", op, &file) != SQLITE_OK)
    return Status::IoError(label + ": cannot reach " + what + " to sync it");
  if (file == nullptr || file->pMethods == nullptr) return Status::Ok();
  const int rc = file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
  if (rc != SQLITE_OK)
    return Status::IoError(label + ": syncing " + what + " failed: " + sqlite3_errstr(rc));
  return Status::Ok();
}

// The salts of a WAL's header (bytes 16 to 23): SQLite changes them each
// time it restarts or truncates the WAL, the only moments frames already
// written are overwritten (after a checkpoint copied them into the
// database file). nullopt when there is no WAL header to read. Opening and
// closing the -wal by path is safe where the database file's is not (see
// SyncOpenFile): SQLite keeps no POSIX lock on the -wal (WAL locks are on
// the -shm), so closing it drops none.
std::optional<std::array<unsigned char, 8>> WalSalts(const std::string& wal_path) {
  const int fd = ::open(wal_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  unsigned char header[32];
  const ssize_t n = ::pread(fd, header, sizeof header, 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof header)) return std::nullopt;
  std::array<unsigned char, 8> salts;
  std::memcpy(salts.data(), header + 16, salts.size());
  return salts;
}

// The store makes its own commits durable by syncing the files, once per
// batch (its connection commits at synchronous=NORMAL in WAL mode, see
// OpenSqliteStore; nothing is settled before this). In rollback mode the
// commits are in the database file itself: it is synced. In WAL mode they
// are frames of the -wal, synced first; the database file holds them only
// once a checkpoint copied them there and the WAL was restarted over them,
// which changes the WAL's salts. So when the salts read now, after the WAL's
// sync, are those of the last Sync, no frame written since was overwritten:
// every commit since is in the synced WAL, and everything before was
// durable at that Sync; the database file needs no sync (it costs a device
// flush per batch). Otherwise (the first Sync, a restart since, no WAL) the
// database file is synced too, and the salts become the reference.
Status SqliteStore::Sync() {
  if (read_only_) return Status::Ok();  // it deleted nothing
  const std::string path = db_->FilePath();
  RETENTION_RETURN_IF_ERROR(
      SyncOpenFile(db_->get(), SQLITE_FCNTL_JOURNAL_POINTER, "the WAL or journal of " + path, Label()));
  const auto salts = WalSalts(path + "-wal");
  if (salts && synced_wal_salts_ && *salts == *synced_wal_salts_) {
    // The database file must still be where the WAL belongs to.
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
      return Status::IoError(Label() + ": cannot reach " + path + " to sync it: " + std::strerror(errno));
    return Status::Ok();
  }
  synced_wal_salts_.reset();
  RETENTION_RETURN_IF_ERROR(SyncOpenFile(db_->get(), SQLITE_FCNTL_FILE_POINTER, "the database file " + path, Label()));
  synced_wal_salts_ = salts;
  return Status::Ok();
}

Result<DueBound> SqliteStore::BoundDue(const Selection& selection) {
  auto rendered = Render(selection);
  if (!rendered.ok()) return rendered.status();
  const SqliteSelectionSql& b = *rendered;
  const bool filtered = !selection.target->filters.empty();
  auto count = [&](const SqlFragment& q) -> Result<int64_t> {
    auto stmt = db_->Prepare(q.sql);
    if (!stmt.ok()) return stmt.status();
    BindParams(*stmt, q.params);
    auto row = stmt->Step();
    if (!row.ok()) return row.status().WithContext(Label());
    return stmt->ColumnInt(0);
  };
  // The target's records: without filters SQLite counts the table's B-tree
  // pages without reading rows; with filters this is the exact count of the
  // filtered rows (the same `total` Measure reports).
  SqlFragment total_q;
  total_q.sql = "SELECT count(*) FROM main." + QuoteIdentifier(b.self().resolved().table) + " AS t";
  if (filtered) {
    total_q.sql += " WHERE ";
    total_q += b.Filters();
  }
  auto total = count(total_q);
  if (!total.ok()) return total.status();
  DueBound bound;
  bound.total_at_least = *total;
  if (selection.any_age || b.self().resolved().join_key) {
    // Every record may be due (or its clock is in another table): the
    // bound is the whole target.
    bound.deletable_at_most = *total;
    return bound;
  }
  if (!selection.cutoff) {
    bound.exact = true;  // nothing is due without a cutoff
    return bound;
  }
  // The due range on the raw clock column alone, read from the clock index
  // without visiting a row: wider than Due (which adds the exact test),
  // holds, floors and filters, never narrower.
  SqlFragment due_q;
  due_q.sql = "SELECT count(*) FROM main." + QuoteIdentifier(b.self().resolved().table) + " AS t WHERE ";
  due_q += b.DueRange();
  auto due = count(due_q);
  if (!due.ok()) return due.status();
  bound.deletable_at_most = std::min(*due, *total);
  return bound;
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
  if (!read_only) {
    // In WAL mode the store's commits need no sync of their own: Sync
    // (the WAL's fdatasync) makes each batch durable before it is settled,
    // and a commit lost before that is an open batch, reconciled
    // (purge/batch_executor.cc). NORMAL still syncs at checkpoints. This
    // connection's setting only: the application's connections keep theirs.
    auto mode = store->db().Prepare("PRAGMA journal_mode");
    if (!mode.ok()) return mode.status();
    auto row = mode->Step();
    if (!row.ok()) return row.status();
    if (*row && mode->ColumnText(0) == "wal")
      RETENTION_RETURN_IF_ERROR(store->db().Exec("PRAGMA synchronous=NORMAL"));
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace retention
