// SPEC 6.2: "After a crash or power loss at any point the next run
// reconciles, so that no record is gone without its entry and no entry
// claims a deletion that did not happen." The fault-point tests
// (tests/purge/crash_test.cc) kill the purge at the named steps of the batch
// protocol; this sweep kills it with SIGKILL at random moments instead,
// wherever it happens to be (opening stores, planning, between or inside
// SQLite transactions, between an unlinkat and its ledger entry, pruning
// the purge log, ending the run), with the pipeline holding up to two
// batches in flight (one deleting, the next one's intent committing).
//
// Each trial: a fresh copy of one demo, a purge of one category in small
// batches, SIGKILL after a delay drawn uniformly over that purge's measured
// duration, then the next purge (which reconciles) to its end. Then: the
// independent checker (support/ledger_checker.h) against the snapshot taken
// before the killed run, `audit verify` exits 0, and the killed run is
// recorded `crashed` (unless it had written its run_end before the kill).
//
// The bounded sweep runs in the normal suite for about two minutes with a
// fixed seed; RETENTION_KILL_SWEEP=full runs at least 200 kills.
// RETENTION_KILL_SWEEP_SEED sets the seed, RETENTION_KILL_SWEEP_TRIAL runs
// one trial only: a failure prints both, so that it can be replayed (the
// moment a delay lands on depends on the machine's speed too, so a replay
// lands near, not exactly on, the same instruction).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "e2e/e2e_util.h"
#include "support/background_process.h"
#include "support/ledger_checker.h"
#include "support/trials_for_build.h"

namespace retention::e2e {
namespace {

namespace ck = retention::checker;
using Clock = std::chrono::steady_clock;

struct Kind {
  std::string name;
  std::string category;
  int batch_size;
  double duration_ms = 0;  // measured: one whole purge, start to exit
};

// SQLite (audit_security includes the purge log's own target; sessions has
// text and integer keys) and files (mtime and name clocks).
std::vector<Kind> Kinds() {
  return {{"sqlite audit_security", "audit_security", 4},
          {"sqlite sessions", "sessions", 2},
          {"files rotated logs", "server_log_files", 2},
          {"files backups", "backups", 1}};
}

struct Trial {
  bool killed = false;  // the purge was still running when the kill landed
  // What the next purge found: batches the killed run left open, and how
  // many of their records it had deleted (the case that needs reconciling).
  int reconciled_batches = 0;
  int64_t reconciled_deleted = 0;
  std::vector<std::string> failures;
};

std::vector<std::string> PurgeArgs(const fs::path& config, const Kind& k, int batch_size) {
  return {"--config", config.string(), "purge", "--category", k.category, "--batch-size", std::to_string(batch_size)};
}

int64_t MaxRunId(const ck::State& st) { return st.runs.empty() ? 0 : st.runs.rbegin()->first; }

// One trial; `delay_ms` < 0 measures (no kill).
Trial RunTrial(const Kind& k, const fs::path& pristine, const fs::path& dir, double delay_ms, double* took_ms) {
  Trial t;
  const fs::path demo = dir / "demo";
  CopyTree(pristine, demo);
  const fs::path config = demo / "retention.toml", state = demo / "state.db";
  const ck::StoreSpec spec = ck::DemoSpec(demo);
  const ck::Snapshot before = ck::TakeSnapshot(spec, state);
  const int64_t runs_before = MaxRunId(ck::ReadState(state));

  const auto start = Clock::now();
  int64_t killed_run = 0;
  {
    BackgroundProcess purge(PurgeArgs(config, k, k.batch_size), dir, "killed");
    if (delay_ms >= 0) {
      std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<int64_t>(delay_ms * 1000)));
      t.killed = purge.Running();
      purge.Kill();
    }
    const RunResult r = purge.Result();
    if (took_ms) *took_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    // Running() and Kill() race with the purge's exit: a purge that ended
    // in between (a zombie not yet reaped takes the signal in vain) finished
    // its run, and is judged as not killed.
    if (t.killed && r.exit_code == 0) t.killed = false;
    if (!t.killed && r.exit_code != 0) t.failures.push_back("the purge (not killed) exited: " + Describe(r));
    if (t.killed && r.exit_code != 128 + SIGKILL) t.failures.push_back("the killed purge exited: " + Describe(r));
  }
  // The next purge reconciles, then finishes the work. Nothing reads the
  // state database before it: it is the first to find what the kill left.
  const RunResult next = RunWith(config, {"purge", "--category", k.category});
  if (next.exit_code != 0) t.failures.push_back("the next purge exited: " + Describe(next));
  {
    // The killed run is the one between the runs before and the next one
    // (none when the kill landed before it recorded its start).
    const size_t at = next.out.find("Run ");
    const int64_t next_run = at == std::string::npos ? INT64_MAX : std::strtoll(next.out.c_str() + at + 4, nullptr, 10);
    const ck::State st = ck::ReadState(state);
    for (const auto& [id, run] : st.runs)
      if (id > runs_before && id < next_run) killed_run = id;
  }

  const auto problems = ck::Check(before, ck::TakeSnapshot(spec, state), state);
  if (!problems.empty()) t.failures.push_back("checker: " + ck::Report(problems, 12));

  const RunResult verify = RunWith(config, {"audit", "verify"});
  if (verify.exit_code != 0) t.failures.push_back("audit verify: " + Describe(verify));

  {
    const ck::State st = ck::ReadState(state);
    for (const ck::Entry& e : st.ledger) {
      // A reconciled entry settles one batch (an open batch entry, or a
      // pending batch of an older run) and counts what it found deleted.
      if (e.kind != "reconciled") continue;
      ++t.reconciled_batches;
      const auto detail = nlohmann::json::parse(e.detail, nullptr, /*allow_exceptions=*/false);
      if (detail.is_object()) t.reconciled_deleted += detail.value("found_deleted", int64_t{0});
    }
  }
  if (t.killed && killed_run > 0) {
    const ck::State st = ck::ReadState(state);
    bool ended = false;
    for (const ck::Entry& e : st.ledger) ended = ended || (e.kind == "run_end" && e.run_id == killed_run);
    const std::string outcome = st.runs.count(killed_run) ? st.runs.at(killed_run).outcome : "(no run row)";
    if (!ended && outcome != "crashed")
      t.failures.push_back("the killed run " + std::to_string(killed_run) + " is recorded '" + outcome +
                           "', not 'crashed'");
    if (ended && outcome == "running")
      t.failures.push_back("the killed run " + std::to_string(killed_run) + " has a run_end entry but is 'running'");
  }
  return t;
}

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

TEST_CASE("kill sweep: SIGKILL at random moments of SQLite and files purges, then reconcile and check",
          "[killsweep][e2e]") {
  const bool full = Env("RETENTION_KILL_SWEEP").value_or("") == "full";
  const uint64_t seed = Env("RETENTION_KILL_SWEEP_SEED") ? std::stoull(*Env("RETENTION_KILL_SWEEP_SEED")) : 20261130;
  const std::optional<int> only_trial =
      Env("RETENTION_KILL_SWEEP_TRIAL") ? std::optional<int>(std::stoi(*Env("RETENTION_KILL_SWEEP_TRIAL")))
                                        : std::nullopt;
  const int min_kills = full ? 200 : 0;
  const double budget_s = full ? 3600 : testing::SecondsForBuild(100);

  TempDir dir;
  const fs::path pristine = dir / "pristine";
  MakeDemo(pristine, 6000);

  // Measure each kind's whole purge, twice, the shorter counting (a busy
  // machine makes one run an outlier); each is checked like any trial.
  std::vector<Kind> kinds = Kinds();
  for (Kind& k : kinds) {
    for (int m = 0; m < 2; ++m) {
      const fs::path trial_dir = dir / ("measure-" + k.category);
      fs::create_directories(trial_dir);
      double took = 0;
      const Trial t = RunTrial(k, pristine, trial_dir, -1, &took);
      for (const auto& f : t.failures) FAIL_CHECK("uninterrupted " << k.name << ": " << f);
      fs::remove_all(trial_dir);
      k.duration_ms = m == 0 ? took : std::min(k.duration_ms, took);
    }
    WARN(k.name << ": an uninterrupted purge takes " << static_cast<int64_t>(k.duration_ms) << " ms");
  }

  const auto start = Clock::now();
  int trials = 0, kills = 0, failed = 0, reconciled_trials = 0;
  int64_t reconciled_records = 0;
  std::map<std::string, int> kills_per_kind;
  for (int trial = only_trial.value_or(0);; ++trial) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (only_trial ? trial > *only_trial : (kills >= min_kills && elapsed > budget_s)) break;
    if (!only_trial && full && kills >= min_kills) break;
    if (failed >= 3) break;  // enough to go on; the rest would repeat it
    std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(trial));
    const Kind& k = kinds[static_cast<size_t>(trial) % kinds.size()];
    const double delay_ms = std::uniform_real_distribution<double>(0, k.duration_ms)(rng);
    const fs::path trial_dir = dir / ("trial-" + std::to_string(trial));
    fs::create_directories(trial_dir);
    const Trial t = RunTrial(k, pristine, trial_dir, delay_ms, nullptr);
    ++trials;
    if (t.killed) {
      ++kills;
      ++kills_per_kind[k.name];
    }
    reconciled_trials += t.reconciled_batches > 0;
    reconciled_records += t.reconciled_deleted;
    if (!t.failures.empty()) {
      ++failed;
      std::string all;
      for (const auto& f : t.failures) all += "\n" + f;
      FAIL_CHECK("kill sweep seed " << seed << " trial " << trial << " (" << k.name << ", SIGKILL after "
                                    << static_cast<int64_t>(delay_ms) << " ms of "
                                    << static_cast<int64_t>(k.duration_ms) << "; replay with "
                                    << "RETENTION_KILL_SWEEP_SEED=" << seed << " RETENTION_KILL_SWEEP_TRIAL=" << trial
                                    << "):" << all);
    }
    fs::remove_all(trial_dir);
  }
  std::string per_kind;
  for (const auto& [name, n] : kills_per_kind) per_kind += " " + name + ": " + std::to_string(n) + ";";
  WARN("kill sweep (seed " << seed << "): " << trials << " trials, " << kills << " killed mid-run (" << per_kind
                           << " ), " << reconciled_trials << " left a pending batch ("
                           << reconciled_records << " records reconciled as deleted), " << failed << " failed, "
                           << static_cast<int64_t>(std::chrono::duration<double>(Clock::now() - start).count())
                           << " s");
  CHECK(failed == 0);
  // The sweep must have killed something, or it proved nothing.
  CHECK(kills >= (only_trial ? 0 : std::max(min_kills, trials / 4)));
}

}  // namespace
}  // namespace retention::e2e
