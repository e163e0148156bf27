// The files store under an unlucky operator or a hostile local user, end to
// end (issue 11 items 3 and 8; SPEC 6.8, 6.14):
//   - a directory bind-mounted inside the root from outside it (same file
//     system, so the same st_dev) is neither counted by `plan` nor deleted
//     in by `purge`;
//   - an immutable file among due ones is kept, its batch's settlement
//     saying why, the rest go, the run exits 0, and the count shows in the
//     run's end, `audit runs`, `status` and the metrics file.
// Both need root (mount, chattr +i); they run as root here and in CI and
// skip with a warning elsewhere.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/time.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "e2e/e2e_util.h"
#include "support/immutable_file.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::DeletedKeys;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;
using e2e::WriteFile;
namespace fs = std::filesystem;

// A bind mount, detached when the guard goes. Declare it after the TempDir
// it lives in, so that it is unmounted before the directory is removed
// (remove_all through a live bind mount would empty its source).
class BindMount {
 public:
  BindMount(const fs::path& from, const fs::path& to) : to_(to) {
    ok_ = ::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) == 0;
  }
  ~BindMount() {
    if (ok_) ::umount2(to_.c_str(), MNT_DETACH);
  }
  BindMount(const BindMount&) = delete;
  BindMount& operator=(const BindMount&) = delete;
  bool ok() const { return ok_; }

 private:
  fs::path to_;
  bool ok_ = false;
};

void SetOld(const fs::path& p, int hours) {
  const time_t when = ::time(nullptr) - 200 * 86400 + hours * 3600;
  struct timeval times[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimes(p.c_str(), times) == 0);
}

void WriteRotated(const fs::path& p, int hours) {
  WriteFile(p, "line\n");
  SetOld(p, hours);
}

void WriteConfig(const TempDir& dir, const std::string& paths) {
  WriteFile(dir / "rules" / "logs.toml", R"(
[logs]
keep_at_least = "30 days"
delete_after = "90 days"
[[logs.target]]
name = "rotated"
store = "logs"
paths = )" + paths + R"(
clock = { mtime = true }
)");
  WriteFile(dir / "retention.toml",
            "rules = \"rules\"\nstate = \"state.db\"\n[limits]\nmax_delete_fraction = 1.0\nbatch_size = 2\n"
            "[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n");
  e2e::InitState(dir / "retention.toml");
}


// The records run `run` kept, with their reason: the kept items of the
// settlements of its batch entries (src/ledger/batch_entry.h), each as
// (key, the item's JSON), read with the checker's decoder.
std::vector<std::pair<std::string, nlohmann::json>> KeptInRun(const fs::path& state_db, int64_t run) {
  const checker::State st = checker::ReadState(state_db);
  std::map<int64_t, const checker::Entry*> batches;
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (const checker::Entry& e : st.ledger) {
    if (e.kind == "kept" && e.run_id == run) out.push_back({e.record_key, nlohmann::json::parse(e.detail)});
    const nlohmann::json d = nlohmann::json::parse(e.detail, nullptr, false);
    if (d.is_object() && d.contains("settles")) {
      for (const nlohmann::json& s : d["settles"]) {
        const checker::Entry* batch = batches.at(s.at("seq").get<int64_t>());
        if (batch->run_id != run || !s.contains("kept")) continue;
        const checker::Batch payload = checker::DecodeBatch(batch->payload);
        for (const nlohmann::json& k : s["kept"])
          out.push_back({payload.records.at(k.at("i").get<size_t>()).key, k});
      }
    }
    if (e.kind == "batch") batches[e.seq] = &e;
  }
  return out;
}

std::set<std::string> Names(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

TEST_CASE("plan and purge never reach through a bind mount inside the root", "[files][mount][e2e]") {
  TempDir dir;
  WriteConfig(dir, R"(["**/app.log-*"])");
  WriteRotated(dir / "logs/app.log-1000.gz", 0);
  WriteRotated(dir / "outside/app.log-2000.gz", 1);
  WriteRotated(dir / "outside/nested/app.log-2001.gz", 2);
  fs::create_directories(dir / "logs/sub");
  BindMount mount(dir / "outside", dir / "logs/sub");
  if (!mount.ok()) {
    WARN("cannot bind-mount here (not root?); skipping");
    return;
  }

  RunResult plan = RunWith(dir / "retention.toml", {"plan", "--format", "json"});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);
  auto j = nlohmann::json::parse(plan.out);
  CHECK(j["deletable"] == 1);
  CHECK(j["targets"][0]["records"] == 1);

  RunResult purge = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);
  CHECK(Names(dir / "logs") == std::set<std::string>{"sub"});
  CHECK(fs::exists(dir / "outside/app.log-2000.gz"));
  CHECK(fs::exists(dir / "outside/nested/app.log-2001.gz"));
  CHECK(DeletedKeys(dir / "state.db") == std::vector<std::string>{"app.log-1000.gz"});
}

TEST_CASE("an immutable file is kept, recorded and reported while the rest of the purge goes on",
          "[files][undeletable][e2e]") {
  TempDir dir;
  WriteConfig(dir, R"(["app.log-*"])");
  for (int i = 0; i < 5; ++i) WriteRotated(dir / "logs" / ("app.log-" + std::to_string(1000 + i) + ".gz"), i);
  WriteFile(dir / "logs/app.log", "live\n");
  const fs::path stuck = dir / "logs/app.log-1002.gz";
  test_support::ImmutableFile immutable(stuck);
  if (!immutable.ok()) {
    WARN("cannot set the immutable flag here (not root, or no such flag on this file system); skipping");
    return;
  }

  for (int run = 1; run <= 2; ++run) {
    INFO("purge run " << run);
    RunResult purge = RunWith(dir / "retention.toml", {"purge", "--metrics-file", (dir / "m.prom").string()});
    INFO(Describe(purge));
    REQUIRE(purge.exit_code == 0);
    CHECK(Names(dir / "logs") == std::set<std::string>{"app.log", "app.log-1002.gz"});
    // A warning naming the file.
    CHECK(e2e::Contains(purge.err, stuck.string()));
    CHECK(e2e::Contains(purge.err, "cannot be deleted: Operation not permitted (immutable)"));
    CHECK(e2e::Contains(purge.out, "1 could not be deleted"));

    Db state(dir / "state.db", /*read_only=*/true);
    CHECK(DeletedKeys(dir / "state.db").size() == 4);
    auto kept = KeptInRun(dir / "state.db", run);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].first == "app.log-1002.gz");
    const nlohmann::json& detail = kept[0].second;
    CHECK(detail["why"] == "undeletable");
    CHECK(detail["skip"] == "undeletable");
    CHECK(detail["reason"] == "cannot be deleted: Operation not permitted (immutable)");
    auto end = nlohmann::json::parse(
        *state.Query("SELECT detail FROM ledger WHERE kind = 'run_end' AND run_id = ?", {std::to_string(run)})
             .at(0)
             .at(0));
    CHECK(end["outcome"] == "ok");
    CHECK(end["targets"][0]["undeletable"] == 1);
    CHECK(end["targets"][0]["deleted"] == (run == 1 ? 4 : 0));

    const std::string metrics = e2e::ReadFile(dir / "m.prom");
    INFO(metrics);
    CHECK(e2e::Contains(metrics, "retention_undeletable_records{category=\"logs\",target=\"rotated\"} 1\n"));
  }

  RunResult runs = RunWith(dir / "retention.toml", {"audit", "runs"});
  INFO(Describe(runs));
  REQUIRE(runs.exit_code == 0);
  CHECK(e2e::Contains(runs.out, "could not be deleted (kept): logs/rotated 1"));

  RunResult status = RunWith(dir / "retention.toml", {"status"});
  INFO(Describe(status));
  CHECK(e2e::Contains(status.out, "1 files could not be deleted in the last run"));
  RunResult status_json = RunWith(dir / "retention.toml", {"status", "--format", "json"});
  INFO(Describe(status_json));
  CHECK(nlohmann::json::parse(status_json.out)["undeletable_last_run"] == 1);
}

}  // namespace
}  // namespace retention
