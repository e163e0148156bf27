// The PostgreSQL rendering of a Selection (plan/selection.h): the whole rule
// as SQL predicates, every value a bound parameter ($n, text, cast in the
// SQL to the type it compares with), every identifier the catalog's
// spelling quoted (ResolvedPgTarget).
//
// One renderer makes every statement the store runs — plan's counts, the
// cursor's pages, the re-checking DELETE, explain's lookup — from the same
// fragments, so they cannot disagree about what is deletable (SPEC 6.3).
//
// Clocks, judged in SQL exactly as the C++ readers judge them (ReadPgClock,
// the reference of tests/plan/selection_agreement_test.cc):
//   - timestamptz: an instant; `col < $1::timestamptz`, an index range.
//     +-infinity is undated.
//   - timestamp / date: a wall time (a date: its midnight) in the clock's
//     zone, read as ParseClockText reads naive text (a nonexistent or
//     ambiguous local time is the later instant). The local times whose
//     instant is before t are computed in C++ (LocalTimesBefore): a prefix,
//     plus a piece of the hour a spring-forward skipped, so `clock < t` is
//     `col < $a OR (col >= $b AND col < $c)`: exact, and index ranges.
//   - text: every value is read in SQL by one regular expression with the
//     grammar of SplitClockText (ISO 'T' or space, minutes or seconds, a
//     fraction of up to 9 digits rounded up to microseconds, Z or an
//     offset, date alone), calendar-checked; a naive value is compared as
//     a timestamp's wall time is, one with an offset as an instant. A text
//     that does not parse is undated. A byte-order range on the raw text
//     (two days of margin, any form sorts by its date first) narrows the
//     rows first (DueRange).
//   - unix_seconds / unix_millis: integer columns compare as integers (t
//     rounded up to the unit), numeric/float ones through the exact
//     microsecond value ClockFromUnits computes; outside 1900..9999 undated.
//
// Aliases: the target table is "t"; the table holding a scope's clock
// through a join is "j" for the own target and "s1", "s2", ... for others.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/cutoff.h"
#include "plan/selection.h"
#include "stores/postgres_catalog.h"
#include "stores/postgres_connection.h"

namespace retention {

// SQL under construction with its parameters: Bind appends a value and
// returns its placeholder, so fragments compose in writing order.
struct PgQuery {
  std::string sql;
  std::vector<PgParam> params;

  std::string Bind(std::string value) {
    params.emplace_back(std::move(value));
    return "$" + std::to_string(params.size());
  }
  PgQuery& operator+=(std::string_view text) {
    sql += text;
    return *this;
  }
};

// A PostgreSQL array literal of texts ('{"a","b\"c",NULL}'), for `$1::text[]`
// or `$1::type[]`.
std::string PgArrayLiteral(const std::vector<std::optional<std::string>>& values);
std::string PgArrayLiteral(const std::vector<std::string>& values);

// t as timestamptz text in UTC: "2026-11-22 15:12:25.123456+00".
std::string PgInstantText(Timestamp t);
// A wall time as timestamp text: "2026-11-22 15:12:25.123456".
std::string PgLocalText(TimeZone::LocalTime t);

// The wall times v (a half-open range each) whose instant, read in `zone`
// as ParseClockText reads naive times (later instant when ambiguous or
// skipped), is before t. The first range is open below (from = nullopt).
struct LocalRange {
  std::optional<TimeZone::LocalTime> from;
  TimeZone::LocalTime until;
};
std::vector<LocalRange> LocalTimesBefore(const TimeZone& zone, Timestamp t);

// The C++ reading of a clock as the store shows it: `raw` is the column's
// text form, `epoch` extract(epoch ...) for the native kinds (the
// instant for timestamptz, the wall time for timestamp and date; nullopt
// when infinite). nullopt: undated.
std::optional<Timestamp> ReadPgClock(PgClockKind kind, ClockEncoding encoding, std::optional<std::string_view> raw,
                                     std::optional<std::string_view> epoch, const TimeZone& zone);

// The key of the row aliased "t" as its ledger text (postgres_catalog.h).
std::string PgKeyText(const ResolvedPgTarget& r, const std::string& alias = "t");
// Appends "<key of t> matches one of keys", index-friendly (`= ANY` of the
// key type, or the composite key decoded from its jsonb texts).
void PgKeyIn(PgQuery* q, const ResolvedPgTarget& r, const std::vector<std::string>& keys,
             const std::string& alias = "t");
// "alias"."column"
std::string PgCol(const std::string& alias, const PgColumn& column);

class PgSelectionSql {
 public:
  // `scopes` parallels selection.scopes, each resolved on the same
  // database. The selection must outlive the renderer. Internal error when
  // the selection's holds were never applied (CheckRenderable).
  static Result<PgSelectionSql> Make(const Selection& selection, std::vector<ResolvedPgTarget> scopes);

  const Selection& selection() const { return *selection_; }
  const ResolvedPgTarget& self() const { return scopes_[0].r; }
  const ResolvedPgTarget& scope(size_t i) const { return scopes_[i].r; }
  const TimeZone& zone(size_t i) const { return scopes_[i].zone; }

  // " FROM "schema"."table" AS t LEFT JOIN ..." (every scope's clock join).
  std::string From() const;
  std::string ClockColumn(size_t scope = 0) const;
  std::string KeyText() const { return PgKeyText(self()); }
  std::vector<std::string> KeyColumns() const;
  // The subject as text, or NULL.
  std::string SubjectText(size_t scope = 0) const;
  // extract(epoch ...) of a native clock (NULL when infinite), NULL otherwise.
  std::string ClockEpoch(size_t scope) const;
  bool HasJoins() const;

  // Each appends one boolean SQL expression to q.
  void Filters(PgQuery* q) const;                    // plain conjunction (NULL when a column is NULL)
  void ScopeFilters(PgQuery* q, size_t scope) const;  // never NULL
  void Subject(PgQuery* q) const;
  void Due(PgQuery* q) const;       // exact clock < cutoff (and the range); any_age: true
  void DueRange(PgQuery* q) const;  // only the indexable range: wider than Due
  void FloorsPass(PgQuery* q) const;
  void Held(PgQuery* q) const;       // never NULL
  void Deletable(PgQuery* q) const;  // Filters AND Subject AND Due AND FloorsPass AND NOT Held
  void Undated(PgQuery* q, size_t scope) const;                // never NULL
  void Before(PgQuery* q, size_t scope, Timestamp t) const;  // dated and < t; never NULL
  // Undated records can be selected (any_age): paging must pass NULL clocks.
  bool PagesUndated() const { return selection_->any_age; }

 private:
  struct Scope {
    const Target* target;
    ResolvedPgTarget r;
    TimeZone zone;
    std::string alias;  // of the clock's table
  };
  PgSelectionSql(const Selection& selection, std::vector<Scope> scopes) : selection_(&selection), scopes_(std::move(scopes)) {}
  void LocalBefore(PgQuery* q, const std::string& value, const char* cast, size_t scope, Timestamp t,
                   bool dates) const;
  void HeldInScope(PgQuery* q, size_t scope, const std::vector<const HoldExclusion*>& exclusions) const;

  const Selection* selection_;
  std::vector<Scope> scopes_;
};

// The page query of the candidate cursor: the deletable records oldest
// first (clock, then key), after the last one returned when `after` is set
// (its raw clock, NULL for an undated one, and its key columns' texts).
// Columns: key text, clock text (NULL when undated), subject text, and for
// a composite key its key column texts (a single key's is the key text).
struct PgPageAfter {
  std::optional<std::string> clock;
  std::vector<std::string> keys;
};
// `skip_partitions`: oids of partitions whose rows are offered as a batch of
// their own (postgres_partitions.h), left out of the pages.
PgQuery PgCandidatePageQuery(const PgSelectionSql& b, const std::optional<PgPageAfter>& after, size_t limit,
                             const std::vector<std::string>& skip_partitions = {});

// The row path's DELETE of one batch (PostgresStore::DeleteBatch), one
// statement:
//   - the rows still the candidates selected (key, clock text and, when
//     `full`, subject text compared whole, as one length-prefixed text per
//     row against a hashed `= ANY` array: no join with an unnested array,
//     whose row estimate of 1 turns a clock range into a nested loop) and
//     still deletable (the whole rule re-checked), narrowed to the batch's
//     clock range (an index range on the clock; `key = ANY` a filter) when
//     the clock's order is its type's (native and unix clocks of the
//     table's own), locked FOR UPDATE SKIP LOCKED: a row the application
//     holds is skipped, never waited on, and a row it changed and committed
//     since is judged as it is now (READ COMMITTED re-checks a locked row);
//   - those deleted;
//   - then, only when some candidate was not deleted, the candidates the
//     statement's snapshot shows unchanged and deletable that the lock
//     skipped: another transaction held them (judged in the same
//     statement, not by a later query the holder may already have left).
// Columns: key text, subject text ('' for NULL), deleted (true), or key
// text, NULL, false for a row skipped as locked.
struct PgBatchRow {
  std::string_view key, clock, subject;
  bool full = true;  // the subject is part of the identity compared
};
PgQuery PgDeleteBatchQuery(const PgSelectionSql& b, const std::vector<PgBatchRow>& rows);

}  // namespace retention
