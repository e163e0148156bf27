// bench_pg_writer: the application's view of a PostgreSQL purge (see
// bench/README.md), and a watch on the purger's transactions.
//
//   bench_pg_writer update CONNINFO TABLE MAX_ID READY_FILE
//   bench_pg_writer watch CONNINFO READY_FILE
//
// update: updates one random row of TABLE at a time (`UPDATE TABLE SET hits
// = hits + 1 WHERE id = $1`, autocommit, as an application touching its
// rows would), id uniform in 1..MAX_ID, pausing 2 ms between updates, until
// SIGTERM or SIGINT. Half the ids are due rows: an update of a row a purge
// has locked waits for the purge's transaction to end, and that wait is in
// its latency (measured from send to the end of the result). The column
// updated is neither the clock nor the subject, so no row changes verdict.
// On exit prints: updates=N p50_ms=X p99_ms=Y max_ms=Z
//
// watch: samples pg_stat_activity every millisecond and keeps the age of the
// oldest open transaction of every other client (the purger: the engine,
// psql; never this tool's own connections, application_name
// bench_pg_writer). The longest seen is the longest target transaction, to
// within the sampling step. On exit prints: longest_txn_ms=X samples=N
//
// Both create READY_FILE once their first round is done. Exit status 0, or
// 1 with a message on stderr.
#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

[[noreturn]] void Die(PGconn* conn, const char* what) {
  std::fprintf(stderr, "bench_pg_writer: %s: %s\n", what, conn ? PQerrorMessage(conn) : "?");
  std::exit(1);
}

PGconn* Connect(const char* conninfo) {
  const char* keys[] = {"dbname", "application_name", nullptr};
  const char* values[] = {conninfo, "bench_pg_writer", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (PQstatus(conn) != CONNECTION_OK) Die(conn, "connect");
  return conn;
}

void MarkReady(const char* path, bool& ready) {
  if (ready) return;
  if (FILE* f = std::fopen(path, "w")) std::fclose(f);
  ready = true;
}

int Update(const char* conninfo, const std::string& table, long max_id, const char* ready_file) {
  PGconn* conn = Connect(conninfo);
  const std::string sql = "UPDATE " + table + " SET hits = hits + 1 WHERE id = $1";
  PGresult* prepared = PQprepare(conn, "update", sql.c_str(), 1, nullptr);
  if (PQresultStatus(prepared) != PGRES_COMMAND_OK) Die(conn, "prepare");
  PQclear(prepared);
  std::mt19937_64 rng(20261130);
  std::uniform_int_distribution<long> pick(1, max_id);
  std::vector<double> latencies_ms;
  latencies_ms.reserve(1 << 16);
  bool ready = false;
  while (!g_stop) {
    const std::string id = std::to_string(pick(rng));
    const char* params[] = {id.c_str()};
    const auto start = std::chrono::steady_clock::now();
    PGresult* r = PQexecPrepared(conn, "update", 1, params, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(conn, "update");
    PQclear(r);
    const auto end = std::chrono::steady_clock::now();
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    MarkReady(ready_file, ready);
    usleep(2000);
  }
  PQfinish(conn);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double q) {
    if (latencies_ms.empty()) return 0.0;
    size_t i = static_cast<size_t>(q * static_cast<double>(latencies_ms.size() - 1) + 0.5);
    return latencies_ms[i];
  };
  std::printf("updates=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", latencies_ms.size(), at(0.5), at(0.99),
              latencies_ms.empty() ? 0.0 : latencies_ms.back());
  return 0;
}

int Watch(const char* conninfo, const char* ready_file) {
  PGconn* conn = Connect(conninfo);
  const char* sql =
      "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start) * 1000), 0) "
      "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' "
      "AND application_name <> 'bench_pg_writer' AND xact_start IS NOT NULL AND datname = current_database()";
  PGresult* prepared = PQprepare(conn, "watch", sql, 0, nullptr);
  if (PQresultStatus(prepared) != PGRES_COMMAND_OK) Die(conn, "prepare");
  PQclear(prepared);
  double longest = 0;
  long samples = 0;
  bool ready = false;
  while (!g_stop) {
    PGresult* r = PQexecPrepared(conn, "watch", 0, nullptr, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) Die(conn, "watch");
    longest = std::max(longest, std::atof(PQgetvalue(r, 0, 0)));
    PQclear(r);
    ++samples;
    MarkReady(ready_file, ready);
    usleep(1000);
  }
  PQfinish(conn);
  std::printf("longest_txn_ms=%.1f samples=%ld\n", longest, samples);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "update" && argc == 6) return Update(argv[2], argv[3], std::atol(argv[4]), argv[5]);
  if (mode == "watch" && argc == 4) return Watch(argv[2], argv[3]);
  std::fprintf(stderr,
               "usage: bench_pg_writer update CONNINFO TABLE MAX_ID READY_FILE\n"
               "       bench_pg_writer watch CONNINFO READY_FILE\n");
  return 1;
}
