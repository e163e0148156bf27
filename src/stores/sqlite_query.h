// Builds the SQL that expresses a TargetDecision on a SQLite table.
//
// One builder makes every statement the store runs for a target — the
// counts of `plan`, the candidate pages of `purge`, the re-checking DELETE,
// `explain`'s lookup — from the same fragments, so they cannot disagree
// about what is deletable (SPEC 6.3). Identifiers come from the catalog
// (ResolvedSqliteTarget) and are quoted; every value is a bound parameter.
//
// Aliases: the target table is "t"; the table holding its clock through a
// join is "j"; floor guards with joins get "g1", "g2", ...; overlapping
// targets with joins (for holds) "o1", "o2", ...
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "stores/sqlite_catalog.h"
#include "stores/sqlite_connection.h"
#include "stores/store.h"

namespace retention {

using SqlParam = std::variant<int64_t, double, std::string, bool>;

// A piece of SQL and the values of its '?' placeholders, in order.
struct SqlFragment {
  std::string sql;
  std::vector<SqlParam> params;

  SqlFragment& operator+=(const SqlFragment& other);
  SqlFragment& operator+=(std::string_view text);
};

// Binds params to '?' placeholders starting at index 1.
void BindParams(SqliteStatement& stmt, const std::vector<SqlParam>& params, int first = 1);

class SqliteQueryBuilder {
 public:
  // `guards` parallels decision.floors and `overlaps` decision.overlaps:
  // each target resolved on the same database. `decision` must outlive the
  // builder; the resolved targets are copied.
  SqliteQueryBuilder(const TargetDecision& decision, const ResolvedSqliteTarget& self,
                     const std::vector<ResolvedSqliteTarget>& guards,
                     const std::vector<ResolvedSqliteTarget>& overlaps);

  // FROM "table" AS t LEFT JOIN ... (the clock join and the guards' joins).
  SqlFragment From() const;
  // The target's filters (TRUE when it has none).
  SqlFragment Filters() const;
  // The record's clock in unix microseconds, NULL when undated.
  SqlFragment ClockMicros() const;
  // The raw clock column, e.g. "j"."closed_at".
  std::string ClockColumn() const;
  // clock < cutoff: an indexable range on the raw column, then the exact test.
  // FALSE when the decision has no cutoff.
  SqlFragment Due() const;
  // Every floor guard lets the record go.
  SqlFragment GuardsPass() const;
  // 1 when a hold in force covers the record as a record of any
  // overlapping target whose filters match it (decision.overlaps).
  SqlFragment Held() const;
  // Filters AND Due AND GuardsPass AND NOT Held.
  SqlFragment Deletable() const;
  // t.key, as the ledger names it.
  std::string KeyColumn() const;
  std::string OrderColumn() const;
  // t.subject, or NULL.
  std::string SubjectColumn() const;
  // The guard's filters, and its clock in microseconds.
  SqlFragment GuardApplies(size_t i) const;
  SqlFragment GuardClockMicros(size_t i) const;

 private:
  SqlFragment FiltersOf(const Target& target, const ResolvedSqliteTarget& resolved,
                        const std::string& alias) const;
  SqlFragment ClockMicrosOf(const Target& target, const std::string& column_sql) const;

  const TargetDecision& decision_;
  const ResolvedSqliteTarget self_;
  const std::vector<ResolvedSqliteTarget> guards_;
  const std::vector<ResolvedSqliteTarget> overlaps_;
};

// The page query of purge's candidate cursor: the deletable records, oldest
// first, after (clock, order) when `paging`; then the page size. Columns:
// key, raw clock, subject, order column. Exposed so a test can assert
// with EXPLAIN QUERY PLAN that it walks the clock index.
SqlFragment CandidatePageQuery(const SqliteQueryBuilder& b, bool paging);

}  // namespace retention
