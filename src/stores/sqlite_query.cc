#include "stores/sqlite_query.h"

#include <date/date.h>

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
          else stmt.BindInt(i, v ? 1 : 0);
        },
        p);
    ++i;
  }
}

namespace {

std::string Col(const std::string& alias, const std::string& column) {
  return alias + "." + (column == "rowid" ? std::string("rowid") : QuoteIdentifier(column));
}

std::string GuardAlias(size_t i) { return "g" + std::to_string(i + 1); }
std::string OverlapAlias(size_t i) { return "o" + std::to_string(i); }

SqlParam ToParam(const FilterValue& v) {
  return std::visit([](const auto& x) -> SqlParam { return x; }, v);
}

// The zone naive text clocks of a target are read in.
std::string ZoneOf(const Target& target, const TimeZone& fallback) {
  return target.clock.time_zone.empty() ? fallback.name() : target.clock.time_zone;
}

}  // namespace

SqliteQueryBuilder::SqliteQueryBuilder(const TargetDecision& decision, const ResolvedSqliteTarget& self,
                                       const std::vector<ResolvedSqliteTarget>& guards,
                                       const std::vector<ResolvedSqliteTarget>& overlaps)
    : decision_(decision), self_(self), guards_(guards), overlaps_(overlaps) {}

SqlFragment SqliteQueryBuilder::From() const {
  SqlFragment f;
  f.sql = " FROM main." + QuoteIdentifier(self_.table) + " AS t";
  if (self_.join_key) {
    f.sql += " LEFT JOIN main." + QuoteIdentifier(self_.clock_table) + " AS j ON " + Col("j", *self_.join_key) +
             " = " + Col("t", *self_.join_on);
  }
  for (size_t i = 0; i < guards_.size(); ++i) {
    const auto& g = guards_[i];
    if (!g.join_key) continue;
    f.sql += " LEFT JOIN main." + QuoteIdentifier(g.clock_table) + " AS " + GuardAlias(i) + " ON " +
             Col(GuardAlias(i), *g.join_key) + " = " + Col("t", *g.join_on);
  }
  // Overlap 0 is the target itself, whose join is "j".
  for (size_t i = 1; i < overlaps_.size(); ++i) {
    const auto& o = overlaps_[i];
    if (!o.join_key) continue;
    f.sql += " LEFT JOIN main." + QuoteIdentifier(o.clock_table) + " AS " + OverlapAlias(i) + " ON " +
             Col(OverlapAlias(i), *o.join_key) + " = " + Col("t", *o.join_on);
  }
  return f;
}

SqlFragment SqliteQueryBuilder::FiltersOf(const Target& target, const ResolvedSqliteTarget& resolved,
                                          const std::string& alias) const {
  SqlFragment f;
  f.sql = "(1";
  for (size_t i = 0; i < target.filters.size(); ++i) {
    const Filter& filter = target.filters[i];
    const std::string column = Col(alias, resolved.filter_columns[i]);
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
  f.sql += ")";
  return f;
}

SqlFragment SqliteQueryBuilder::Filters() const { return FiltersOf(*decision_.target, self_, "t"); }

SqlFragment SqliteQueryBuilder::ClockMicrosOf(const Target& target, const std::string& column_sql) const {
  SqlFragment f;
  f.sql = "retention_clock(" + column_sql + ", ?, ?)";
  f.params.push_back(static_cast<int64_t>(target.clock.encoding));
  f.params.push_back(ZoneOf(target, decision_.zone));
  return f;
}

std::string SqliteQueryBuilder::ClockColumn() const {
  return Col(self_.join_key ? "j" : "t", self_.clock_column);
}

SqlFragment SqliteQueryBuilder::ClockMicros() const { return ClockMicrosOf(*decision_.target, ClockColumn()); }

SqlFragment SqliteQueryBuilder::Due() const {
  SqlFragment f;
  if (!decision_.cutoff) {
    f.sql = "0";
    return f;
  }
  const Timestamp cutoff = *decision_.cutoff;
  const int64_t micros = ToUnixMicros(cutoff);
  // A range on the raw column lets SQLite use the clock index; it is wider
  // than the exact test that follows, never narrower.
  f.sql = "(" + ClockColumn() + " < ? AND ";
  switch (decision_.target->clock.encoding) {
    case ClockEncoding::kUnixSeconds:
      f.params.push_back(static_cast<int64_t>(micros / 1000000 + 1));
      break;
    case ClockEncoding::kUnixMillis:
      f.params.push_back(static_cast<int64_t>(micros / 1000 + 1));
      break;
    default: {
      // Text sorts by its date prefix; two days of margin cover any UTC
      // offset (at most +14:00) and any naive zone.
      auto day = date::floor<date::days>(cutoff) + date::days(2);
      f.params.push_back(date::format("%F", day));
      break;
    }
  }
  f += ClockMicros();
  f.sql += " < ?)";
  f.params.push_back(micros);
  return f;
}

SqlFragment SqliteQueryBuilder::GuardApplies(size_t i) const {
  return FiltersOf(*decision_.floors[i].target, guards_[i], "t");
}

SqlFragment SqliteQueryBuilder::GuardClockMicros(size_t i) const {
  const auto& g = guards_[i];
  return ClockMicrosOf(*decision_.floors[i].target, Col(g.join_key ? GuardAlias(i) : "t", g.clock_column));
}

SqlFragment SqliteQueryBuilder::GuardsPass() const {
  SqlFragment f;
  f.sql = "(1";
  for (size_t i = 0; i < guards_.size(); ++i) {
    // The guard keeps the record when its filters match and its clock is
    // not provably older than the floor (NULL counts as not older).
    f.sql += " AND (NOT coalesce(";
    f += GuardApplies(i);
    f.sql += ", 0) OR coalesce(";
    f += GuardClockMicros(i);
    f.sql += " < ?, 0))";
    f.params.push_back(ToUnixMicros(decision_.floors[i].floor_cutoff));
  }
  f.sql += ")";
  return f;
}

std::string SqliteQueryBuilder::KeyColumn() const { return Col("t", self_.key_column); }
std::string SqliteQueryBuilder::OrderColumn() const { return Col("t", self_.order_column); }

std::string SqliteQueryBuilder::SubjectColumn() const {
  return self_.subject_column ? Col("t", *self_.subject_column) : std::string("NULL");
}

SqlFragment SqliteQueryBuilder::Held() const {
  SqlFragment f;
  if (!decision_.holds || decision_.holds->empty()) {
    // Still a call, so that a decision without loaded holds fails loudly
    // (see retention_held) instead of deleting.
    f.sql = decision_.holds ? "0" : "retention_held(0, NULL, NULL, NULL)";
    return f;
  }
  if (overlaps_.empty()) {
    // A decision must list its own target among its overlaps; without it
    // holds could not be matched, so refuse at run time.
    f.sql = "retention_held(-1, NULL, NULL, NULL)";
    return f;
  }
  f.sql = "(0";
  for (size_t i = 0; i < overlaps_.size(); ++i) {
    const Target& target = *decision_.overlaps[i].target;
    const auto& o = overlaps_[i];
    const std::string alias = i == 0 ? "j" : OverlapAlias(i);
    const std::string subject = o.subject_column ? Col("t", *o.subject_column) : std::string("NULL");
    f.sql += " OR (coalesce(";
    f += FiltersOf(target, o, "t");
    f.sql += ", 0) AND retention_held(" + std::to_string(i) + ", " + KeyColumn() + ", " + subject + ", ";
    f += ClockMicrosOf(target, Col(o.join_key ? alias : "t", o.clock_column));
    f.sql += "))";
  }
  f.sql += ")";
  return f;
}

SqlFragment SqliteQueryBuilder::Deletable() const {
  SqlFragment f;
  f.sql = "(";
  f += Filters();
  f.sql += " AND ";
  f += Due();
  f.sql += " AND ";
  f += GuardsPass();
  f.sql += " AND NOT ";
  f += Held();
  f.sql += ")";
  return f;
}

SqlFragment CandidatePageQuery(const SqliteQueryBuilder& b, bool paging) {
  // Keyset paging on (clock column, order column): records kept by a hold
  // or floor are passed once, never rescanned by later pages.
  SqlFragment q;
  q.sql = "SELECT " + b.KeyColumn() + ", " + b.ClockColumn() + ", " + b.SubjectColumn() + ", " + b.OrderColumn();
  q += b.From();
  q.sql += " WHERE ";
  q += b.Deletable();
  if (paging) q.sql += " AND (" + b.ClockColumn() + ", " + b.OrderColumn() + ") > (?, ?)";
  q.sql += " ORDER BY " + b.ClockColumn() + ", " + b.OrderColumn() + " LIMIT ?";
  return q;
}

}  // namespace retention
