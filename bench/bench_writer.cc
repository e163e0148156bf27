// bench_writer: the application's view of a purge (see bench/README.md).
//
//   bench_writer DB READY_FILE
//
// Inserts one row at a time into DB's events table (BEGIN IMMEDIATE;
// INSERT; COMMIT, synchronous=NORMAL, as a WAL application would), pausing
// 2 ms between inserts, until SIGTERM or SIGINT. Each insert's latency is
// measured from BEGIN to the end of COMMIT, so it includes the time spent
// waiting for another connection's write transaction. Waiting uses a busy
// handler that retries every 100 us (SQLite's default handler sleeps up to
// 100 ms a step and would blur the figure). The rows inserted get new ids
// (above every generated id) and a clock after the benchmark's cutoff, so
// they are never due.
//
// Creates READY_FILE after the first insert. On exit prints one line:
//   inserts=N p50_ms=X p99_ms=Y max_ms=Z
// Exit status 0, or 1 with a message on stderr.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int BusyRetry(void*, int attempts) {
  if (attempts > 10 * 1000 * 600) return 0;  // give up after ~10 minutes
  usleep(100);
  return 1;
}

[[noreturn]] void Die(sqlite3* db, const char* what) {
  std::fprintf(stderr, "bench_writer: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  std::exit(1);
}

bool Exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_writer DB READY_FILE\n");
    return 1;
  }
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  sqlite3* db = nullptr;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) Die(db, "open");
  sqlite3_busy_handler(db, BusyRetry, nullptr);
  if (!Exec(db, "PRAGMA synchronous=NORMAL")) Die(db, "pragma");
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO events(subject, created_at) VALUES(0, '2026-06-01 12:00:00')",
                         -1, &insert, nullptr) != SQLITE_OK)
    Die(db, "prepare");

  std::vector<double> latencies_ms;
  latencies_ms.reserve(1 << 16);
  bool ready = false;
  while (!g_stop) {
    const auto start = std::chrono::steady_clock::now();
    // Retry the whole transaction on a busy error the handler did not
    // absorb (none expected with BEGIN IMMEDIATE); the wait counts.
    for (;;) {
      if (!Exec(db, "BEGIN IMMEDIATE")) {
        if (sqlite3_errcode(db) == SQLITE_BUSY) continue;
        Die(db, "begin");
      }
      int rc = sqlite3_step(insert);
      sqlite3_reset(insert);
      if (rc != SQLITE_DONE) {
        Exec(db, "ROLLBACK");
        if (rc == SQLITE_BUSY) continue;
        Die(db, "insert");
      }
      if (!Exec(db, "COMMIT")) {
        Exec(db, "ROLLBACK");
        if (sqlite3_errcode(db) == SQLITE_BUSY) continue;
        Die(db, "commit");
      }
      break;
    }
    const auto end = std::chrono::steady_clock::now();
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    if (!ready) {
      if (FILE* f = std::fopen(argv[2], "w")) std::fclose(f);
      ready = true;
    }
    usleep(2000);
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);

  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double q) {
    if (latencies_ms.empty()) return 0.0;
    size_t i = static_cast<size_t>(q * static_cast<double>(latencies_ms.size() - 1) + 0.5);
    return latencies_ms[i];
  };
  std::printf("inserts=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", latencies_ms.size(), at(0.5),
              at(0.99), latencies_ms.empty() ? 0.0 : latencies_ms.back());
  return 0;
}
