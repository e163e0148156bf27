// What the live SQLite schema says about a table, and a rule target
// resolved against it (SPEC 6.9): every identifier that reaches SQL is the
// catalog's own spelling of a table or column that exists, then quoted.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rules/rule.h"
#include "stores/sqlite_connection.h"

namespace retention {

struct SqliteColumn {
  std::string name;
  std::string declared_type;  // as written in CREATE TABLE ("" if none)
  int pk_position = 0;        // 1-based position in the primary key, 0 if not
};

struct SqliteIndex {
  std::string name;
  bool unique = false;
  std::vector<std::string> columns;
};

struct SqliteTable {
  std::string name;
  bool has_rowid = true;
  std::vector<SqliteColumn> columns;
  std::vector<SqliteIndex> indexes;

  const SqliteColumn* FindColumn(std::string_view name) const;  // case-insensitive
  // The column is the first column of some index (so ranges on it are indexed).
  bool IsIndexed(std::string_view column) const;
  // The column alone identifies a row: the single-column primary key, a
  // single-column unique index, or the INTEGER PRIMARY KEY (rowid alias).
  bool IsUnique(std::string_view column) const;
  // The single INTEGER PRIMARY KEY column aliasing the rowid, if any.
  const SqliteColumn* RowidAlias() const;
  std::vector<const SqliteColumn*> PrimaryKey() const;
};

// nullopt when no such table exists. Lookup values are bound, never spliced.
Result<std::optional<SqliteTable>> ReadSqliteTable(SqliteConnection& db, std::string_view name);

// A target with every name resolved against the catalog.
struct ResolvedSqliteTarget {
  std::string table;         // catalog spelling
  std::string key_column;    // "rowid" or a column; the ledger key
  bool key_is_rowid = false; // key is the rowid or its alias: bind as integer
  std::string order_column;  // unique, indexed tiebreak for paging: "rowid" or the key
  std::string clock_table;   // table holding the clock column (join table or table)
  std::string clock_column;
  std::optional<std::string> join_key;  // column of clock_table
  std::optional<std::string> join_on;   // column of table
  std::optional<std::string> subject_column;
  std::vector<std::string> filter_columns;  // parallel to Target::filters
  bool clock_indexed = false;
  std::string clock_declared_type;
};

// Resolves a target. Errors (missing table or column, unusable key, a join
// key that is not unique, an encoding the column cannot hold) are collected
// in `errors` as plain messages; nullopt when any error was found.
std::optional<ResolvedSqliteTarget> ResolveSqliteTarget(SqliteConnection& db, const Target& target,
                                                        std::vector<std::string>* errors,
                                                        std::vector<std::string>* warnings);

}  // namespace retention
