#include "stores/sqlite_selection_sql.h"

#include <date/date.h>

#include <map>

namespace retention {

SqlFragment& SqlFragment::operator+=(const SqlFragment& other) {
  sql += other.sql;
  params.insert(params.end(), other.params.begin(), other.params.end());
  return *this;
}

SqlFragment& SqlFragment::operator+=(std::string_view text) {
  sql += text;
  return *this;
}

void BindParams(SqliteStatement& stmt, const std::vector<SqlParam>& params, int first) {
  int i = first;
  for (const SqlParam& p : params) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t>) stmt.BindInt(i, v);
          else if constexpr (std::is_same_v<T, double>) stmt.BindDouble(i, v);
          else if constexpr (std::is_same_v<T, std::string>) stmt.BindText(i, v);
          else if constexpr (std::is_same_v<T, bool>) stmt.BindInt(i, v ? 1 : 0);
          else sqlite3_bind_pointer(stmt.get(), i, const_cast<SqlTextSet*>(v.get()), kSqlTextSetType, nullptr);
        },
        p);
    ++i;
  }
}

namespace {

// Hold values beyond this many are written as literals: the store binds up
// to ~2000 keys per DELETE besides, and SQLite allows 32766 parameters.
constexpr size_t kHoldParamBudget = 20000;
// Exclusions with a clock range (or several fields) beyond this many become
// one table of values the record is looked up in: as separate terms, each
// repeats the clock expression and SQLite's prepare grows quadratically.
constexpr size_t kTermsBeforeTable = 16;

std::string Col(const std::string& alias, const std::string& column) {
  return alias + "." + (column == "rowid" ? std::string("rowid") : QuoteIdentifier(column));
}

std::string ScopeAlias(size_t i) { return i == 0 ? "j" : "s" + std::to_string(i); }

SqlParam ToParam(const FilterValue& v) {
  return std::visit([](const auto& x) -> SqlParam { return x; }, v);
}

// The zone naive text clocks of a target are read in.
std::string ZoneOf(const Target& target, const TimeZone& fallback) {
  return target.clock.time_zone.empty() ? fallback.name() : target.clock.time_zone;
}

SqlFragment ClockMicrosOf(const Target& target, const std::string& column_sql, const TimeZone& zone) {
  SqlFragment f;
  f.sql = "retention_clock(" + column_sql + ", ?, ?)";
  f.params.push_back(static_cast<int64_t>(target.clock.encoding));
  f.params.push_back(ZoneOf(target, zone));
  return f;
}

// `null_safe`: 0 or 1, never NULL (a filter on a NULL column is NULL), for
// use under NOT; otherwise a plain conjunction SQLite can use indexes for.
SqlFragment FiltersOf(const Target& target, const ResolvedSqliteTarget& resolved, bool null_safe) {
  SqlFragment f;
  f.sql = null_safe ? "coalesce((1" : "(1";
  for (size_t i = 0; i < target.filters.size(); ++i) {
    const Filter& filter = target.filters[i];
    const std::string column = Col("t", resolved.filter_columns[i]);
    switch (filter.op) {
      case FilterOp::kEquals:
        f.sql += " AND " + column + " = ?";
        f.params.push_back(ToParam(filter.values[0]));
        break;
      case FilterOp::kIn:
        f.sql += " AND " + column + " IN (";
        for (size_t k = 0; k < filter.values.size(); ++k) {
          f.sql += k ? ",?" : "?";
          f.params.push_back(ToParam(filter.values[k]));
        }
        f.sql += ")";
        break;
      case FilterOp::kIsNull:
        f.sql += " AND " + column + " IS NULL";
        break;
      case FilterOp::kIsNotNull:
        f.sql += " AND " + column + " IS NOT NULL";
        break;
    }
  }
  f.sql += null_safe ? "), 0)" : ")";
  return f;
}

// A column as text, compared byte for byte whatever the column's collation
// (a CAST of a column keeps the column's collation otherwise).
std::string AsText(const std::string& column) { return "CAST(" + column + " AS TEXT) COLLATE BINARY"; }

// (a OR b OR ...) as a balanced tree, so that thousands of terms stay far
// below SQLite's expression depth limit.
SqlFragment AnyOf(const std::vector<SqlFragment>& terms, size_t begin, size_t end) {
  if (begin == end) return SqlFragment{"0", {}};
  if (end - begin == 1) return terms[begin];
  const size_t mid = begin + (end - begin) / 2;
  SqlFragment f;
  f.sql = "(";
  f += AnyOf(terms, begin, mid);
  f.sql += " OR ";
  f += AnyOf(terms, mid, end);
  f.sql += ")";
  return f;
}

// ceil(a / b) for b > 0.
int64_t CeilDiv(int64_t a, int64_t b) { return a / b + (a % b > 0 ? 1 : 0); }

}  // namespace

std::string DayText(Timestamp t, int days) {
  return date::format("%F", date::floor<date::days>(t) + date::days(days));
}

std::string CanonicalClockText(Timestamp t) {
  const auto seconds = date::floor<std::chrono::seconds>(t);
  std::string text = date::format("%F %T", seconds);
  int64_t micros = (t - seconds).count();
  if (micros == 0) return text;
  std::string fraction = std::to_string(micros);
  fraction.insert(0, 6 - fraction.size(), '0');
  while (fraction.back() == '0') fraction.pop_back();
  return text + "." + fraction;
}

bool IsUtcZoneName(std::string_view name) { return name == "UTC" || name == "Etc/UTC"; }

SqlFragment ClockMicrosSql(const Target& target, const std::string& column_sql, const TimeZone& zone) {
  return ClockMicrosOf(target, column_sql, zone);
}

std::string ClockZoneName(const Target& target, const TimeZone& fallback) { return ZoneOf(target, fallback); }

SqlFragment ClockBefore(const Target& target, const std::string& column_sql, const TimeZone& zone, Timestamp t) {
  SqlFragment f;
  const int64_t micros = ToUnixMicros(t);
  switch (target.clock.encoding) {
    case ClockEncoding::kUnixSeconds:
    case ClockEncoding::kUnixMillis: {
      // An integer v is v * unit microseconds, valid from 1900 on
      // (ClockFromUnits): before t exactly when v < ceil(t / unit).
      const int64_t unit = target.clock.encoding == ClockEncoding::kUnixSeconds ? 1000000 : 1000;
      const int64_t first = int64_t{-2208988800} * (1000000 / unit);
      f.sql = "CASE WHEN typeof(" + column_sql + ") = 'integer' THEN " + column_sql + " >= ? AND " + column_sql +
              " < ? ELSE ";
      f.params.push_back(first);
      f.params.push_back(CeilDiv(micros, unit));
      break;
    }
    case ClockEncoding::kText: {
      const std::string zone_name = ZoneOf(target, zone);
      if (IsUtcZoneName(zone_name)) {
        // In UTC a canonical text is its instant; as strings of this form
        // sort as their instants do, the comparison is exact (the cutoff's
        // fraction without trailing zeros, see CanonicalClockText).
        f.sql = "CASE WHEN retention_canonical(" + column_sql + ") THEN " + column_sql + " < ? ELSE ";
        f.params.push_back(CanonicalClockText(t));
      } else {
        // A local time is its instant plus an offset of less than a day, so
        // a canonical text two days before t's date is older than t whatever
        // the zone; nearer ones (DST, ambiguous times) are read exactly by
        // the function, which rounds toward keeping.
        f.sql = "CASE WHEN " + column_sql + " < ? AND retention_canonical(" + column_sql + ") THEN 1 ELSE ";
        f.params.push_back(DayText(t, -2));
      }
      break;
    }
    case ClockEncoding::kNative:
      f.sql = "CASE WHEN 0 THEN 0 ELSE ";
      break;
  }
  f += ClockMicrosOf(target, column_sql, zone);
  f.sql += " < ? END";
  f.params.push_back(micros);
  return f;
}

SqlFragment ClockUndated(const Target& target, const std::string& column_sql, const TimeZone& zone) {
  SqlFragment f;
  f.sql = "CASE WHEN " + column_sql + " IS NULL THEN 1 ";
  switch (target.clock.encoding) {
    case ClockEncoding::kUnixSeconds:
    case ClockEncoding::kUnixMillis: {
      const int64_t per_second = target.clock.encoding == ClockEncoding::kUnixSeconds ? 1 : 1000;
      f.sql += "WHEN typeof(" + column_sql + ") = 'integer' THEN NOT (" + column_sql + " >= ? AND " + column_sql +
               " < ?) ";
      f.params.push_back(int64_t{-2208988800} * per_second);   // 1900-01-01
      f.params.push_back(int64_t{253402300800} * per_second);  // 10000-01-01
      break;
    }
    case ClockEncoding::kText:
      f.sql += "WHEN retention_canonical(" + column_sql + ") THEN 0 ";
      break;
    case ClockEncoding::kNative:
      break;
  }
  f.sql += "ELSE ";
  f += ClockMicrosOf(target, column_sql, zone);
  f.sql += " IS NULL END";
  return f;
}

SqliteTargetSql::SqliteTargetSql(const Target& target, ResolvedSqliteTarget resolved, TimeZone zone)
    : target_(&target), resolved_(std::move(resolved)), zone_(std::move(zone)) {}

SqlFragment SqliteTargetSql::From() const {
  SqlFragment f;
  f.sql = " FROM main." + QuoteIdentifier(resolved_.table) + " AS t";
  if (resolved_.join_key)
    f.sql += " LEFT JOIN main." + QuoteIdentifier(resolved_.clock_table) + " AS j ON " +
             Col("j", *resolved_.join_key) + " = " + Col("t", *resolved_.join_on);
  return f;
}

std::string SqliteTargetSql::ClockColumn() const {
  return Col(resolved_.join_key ? "j" : "t", resolved_.clock_column);
}

SqlFragment SqliteTargetSql::ClockMicros() const { return ClockMicrosOf(*target_, ClockColumn(), zone_); }
std::string SqliteTargetSql::KeyColumn() const { return Col("t", resolved_.key_column); }
std::string SqliteTargetSql::OrderColumn() const { return Col("t", resolved_.order_column); }
std::string SqliteTargetSql::SubjectColumn() const {
  return resolved_.subject_column ? Col("t", *resolved_.subject_column) : std::string("NULL");
}

Result<SqliteSelectionSql> SqliteSelectionSql::Make(const Selection& selection,
                                                    std::vector<ResolvedSqliteTarget> scopes) {
  RETENTION_RETURN_IF_ERROR(CheckRenderable(selection));
  if (scopes.size() != selection.scopes.size())
    return Status::Internal("selection scopes resolved " + std::to_string(scopes.size()) + " of " +
                            std::to_string(selection.scopes.size()));
  return SqliteSelectionSql(selection, std::move(scopes));
}

SqliteSelectionSql::SqliteSelectionSql(const Selection& selection, std::vector<ResolvedSqliteTarget> scopes)
    : selection_(&selection), scopes_(std::move(scopes)), self_(*selection.target, scopes_[0], selection.zone) {
  // Holds of one field only go into a bound set (HeldInScope); the others
  // are written out value by value.
  size_t values = 0;
  for (const HoldExclusion& e : selection.exclusions) {
    const bool one_field = !e.clock_from && !e.clock_until && (e.subject_id.has_value() != e.key.has_value());
    if (!one_field)
      values += (e.subject_id ? 1 : 0) + (e.key ? 1 : 0) + (e.clock_from ? 5 : 0) + (e.clock_until ? 5 : 0);
  }
  inline_values_ = values > kHoldParamBudget;
}

void SqliteSelectionSql::AddValue(SqlFragment* f, SqlParam value) const {
  if (!inline_values_) {
    f->sql += "?";
    f->params.push_back(std::move(value));
    return;
  }
  if (const auto* text = std::get_if<std::string>(&value); text && text->find('\0') == std::string::npos) {
    f->sql += "'";
    for (char c : *text) f->sql += c == '\'' ? std::string("''") : std::string(1, c);
    f->sql += "'";
  } else if (const auto* n = std::get_if<int64_t>(&value)) {
    f->sql += std::to_string(*n);
  } else {
    f->sql += "?";
    f->params.push_back(std::move(value));
  }
}

bool SqliteSelectionSql::HasJoins() const {
  for (const auto& s : scopes_)
    if (s.join_key) return true;
  return false;
}

SqlFragment SqliteSelectionSql::From() const {
  SqlFragment f = self_.From();
  // Scope 0 is the target itself, whose join is "j".
  for (size_t i = 1; i < scopes_.size(); ++i) {
    const auto& s = scopes_[i];
    if (!s.join_key) continue;
    f.sql += " LEFT JOIN main." + QuoteIdentifier(s.clock_table) + " AS " + ScopeAlias(i) + " ON " +
             Col(ScopeAlias(i), *s.join_key) + " = " + Col("t", *s.join_on);
  }
  return f;
}

SqlFragment SqliteSelectionSql::ScopeFilters(size_t scope) const {
  return FiltersOf(*selection_->scopes[scope].target, scopes_[scope], /*null_safe=*/true);
}

SqlFragment SqliteSelectionSql::Filters() const {
  return FiltersOf(*selection_->target, scopes_[0], /*null_safe=*/false);
}

SqlFragment SqliteSelectionSql::HeldClock(size_t scope) const {
  const Target& target = *selection_->scopes[scope].target;
  SqlFragment f;
  f.sql = "retention_clock(" + ScopeClockColumn(scope) + ", ";
  AddValue(&f, static_cast<int64_t>(target.clock.encoding));
  f.sql += ", ";
  AddValue(&f, ZoneOf(target, selection_->zone));
  f.sql += ")";
  return f;
}

std::string SqliteSelectionSql::ScopeClockColumn(size_t scope) const {
  const auto& s = scopes_[scope];
  return Col(s.join_key ? ScopeAlias(scope) : "t", s.clock_column);
}

SqlFragment SqliteSelectionSql::ScopeClockMicros(size_t scope) const {
  return ClockMicrosOf(*selection_->scopes[scope].target, ScopeClockColumn(scope), selection_->zone);
}

std::string SqliteSelectionSql::ScopeSubjectColumn(size_t scope) const {
  const auto& s = scopes_[scope];
  return s.subject_column ? Col("t", *s.subject_column) : std::string("NULL");
}

SqlFragment SqliteSelectionSql::Subject() const {
  SqlFragment f;
  if (!selection_->subject) {
    f.sql = "1";
  } else if (!scopes_[0].subject_column) {
    f.sql = "0";  // the target maps no subject: none of its records is the subject's
  } else {
    f.sql = "coalesce(" + AsText(SubjectColumn()) + " = ?, 0)";
    f.params.push_back(*selection_->subject);
  }
  return f;
}

SqlFragment SqliteSelectionSql::DueRange() const {
  SqlFragment f;
  if (selection_->any_age) return SqlFragment{"1", {}};
  if (!selection_->cutoff) return SqlFragment{"0", {}};
  const int64_t micros = ToUnixMicros(*selection_->cutoff);
  // A range on the raw column lets SQLite use the clock index; it is wider
  // than the exact test of Due, never narrower.
  f.sql = "(" + ClockColumn() + " < ?)";
  switch (selection_->target->clock.encoding) {
    case ClockEncoding::kUnixSeconds:
      f.params.push_back(static_cast<int64_t>(micros / 1000000 + 1));
      break;
    case ClockEncoding::kUnixMillis:
      f.params.push_back(static_cast<int64_t>(micros / 1000 + 1));
      break;
    default:
      // Text sorts by its date prefix; two days of margin cover any UTC
      // offset (at most +14:00) and any naive zone.
      f.params.push_back(DayText(*selection_->cutoff, 2));
      break;
  }
  return f;
}

SqlFragment SqliteSelectionSql::Due() const {
  if (selection_->any_age || !selection_->cutoff) return DueRange();
  SqlFragment f;
  f.sql = "(";
  f += DueRange();
  f.sql += " AND ";
  f += ClockBefore(*selection_->target, ClockColumn(), selection_->zone, *selection_->cutoff);
  f.sql += ")";
  return f;
}

SqlFragment SqliteSelectionSql::DueCanonical() const {
  if (selection_->any_age || !selection_->cutoff) return DueRange();
  SqlFragment f;
  f.sql = "(" + ClockColumn() + " < ?)";
  f.params.push_back(CanonicalClockText(*selection_->cutoff));
  return f;
}

SqlFragment SqliteSelectionSql::FloorsPass() const {
  SqlFragment f;
  f.sql = "(1";
  for (const FloorGuard& floor : selection_->floors) {
    // The guard keeps the record when its scope's filters match and its
    // clock there is not provably older than the floor (NULL: not older).
    f.sql += " AND (NOT ";
    f += ScopeFilters(floor.scope);
    f.sql += " OR coalesce(";
    f += ClockBefore(*selection_->scopes[floor.scope].target, ScopeClockColumn(floor.scope), selection_->zone,
                     floor.floor_cutoff);
    f.sql += ", 0))";
  }
  f.sql += ")";
  return f;
}

// One exclusion with a clock range, or several fields: each field it gives
// must match (ExclusionCovers). The scope's filters are tested by the caller.
SqlFragment SqliteSelectionSql::ExclusionTerm(const HoldExclusion& e) const {
  SqlFragment f;
  f.sql = "(1";
  if (e.subject_kind) {
    f.sql += " AND " + AsText(ScopeSubjectColumn(e.scope)) + " = ";
    AddValue(&f, *e.subject_id);
  }
  if (e.key) {
    f.sql += " AND " + AsText(KeyColumn()) + " = ";
    AddValue(&f, *e.key);
  }
  // An undated record is covered by any clock range (when unsure, keep).
  for (const auto& [bound, op] : {std::pair{&e.clock_from, " >= "}, std::pair{&e.clock_until, " < "}}) {
    if (!*bound) continue;
    SqlFragment clock = HeldClock(e.scope);
    f.sql += " AND (";
    f += clock;
    f.sql += " IS NULL OR ";
    f += clock;
    f.sql += op;
    AddValue(&f, ToUnixMicros(**bound));
    f.sql += ")";
  }
  f.sql += ")";
  return f;
}

// Many exclusions as rows of a VALUES table (subject, key, from, until; NULL
// where the exclusion gives none), each field matched as ExclusionTerm does.
// The record's clock is computed once per record, in a subquery SQLite does
// not flatten (it has a LIMIT and its outer query is a join).
SqlFragment SqliteSelectionSql::ExclusionTable(size_t scope, const std::vector<const HoldExclusion*>& exclusions) const {
  SqlFragment f;
  f.sql = "EXISTS (SELECT 1 FROM (SELECT ";
  f += HeldClock(scope);
  f.sql += " AS c LIMIT 1) AS rc, (VALUES ";
  for (size_t i = 0; i < exclusions.size(); ++i) {
    const HoldExclusion& e = *exclusions[i];
    f.sql += i ? ",(" : "(";
    if (e.subject_kind) AddValue(&f, *e.subject_id); else f.sql += "NULL";
    f.sql += ",";
    if (e.key) AddValue(&f, *e.key); else f.sql += "NULL";
    f.sql += ",";
    if (e.clock_from) AddValue(&f, ToUnixMicros(*e.clock_from)); else f.sql += "NULL";
    f.sql += ",";
    if (e.clock_until) AddValue(&f, ToUnixMicros(*e.clock_until)); else f.sql += "NULL";
    f.sql += ")";
  }
  f.sql += ") AS h WHERE (h.column1 IS NULL OR h.column1 = " + AsText(ScopeSubjectColumn(scope)) +
           ") AND (h.column2 IS NULL OR h.column2 = " + AsText(KeyColumn()) +
           ") AND (h.column3 IS NULL OR rc.c IS NULL OR rc.c >= h.column3)"
           " AND (h.column4 IS NULL OR rc.c IS NULL OR rc.c < h.column4))";
  return f;
}

SqlFragment SqliteSelectionSql::HeldInScope(size_t scope, const std::vector<const HoldExclusion*>& exclusions) const {
  const Target& target = *selection_->scopes[scope].target;
  // Holds that name only a subject or only a key, gathered into IN lists.
  std::vector<std::string> subjects, keys;
  std::vector<const HoldExclusion*> ranged;  // a clock range, or several fields
  std::vector<SqlFragment> terms;
  bool whole_scope = false;
  for (const HoldExclusion* e : exclusions) {
    // A subject hold of a kind this scope's target does not map covers
    // none of its records (HoldSet::Matches).
    if (e->subject_kind && (!target.subject || target.subject->kind != *e->subject_kind ||
                            !scopes_[scope].subject_column))
      continue;
    const bool has_range = e->clock_from || e->clock_until;
    if (e->subject_kind && !e->key && !has_range) {
      subjects.push_back(*e->subject_id);
    } else if (!e->subject_kind && e->key && !has_range) {
      keys.push_back(*e->key);
    } else if (!e->subject_kind && !e->key && !has_range) {
      whole_scope = true;
    } else {
      ranged.push_back(e);
    }
  }
  if (ranged.size() <= kTermsBeforeTable) {
    for (const HoldExclusion* e : ranged) terms.push_back(ExclusionTerm(*e));
  } else {
    terms.push_back(ExclusionTable(scope, ranged));
  }
  if (!whole_scope && subjects.empty() && keys.empty() && terms.empty()) return SqlFragment{"0", {}};
  // Holds of one kind are one hash lookup per row, the set bound as a
  // pointer: however many holds (40000 keys), the statement stays small and
  // needs no parameters beyond it. (Measured against the IN lists this
  // replaced, 100 subject holds over 1M due rows: see the report.)
  for (const auto& [values, column] : {std::pair{&subjects, ScopeSubjectColumn(scope)}, std::pair{&keys, KeyColumn()}}) {
    if (values->empty()) continue;
    SqlFragment in;
    in.sql = "retention_in_set(?, " + column + ")";
    in.params.push_back(std::shared_ptr<const SqlTextSet>(std::make_shared<SqlTextSet>(*values)));
    terms.push_back(std::move(in));
  }
  SqlFragment f;
  f.sql = "coalesce((";
  f += ScopeFilters(scope);
  f.sql += " AND ";
  if (whole_scope) {
    f.sql += "1";
  } else {
    f += AnyOf(terms, 0, terms.size());
  }
  f.sql += "), 0)";
  return f;
}

SqlFragment SqliteSelectionSql::Held() const {
  std::map<size_t, std::vector<const HoldExclusion*>> by_scope;
  for (const HoldExclusion& e : selection_->exclusions) by_scope[e.scope].push_back(&e);
  std::vector<SqlFragment> terms;
  for (const auto& [scope, exclusions] : by_scope) {
    SqlFragment term = HeldInScope(scope, exclusions);
    if (term.sql != "0") terms.push_back(std::move(term));
  }
  return AnyOf(terms, 0, terms.size());
}

SqlFragment SqliteSelectionSql::Deletable() const {
  SqlFragment f;
  f.sql = "(";
  f += Filters();
  f.sql += " AND ";
  f += Subject();
  f.sql += " AND ";
  f += Due();
  f.sql += " AND ";
  f += FloorsPass();
  f.sql += " AND NOT ";
  f += Held();
  f.sql += ")";
  return f;
}

SqlFragment CandidatePageQuery(const SqliteSelectionSql& b, bool paging) {
  // Keyset paging on (clock column, order column): records kept by a hold
  // or floor are passed once, never rescanned by later pages.
  SqlFragment q;
  q.sql = "SELECT " + b.KeyColumn() + ", " + b.ClockColumn() + ", " + b.SubjectColumn() + ", " + b.OrderColumn();
  q += b.From();
  q.sql += " WHERE ";
  q += b.Deletable();
  if (paging && b.PagesUndated()) {
    // Undated records sort first (NULL) and are selected too: after a NULL
    // clock come the other NULLs by order, then every dated record.
    q.sql += " AND ((? IS NULL AND (" + b.ClockColumn() + " IS NOT NULL OR " + b.OrderColumn() + " > ?)) OR (" +
             b.ClockColumn() + ", " + b.OrderColumn() + ") > (?, ?))";
  } else if (paging) {
    q.sql += " AND (" + b.ClockColumn() + ", " + b.OrderColumn() + ") > (?, ?)";
  }
  q.sql += " ORDER BY " + b.ClockColumn() + ", " + b.OrderColumn() + " LIMIT ?";
  return q;
}

}  // namespace retention
