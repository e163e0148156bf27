// Helpers for the end-to-end tests: they drive the built `retention` binary
// as a user would (a temp directory, a config, the command line) and then
// look at the data and the ledger with plain SQLite, not through the engine.
#pragma once

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef RETENTION_BINARY
#error "RETENTION_BINARY must name the built retention binary"
#endif
#ifndef RETENTION_SHIPPED_RULES
#error "RETENTION_SHIPPED_RULES must name the shipped rules directory"
#endif

#include <catch2/catch.hpp>

#include "support/ledger_checker.h"

namespace retention::e2e {

namespace fs = std::filesystem;

inline const char* kBinary = RETENTION_BINARY;
inline const char* kShippedRules = RETENTION_SHIPPED_RULES;

// A scratch directory, removed with everything in it at the end of scope.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "retention-e2e-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);  // our own scratch directory only
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const fs::path& p, const std::string& content) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

struct RunResult {
  int exit_code = -1;  // the child's exit status; 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs `command` (argv[0] a path), stdin from /dev/null, stdout and stderr
// captured through files (no pipe to deadlock on), in `cwd` if given.
inline RunResult RunProgram(const std::vector<std::string>& command, const fs::path& cwd = {}) {
  char templ[] = "/tmp/retention-e2e-run-XXXXXX";
  if (::mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
  const fs::path scratch = templ;
  const fs::path out_path = scratch / "stdout", err_path = scratch / "stderr";

  std::vector<std::string> argv_store = command;
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::unsetenv("RETENTION_CONFIG");
    ::execv(argv_store[0].c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  std::error_code ec;
  fs::remove_all(scratch, ec);
  return r;
}

// A program started in the background (see Spawn); Finish() waits for it.
struct Spawned {
  pid_t pid = -1;
  fs::path scratch;

  // Whether it has exited (reaped then: call Finish for its result).
  bool Exited() {
    if (done_) return true;
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      done_ = true;
      status_ = status;
    }
    return done_;
  }

  RunResult Finish() {
    if (!done_) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw std::runtime_error("waitpid failed");
      }
      status_ = status;
      done_ = true;
    }
    RunResult r;
    r.exit_code = WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
    r.out = ReadFile(scratch / "stdout");
    r.err = ReadFile(scratch / "stderr");
    std::error_code ec;
    fs::remove_all(scratch, ec);
    return r;
  }

 private:
  bool done_ = false;
  int status_ = 0;
};

// Starts the binary with `args` in the background, with `env` ("NAME=value")
// added to its environment; output captured as RunProgram does.
inline Spawned Spawn(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  char templ[] = "/tmp/retention-e2e-run-XXXXXX";
  if (::mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
  Spawned s;
  s.scratch = templ;
  const fs::path out_path = s.scratch / "stdout", err_path = s.scratch / "stderr";
  std::vector<std::string> argv_store{kBinary};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  s.pid = ::fork();
  if (s.pid < 0) throw std::runtime_error("fork failed");
  if (s.pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::unsetenv("RETENTION_CONFIG");
    for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execv(argv_store[0].c_str(), argv.data());
    ::_exit(127);
  }
  return s;
}

// Waits until `file` exists (a RETENTION_PAUSE point was reached), or throws
// after `seconds`.
inline void WaitForFile(const fs::path& file, int seconds = 120) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!fs::exists(file)) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("timed out waiting for " + file.string());
    ::usleep(10000);
  }
}

// Runs the binary with `args` (argv[1..]).
inline RunResult Run(const std::vector<std::string>& args, const fs::path& cwd = {}) {
  std::vector<std::string> command{kBinary};
  command.insert(command.end(), args.begin(), args.end());
  return RunProgram(command, cwd);
}

// Runs with `--config CONFIG` in front of `args`.
inline RunResult RunWith(const fs::path& config, std::vector<std::string> args) {
  args.insert(args.begin(), {"--config", config.string()});
  return Run(args);
}

// For Catch2 INFO(): what the binary said.
inline std::string Describe(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout ---\n" + r.out + "--- stderr ---\n" + r.err;
}

// Waits until `child` reaches its RETENTION_PAUSE point (`reached`
// exists). Throws, with the child's output, when it ended without reaching
// it, and after `seconds`.
inline void WaitForPause(Spawned& child, const fs::path& reached, int seconds = 120) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!fs::exists(reached)) {
    if (child.Exited()) throw std::runtime_error("ended before its pause point " + reached.string() + ": " +
                                                 Describe(child.Finish()));
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("timed out waiting for " + reached.string());
    ::usleep(10000);
  }
}

// A plain SQLite connection: reads data and the ledger, and tampers with
// them as an operator or an attacker would.
class Db {
 public:
  explicit Db(const fs::path& path, bool read_only = false) {
    const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open " + path.string() + ": " + m);
    }
    sqlite3_busy_timeout(db_, 10000);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements; throws on error.
  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err != nullptr ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw std::runtime_error("SQL error: " + m + " in: " + sql);
    }
  }

  // Rows of one query, every value as text ("" for NULL); `params` bound as text.
  std::vector<std::vector<std::optional<std::string>>> Query(const std::string& sql,
                                                             const std::vector<std::string>& params = {}) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("SQL error: ") + sqlite3_errmsg(db_) + " in: " + sql);
    for (size_t i = 0; i < params.size(); ++i)
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::vector<std::optional<std::string>>> rows;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::optional<std::string>> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)));
        }
      }
      rows.push_back(std::move(row));
    }
    std::string m = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) throw std::runtime_error("SQL error: " + m + " in: " + sql);
    return rows;
  }

  // The single integer a query returns (e.g. a count).
  int64_t Int(const std::string& sql, const std::vector<std::string>& params = {}) {
    auto rows = Query(sql, params);
    if (rows.size() != 1 || rows[0].empty() || !rows[0][0])
      throw std::runtime_error("expected one non-null value from: " + sql);
    return std::stoll(*rows[0][0]);
  }

  // The first column of every row.
  std::vector<std::string> Column(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<std::string> out;
    for (auto& row : Query(sql, params)) out.push_back(row[0].value_or(""));
    return out;
  }

  bool TableExists(const std::string& name) {
    return Int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", {name}) == 1;
  }

  int64_t Count(const std::string& table) { return Int("SELECT count(*) FROM \"" + table + "\""); }

 private:
  sqlite3* db_ = nullptr;
};

// The tables of the demo application database.
inline const std::vector<std::string> kDemoTables = {
    "accounts",     "customers",       "inventory_items", "sales",       "invoices",
    "support_tickets", "support_emails", "audit_events",  "security_events", "request_logs",
    "sessions",     "oauth_states",    "usage_events"};

inline std::map<std::string, int64_t> RowCounts(const fs::path& app_db) {
  Db db(app_db, /*read_only=*/true);
  std::map<std::string, int64_t> counts;
  for (const auto& t : kDemoTables) counts[t] = db.Count(t);
  return counts;
}

// `retention state init` for `config`: a purge or `hold add` refuses to run
// without a state database.
inline void InitState(const fs::path& config) {
  RunResult r = RunWith(config, {"state", "init"});
  if (r.exit_code != 0) throw std::runtime_error("retention state init failed: " + Describe(r));
}

// `retention demo DIR --rows N`; returns the config it wrote.
inline fs::path MakeDemo(const fs::path& dir, int rows) {
  RunResult r = Run({"demo", dir.string(), "--rows", std::to_string(rows)});
  if (r.exit_code != 0) throw std::runtime_error("retention demo failed: " + Describe(r));
  return dir / "retention.toml";
}

// A demo made by `retention demo` in a temp dir, and the binary run on its
// config.
struct DemoFixture {
  TempDir dir;
  fs::path root = dir / "demo";
  fs::path config;
  fs::path app_db = root / "app.db";
  fs::path state_db = root / "state.db";

  explicit DemoFixture(int rows) : config(MakeDemo(root, rows)) {}

  // Replaces `from` by `to` in the config (it must occur).
  void EditConfig(const std::string& from, const std::string& to) {
    std::string text = ReadFile(config);
    const auto pos = text.find(from);
    if (pos == std::string::npos) throw std::runtime_error("the demo config has no '" + from + "'");
    text.replace(pos, from.size(), to);
    WriteFile(config, text);
  }

  RunResult Retention(std::vector<std::string> args) { return RunWith(config, std::move(args)); }
};

// Ledger entries of one kind, per target ("store/target").
// What the ledger says per store/target for `kind`, read as the
// independent checker reads it (support/ledger_checker.h): "delete" and
// "kept" count records -- the per-record entries written before the packed
// batch entry, and the candidates of settled batch entries (kept: those the
// settlement lists as kept; delete: the others); any other kind counts
// entries.
inline std::map<std::string, int64_t> LedgerCounts(const fs::path& state_db, const std::string& kind) {
  std::map<std::string, int64_t> out;
  if (!fs::exists(state_db)) return out;
  const checker::State st = checker::ReadState(state_db);
  for (const checker::Entry& e : st.ledger)
    if (e.kind == kind) ++out[e.store + "/" + e.target];
  if (kind == "delete" || kind == "kept") {
    std::vector<std::string> problems;
    std::vector<checker::Entry> kept;
    const std::vector<checker::Entry> deleted = checker::BatchDeletes(st, &problems, &kept);
    for (const checker::Entry& e : kind == "delete" ? deleted : kept) ++out[e.store + "/" + e.target];
  }
  return out;
}

inline int64_t LedgerCount(const fs::path& state_db, const std::string& kind) {
  int64_t n = 0;
  for (const auto& [where, count] : LedgerCounts(state_db, kind)) n += count;
  return n;
}

// The keys the ledger claims deleted, in ledger order, as the independent
// checker reads them: per-record delete entries (written before batch
// entries) and the candidates of settled batch entries not kept. The
// settlements must read cleanly (checked here).
inline std::vector<std::string> DeletedKeys(const fs::path& state_db) {
  const checker::State st = checker::ReadState(state_db);
  std::vector<std::string> problems;
  const std::vector<checker::Entry> claimed = checker::BatchDeletes(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  std::vector<std::string> keys;
  for (const checker::Entry& e : st.ledger)
    if (e.kind == "delete") keys.push_back(e.record_key);
  for (const checker::Entry& e : claimed) keys.push_back(e.record_key);
  return keys;
}

// --- Time, computed independently of the engine -----------------------------

inline int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `unix_seconds` minus `months` calendar months in UTC, the day clamped to
// the end of the month (2026-03-31 - 1 month = 2026-02-28), as SPEC 4 says.
inline int64_t MinusMonthsUtc(int64_t unix_seconds, int months) {
  using namespace std::chrono;
  const sys_seconds t{seconds{unix_seconds}};
  const sys_days day = floor<days>(t);
  const auto time_of_day = t - day;
  year_month_day ymd{day};
  year_month_day shifted = ymd - std::chrono::months{months};
  if (!shifted.ok()) shifted = year_month_day{year_month_day_last{shifted.year(), month_day_last{shifted.month()}}};
  return (sys_days{shifted} + time_of_day).time_since_epoch().count();
}

inline std::string FormatUtc(int64_t unix_seconds, const char* fmt = "%Y-%m-%d %H:%M:%S") {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

// SQL that turns a text clock column into unix seconds (NULL when SQLite
// cannot read it: those records are undated, and never due).
inline std::string TextClockSeconds(const std::string& column) {
  return "CAST(strftime('%s', " + column + ") AS INTEGER)";
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The number of lines of `s` (a trailing newline ends the last line).
inline size_t LineCount(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  if (!s.empty() && s.back() != '\n') ++n;
  return n;
}

}  // namespace retention::e2e
