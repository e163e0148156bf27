#include "demo/demo_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <date/date.h>

#include "demo/demo_random.h"

namespace retention {
namespace {

namespace fs = std::filesystem;
using demo::DemoRandom;

// --- gzip without compression ---------------------------------------------

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xffffffffu;
  for (unsigned char b : data) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

void PutLe32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// RFC 1952 member holding RFC 1951 stored (uncompressed) blocks.
std::string Gzip(std::string_view data) {
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);  // no mtime, Unix
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, data.size() - pos);
    const bool last = pos + n == data.size();
    out.push_back(last ? '\x01' : '\x00');  // BFINAL, BTYPE=00, byte-aligned
    out.push_back(static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(~n & 0xff));
    out.push_back(static_cast<char>((~n >> 8) & 0xff));
    out.append(data.substr(pos, n));
    pos += n;
  } while (pos < data.size());
  PutLe32(&out, Crc32(data));
  PutLe32(&out, static_cast<uint32_t>(data.size()));
  return out;
}

// --- writing, relative to the folder's descriptor ---------------------------

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status OpenFolder(const fs::path& path, Fd* out) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::IoError("demo: cannot create " + path.string() + ": " + std::strerror(errno));
  out->fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (out->fd < 0)
    return Status::IoError("demo: " + path.string() + ": " + std::strerror(errno) + " (must be a directory)");
  return Status::Ok();
}

Status WriteAt(const Fd& dir, const fs::path& dir_path, const std::string& name, std::string_view bytes,
               Timestamp mtime) {
  auto fail = [&](const char* what) {
    return Status::IoError("demo: cannot " + std::string(what) + " " + (dir_path / name).string() + ": " +
                           std::strerror(errno));
  };
  Fd f;
  f.fd = ::openat(dir.fd, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (f.fd < 0) return fail("create");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(f.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  const int64_t us = ToUnixMicros(mtime);
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(us / 1000000);
  times[0].tv_nsec = static_cast<long>((us % 1000000) * 1000);
  times[1] = times[0];
  if (::futimens(f.fd, times) != 0) return fail("set the mtime of");
  return Status::Ok();
}

// --- content ----------------------------------------------------------------

std::string Ymd(date::sys_days day, const char* sep) {
  const date::year_month_day ymd(day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%s%02u%s%02u", static_cast<int>(ymd.year()), sep,
                static_cast<unsigned>(ymd.month()), sep, static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string MakeIp(DemoRandom& rng) {
  static const char* kNets[] = {"192.0.2.", "198.51.100.", "203.0.113."};  // RFC 5737
  return rng.Pick(kNets) + std::to_string(rng.Between(1, 254));
}

// Sorted seconds of the day up to `last`, for `n` lines.
std::vector<int64_t> LineTimes(DemoRandom& rng, int n, int64_t last) {
  std::vector<int64_t> t;
  for (int i = 0; i < n; ++i) t.push_back(rng.Between(0, last));
  std::sort(t.begin(), t.end());
  return t;
}

std::string AccessLog(date::sys_days day, DemoRandom& rng, int lines, int64_t last = 86399) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static const char* kPaths[] = {"/", "/login", "/dashboard", "/api/v1/products?page=2", "/api/v1/orders",
                                 "/api/v1/inventory/sync", "/storefront/hartley-fine-watches",
                                 "/static/app.3f9c1e.js", "/static/app.3f9c1e.css", "/webhooks/shopify",
                                 "/api/v1/leads", "/settings/billing", "/favicon.ico", "/healthz"};
  static const char* kAgents[] = {
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
      "Shopify-Captain-Hook", "kube-probe/1.29", "curl/8.5.0"};
  const date::year_month_day ymd(day);
  std::string out;
  for (int64_t t : LineTimes(rng, lines, last)) {
    const char* path = rng.Pick(kPaths);
    const bool post = std::strstr(path, "webhooks") || std::strstr(path, "sync") || std::strstr(path, "login");
    const int roll = static_cast<int>(rng.Below(100));
    const int status = roll < 84 ? 200 : roll < 90 ? 304 : roll < 94 ? 302 : roll < 97 ? 404 : roll < 99 ? 401 : 500;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s - - [%02u/%s/%04d:%02d:%02d:%02d +0000] \"%s %s HTTP/1.1\" %d %d \"-\" \"%s\"\n",
                  MakeIp(rng).c_str(), static_cast<unsigned>(ymd.day()),
                  kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                  static_cast<int>(t / 3600), static_cast<int>(t / 60 % 60), static_cast<int>(t % 60),
                  post ? "POST" : "GET", path, status, static_cast<int>(rng.Between(0, 48000)),
                  rng.Pick(kAgents));
    out += buf;
  }
  return out;
}

std::string AppLog(date::sys_days day, DemoRandom& rng, int lines, int64_t last = 86399) {
  static const char* kInfo[] = {"inventory sync completed", "webhook delivered", "session created",
                                "export finished", "price update applied", "lead captured"};
  static const char* kWarn[] = {"webhook retry scheduled", "slow query", "rate limit approaching"};
  static const char* kError[] = {"upstream timeout", "payment provider returned 502"};
  const std::string date = Ymd(day, "-");
  std::string out;
  for (int64_t t : LineTimes(rng, lines, last)) {
    const int roll = static_cast<int>(rng.Below(100));
    const char* level = roll < 85 ? "INFO" : roll < 95 ? "WARN" : "ERROR";
    const char* message = roll < 85 ? rng.Pick(kInfo) : roll < 95 ? rng.Pick(kWarn) : rng.Pick(kError);
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%sT%02d:%02d:%02d.%03dZ %-5s [worker-%d] %s store_id=%d request_id=%016llx duration_ms=%d\n",
                  date.c_str(), static_cast<int>(t / 3600), static_cast<int>(t / 60 % 60),
                  static_cast<int>(t % 60), static_cast<int>(rng.Below(1000)), level,
                  static_cast<int>(rng.Between(1, 8)), message, static_cast<int>(rng.Between(1, 900)),
                  static_cast<unsigned long long>(rng.Next()), static_cast<int>(rng.Between(3, 2400)));
    out += buf;
  }
  return out;
}

// A small fake SQLite image: the real 100-byte header shape, a schema page.
std::string BackupImage(date::sys_days day, DemoRandom& rng) {
  std::string page(8192, '\0');
  const char header[] = "SQLite format 3";
  std::memcpy(page.data(), header, sizeof header);  // with its NUL
  page[16] = 0x10;                                   // page size 4096, big-endian
  page[17] = 0x00;
  page[18] = page[19] = 0x01;
  const std::string schema =
      "CREATE TABLE accounts(id INTEGER PRIMARY KEY, name TEXT, closed_at TEXT);"
      "CREATE TABLE request_logs(id INTEGER PRIMARY KEY, created_at TEXT, path TEXT);"
      "-- backup of " + Ymd(day, "-") + " 02:00 UTC, rows " + std::to_string(rng.Between(200000, 320000));
  std::memcpy(page.data() + 4096 - schema.size(), schema.data(), schema.size());
  for (size_t i = 4200; i < page.size(); i += 7) page[i] = static_cast<char>(rng.Below(256));
  return page;
}

}  // namespace

Status CreateDemoFiles(const fs::path& dir, Timestamp now, uint64_t seed) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("demo: cannot create " + dir.string() + ": " + ec.message());
  Fd logs, backups;
  RETENTION_RETURN_IF_ERROR(OpenFolder(dir / "logs", &logs));
  RETENTION_RETURN_IF_ERROR(OpenFolder(dir / "backups", &backups));

  const date::sys_days today = date::floor<date::days>(now);
  DemoRandom access_rng(seed, "files/access.log");
  DemoRandom app_rng(seed, "files/app.log");
  DemoRandom backup_rng(seed, "files/backups");
  for (int i = kDemoFileDays; i >= 1; --i) {
    const date::sys_days day = today - date::days{i};
    const Timestamp end_of_day = Timestamp(day) + std::chrono::seconds{86399};
    const std::string stamp = Ymd(day, "");
    RETENTION_RETURN_IF_ERROR(WriteAt(logs, dir / "logs", "access.log-" + stamp + ".gz",
                                      Gzip(AccessLog(day, access_rng, static_cast<int>(access_rng.Between(20, 60)))),
                                      end_of_day));
    RETENTION_RETURN_IF_ERROR(WriteAt(logs, dir / "logs", "app.log-" + stamp + ".gz",
                                      Gzip(AppLog(day, app_rng, static_cast<int>(app_rng.Between(15, 40)))),
                                      end_of_day));
    const Timestamp copied = now - std::chrono::seconds{backup_rng.Between(0, 6 * 3600)};
    RETENTION_RETURN_IF_ERROR(WriteAt(backups, dir / "backups", "db-" + Ymd(day, "-") + ".sqlite.gz",
                                      Gzip(BackupImage(day, backup_rng)), copied));
  }
  // The live files: today's lines so far.
  const int64_t seconds_today = std::chrono::duration_cast<std::chrono::seconds>(now - Timestamp(today)).count();
  const int live_lines = static_cast<int>(1 + seconds_today / 3600);
  RETENTION_RETURN_IF_ERROR(WriteAt(logs, dir / "logs", "access.log",
                                    AccessLog(today, access_rng, live_lines, seconds_today), now));
  RETENTION_RETURN_IF_ERROR(WriteAt(logs, dir / "logs", "app.log",
                                    AppLog(today, app_rng, live_lines, seconds_today), now));
  return Status::Ok();
}

}  // namespace retention
