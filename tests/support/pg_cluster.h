// A real PostgreSQL server for the tests that need one (tag [postgres]):
// never a mock. The server is a throwaway cluster started by
// scripts/pg-cluster.sh in a directory under /tmp, listening only on a unix
// socket there.
//
// One cluster serves a whole CTest run: the fixture test "postgres cluster
// start" starts it and "postgres cluster stop" removes it (see
// tests/CMakeLists.txt), and the [postgres] tests find it through
// RETENTION_TEST_PG_DIR. Run by hand without that variable, the test binary
// starts a cluster of its own on first use and removes it at exit.
//
// Each test works in a database of its own (PgTestDatabase), created empty
// and dropped at the end of scope, so tests run in parallel on one cluster.
// A test that stops the server (a store that goes away mid-run) starts a
// PgCluster of its own.
#pragma once

#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef RETENTION_SOURCE_DIR
#error "RETENTION_SOURCE_DIR must name the source tree (scripts/pg-cluster.sh)"
#endif

namespace retention::pgtest {

inline std::string ClusterScript() { return std::string(RETENTION_SOURCE_DIR) + "/scripts/pg-cluster.sh"; }

// Runs a shell command; its standard output, or throws with the exit status.
inline std::string RunCapture(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  int status = ::pclose(pipe.release());
  if (status != 0) throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A cluster in a fresh directory under /tmp (the server runs as `postgres`
// when the tests run as root, so the directory must not sit inside a
// private one). Started by the constructor, removed by the destructor.
class PgCluster {
 public:
  PgCluster() {
    std::string templ = "/tmp/retention-pg-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = templ;
    Start();
  }
  ~PgCluster() {
    try {
      RunCapture(ClusterScript() + " remove '" + dir_ + "' >/dev/null 2>&1");
    } catch (...) {
    }
  }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // The socket directory: "host=DIR port=5432 user=postgres".
  const std::string& dir() const { return dir_; }
  std::string Conninfo(const std::string& dbname = "postgres") const {
    return "host=" + dir_ + " port=5432 user=postgres dbname=" + dbname;
  }
  // Stops the server (fast shutdown: open connections are cut) and starts
  // it again on the same data.
  void Stop() { RunCapture(ClusterScript() + " stop '" + dir_ + "' 2>&1"); }
  void Start() { RunCapture(ClusterScript() + " start '" + dir_ + "' 2>&1"); }

 private:
  std::string dir_;
};

// The socket directory of the run's shared cluster: RETENTION_TEST_PG_DIR
// when CTest started one, else a cluster of this process's own.
inline std::string SharedClusterDir() {
  if (const char* dir = ::getenv("RETENTION_TEST_PG_DIR"); dir && *dir) return dir;
  static PgCluster* own = new PgCluster();  // removed at exit, below
  static bool registered = [] {
    std::atexit([] { delete own; });
    return true;
  }();
  (void)registered;
  return own->dir();
}

// A libpq connection for a test's own SQL (setting up tables, looking at
// what the engine left). Throws on any error, with the server's message.
class PgConnection {
 public:
  explicit PgConnection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("cannot connect to the test server: " + message);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "database does not exist, skipping"
  }
  ~PgConnection() { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one or more statements (no parameters).
  void Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    std::string message = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
      throw std::runtime_error("SQL failed: " + message + " in: " + sql);
  }
  // The rows of a query, each value as text ("" for NULL; see IsNull rows
  // by asking for `col IS NULL` in the query).
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::string message = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error("query failed: " + message + " in: " + sql);
    }
    std::vector<std::vector<std::string>> rows(PQntuples(r));
    for (int i = 0; i < PQntuples(r); ++i)
      for (int j = 0; j < PQnfields(r); ++j) rows[i].emplace_back(PQgetvalue(r, i, j));
    PQclear(r);
    return rows;
  }
  // The single value of a one-row, one-column query.
  std::string Scalar(const std::string& sql) {
    auto rows = Query(sql);
    if (rows.size() != 1 || rows[0].size() != 1) throw std::runtime_error("expected one value from: " + sql);
    return rows[0][0];
  }
  PGconn* raw() { return conn_; }

 private:
  PGconn* conn_;
};

// An empty database of the test's own on the shared cluster (or on
// `cluster` when given), dropped at the end of scope.
class PgTestDatabase {
 public:
  PgTestDatabase() : PgTestDatabase(SharedClusterDir()) {}
  explicit PgTestDatabase(const PgCluster& cluster) : PgTestDatabase(cluster.dir()) {}
  explicit PgTestDatabase(std::string cluster_dir) : dir_(std::move(cluster_dir)) {
    static std::atomic<int> counter{0};
    name_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    PgConnection admin(AdminConninfo());
    admin.Exec("DROP DATABASE IF EXISTS " + name_);
    admin.Exec("CREATE DATABASE " + name_);
  }
  ~PgTestDatabase() {
    try {
      PgConnection admin(AdminConninfo());
      admin.Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
      // The server may be stopped by the test; the cluster goes with it.
    }
  }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;

  const std::string& name() const { return name_; }
  // "host=DIR port=5432 user=postgres dbname=NAME": what a store's
  // conninfo_env variable would hold.
  std::string Conninfo() const { return "host=" + dir_ + " port=5432 user=postgres dbname=" + name_; }
  // The same as a URI, for tests of the URI form.
  std::string Uri() const { return "postgresql://postgres@/" + name_ + "?host=" + dir_ + "&port=5432"; }
  PgConnection Connect() const { return PgConnection(Conninfo()); }

 private:
  std::string AdminConninfo() const { return "host=" + dir_ + " port=5432 user=postgres dbname=postgres"; }

  std::string dir_;
  std::string name_;
};

}  // namespace retention::pgtest
