// A thin RAII layer over the SQLite C API for the sqlite store: one
// connection, prepared statements with typed binds, and errors as Status
// values naming the store.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace retention {

class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  SqliteStatement& operator=(SqliteStatement&& o) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement() { sqlite3_finalize(stmt_); }

  // Binds are 1-based, as in SQLite.
  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindDouble(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void BindText(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  void BindValue(int i, const sqlite3_value* v) { sqlite3_bind_value(stmt_, i, v); }

  // SQLITE_ROW -> true, SQLITE_DONE -> false, anything else -> error status.
  Result<bool> Step();
  Status Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return Status::Ok();
  }

  int64_t ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  double ColumnDouble(int i) const { return sqlite3_column_double(stmt_, i); }
  bool ColumnIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  int ColumnType(int i) const { return sqlite3_column_type(stmt_, i); }
  // Text form of any value ("" for NULL).
  std::string ColumnText(int i) const;
  sqlite3_value* ColumnValue(int i) const { return sqlite3_column_value(stmt_, i); }

  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteConnection {
 public:
  // Opens an existing database file; never creates one. `label` names the
  // store in messages ("store 'app'"). Unreachable: Unavailable status.
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::filesystem::path& path,
                                                        bool read_only, std::string label);
  ~SqliteConnection();

  Result<SqliteStatement> Prepare(std::string_view sql);
  Status Exec(std::string_view sql);

  sqlite3* get() const { return db_; }
  const std::string& label() const { return label_; }
  // The database file as SQLite opened it (absolute): where its -wal lies.
  std::string FilePath() const;
  // A Status for the connection's last error: "store 'app': MESSAGE".
  Status LastError(std::string_view doing) const;

 private:
  SqliteConnection(sqlite3* db, std::string label) : db_(db), label_(std::move(label)) {}
  sqlite3* db_;
  std::string label_;
};

// "name" with embedded quotes doubled: the only way identifiers reach SQL,
// and only after the catalog confirmed them.
std::string QuoteIdentifier(std::string_view name);

// A value held across statements (for keyset pagination).
class SqliteValue {
 public:
  SqliteValue() = default;
  explicit SqliteValue(const sqlite3_value* v) : v_(sqlite3_value_dup(v)) {}
  SqliteValue(SqliteValue&& o) noexcept : v_(o.v_) { o.v_ = nullptr; }
  SqliteValue& operator=(SqliteValue&& o) noexcept {
    std::swap(v_, o.v_);
    return *this;
  }
  ~SqliteValue() { sqlite3_value_free(v_); }
  const sqlite3_value* get() const { return v_; }
  bool empty() const { return v_ == nullptr; }

 private:
  sqlite3_value* v_ = nullptr;
};

}  // namespace retention
