#include "stores/sqlite_connection.h"

namespace retention {

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Result<bool> SqliteStatement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string message = sqlite3_errmsg(db_);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
    return Status::Busy("database is busy: " + message);
  if (rc == SQLITE_IOERR || rc == SQLITE_FULL || rc == SQLITE_CORRUPT)
    return Status::IoError(message);
  return Status::Unavailable(message);
}

std::string SqliteStatement::ColumnText(int i) const {
  const unsigned char* text = sqlite3_column_text(stmt_, i);
  if (!text) return std::string();
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, i));
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::filesystem::path& path,
                                                                 bool read_only, std::string label) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return Status::Unavailable(label + ": database " + path.string() + " does not exist");
  sqlite3* db = nullptr;
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Unavailable(label + ": cannot open " + path.string() + ": " + message);
  }
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db, std::move(label)));
  // Wait for an application's short write transactions instead of failing.
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 0);
  // Reading the schema proves the file is a database at all.
  if (Status s = conn->Exec("SELECT count(*) FROM sqlite_schema"); !s.ok())
    return Status::Unavailable(conn->label_ + ": " + path.string() + " is not a usable SQLite database: " +
                               s.message());
  return conn;
}

SqliteConnection::~SqliteConnection() { sqlite3_close_v2(db_); }

std::string SqliteConnection::FilePath() const {
  const char* name = sqlite3_db_filename(db_, "main");
  return name ? std::string(name) : std::string();
}

Result<SqliteStatement> SqliteConnection::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return LastError("preparing a statement");
  return SqliteStatement(db_, stmt);
}

Status SqliteConnection::Exec(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

Status SqliteConnection::LastError(std::string_view doing) const {
  int rc = sqlite3_errcode(db_);
  std::string message = label_ + ": " + std::string(doing) + ": " + sqlite3_errmsg(db_);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return Status::Busy(message);
  if (rc == SQLITE_IOERR || rc == SQLITE_FULL || rc == SQLITE_CORRUPT) return Status::IoError(message);
  return Status::Unavailable(message);
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace retention
