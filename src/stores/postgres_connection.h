// A thin RAII layer over libpq for the postgres store: one connection,
// statements with bound text parameters, results that free themselves, and
// errors as Status values that name the store, never the conninfo.
//
// Where the conninfo comes from (SPEC section 3): the environment variable
// a store's conninfo_env names, or the pg_service.conf entry its `service`
// names. Either way application_name is "retention" unless the conninfo
// sets its own, so a DBA sees who is deleting. Whatever libpq says is
// passed through MaskConninfoSecrets before it reaches a Status: a libpq
// message can quote the conninfo it was given.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "util/status.h"

namespace retention {

// A query's result; frees itself.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, PQclear) {}

  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  int columns() const { return r_ ? PQnfields(r_.get()) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  // The value in text form ("" for NULL: ask IsNull).
  std::string_view Text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
  }
  // The rows a DELETE/UPDATE changed (PQcmdTuples), 0 for other commands.
  int64_t AffectedRows() const;
  PGresult* get() const { return r_.get(); }

 private:
  std::shared_ptr<PGresult> r_;
};

// A bound parameter: text, or NULL.
using PgParam = std::optional<std::string>;

class PgConnection {
 public:
  // Connects for `config` (a postgres store). Unavailable "store 'NAME':
  // cannot connect to PostgreSQL: <libpq's reason, secrets masked>" when the
  // server cannot be reached, the variable is unset or empty, or the
  // service is unknown.
  static Result<std::unique_ptr<PgConnection>> Open(const StoreConfig& config);
  // Connects with a conninfo given directly (tests, the state database of
  // issue 15); `who` names it in errors ("store 'app'", "the state database").
  static Result<std::unique_ptr<PgConnection>> OpenConninfo(const std::string& conninfo, const std::string& who);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // One or more statements without parameters (simple query protocol).
  Result<PgResult> Exec(std::string_view sql);
  // One statement, parameters $1.. bound as text (NULL for nullopt); the
  // server infers their types from the statement, or casts in the SQL
  // ($1::timestamptz) decide them.
  Result<PgResult> ExecParams(std::string_view sql, const std::vector<PgParam>& params);

  // The SQLSTATE of the last failed Exec/ExecParams ("" when it had none,
  // e.g. a lost connection): "55P03" lock_not_available, "57014"
  // query_canceled (statement_timeout), "42501" insufficient_privilege.
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // Whether the connection is still usable (PQstatus).
  bool healthy() const;

  // The name errors use: "store 'app'".
  const std::string& who() const { return who_; }
  PGconn* raw() const { return conn_; }

 private:
  PgConnection(PGconn* conn, std::string who) : conn_(conn), who_(std::move(who)) {}
  Status ErrorOf(const PGresult* r, std::string_view sql);

  PGconn* conn_;
  std::string who_;
  std::string last_sqlstate_;
};

// An identifier quoted for SQL: "name", embedded quotes doubled (the
// semantics of quote_ident, always quoting).
std::string QuotePgIdent(std::string_view name);

// `text` with every password libpq could have been given replaced by
// "****": password=... in a conninfo (quoted or not) and the password of
// a postgres:// or postgresql:// URI (user:PASSWORD@host).
std::string MaskConninfoSecrets(std::string_view text);

}  // namespace retention
