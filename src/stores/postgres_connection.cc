#include "stores/postgres_connection.h"

#include <cctype>
#include <cstdlib>

namespace retention {

namespace {

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

// The value after "password" "=" in a conninfo or a URI's query: quoted
// ('...' with \' escapes) or up to whitespace or '&'. Returns its end.
size_t ValueEnd(std::string_view text, size_t start) {
  size_t i = start;
  if (i < text.size() && text[i] == '\'') {
    for (++i; i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      else if (text[i] == '\'') return i + 1;
    }
    return text.size();
  }
  while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) && text[i] != '&') ++i;
  return i;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string MaskPasswordKeywords(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t at = text.find("password", i);
    if (at == std::string_view::npos) break;
    size_t j = at + 8;
    const bool whole_word = (at == 0 || !IsWordChar(text[at - 1])) && (j >= text.size() || !IsWordChar(text[j]));
    while (j < text.size() && text[j] == ' ') ++j;
    if (!whole_word || j >= text.size() || text[j] != '=') {
      out.append(text.substr(i, at + 8 - i));
      i = at + 8;
      continue;
    }
    ++j;
    while (j < text.size() && text[j] == ' ') ++j;
    out.append(text.substr(i, j - i));
    out.append("****");
    i = ValueEnd(text, j);
  }
  out.append(text.substr(i));
  return out;
}

// postgres://user:SECRET@host -> postgres://user:****@host
std::string MaskUriPasswords(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t scheme = text.find("://", i);
    if (scheme == std::string_view::npos) break;
    const size_t start = scheme + 3;
    size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '?' &&
           !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '"' && text[end] != '\'')
      ++end;
    const std::string_view authority = text.substr(start, end - start);
    const size_t at = authority.rfind('@');
    const size_t colon = at == std::string_view::npos ? std::string_view::npos : authority.find(':');
    out.append(text.substr(i, start - i));
    if (colon != std::string_view::npos && colon < at) {
      out.append(authority.substr(0, colon + 1));
      out.append("****");
      out.append(authority.substr(at));
    } else {
      out.append(authority);
    }
    i = end;
  }
  out.append(text.substr(i));
  return out;
}

}  // namespace

int64_t PgResult::AffectedRows() const {
  if (!r_) return 0;
  const char* n = PQcmdTuples(r_.get());
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

std::string MaskConninfoSecrets(std::string_view text) { return MaskUriPasswords(MaskPasswordKeywords(text)); }

std::string QuotePgIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const StoreConfig& config) {
  const std::string who = "store '" + config.name + "'";
  if (!config.service.empty()) return OpenConninfo("service=" + config.service, who);
  const char* value = std::getenv(config.conninfo_env.c_str());
  if (value == nullptr || *value == '\0')
    return Status::Unavailable(who + ": environment variable " + config.conninfo_env +
                               " is not set (it should hold the libpq conninfo or URI of the database)");
  return OpenConninfo(value, who);
}

Result<std::unique_ptr<PgConnection>> PgConnection::OpenConninfo(const std::string& conninfo,
                                                                 const std::string& who) {
  // The conninfo is expanded last, so what it sets itself (its own
  // application_name, a connect_timeout) wins over these defaults.
  const char* keywords[] = {"application_name", "connect_timeout", "client_encoding", "dbname", nullptr};
  const char* values[] = {"retention", "10", "UTF8", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Unavailable(who + ": cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string reason = Trimmed(MaskConninfoSecrets(PQerrorMessage(conn)));
    PQfinish(conn);
    return Status::Unavailable(who + ": cannot connect to PostgreSQL: " + reason);
  }
  // Notices ("table does not exist, skipping") would go to stderr, outside
  // the log's format; nothing the engine runs needs them.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn, who));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

Status PgConnection::ErrorOf(const PGresult* r, std::string_view sql) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  std::string message = r ? PQresultErrorMessage(r) : "";
  if (message.empty()) message = PQerrorMessage(conn_);
  message = Trimmed(MaskConninfoSecrets(message));
  if (!healthy()) return Status::Unavailable(who_ + ": the connection to PostgreSQL was lost: " + message);
  // The statement names only quoted identifiers and placeholders: values are
  // bound, so it holds nothing secret, and it says what failed.
  std::string shown(sql.substr(0, 200));
  if (sql.size() > 200) shown += "...";
  if (last_sqlstate_ == "55P03" || last_sqlstate_ == "40P01")
    return Status::Busy(who_ + ": " + message + " (in: " + shown + ")");
  return Status::IoError(who_ + ": " + message + " (in: " + shown + ")");
}

Result<PgResult> PgConnection::Exec(std::string_view sql) {
  PgResult r(PQexec(conn_, std::string(sql).c_str()));
  const ExecStatusType st = r.get() ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ErrorOf(r.get(), sql);
  last_sqlstate_.clear();
  return r;
}

Result<PgResult> PgConnection::ExecParams(std::string_view sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult r(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(params.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
  const ExecStatusType st = r.get() ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ErrorOf(r.get(), sql);
  last_sqlstate_.clear();
  return r;
}

}  // namespace retention
