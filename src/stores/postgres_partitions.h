// Partition-aware purge for PostgreSQL targets partitioned by range on
// their clock (issue 14 item 5): a partition whose whole range lies before
// the cutoff is removed as a unit instead of row by row: dropped (DETACH +
// DROP) when every row in it is deletable, emptied (TRUNCATE, the few kept
// rows copied back) when a hold, a floor or a filter keeps a few.
//
// The decisions, and why:
//
// * Which tables: a target partitioned BY RANGE on exactly its clock
//   column (pg_partitioned_table: strategy 'r', one key column, that
//   column; an expression key or a multi-column key is not "on the
//   clock"). Its direct leaf partitions are the units; a sub-partitioned
//   child is left to the row-by-row path.
//
// * Bounds are the real ones: read from pg_get_expr(relpartbound), never
//   computed from partition names (pg_partman's trap: a partition named
//   for one month can hold another). MINVALUE and MAXVALUE are kept as
//   "no bound". A partition's range is before the cutoff when its upper
//   bound <= the cutoff, compared in PostgreSQL with both cast to the
//   column's type, so the column type's own ordering (timestamptz,
//   timestamp, date) decides, not a parse of ours. An upper MAXVALUE is
//   never before anything.
//
// * The DEFAULT partition is never dropped: its range is "everything no
//   other partition takes", which grows and shrinks as partitions come and
//   go; its rows are always purged row by row.
//
// * A partition with no kept row is dropped whole. One with kept rows (a
//   hold, a floor or a filter keeps them) is EMPTIED as a unit when they
//   are few (at most kMaxKeptPercent of its rows) and copying them back is
//   side-effect free; otherwise it is purged row by row. Emptying
//   (EmptyPgPartition) keeps the partition itself - attached, its indexes,
//   grants and bounds - and only its rows change: TRUNCATE, not DETACH +
//   DROP + CREATE, because a recreated partition would lose whatever the
//   application set on it (grants, storage options, policies, comments) and
//   would take the parent's ACCESS EXCLUSIVE lock twice. The copy back is an
//   INSERT, so a partition is emptied only when that INSERT is invisible:
//   no user trigger on it (INSERT and TRUNCATE triggers would fire; a
//   cloned row trigger of the parent counts), no generated column (it
//   cannot be inserted), no foreign key referencing it or its parent
//   (TRUNCATE refuses), no rewrite rule, and the role may TRUNCATE and
//   INSERT. A kept row comes back byte-identical (every column as read,
//   identity columns with OVERRIDING SYSTEM VALUE) with a new ctid and a
//   new xmin: it is the same row to every query, not to the system columns.
//   The intent lists exactly the deleted keys (the kept rows are not
//   candidates), so the ledger stays exact.
//
// * The store's cursor offers a droppable partition's rows as ONE batch
//   (all its keys, even beyond the batch limit), so the executor writes the
//   intent, every key in the ledger, before anything is removed; the drop
//   is then the batch's delete. DropPartition runs one transaction:
//     SET LOCAL lock_timeout = '100ms'
//     LOCK partition IN SHARE ROW EXCLUSIVE MODE   -- the app cannot write to it
//     re-check: the partition's rows are exactly the batch's keys, all
//               still deletable (else roll back: the batch goes row by row)
//     ALTER TABLE parent DETACH PARTITION partition
//     DROP TABLE partition
//     COMMIT
//   Emptying (kept rows) is one transaction too:
//     SET LOCAL lock_timeout = '100ms'
//     LOCK partition IN SHARE ROW EXCLUSIVE MODE   -- readers go on
//     re-check: the rows deletable are exactly the batch's keys, the others
//               exactly `kept` in number (else kChanged, nothing changed)
//     CREATE TEMP TABLE ... ON COMMIT DROP AS the kept rows
//     TRUNCATE partition        -- ACCESS EXCLUSIVE, within lock_timeout
//     INSERT INTO partition SELECT * FROM the copy (count checked)
//     COMMIT
//   The lock is taken weak first and raised by the TRUNCATE, so the reads
//   of the re-check and the copy block only writers; readers of the parent
//   (a query not pruned to live months touches every partition) wait only
//   for the TRUNCATE, the few kept rows' INSERT and the commit. A lock not
//   granted within the timeout (an application reading the partition, a
//   deadlock) rolls everything back: kBusy.
//   Not DETACH ... CONCURRENTLY, which the issue names: CONCURRENTLY cannot
//   run in a transaction block, so the re-check and the drop could not be
//   one atomic step, and between its two transactions a row could be
//   written to the detached table that no one verified or recorded. The
//   plain DETACH takes the parent's ACCESS EXCLUSIVE lock, but only for the
//   detach, the drop and the commit (milliseconds: no rows are read or
//   written under it), and only within lock_timeout: an application
//   transaction that holds the parent makes the drop give up after 100 ms
//   (kBusy) rather than queue everyone behind it; the batch is then purged
//   row by row. The re-check reads the whole partition under its own lock,
//   so this transaction can outlast SPEC 7's 100 ms for a large month; what
//   it blocks meanwhile is writes to that expired month only, never the
//   parent or the live months.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stores/postgres_connection.h"
#include "stores/store.h"
#include "util/status.h"

namespace retention {

// One direct leaf partition of a range-partitioned table.
struct PgPartition {
  std::string oid;
  std::string schema;
  std::string name;
  std::string bound;        // pg_get_expr(relpartbound) as read: "FOR VALUES FROM (...) TO (...)", "DEFAULT"
  bool is_default = false;
  std::optional<std::string> lower;  // the bound's value (unquoted); nullopt: MINVALUE or DEFAULT
  std::optional<std::string> upper;  // nullopt: MAXVALUE or DEFAULT

  std::string Qualified() const { return QuotePgIdent(schema) + "." + QuotePgIdent(name); }
};

// How a table is partitioned on its clock.
struct PgClockPartitioning {
  std::string parent;       // "schema"."table", quoted
  std::string column_type;  // format_type of the clock column: "timestamp with time zone"
  std::vector<PgPartition> leaves;  // by name
};

// Parses the pg_get_expr form of a one-column range bound, "FOR VALUES FROM
// ('a') TO ('b')", MINVALUE/MAXVALUE as nullopt. False for anything else
// (a multi-column bound, a list or hash bound, DEFAULT).
bool ParsePgRangeBound(std::string_view expr, std::optional<std::string>* lower, std::optional<std::string>* upper);

// The table's partitioning on `clock_column`; nullopt when it is not
// partitioned BY RANGE on exactly that column (then it is purged row by
// row like any table).
Result<std::optional<PgClockPartitioning>> ReadPgClockPartitioning(PgConnection& conn, std::string_view schema,
                                                                   std::string_view table,
                                                                   std::string_view clock_column);

// A predicate the store rendered for its selection: SQL over the rows of
// the table aliased `t` (and the tables `joins` brings in: the LEFT JOINs
// of event clocks and of other rules' floors, written after "FROM <table>
// AS t"), its parameters $1..$n.
struct PgRowPredicate {
  std::string sql;
  std::vector<PgParam> params;
  std::string joins;
};

// The partitions whose whole range lies before `cutoff` (a value of the
// clock column's type in text form: "2024-01-01 00:00:00+00") and whose
// every row satisfies `deletable`, and that hold at least one row. Never
// the default partition.
Result<std::vector<PgPartition>> DroppablePgPartitions(PgConnection& conn, const PgClockPartitioning& parting,
                                                       const std::string& cutoff,
                                                       const PgRowPredicate& deletable);

// What DropPgPartition did.
enum class PgDropOutcome {
  kDropped,   // detached and dropped (or emptied, EmptyPgPartition): the keys' rows are gone
  kChanged,   // its rows are no longer exactly the keys, all deletable: nothing changed
  kBusy,      // a lock was not granted within the lock timeout: nothing changed
};

// Drops `partition` when its rows are exactly `keys` (each row's key in the
// store's text form, rendered by `key_text`, SQL over alias `t`) and all
// still satisfy `deletable`; see the transaction above. Any other error
// (a lost connection) is returned as a Status after the rollback.
Result<PgDropOutcome> DropPgPartition(PgConnection& conn, const PgClockPartitioning& parting,
                                      const PgPartition& partition, const std::vector<std::string>& keys,
                                      const std::string& key_text, const PgRowPredicate& deletable);

// At most this percentage of a partition's rows kept, and it is emptied
// with them copied back; more, and it is purged row by row.
constexpr int64_t kMaxKeptPercent = 10;

// Whether copying kept rows back into `partition` is side-effect free and
// allowed (see above): no user trigger, generated column, referencing
// foreign key or rule, and TRUNCATE and INSERT granted. False with the
// reason in *why.
Result<bool> PgPartitionCanBeEmptied(PgConnection& conn, const PgPartition& partition, std::string* why);

// Empties `partition` when its rows satisfying `deletable` are exactly
// `keys` and the others (the rows the selection keeps) number `kept`: the
// kept rows are copied out, the partition truncated, and they are copied
// back, in one transaction (see above). kDropped when done.
Result<PgDropOutcome> EmptyPgPartition(PgConnection& conn, const PgPartition& partition,
                                       const std::vector<std::string>& keys, int64_t kept,
                                       const std::string& key_text, const PgRowPredicate& deletable);

// A partition the store's cursor offers as one batch, for DeleteBatch to
// recognise (the same keys) and drop, or empty when it keeps rows.
struct PgPendingDrop {
  PgClockPartitioning parting;
  PgPartition partition;
  std::vector<std::string> keys;  // sorted
  int64_t kept = 0;  // rows the selection keeps: > 0, emptied (EmptyPgPartition), not dropped
};

// The cursor's side: the partitions of the target wholly before the cutoff
// that are dropped whole (every row deletable) or emptied (few kept rows,
// PgPartitionCanBeEmptied), each with its deletable rows as candidates,
// read with `select_list` over alias t (key text, clock text, subject text:
// the columns of a Candidate). One scan a partition: the rows and whether
// each is deletable, judged in PostgreSQL. Empty when the table is not
// partitioned on the clock.
Result<std::vector<std::pair<PgPendingDrop, std::vector<Candidate>>>> PlanPgPartitionDrops(
    PgConnection& conn, std::string_view schema, std::string_view table, std::string_view clock_column,
    const std::string& cutoff, const PgRowPredicate& deletable, const std::string& select_list);

// Whether `batch` is exactly the keys of `drop` (any order).
bool IsPgPartitionBatch(const PgPendingDrop& drop, const std::vector<Candidate>& batch);

// A text[] array literal of `values` ({"a","b\"c"}), for binding as one
// parameter.
std::string PgTextArrayLiteral(const std::vector<std::string>& values);

}  // namespace retention
