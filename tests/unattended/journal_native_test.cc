// The binary under systemd logs to journald natively (issue 18): one entry
// per event, multi-line messages included, with RETENTION_RUN,
// RETENTION_CATEGORY, RETENTION_TARGET and the MESSAGE_IDs of run start,
// run end and refusal; without a journal socket, "<N>" on every line.
//
// sd_journal_sendv(3) always sends to /run/systemd/journal/socket. The
// binary runs in a mount namespace of its own (unshare(1)) where /run is
// an empty tmpfs and, when a test wants one, that path is a datagram
// socket the test reads: the real library call, speaking the native
// protocol to a fake journald. Where namespaces are not allowed (some
// containers) the tests say so and check nothing.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cstring>
#include <map>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "state/run_lock.h"
#include "state/state_open.h"
#include "unattended/unattended_util.h"
#include "util/journal.h"

namespace retention {
namespace {

namespace fs = std::filesystem;
using e2e::Contains;
using e2e::TempDir;
using Entry = std::map<std::string, std::string>;

// One datagram of the native protocol: "NAME=value\n", or for a value
// with newlines "NAME\n", its length (64-bit little endian), the value,
// "\n".
Entry ParseDatagram(const std::string& d) {
  Entry e;
  size_t pos = 0;
  while (pos < d.size()) {
    const size_t nl = d.find('\n', pos), eq = d.find('=', pos);
    if (nl == std::string::npos) throw std::runtime_error("a field without its newline");
    if (eq < nl) {
      e[d.substr(pos, eq - pos)] = d.substr(eq + 1, nl - eq - 1);
      pos = nl + 1;
      continue;
    }
    const std::string name = d.substr(pos, nl - pos);
    if (nl + 9 > d.size()) throw std::runtime_error("a binary field cut short");
    uint64_t len = 0;
    for (int i = 7; i >= 0; --i) len = (len << 8) | static_cast<unsigned char>(d[nl + 1 + static_cast<size_t>(i)]);
    const size_t start = nl + 9;
    if (start + len + 1 > d.size() || d[start + len] != '\n') throw std::runtime_error("a binary field's length");
    e[name] = d.substr(start, len);
    pos = start + len + 1;
  }
  return e;
}

// A datagram socket standing in for journald's, bound at DIR/socket.
class FakeJournald {
 public:
  explicit FakeJournald(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    const std::string path = (dir / "socket").string();
    REQUIRE(path.size() < sizeof sa.sun_path);
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  }
  ~FakeJournald() { ::close(fd_); }
  const fs::path& dir() const { return dir_; }

  // Reads what arrived within `wait_ms` (the queue holds only a few
  // datagrams: it is drained while the child runs).
  void Drain(int wait_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) return;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;) entries.push_back(ParseDatagram(std::string(buf, n)));
  }
  std::vector<Entry> entries;

 private:
  fs::path dir_;
  int fd_ = -1;
};

constexpr char kNamespaceScript[] =
    "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
    "if [ -n \"$1\" ]; then mount --bind \"$1\" /run/systemd/journal; fi && shift && exec \"$@\"";

bool NamespacesAllowed() {
  static const bool allowed = e2e::RunProgram({"/bin/sh", "-c", std::string("unshare -Urm sh -c '") +
                                                                   "mount -t tmpfs tmpfs /run' 2>/dev/null"})
                                  .exit_code == 0;
  return allowed;
}

// Says why a test checks nothing where namespaces are not allowed.
bool SkipWithoutNamespaces() {
  if (NamespacesAllowed()) return false;
  WARN("unshare -Urm is not allowed here: the journal is not tested");
  return true;
}

struct JournalRun {
  int exit_code = -1;
  std::string out, err;
};

// Runs the binary with `args` under "systemd": stderr a file that
// $JOURNAL_STREAM names, /run empty but for `journald`'s socket (none when
// null), draining the socket meanwhile.
JournalRun RunUnderJournal(const fs::path& dir, const std::vector<std::string>& args, FakeJournald* journald) {
  const fs::path out_path = dir / "run.stdout", err_path = dir / "run.stderr";
  e2e::WriteFile(out_path, "");
  e2e::WriteFile(err_path, "");
  std::vector<std::string> store{"unshare", "-Urm", "sh", "-c", kNamespaceScript, "sh",
                                 journald ? journald->dir().string() : "", e2e::kBinary};
  store.insert(store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : store) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string stream = unattended::DevIno(err_path);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_TRUNC);
    int err = ::open(err_path.c_str(), O_WRONLY | O_TRUNC);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::unsetenv("RETENTION_CONFIG");
    ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
    ::execvp("unshare", argv.data());
    ::_exit(127);
  }
  int status = 0;
  for (;;) {
    if (journald) journald->Drain(20);
    else ::usleep(20000);
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  if (journald) journald->Drain(0);
  JournalRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = e2e::ReadFile(out_path);
  r.err = e2e::ReadFile(err_path);
  return r;
}

std::string Describe(const JournalRun& r, const std::vector<Entry>& entries) {
  std::string s = "exit " + std::to_string(r.exit_code) + "\n--- stderr ---\n" + r.err + "--- journal ---\n";
  for (const Entry& e : entries) {
    for (const auto& [k, v] : e) s += k + "=" + v + " | ";
    s += "\n";
  }
  return s;
}

std::vector<Entry> WithId(const std::vector<Entry>& entries, const std::string& id) {
  std::vector<Entry> out;
  for (const Entry& e : entries)
    if (e.count("MESSAGE_ID") && e.at("MESSAGE_ID") == id) out.push_back(e);
  return out;
}

TEST_CASE("under journald a purge run's lines are native entries with RETENTION_RUN and the run's MESSAGE_IDs",
          "[unattended][journal]") {
  if (SkipWithoutNamespaces()) return;
  TempDir dir;
  e2e::DemoFixture demo(3000);
  FakeJournald journald(dir / "journal");
  const JournalRun run = RunUnderJournal(dir.path(), {"--config", demo.config.string(), "purge"}, &journald);
  INFO(Describe(run, journald.entries));
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.empty());  // every line went to the journal, none to the stream

  const auto starts = WithId(journald.entries, kMessageIdRunStart);
  const auto ends = WithId(journald.entries, kMessageIdRunEnd);
  REQUIRE(starts.size() == 1);
  REQUIRE(ends.size() == 1);
  const std::string run_id = starts[0].at("RETENTION_RUN");
  CHECK(std::regex_match(run_id, std::regex("[1-9][0-9]*")));
  CHECK(Contains(starts[0].at("MESSAGE"), "run " + run_id + " started"));
  CHECK(ends[0].at("RETENTION_RUN") == run_id);
  CHECK(Contains(ends[0].at("MESSAGE"), "run " + run_id + " ok"));
  int categories = 0;
  bool in_run = false;
  for (const Entry& e : journald.entries) {
    CHECK(e.at("SYSLOG_IDENTIFIER") == "retention");
    CHECK(std::regex_match(e.at("PRIORITY"), std::regex("[2-7]")));
    CHECK_FALSE(Contains(e.at("MESSAGE"), "\x1b"));
    CHECK(e.count("CODE_FILE") == 0);  // the writer's own source line says nothing
    // Every line from the run's start on names it (journalctl
    // RETENTION_RUN=N); the checks before it belong to no run yet.
    in_run = in_run || (e.count("MESSAGE_ID") && e.at("MESSAGE_ID") == kMessageIdRunStart);
    if (in_run) CHECK(e.count("RETENTION_RUN"));
    if (Contains(e.at("MESSAGE"), "category ") && e.count("RETENTION_CATEGORY")) {
      ++categories;
      CHECK(Contains(e.at("MESSAGE"), "category " + e.at("RETENTION_CATEGORY") + ":"));
    }
  }
  CHECK(categories >= 1);

  SECTION("a refusal: the lock is held (75, a warning)") {
    auto lock = RunLock::TryAcquire(LockPathsFor(demo.root / "state.db").run_lock);
    REQUIRE(lock.ok());
    journald.entries.clear();
    const JournalRun refused = RunUnderJournal(dir.path(), {"--config", demo.config.string(), "purge"}, &journald);
    INFO(Describe(refused, journald.entries));
    CHECK(refused.exit_code == 75);
    CHECK(refused.err.empty());
    const auto refusals = WithId(journald.entries, kMessageIdRefusal);
    REQUIRE(refusals.size() == 1);
    CHECK(refusals[0].at("PRIORITY") == "4");
    CHECK(Contains(refusals[0].at("MESSAGE"), "retention: "));
  }
}

TEST_CASE("a refusal over several lines (the safety valve, 76): one journal entry, or <N> on each line without one",
          "[unattended][journal]") {
  if (SkipWithoutNamespaces()) return;
  TempDir dir;
  e2e::DemoFixture demo(3000);
  demo.EditConfig("max_delete = 10000000", "max_delete = 10");
  const std::vector<std::string> purge{"--config", demo.config.string(), "purge"};

  SECTION("under journald: one entry, an error, with the refusal's MESSAGE_ID") {
    FakeJournald journald(dir / "journal");
    const JournalRun refused = RunUnderJournal(dir.path(), purge, &journald);
    INFO(Describe(refused, journald.entries));
    CHECK(refused.exit_code == 76);
    CHECK(refused.err.empty());
    const auto refusals = WithId(journald.entries, kMessageIdRefusal);
    REQUIRE(refusals.size() == 1);
    CHECK(refusals[0].at("PRIORITY") == "3");
    const std::string& message = refusals[0].at("MESSAGE");
    CHECK(Contains(message, "safety valve"));
    CHECK(Contains(message, "\n  the run: "));  // the lines of the message, in one entry
    CHECK(Contains(message, "\nCheck the plan"));
  }
  SECTION("no journal socket: every line of the message has its own <N> priority") {
    const JournalRun refused = RunUnderJournal(dir.path(), purge, nullptr);
    INFO(refused.err);
    CHECK(refused.exit_code == 76);
    std::istringstream lines(refused.err);
    int n = 0;
    for (std::string line; std::getline(lines, line); ++n) {
      INFO(line);
      CHECK(std::regex_match(line, std::regex(R"(<[0-7]>.*)")));
    }
    CHECK(n >= 4);  // the valve's message alone is four lines
    CHECK(Contains(refused.err, "<3>retention: safety valve"));
    CHECK(Contains(refused.err, "<3>  the run: "));
    CHECK(Contains(refused.err, "<3>Check the plan"));
  }
}

}  // namespace
}  // namespace retention
