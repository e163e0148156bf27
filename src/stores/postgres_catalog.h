// What pg_catalog says about a table, and a rule target resolved against it
// (SPEC 6.9): every identifier that reaches SQL is the catalog's own
// spelling of a relation or column that exists, quoted with QuotePgIdent;
// every lookup value is bound.
//
// Keys. The ledger key of a row is a text:
//   - one key column: the column's text form (`42`, `a-7`), so integer keys
//     stay integers in the ledger;
//   - a composite primary key: the jsonb array of its columns' text forms in
//     key order, as jsonb renders it: `["7", "2026-01"]`. It is decoded in
//     SQL (`x->>i` cast to each column's type), never parsed by hand.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rules/rule.h"
#include "stores/postgres_connection.h"

namespace retention {

struct PgColumn {
  std::string name;      // catalog spelling
  std::string type;      // format_type(): "timestamp with time zone", "character varying(20)"
  std::string typname;   // pg_type.typname: "timestamptz", "varchar", "int8"
  char category = 'X';   // pg_type.typcategory: 'D' date/time, 'N' numeric, 'S' string
  int attnum = 0;
  bool not_null = false;
};

struct PgIndex {
  bool unique = false;
  bool primary = false;
  std::vector<int> attnums;  // 0 for an expression
};

struct PgTable {
  std::string oid;
  std::string schema;
  std::string name;
  char relkind = 'r';  // 'r' table, 'p' partitioned table
  std::vector<PgColumn> columns;
  std::vector<PgIndex> indexes;

  const PgColumn* FindColumn(std::string_view name) const;  // exact, then as an unquoted name folds
  const PgColumn* ByAttnum(int attnum) const;
  // The column leads some index (so ranges on it are indexed).
  bool IsIndexed(const PgColumn& column) const;
  // The column alone is unique (a one-column primary key or unique index).
  bool IsUnique(const PgColumn& column) const;
  std::vector<const PgColumn*> PrimaryKey() const;
};

// "schema.table" split at the first '.', schema "public" when none.
std::pair<std::string, std::string> SplitPgTableName(std::string_view name);

// nullopt when no such table (or partitioned table) exists. The name is
// matched as written, then as PostgreSQL folds an unquoted name.
Result<std::optional<PgTable>> ReadPgTable(PgConnection& db, std::string_view qualified_name);

// How a clock column's values are read (the type and the rule's encoding).
enum class PgClockKind {
  kTimestampTz,  // native timestamptz: an instant
  kTimestamp,    // native timestamp: a wall time in the clock's zone
  kDate,         // native date: local midnight in the clock's zone
  kText,         // text encoding over a string column (ParseClockText)
  kUnixInteger,  // unix_seconds / unix_millis over an integer column
  kUnixNumeric,  // unix_seconds / unix_millis over numeric / float
};

// A target with every name resolved against the catalog.
struct ResolvedPgTarget {
  std::string table_oid;
  std::string schema, table;            // catalog spelling
  std::vector<PgColumn> key;            // 1 column, or the composite primary key
  std::string clock_schema, clock_table;  // the join table, or the table itself
  PgColumn clock;
  PgClockKind clock_kind = PgClockKind::kTimestampTz;
  std::optional<PgColumn> join_key;     // column of the clock table
  std::optional<PgColumn> join_on;      // column of the table
  std::optional<PgColumn> subject;
  std::vector<PgColumn> filters;        // parallel to Target::filters
  bool clock_indexed = false;
  bool partitioned = false;

  // "schema"."table", quoted.
  std::string QualifiedTable() const;
  std::string QualifiedClockTable() const;
};

// Resolves a target. Errors (missing table or column, no usable key, a join
// key that is not unique, a type the encoding cannot read) are collected as
// plain messages; nullopt when any error was found. An IoError status when
// the catalog cannot be read.
Result<std::optional<ResolvedPgTarget>> ResolvePgTarget(PgConnection& db, const Target& target,
                                                        std::vector<std::string>* errors,
                                                        std::vector<std::string>* warnings);

// Which cluster and database `db` reaches, the first part of the store's
// identity (Store::Identity):
//   postgres cluster 7714821381855405924, database "app" (oid 16384)
// The cluster is named by its system identifier (pg_control_system(), set
// by initdb, kept by every physical copy), which any role may read unless a
// DBA revoked it: then "postgres cluster (system identifier not readable)",
// and two such stores compare on the database and table alone.
Result<std::string> ReadPgDatabaseIdentity(PgConnection& db);

// The text of a filter value as PostgreSQL reads it for the column's type.
std::string PgFilterText(const FilterValue& value);

}  // namespace retention
