// bench_gen: the benchmarks' data generator (see bench/README.md).
//
//   bench_gen sqlite PATH ROWS
//     Creates PATH (removed first) holding
//       events(id INTEGER PRIMARY KEY, subject INTEGER, created_at TEXT)
//     with an index on created_at, ROWS rows, ids 1..ROWS in time order (an
//     append-only application table). created_at is 'YYYY-MM-DD HH:MM:SS'
//     (UTC): the first half of the ids lies in [2023-01-01, 2024-01-01),
//     the second half in [2024-01-01 00:00:01, 2025-01-01): with the
//     cutoff 2024-01-01 00:00:00 exactly half of the rows are due. subject
//     is 1..kSubjects, spread by a fixed pseudo-random sequence (the same
//     data at every run). The database is left in WAL mode, as an
//     application writing concurrently would use it.
//
//   bench_gen files ROOT FILES DIRS
//     Creates DIRS folders d000.. under ROOT, FILES files in all
//     (fNNNNNNN.log, 16 bytes each); every other file has an mtime before
//     2024-01-01 00:00:00 UTC (between 1 and 365 days before), the others
//     after it (between 1 and 365 days after): half are due.
//
// Exit status 0 on success, 1 with a message on stderr otherwise.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace {

constexpr int64_t kSubjects = 10000;
constexpr int64_t kStart = 1672531200;   // 2023-01-01 00:00:00 UTC
constexpr int64_t kCutoff = 1704067200;  // 2024-01-01 00:00:00 UTC
constexpr int64_t kEnd = 1735689600;     // 2025-01-01 00:00:00 UTC

// splitmix64: a fixed, fast sequence so that every run makes the same data.
uint64_t Next(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bench_gen: %s\n", message.c_str());
  std::exit(1);
}

void Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = std::string(sql) + ": " + (error ? error : "?");
    sqlite3_free(error);
    Die(message);
  }
}

// Formats unix seconds as 'YYYY-MM-DD HH:MM:SS' UTC into out (20 bytes).
void FormatUtc(int64_t seconds, char* out) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  std::strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

int GenerateSqlite(const std::string& path, int64_t rows) {
  if (rows < 2) Die("ROWS must be at least 2");
  unlink(path.c_str());
  unlink((path + "-wal").c_str());
  unlink((path + "-shm").c_str());
  unlink((path + "-journal").c_str());
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("cannot open " + path);
  // Bulk load: no journal, no fsync, one transaction; the index is built
  // afterwards (a sort, much faster than maintaining it row by row).
  Exec(db, "PRAGMA journal_mode=OFF");
  Exec(db, "PRAGMA synchronous=OFF");
  Exec(db, "PRAGMA cache_size=-262144");
  Exec(db, "CREATE TABLE events(id INTEGER PRIMARY KEY, subject INTEGER, created_at TEXT)");
  Exec(db, "BEGIN");
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO events(id, subject, created_at) VALUES(?, ?, ?)", -1,
                         &insert, nullptr) != SQLITE_OK)
    Die(sqlite3_errmsg(db));
  const int64_t old_rows = rows / 2;
  const int64_t new_rows = rows - old_rows;
  uint64_t seed = 20240101;
  char clock[20];
  for (int64_t id = 1; id <= rows; ++id) {
    int64_t at;
    if (id <= old_rows) {  // [kStart, kCutoff)
      at = kStart + (id - 1) * (kCutoff - kStart) / old_rows;
    } else {               // [kCutoff + 1, kEnd)
      at = kCutoff + 1 + (id - old_rows - 1) * (kEnd - kCutoff - 1) / new_rows;
    }
    FormatUtc(at, clock);
    sqlite3_bind_int64(insert, 1, id);
    sqlite3_bind_int64(insert, 2, static_cast<int64_t>(Next(seed) % kSubjects) + 1);
    sqlite3_bind_text(insert, 3, clock, 19, SQLITE_STATIC);
    if (sqlite3_step(insert) != SQLITE_DONE) Die(sqlite3_errmsg(db));
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  Exec(db, "COMMIT");
  Exec(db, "CREATE INDEX events_created_at ON events(created_at)");
  Exec(db, "ANALYZE");
  Exec(db, "PRAGMA journal_mode=WAL");
  sqlite3_close(db);
  return 0;
}

int GenerateFiles(const std::string& root, int64_t files, int64_t dirs) {
  if (files < 1 || dirs < 1) Die("FILES and DIRS must be positive");
  if (mkdir(root.c_str(), 0755) != 0 && errno != EEXIST) Die("mkdir " + root + ": " + std::strerror(errno));
  int root_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY);
  if (root_fd < 0) Die("open " + root + ": " + std::strerror(errno));
  uint64_t seed = 424242;
  char name[32];
  static const char kContent[] = "benchmark line\n";  // 15 bytes + '\n' below
  for (int64_t d = 0; d < dirs; ++d) {
    std::snprintf(name, sizeof name, "d%03lld", static_cast<long long>(d));
    if (mkdirat(root_fd, name, 0755) != 0 && errno != EEXIST) Die(std::string("mkdir ") + name + ": " + std::strerror(errno));
    int dir_fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY);
    if (dir_fd < 0) Die(std::string("open ") + name + ": " + std::strerror(errno));
    // Files d, d + dirs, d + 2*dirs, ... go to folder d.
    for (int64_t f = d; f < files; f += dirs) {
      std::snprintf(name, sizeof name, "f%07lld.log", static_cast<long long>(f));
      int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0) Die(std::string("create ") + name + ": " + std::strerror(errno));
      if (write(fd, kContent, 15) != 15 || write(fd, "\n", 1) != 1) Die("write failed");
      const int64_t days = 1 + static_cast<int64_t>(Next(seed) % 365);
      const int64_t offset = days * 86400 - static_cast<int64_t>(Next(seed) % 3600);
      const int64_t at = (f % 2 == 0) ? kCutoff - offset : kCutoff + offset;
      struct timespec times[2];
      times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(at);
      times[0].tv_nsec = times[1].tv_nsec = 0;
      if (futimens(fd, times) != 0) Die(std::string("futimens: ") + std::strerror(errno));
      close(fd);
    }
    close(dir_fd);
  }
  close(root_fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "sqlite") == 0)
    return GenerateSqlite(argv[2], std::atoll(argv[3]));
  if (argc == 5 && std::strcmp(argv[1], "files") == 0)
    return GenerateFiles(argv[2], std::atoll(argv[3]), std::atoll(argv[4]));
  std::fprintf(stderr,
               "usage: bench_gen sqlite PATH ROWS\n"
               "       bench_gen files ROOT FILES DIRS\n");
  return 1;
}
