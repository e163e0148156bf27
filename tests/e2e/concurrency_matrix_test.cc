// SPEC 6.13: "Every command may run while a purge or erase is in progress
// ... without weakening any guarantee above." The matrix: each command that
// reads or writes the state database runs, several times, against a purge
// in progress (small batches, so that it is in the middle of its work), once
// on SQLite targets (the audit_security category of the demo, whose rules
// include the purge log's own target) and once on files (rotated logs).
// After each pair: the purge exited 0 and its run is recorded `ok` with the
// head it printed in the ledger, `audit verify` passes, a checkpoint taken
// during the run still verifies, and the independent checker
// (support/ledger_checker.h) finds every deletion in the ledger, no claimed
// deletion of a record still there, and no record removed after a hold
// covering it was placed (holds placed during the run included).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "e2e/e2e_util.h"
#include "support/background_process.h"
#include "support/ledger_checker.h"

namespace retention::e2e {
namespace {

namespace ck = retention::checker;

struct Command {
  std::string name;
  // The arguments (after --config) of its i-th run; `pair` is that pair's
  // directory, for output files.
  std::function<std::vector<std::string>(int i, const fs::path& pair)> args;
  int expected_exit;
};

struct Scenario {
  std::string name;
  std::string category;
  int batch_size;
  // Holds placed before the run (in the pristine demo): one that must be
  // honoured throughout, three that `hold release` ends during the run.
  std::vector<std::vector<std::string>> holds_before;
  std::vector<Command> commands;
  // True once the purge has deleted something (it is mid-run).
  std::function<bool(const fs::path& demo)> deleting;
};

constexpr int kRunsPerCommand = 3;

std::vector<std::string> HoldArgs(std::vector<std::string> scope) {
  std::vector<std::string> a{"hold", "add", "--matter", "MATRIX", "--reason", "matrix test", "--by", "test"};
  a.insert(a.end(), scope.begin(), scope.end());
  return a;
}

// The commands shared by both scenarios; `explain_record` a record of the
// scenario's targets, `hold_adds` the scopes of the holds placed during the
// run.
std::vector<Command> Commands(const std::string& explain_record, std::vector<std::vector<std::string>> hold_adds) {
  return {
      {"hold add", [hold_adds](int i, const fs::path&) { return HoldArgs(hold_adds[i % hold_adds.size()]); }, 0},
      // Holds 2, 3 and 4 were placed before the run (hold 1 stays).
      {"hold release",
       [](int i, const fs::path&) {
         return std::vector<std::string>{"hold", "release", std::to_string(2 + i % 3), "--reason", "matrix done",
                                         "--by", "test"};
       },
       0},
      {"hold list", [](int, const fs::path&) { return std::vector<std::string>{"hold", "list"}; }, 0},
      {"plan", [](int, const fs::path&) { return std::vector<std::string>{"plan", "--format", "json"}; }, 0},
      {"status", [](int, const fs::path&) { return std::vector<std::string>{"status"}; }, 0},
      {"explain", [explain_record](int, const fs::path&) { return std::vector<std::string>{"explain", explain_record}; },
       0},
      {"audit log", [](int, const fs::path&) { return std::vector<std::string>{"audit", "log", "--kind", "delete"}; },
       0},
      {"audit verify", [](int, const fs::path&) { return std::vector<std::string>{"audit", "verify"}; }, 0},
      {"audit export",
       [](int i, const fs::path& pair) {
         return std::vector<std::string>{"audit", "export", "--format", "jsonl", "--out",
                                         (pair / ("export-" + std::to_string(i) + ".jsonl")).string()};
       },
       0},
      {"audit runs", [](int, const fs::path&) { return std::vector<std::string>{"audit", "runs"}; }, 0},
      {"audit checkpoint",
       [](int i, const fs::path& pair) {
         return std::vector<std::string>{"audit", "checkpoint", "--out",
                                         (pair / ("checkpoint-" + std::to_string(i) + ".json")).string()};
       },
       0},
      {"second purge", [](int, const fs::path&) { return std::vector<std::string>{"purge"}; }, 75},
  };
}

int64_t RunIdPrinted(const std::string& out) {
  const size_t at = out.find("Run ");
  return at == std::string::npos ? 0 : std::strtoll(out.c_str() + at + 4, nullptr, 10);
}

// One pair: a copy of the pristine demo, the purge, `command` run up to
// kRunsPerCommand times while it runs, then every check. Returns how many of
// the command's runs ended while the purge was still running.
int RunPair(const Scenario& s, const Command& command, const fs::path& pristine, const fs::path& pair) {
  const fs::path demo = pair / "demo";
  CopyTree(pristine, demo);
  const fs::path config = demo / "retention.toml";
  const fs::path state = demo / "state.db";
  const ck::StoreSpec spec = ck::DemoSpec(demo);
  const ck::Snapshot before = ck::TakeSnapshot(spec, state);

  BackgroundProcess purge({"--config", config.string(), "purge", "--category", s.category, "--batch-size",
                           std::to_string(s.batch_size)},
                          pair, "purge");
  // Wait until it deletes, watching the store (not the state database).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!s.deleting(demo) && purge.Running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));

  int during = 0;
  for (int i = 0; i < kRunsPerCommand; ++i) {
    const bool was_running = purge.Running();
    RunResult r = RunWith(config, command.args(i, pair));
    INFO(command.name << " run " << i << " (purge " << (was_running ? "running" : "done") << "): " << Describe(r));
    const bool still_running = purge.Running();
    // A second purge meets the lock only while the first holds it: one that
    // ended while this command started up leaves it free, and 0 is right.
    if (command.expected_exit == 75 && !still_running)
      CHECK((r.exit_code == 75 || r.exit_code == 0));
    else
      CHECK(r.exit_code == command.expected_exit);
    if (was_running && still_running) ++during;
  }

  RunResult p = purge.Result();
  INFO("the purge: " << Describe(p));
  CHECK(p.exit_code == 0);
  const ck::State st = ck::ReadState(state);
  // The head it printed is in the ledger, and its run is recorded ended.
  const std::string head = PrintedHead(p.out);
  bool head_found = false;
  for (const ck::Entry& e : st.ledger) head_found = head_found || e.hash == head;
  CHECK(head.size() == 64);
  CHECK(head_found);
  const int64_t run_id = RunIdPrinted(p.out);
  REQUIRE(st.runs.count(run_id) == 1);
  CHECK(st.runs.at(run_id).outcome == "ok");
  bool run_end = false;
  for (const ck::Entry& e : st.ledger) run_end = run_end || (e.kind == "run_end" && e.run_id == run_id);
  CHECK(run_end);

  RunResult verify = RunWith(config, {"audit", "verify"});
  INFO("audit verify: " << Describe(verify));
  CHECK(verify.exit_code == 0);
  for (int i = 0; i < kRunsPerCommand; ++i) {
    const fs::path checkpoint = pair / ("checkpoint-" + std::to_string(i) + ".json");
    if (!fs::exists(checkpoint)) continue;
    RunResult against = RunWith(config, {"audit", "verify", "--against", checkpoint.string()});
    INFO("audit verify --against the checkpoint taken during the run: " << Describe(against));
    CHECK(against.exit_code == 0);
  }
  const auto problems = ck::Check(before, ck::TakeSnapshot(spec, state), state);
  INFO("checker: " << ck::Report(problems));
  CHECK(problems.empty());
  return during;
}

// `pristine` the demo every pair copies, made in `dir`.
void RunMatrix(const Scenario& s, const TempDir& dir, const fs::path& pristine) {
  const fs::path config = pristine / "retention.toml";
  for (const auto& scope : s.holds_before) {
    RunResult r = RunWith(config, HoldArgs(scope));
    INFO(Describe(r));
    REQUIRE(r.exit_code == 0);
  }
  for (const Command& c : s.commands) {
    const fs::path pair = dir / ("pair-" + std::to_string(&c - s.commands.data()));
    fs::create_directories(pair);
    INFO(s.name << ": " << c.name << " during a purge (pair in " << pair.string() << ")");
    const auto start = std::chrono::steady_clock::now();
    const int during = RunPair(s, c, pristine, pair);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    WARN(s.name << ": " << c.name << ": " << during << " of " << kRunsPerCommand
                << " runs within the purge, pair took " << ms << " ms");
    // The pair proves nothing unless the command met the purge mid-run.
    CHECK(during >= 1);
    fs::remove_all(pair);
  }
}

// The due records of the pristine demo, read with plain SQL.
std::vector<std::string> DueAuditEvents(const fs::path& demo, int limit) {
  Db db(demo / "app.db", true);
  return db.Column("SELECT id FROM audit_events WHERE occurred_at < (strftime('%s', 'now', '-13 months') * 1000) "
                   "AND account_id <> 2 ORDER BY occurred_at DESC LIMIT " + std::to_string(limit));
}

TEST_CASE("concurrency matrix: every command against a SQLite purge in progress", "[matrix][e2e]") {
  Scenario s;
  s.name = "sqlite";
  s.category = "audit_security";  // audit_events, security_events, and the purge log itself
  s.batch_size = 3;
  TempDir dir;
  const fs::path pristine = dir / "pristine";
  MakeDemo(pristine, 8000);
  // Keys the purge reaches last (it goes oldest first): held before the run,
  // released during it.
  const auto late = DueAuditEvents(pristine, 3);
  REQUIRE(late.size() == 3);
  s.holds_before = {{"--subject", "account:2"},
                    {"--target", "audit_events", "--key", late[0]},
                    {"--target", "audit_events", "--key", late[1]},
                    {"--target", "audit_events", "--key", late[2]}};
  s.commands = Commands("app/audit_events/" + late[0],
                        {{"--subject", "customer:999999"},
                         // The youngest due events: the purge has not reached them yet.
                         {"--category", "audit_security", "--from", FormatUtc(MinusMonthsUtc(NowUnixSeconds(), 14),
                                                                              "%Y-%m-%dT%H:%M:%SZ")},
                         {"--target", "security_events"}});
  s.deleting = [n = Db(pristine / "app.db", true).Count("audit_events")](const fs::path& demo) {
    return Db(demo / "app.db", true).Count("audit_events") < n;
  };
  RunMatrix(s, dir, pristine);
}

std::vector<std::string> DueLogFiles(const fs::path& demo) {
  std::vector<std::string> due;
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24 * 100);
  for (const auto& e : fs::directory_iterator(demo / "logs")) {
    const std::string name = e.path().filename().string();
    if ((name.rfind("access.log-", 0) == 0 || name.rfind("app.log-", 0) == 0) && e.last_write_time() < cutoff)
      due.push_back(name);
  }
  std::sort(due.begin(), due.end());
  return due;
}

TEST_CASE("concurrency matrix: every command against a files purge in progress", "[matrix][e2e]") {
  Scenario s;
  s.name = "files";
  s.category = "server_log_files";
  s.batch_size = 1;
  TempDir dir;
  const fs::path pristine = dir / "pristine";
  MakeDemo(pristine, 8000);
  const auto due = DueLogFiles(pristine);
  REQUIRE(due.size() > 20);
  const std::string last = due.back();  // app.log-...: the youngest due
  s.holds_before = {{"--target", "rotated-logs", "--key", due[due.size() / 2]},
                    {"--target", "rotated-logs", "--key", due[due.size() - 2]},
                    {"--target", "rotated-logs", "--key", due[due.size() - 3]},
                    {"--target", "rotated-logs", "--key", due[due.size() - 4]}};
  s.commands = Commands("logs/rotated-logs/" + last,
                        {{"--subject", "customer:999999"},
                         {"--category", "server_log_files", "--from",
                          FormatUtc(NowUnixSeconds() - 110 * 86400, "%Y-%m-%dT%H:%M:%SZ")},
                         {"--target", "rotated-logs", "--key", last}});
  const size_t files = std::distance(fs::directory_iterator(pristine / "logs"), fs::directory_iterator());
  s.deleting = [files](const fs::path& demo) {
    return static_cast<size_t>(std::distance(fs::directory_iterator(demo / "logs"), fs::directory_iterator())) <
           files;
  };
  RunMatrix(s, dir, pristine);
}

}  // namespace
}  // namespace retention::e2e
