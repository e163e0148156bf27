// Running unattended (issue 6): metrics, SIGTERM mid-purge, journal
// logging, and the small pieces behind them. End-to-end tests run the
// built binary on a demo in a temp directory.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <thread>

#include "state/run_lock.h"
#include "state/state_open.h"
#include "unattended/unattended_util.h"
#include "util/logging.h"
#include "util/metrics.h"
#include "util/progress.h"

namespace retention {
namespace {

using e2e::Contains;
using e2e::Db;
using e2e::Describe;
using e2e::RunWith;
using e2e::TempDir;
using unattended::Exposition;
using unattended::ParseExposition;

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The records the ledger claims deleted, as the independent checker reads
// them: per-record delete entries and the candidates of settled batch
// entries not listed as kept. The ledger must read without problems.
std::vector<checker::Entry> ClaimedDeletes(const std::filesystem::path& state) {
  const checker::State st = checker::ReadState(state);
  std::vector<std::string> problems;
  std::vector<checker::Entry> out = checker::BatchDeletes(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  for (const checker::Entry& e : st.ledger)
    if (e.kind == "delete") out.push_back(e);
  return out;
}

// ---------------------------------------------------------------- metrics

TEST_CASE("purge --metrics-file writes the numbers of the run in the Prometheus text format", "[unattended]") {
  TempDir dir;
  const auto config = e2e::MakeDemo(dir / "demo", 20000);
  const auto state = dir / "demo" / "state.db";
  const auto metrics = dir / "metrics" / "retention.prom";
  std::filesystem::create_directories(metrics.parent_path());

  // A hold, so that held is not zero for request_logs.
  auto hold = RunWith(config, {"hold", "add", "--matter", "M-1", "--reason", "litigation", "--category",
                               "request_logs", "--until", e2e::FormatUtc(e2e::NowUnixSeconds() - 400 * 86400)});
  REQUIRE(hold.exit_code == 0);

  // The plan and the purge at one moment: the plan's due and held are what
  // the purge measures at its start.
  const std::string as_of = e2e::FormatUtc(e2e::NowUnixSeconds() - 60);
  auto plan = RunWith(config, {"plan", "--as-of", as_of, "--format", "json"});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);
  const auto plan_json = nlohmann::json::parse(plan.out);
  std::map<std::string, int64_t> due, held;
  std::map<std::pair<std::string, std::string>, int64_t> deletable;
  for (const auto& t : plan_json["targets"]) {
    due[t["category"]] += t["due"].get<int64_t>();
    held[t["category"]] += t["held"].get<int64_t>();
    deletable[{t["category"], t["target"]}] = t["deletable"].get<int64_t>();
  }
  REQUIRE(held["request_logs"] > 0);

  const int64_t before = e2e::NowUnixSeconds();
  auto purge = RunWith(config, {"purge", "--as-of", as_of, "--batch-size", "700", "--metrics-file", metrics.string()});
  const int64_t after = e2e::NowUnixSeconds();
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);

  const std::string text = e2e::ReadFile(metrics);
  INFO(text);
  Exposition m;
  REQUIRE_NOTHROW(m = ParseExposition(text));
  // No temp file left beside it.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(metrics.parent_path())) files += e.is_regular_file();
  CHECK(files == 1);

  for (const char* name : {"retention_last_run_timestamp_seconds", "retention_last_success_timestamp_seconds",
                           "retention_run_duration_seconds", "retention_deleted_records", "retention_due_records",
                           "retention_held_records", "retention_overdue_records", "retention_run_outcome",
                           "retention_run_exit_code"}) {
    CHECK(m.type[name] == "gauge");
    CHECK_FALSE(m.help[name].empty());
  }
  const double last_run = m.Value("retention_last_run_timestamp_seconds");
  CHECK(last_run >= static_cast<double>(before) - 1);
  CHECK(last_run <= static_cast<double>(after) + 1);
  CHECK(m.Value("retention_last_success_timestamp_seconds") == last_run);
  CHECK(m.Value("retention_run_duration_seconds") >= 0);
  CHECK(m.Value("retention_run_duration_seconds") <= static_cast<double>(after - before) + 1);
  CHECK(m.Value("retention_run_outcome", {{"outcome", "ok"}}) == 1);
  CHECK(m.All("retention_run_outcome").size() == 1);
  CHECK(m.Value("retention_run_exit_code") == 0);

  // Deleted per category and target: the records the ledger claims deleted
  // (settled batch entries), and the plan's deletable (nothing changed in
  // between).
  std::map<std::pair<std::string, std::string>, int64_t> ledger;
  for (const checker::Entry& e : ClaimedDeletes(state)) ++ledger[{e.category, e.target}];
  const auto deleted = m.All("retention_deleted_records");
  CHECK(deleted.size() == deletable.size());
  int64_t total = 0;
  for (const auto& s : deleted) {
    const auto key = std::make_pair(s.labels.at("category"), s.labels.at("target"));
    INFO(key.first << "/" << key.second);
    CHECK(s.labels.size() == 2);
    CHECK(static_cast<int64_t>(s.value) == (ledger.count(key) ? ledger[key] : 0));
    CHECK(static_cast<int64_t>(s.value) == deletable[key]);
    total += static_cast<int64_t>(s.value);
  }
  CHECK(total > 1000);
  for (const auto& [category, n] : due) {
    INFO(category);
    CHECK(m.Value("retention_due_records", {{"category", category}}) == static_cast<double>(n));
    CHECK(m.Value("retention_held_records", {{"category", category}}) == static_cast<double>(held[category]));
    CHECK(m.Value("retention_overdue_records", {{"category", category}}) == 0);
  }

  SECTION("a run refused at the lock keeps the last success and says why") {
    auto lock = RunLock::TryAcquire(LockPathsFor(state).run_lock);
    REQUIRE(lock.ok());
    auto locked = RunWith(config, {"purge", "--metrics-file", metrics.string()});
    INFO(Describe(locked));
    REQUIRE(locked.exit_code == 75);
    Exposition m2;
    REQUIRE_NOTHROW(m2 = ParseExposition(e2e::ReadFile(metrics)));
    CHECK(m2.Value("retention_run_outcome", {{"outcome", "locked"}}) == 1);
    CHECK(m2.All("retention_run_outcome").size() == 1);
    CHECK(m2.Value("retention_run_exit_code") == 75);
    CHECK(m2.Value("retention_last_success_timestamp_seconds") == last_run);
    CHECK(m2.Value("retention_last_run_timestamp_seconds") >= last_run);
    // Every series is written (issue 18): the run deleted nothing, per target.
    CHECK(m2.All("retention_deleted_records").size() == deletable.size());
    for (const auto& s : m2.All("retention_deleted_records")) CHECK(s.value == 0);
  }
}

TEST_CASE("the metrics parser of these tests is strict", "[unattended]") {
  const std::vector<std::string> bad = {
      "a 1",                                         // no final newline
      "a{b=\"1\"} 1\na{b=\"1\"} 2\n",                // duplicate series
      "a 1\nb 1\na{x=\"y\"} 1\n",                    // family not together
      "a{b=1} 1\n",                                  // unquoted label value
      "a{b=\"\\t\"} 1\n",                            // bad escape
      "1a 1\n",                                      // bad name
      "a one\n",                                     // bad value
      "a 1\n# TYPE a gauge\n",                       // TYPE after samples
      "# TYPE a gauge\n# TYPE a gauge\na 1\n",       // TYPE twice
      "# TYPE a meter\na 1\n",                       // unknown type
  };
  for (const auto& t : bad) {
    INFO(t);
    CHECK_THROWS(ParseExposition(t));
  }
  auto ok = ParseExposition("# HELP a x\\ny\n# TYPE a gauge\na{b=\"q\\\"\\\\\\n\",c=\"\"} -1.5e3\na 2 1700000000\nb +Inf\n");
  CHECK(ok.Value("a", {{"b", "q\"\\\n"}, {"c", ""}}) == -1500);
  CHECK(ok.Value("a") == 2);
}

TEST_CASE("MetricsFile escapes labels and writes atomically", "[unattended]") {
  TempDir dir;
  MetricsFile m;
  m.Gauge("x_total", "help with \\ and\nnewline");
  m.Add("x_total", {{"k", "a\"b\\c\nd"}}, 3);
  m.Add("x_total", {{"k", "plain"}}, 0.25);
  const auto path = dir / "m.prom";
  REQUIRE(m.WriteAtomically(path).ok());
  auto e = ParseExposition(e2e::ReadFile(path));
  CHECK(e.Value("x_total", {{"k", "a\"b\\c\nd"}}) == 3);
  CHECK(e.Value("x_total", {{"k", "plain"}}) == 0.25);
  CHECK(FormatSampleValue(1.517) == "1.517");
  CHECK(FormatSampleValue(42) == "42");
  CHECK(ReadMetricSample(path, "x_total") == std::nullopt);  // labelled: not an unlabelled sample
  CHECK_FALSE(m.WriteAtomically(dir / "missing-dir" / "m.prom").ok());
}

// ---------------------------------------------------------------- SIGTERM

TEST_CASE("SIGTERM after the first batch: exit 75, the run closed as stopped, the store consistent, the next run "
          "finishes",
          "[unattended]") {
  TempDir dir;
  const auto config = e2e::MakeDemo(dir / "demo", 60000);
  const auto state = dir / "demo" / "state.db";
  const auto app = dir / "demo" / "app.db";
  const auto rows_before = e2e::RowCounts(app);

  auto child = unattended::Spawn({"--config", config.string(), "purge", "--batch-size", "5"}, dir.path());
  // Wait for the first settled batch in the ledger, not for a time.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int64_t seen = 0;
  while (seen == 0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    int status = 0;
    REQUIRE(::waitpid(child.pid, &status, WNOHANG) == 0);  // still running
    try {
      if (std::filesystem::exists(state)) {
        Db db(state, /*read_only=*/true);
        // A batch entry settled by a later entry: its deletions are claimed.
        if (db.TableExists("ledger"))
          seen = db.Int("SELECT count(*) FROM ledger WHERE json_valid(detail) AND "
                        "json_type(detail, '$.settles') = 'array' AND json_array_length(detail, '$.settles') > 0");
      }
    } catch (const std::exception&) {
      // the schema is being created; look again
    }
    if (seen == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(::kill(child.pid, SIGTERM) == 0);
  const int code = unattended::Wait(child);
  const std::string err = e2e::ReadFile(child.err);
  INFO("stderr:\n" << err);
  REQUIRE(code == 75);
  CHECK(Contains(err, "stopped"));

  {
    Db db(state, /*read_only=*/true);
    auto ends = db.Query("SELECT json_extract(detail, '$.outcome'), json_extract(detail, '$.exit_code') "
                         "FROM ledger WHERE kind = 'run_end'");
    REQUIRE(ends.size() == 1);
    CHECK(*ends[0][0] == "stopped");
    CHECK(*ends[0][1] == "75");
    CHECK(db.Int("SELECT count(*) FROM runs WHERE outcome = 'stopped' AND ended_at IS NOT NULL") == 1);
    CHECK(db.Int("SELECT count(*) FROM pending") == 0);
  }
  // Stopped early: work is left.
  CHECK(ClaimedDeletes(state).size() > 0);
  CHECK(ClaimedDeletes(state).size() < 20000);

  // Consistent: the rows gone from the application database are exactly
  // the ledger's delete entries for that store, and each is gone.
  auto check_consistent = [&] {
    const auto rows_now = e2e::RowCounts(app);
    int64_t gone = 0;
    for (const auto& [table, n] : rows_before) gone += n - rows_now.at(table);
    std::set<std::pair<std::string, std::string>> claimed;  // (target, key) in store app, each once
    int64_t claims = 0;
    Db data(app, /*read_only=*/true);
    for (const checker::Entry& e : ClaimedDeletes(state)) {
      if (e.store != "app") continue;
      ++claims;
      claimed.emplace(e.target, e.record_key);
      if (e.target != "request_logs") continue;
      INFO(e.record_key);
      CHECK(data.Int("SELECT count(*) FROM request_logs WHERE rowid = ?", {e.record_key}) == 0);
    }
    CHECK(claims == gone);
    CHECK(static_cast<int64_t>(claimed.size()) == claims);
  };
  check_consistent();

  auto next = RunWith(config, {"purge"});
  INFO(Describe(next));
  REQUIRE(next.exit_code == 0);
  check_consistent();
  auto plan = RunWith(config, {"plan", "--format", "json"});
  REQUIRE(plan.exit_code == 0);
  CHECK(nlohmann::json::parse(plan.out)["deletable"] == 0);
  auto verify = RunWith(config, {"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
}

// ---------------------------------------------------------------- journal

TEST_CASE("under systemd (JOURNAL_STREAM names stderr) every line has a syslog priority and no colour or timestamp",
          "[unattended]") {
  // With journald here the lines go to it natively, not to the stream
  // (journal_native_test.cc tests both in a mount namespace of their own).
  if (std::filesystem::exists("/run/systemd/journal/socket")) {
    WARN("journald is running here: the stream format is tested by journal_native_test.cc only");
    return;
  }
  TempDir dir;
  const auto config = e2e::MakeDemo(dir / "demo", 3000);
  const auto err_file = dir / "child.stderr";
  e2e::WriteFile(err_file, "");
  const std::map<std::string, std::string> env{{"JOURNAL_STREAM", unattended::DevIno(err_file)},
                                               {"TERM", "xterm-256color"}};
  static const std::regex kPrefixed(R"(^<[0-7]>\S.*$)");
  static const std::regex kTimestamp(R"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}.*(info|warn|error))");

  auto run = [&](const std::vector<std::string>& args) {
    auto child = unattended::Spawn(args, dir.path(), env);
    const int code = unattended::Wait(child);
    return std::make_pair(code, e2e::ReadFile(child.err));
  };

  auto [code, err] = run({"--config", config.string(), "purge"});
  INFO(err);
  REQUIRE(code == 0);
  CHECK_FALSE(Contains(err, "\x1b"));
  int info = 0;
  for (const auto& line : Lines(err)) {
    INFO(line);
    CHECK(std::regex_match(line, kPrefixed));
    CHECK_FALSE(std::regex_search(line, kTimestamp));
    info += line.rfind("<6>", 0) == 0;
  }
  CHECK(info >= 3);
  CHECK(Contains(err, "<6>category request_logs: "));

  SECTION("a warning is <4>: the run lock is held") {
    auto lock = RunLock::TryAcquire(LockPathsFor(dir / "demo" / "state.db").run_lock);
    REQUIRE(lock.ok());
    auto [code2, err2] = run({"--config", config.string(), "purge"});
    INFO(err2);
    CHECK(code2 == 75);
    CHECK(Contains(err2, "<4>retention: "));
    CHECK_FALSE(Contains(err2, "\x1b"));
  }
  SECTION("an error is <3>") {
    auto [code2, err2] = run({"--config", (dir / "nope.toml").string(), "check"});
    INFO(err2);
    CHECK(code2 != 0);
    CHECK(Contains(err2, "<3>retention: "));
  }
  SECTION("JOURNAL_STREAM naming another file (stderr redirected by a child): plain lines") {
    const std::map<std::string, std::string> other{{"JOURNAL_STREAM", unattended::DevIno(config)}};
    auto child = unattended::Spawn({"--config", config.string(), "plan"}, dir.path(), other);
    REQUIRE(unattended::Wait(child) == 0);
    const std::string plain = e2e::ReadFile(child.err);
    INFO(plain);
    CHECK_FALSE(Contains(plain, "<6>"));
    CHECK_FALSE(Contains(plain, "\x1b"));
  }
}

// ---------------------------------------------------------------- pieces

TEST_CASE("RedactSecrets masks passwords in conninfo strings and URLs", "[unattended]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"host=db password=s3cret user=app", "host=db password=*** user=app"},
      {"host=db password = 's3 cr\\'et' user=app", "host=db password = *** user=app"},
      {"PASSWORD=abc", "PASSWORD=***"},
      {"postgresql://app:s3cret@db.example/app", "postgresql://app:***@db.example/app"},
      {"postgres://app@db/app", "postgres://app@db/app"},
      {"nothing secret here", "nothing secret here"},
  };
  for (const auto& [in, want] : cases) {
    INFO(in);
    CHECK(RedactSecrets(in) == want);
  }
}

TEST_CASE("ProgressMeter logs every 10 s off a terminal, with rate and ETA", "[unattended]") {
  auto now = std::chrono::steady_clock::time_point{};
  ProgressMeter meter("purge", 1000, /*terminal=*/false, std::chrono::seconds(10), [&] { return now; });
  now += std::chrono::seconds(5);
  meter.Update(100, "a/b");
  CHECK(meter.last_line().empty());  // not 10 s yet
  now += std::chrono::seconds(5);
  meter.Update(200, "a/b");
  CHECK(meter.last_line() == "purge progress: 200 of 1000 (20%), 20/s, ETA 0:40 (a/b)");
  CHECK(ProgressMeter::FormatEta(3725) == "1:02:05");
  CHECK(ProgressMeter::FormatEta(NAN) == "?");
}

}  // namespace
}  // namespace retention
