// The SQLite rendering of a Selection (plan/selection.h): the whole rule as
// one SQL predicate, and the statements the store runs built from it.
//
// One renderer makes every statement the store runs for a target — the
// counts of `plan`, the candidate pages of `purge`, the re-checking DELETE,
// `explain`'s lookup — from the same fragments, so they cannot disagree
// about what is deletable (SPEC 6.3). Identifiers come from the catalog
// (ResolvedSqliteTarget) and are quoted; every value is a bound parameter
// (or, past SQLite's parameter limit, a quoted literal).
//
// Holds: a hold's subject and key compare as text (byte for byte, as
// HoldSet compared them), its clock range is a range on the clock in
// microseconds, NULL (undated) included. Holds of one field (a subject, a
// key) are one hash set per kind behind retention_in_set; the others are
// plain SQL terms (or a VALUES table when many). Clocks are compared in SQL
// where that is exact (ClockBefore); retention_clock, which reads a clock
// the way the C++ evaluation does, runs only for the other values
// (sqlite_functions.h).
//
// Aliases: the target table is "t"; the table holding a scope's clock
// through a join is "j" for the own target and "s1", "s2", ... for the
// other scopes.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "plan/selection.h"
#include "stores/sqlite_catalog.h"
#include "stores/sqlite_connection.h"
#include "stores/sqlite_functions.h"

namespace retention {

// A bound value; a set of texts is bound as a pointer (retention_in_set).
using SqlParam = std::variant<int64_t, double, std::string, bool, std::shared_ptr<const SqlTextSet>>;

// A piece of SQL and the values of its '?' placeholders, in order.
struct SqlFragment {
  std::string sql;
  std::vector<SqlParam> params;

  SqlFragment& operator+=(const SqlFragment& other);
  SqlFragment& operator+=(std::string_view text);
};

// Binds params to '?' placeholders starting at index `first`.
void BindParams(SqliteStatement& stmt, const std::vector<SqlParam>& params, int first = 1);

// The pieces of one target that do not depend on any rule: its table, the
// join to its clock, its key, order, subject and clock columns. Used alone
// where no rule applies (Exist, CheckTarget).
class SqliteTargetSql {
 public:
  SqliteTargetSql(const Target& target, ResolvedSqliteTarget resolved, TimeZone zone);

  // FROM "table" AS t [LEFT JOIN "clock table" AS j ON ...].
  SqlFragment From() const;
  // The raw clock column, e.g. "j"."closed_at".
  std::string ClockColumn() const;
  // The record's clock in unix microseconds, NULL when undated.
  SqlFragment ClockMicros() const;
  std::string KeyColumn() const;
  std::string OrderColumn() const;
  // t.subject, or NULL.
  std::string SubjectColumn() const;
  const ResolvedSqliteTarget& resolved() const { return resolved_; }

 private:
  const Target* target_;
  ResolvedSqliteTarget resolved_;
  TimeZone zone_;
};

class SqliteSelectionSql {
 public:
  // `scopes` parallels selection.scopes: each scope's target resolved on the
  // same database. The selection must outlive the renderer. Internal error
  // when the selection's holds were never applied (WithHolds), so a caller
  // that forgot them deletes nothing.
  static Result<SqliteSelectionSql> Make(const Selection& selection, std::vector<ResolvedSqliteTarget> scopes);

  const SqliteTargetSql& self() const { return self_; }
  // FROM "table" AS t LEFT JOIN ... (the clock join of every scope).
  SqlFragment From() const;
  std::string ClockColumn() const { return self_.ClockColumn(); }
  SqlFragment ClockMicros() const { return ScopeClockMicros(0); }
  std::string KeyColumn() const { return self_.KeyColumn(); }
  std::string OrderColumn() const { return self_.OrderColumn(); }
  std::string SubjectColumn() const { return self_.SubjectColumn(); }
  const Selection& selection() const { return *selection_; }
  // Whether any scope reads its clock through a join (From() has joins).
  bool HasJoins() const;

  // A scope's filters (1 when it has none; NULL-safe: 0 or 1), its clock in
  // microseconds, its raw clock column and its subject column (or NULL).
  SqlFragment ScopeFilters(size_t scope) const;
  SqlFragment ScopeClockMicros(size_t scope) const;
  std::string ScopeClockColumn(size_t scope) const;
  std::string ScopeSubjectColumn(size_t scope) const;

  // The own target's filters, as a plain conjunction (NULL when a filtered
  // column is NULL): for WHERE clauses, where SQLite may use an index.
  SqlFragment Filters() const;
  // The erasure's subject (1 when the selection names none).
  SqlFragment Subject() const;
  // clock < cutoff: an indexable range on the raw column, then the exact
  // test (ClockBefore). 0 when there is no cutoff, 1 for any_age.
  SqlFragment Due() const;
  // Due where every dated clock is known to be a canonical text read in UTC
  // (counted in the same read transaction): the string comparison alone,
  // exact for those (ClockBefore), with no function call per row. As Due
  // without a cutoff or for any_age.
  SqlFragment DueCanonical() const;
  // Only the indexable range of Due on the raw column: wider than Due, so
  // an index-only count of it bounds the due records from above.
  SqlFragment DueRange() const;
  // 1 when every floor guard lets the record go.
  SqlFragment FloorsPass() const;
  // 1 when an exclusion covers the record (never NULL).
  SqlFragment Held() const;
  // Filters AND Subject AND Due AND FloorsPass AND NOT Held.
  SqlFragment Deletable() const;
  // Undated records can be selected (any_age): paging must pass NULL clocks.
  bool PagesUndated() const { return selection_->any_age; }

 private:
  SqliteSelectionSql(const Selection& selection, std::vector<ResolvedSqliteTarget> scopes);

  // A value in the SQL: a bound parameter, or past the parameter budget a
  // quoted literal.
  void AddValue(SqlFragment* f, SqlParam value) const;
  // A scope's clock, its arguments written like hold values.
  SqlFragment HeldClock(size_t scope) const;
  SqlFragment ExclusionTerm(const HoldExclusion& e) const;
  SqlFragment ExclusionTable(size_t scope, const std::vector<const HoldExclusion*>& exclusions) const;
  SqlFragment HeldInScope(size_t scope, const std::vector<const HoldExclusion*>& exclusions) const;

  const Selection* selection_;
  std::vector<ResolvedSqliteTarget> scopes_;
  SqliteTargetSql self_;
  bool inline_values_ = false;
};

// "clock < t" for one target's clock column, exact as retention_clock reads
// it (NULL when the clock does not parse), with no function call where SQL
// alone is exact: integer unix clocks compare as integers (t converted),
// text clocks in the canonical form "YYYY-MM-DD HH:MM:SS[.f{1,6}]" compare
// as strings against t in the same form when the zone is UTC, and outside a
// two-day band around t in any other zone. Every other value (REAL or TEXT
// unix clocks, offsets, 'T', dates alone, garbage) goes through
// retention_clock.
SqlFragment ClockBefore(const Target& target, const std::string& column_sql, const TimeZone& zone, Timestamp t);

// retention_clock(column, encoding, zone): a target's clock in unix
// microseconds, NULL when undated.
SqlFragment ClockMicrosSql(const Target& target, const std::string& column_sql, const TimeZone& zone);

// 1 when a target's clock is undated (NULL or not parsing), 0 otherwise,
// calling retention_clock only for values no cheaper test decides.
SqlFragment ClockUndated(const Target& target, const std::string& column_sql, const TimeZone& zone);

// t in UTC as "YYYY-MM-DD HH:MM:SS", then ".ffffff" without trailing zeros
// when it has microseconds: the form whose string order is the time order
// of canonical clock texts (a shorter fraction with the same digits is the
// same instant or earlier).
std::string CanonicalClockText(Timestamp t);
// The zone a target's naive text clocks are read in, and whether it is UTC
// (where a canonical text is its own instant).
std::string ClockZoneName(const Target& target, const TimeZone& fallback);
bool IsUtcZoneName(std::string_view name);
// The UTC date `days` after t's, "YYYY-MM-DD".
std::string DayText(Timestamp t, int days);

// The page query of purge's candidate cursor: the deletable records, oldest
// first, after (clock, order) when `paging` (bound twice when
// b.PagesUndated()); then the page size. Columns:
// key, raw clock, subject, order column. Exposed so a test can assert
// with EXPLAIN QUERY PLAN that it walks the clock index.
SqlFragment CandidatePageQuery(const SqliteSelectionSql& b, bool paging);

}  // namespace retention
