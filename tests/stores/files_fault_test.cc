// I/O errors at every call the files store makes (issue 12, STYLE.md "Seams
// for tests"): an in-process purge over a files target, with one call failed
// through the Env's file system, leaves an exact ledger (the independent
// checker, tests/support/ledger_checker.h) and ends with the outcome the
// error calls for: EPERM on unlink keeps that file as undeletable and the
// run goes on; an unknown state (EIO, ENOSPC on unlink) stops the run. Each
// kind of call is failed at its first, middle and last call of a clean run,
// with mount ids read from statx and through each fallback (so that every
// call files_mount.cc can make is made).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <string>

#include "cli/exit_codes.h"
#include "config/config.h"
#include "e2e/e2e_util.h"
#include "env/env.h"
#include "purge/purge.h"
#include "purge/purge_fixture.h"
#include "rules/rule_loader.h"
#include "support/fault_file_system.h"
#include "support/ledger_checker.h"

namespace retention {
namespace {

using e2e::TempDir;
using e2e::WriteFile;
using testing::FaultFileSystem;
using testing::FsCall;
using testing::FsCallName;

constexpr int kTop = 9;  // logs/app.log-N.gz
constexpr int kSub = 4;  // logs/sub/app.log-N.gz
constexpr int kDue = kTop + kSub;
const time_t kOld = 1700000000;  // 2023-11-14: long past 90 days

void SetMtime(const std::filesystem::path& p, time_t when) {
  struct timeval times[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimes(p.c_str(), times) == 0);
}

// Rotated logs, all due, in the root and a subdirectory, the live log
// (never matched), batches of 4 (several batches per target).
void MakeFixture(const TempDir& dir) {
  for (int i = 0; i < kDue; ++i) {
    const auto p = i < kTop ? dir / "logs" / ("app.log-" + std::to_string(1000 + i) + ".gz")
                            : dir / "logs" / "sub" / ("app.log-" + std::to_string(1000 + i) + ".gz");
    WriteFile(p, "line\n");
    SetMtime(p, kOld + i * 3600);
  }
  WriteFile(dir / "logs" / "app.log", "live\n");
  SetMtime(dir / "logs" / "app.log", kOld);
  WriteFile(dir / "rules" / "logs.toml", R"(
[logs]
delete_after = "90 days"
[[logs.target]]
name = "rotated"
store = "logs"
paths = ["app.log-*", "sub/app.log-*"]
clock = { mtime = true }
)");
  WritePurgeTestConfig(dir, 4, "files");
}

checker::StoreSpec Spec(const TempDir& dir) {
  checker::FilesTarget t{"logs", "rotated", dir / "logs", {"app.log-*", "sub/app.log-*"}, nullptr};
  t.clock = [](const std::string&, const checker::Record& r) -> std::pair<std::string, std::optional<int64_t>> {
    return {checker::FormatUtcSeconds(r.mtime_ns / 1000000000, "%Y-%m-%dT%H:%M:%SZ"), r.mtime_ns / 1000};
  };
  checker::StoreSpec spec;
  spec.files.push_back(t);
  return spec;
}

int CountDue(const TempDir& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "logs"))
    if (e.is_regular_file() && e.path().filename().string().rfind("app.log-", 0) == 0) ++n;
  return n;
}

// The records the run's settlements kept (a settlement's "kept" list,
// ledger/batch_entry.h), and any per-record kept entry, each as a kept
// entry: the batch's fields, the candidate's key, and as detail the kept
// item's JSON (its "why", "skip" and "reason").
std::vector<checker::Entry> KeptOfRun(const checker::State& st, int64_t run_id) {
  using Json = nlohmann::json;
  std::vector<checker::Entry> out;
  std::map<int64_t, const checker::Entry*> batches;
  for (const checker::Entry& e : st.ledger) {
    if (e.kind == "kept" && e.run_id == run_id) out.push_back(e);
    const Json d = Json::parse(e.detail, nullptr, false);
    if (d.is_object() && d.contains("settles") && d["settles"].is_array()) {
      for (const Json& item : d["settles"]) {
        auto b = batches.find(item.value("seq", int64_t{0}));
        if (b == batches.end() || b->second->run_id != run_id || !item.contains("kept")) continue;
        const checker::Batch payload = checker::DecodeBatch(b->second->payload);
        for (const Json& k : item["kept"]) {
          const auto i = k.value("i", int64_t{-1});
          REQUIRE(i >= 0);
          REQUIRE(i < static_cast<int64_t>(payload.records.size()));
          checker::Entry kept = *b->second;
          kept.kind = "kept";
          kept.seq = e.seq;
          kept.intent_seq = b->second->seq;
          kept.record_key = payload.records[static_cast<size_t>(i)].key;
          kept.clock = payload.records[static_cast<size_t>(i)].clock;
          kept.payload.clear();
          kept.detail = k.dump();
          out.push_back(std::move(kept));
        }
      }
    }
    if (e.kind == "batch") batches[e.seq] = &e;
  }
  return out;
}

struct Outcome {
  bool started = false;  // RunPurge returned a report
  Status status;         // the run's (or the refusal's)
  std::string outcome;   // the report's, when started
  int remaining = 0;     // due files still there
  std::vector<checker::Entry> kept;  // this run's kept entries
};

// Whether a checker problem is a file gone without its delete entry yet.
bool GoneWithoutEntry(const std::string& problem) {
  return problem.find("is gone but has no delete entry") != std::string::npos;
}

// One purge of a fresh fixture through `fs`, then one through the real file
// system. The ledger is checked after each: after the first, exact but for
// the files of the one batch an error interrupted (still pending: their
// entries are the next run's to write, SPEC 6.2); after the second, which
// settles that batch first, exact.
Outcome PurgeThrough(const std::shared_ptr<FaultFileSystem>& fs) {
  TempDir dir;
  MakeFixture(dir);
  auto config = LoadConfig(dir / "retention.toml");
  REQUIRE(config.ok());
  auto rules = LoadRules(*config);
  REQUIRE(rules.ok());
  const auto spec = Spec(dir);
  const checker::Snapshot before = checker::TakeSnapshot(spec, dir / "state.db");
  REQUIRE(before.targets.at("logs/rotated").size() == static_cast<size_t>(kDue));

  PurgeOptions options;

  options.exit_code_of = ExitStatusOf;
  options.env = Env::Default();
  options.env.file_system = fs;
  options.now = options.env.Now();
  auto report = RunPurge(*config, *rules, options);

  const checker::Snapshot after = checker::TakeSnapshot(spec, dir / "state.db");
  {
    const auto problems = checker::Check(before, after, dir / "state.db");
    INFO(checker::Report(problems));
    int pending = 0;
    for (const std::string& p : problems) {
      if (GoneWithoutEntry(p)) {
        ++pending;
      } else {
        FAIL_CHECK(p);
      }
    }
    // Only a run stopped by an error leaves a batch pending, and at most one.
    if (report.ok() && report->status.ok()) CHECK(pending == 0);
    CHECK(pending <= 4);
  }

  Outcome out;
  out.started = report.ok();
  out.status = report.ok() ? report->status : report.status();
  out.remaining = CountDue(dir);
  const checker::State st = checker::ReadState(dir / "state.db");
  if (report.ok()) {
    out.outcome = report->outcome;
    // The run's end in the state says the same as the report.
    REQUIRE(st.runs.count(report->run_id) == 1);
    const checker::RunRow& run = st.runs.at(report->run_id);
    CHECK(run.outcome == report->outcome);
    CHECK(run.exit_code == ExitStatusOf(report->status));
    out.kept = KeptOfRun(st, report->run_id);
  } else {
    // Refused before starting: nothing deleted, nothing recorded as deleted
    // (no per-record delete entry, no batch entry at all).
    CHECK(out.remaining == kDue);
    for (const checker::Entry& e : st.ledger) {
      CHECK(e.kind != "delete");
      CHECK(e.kind != "batch");
    }
  }

  // The next run, on the real file system, settles what the first left.
  PurgeOptions next;
  next.exit_code_of = ExitStatusOf;
  next.env = Env::Default();
  next.now = next.env.Now();
  auto second = RunPurge(*config, *rules, next);
  REQUIRE(second.ok());
  CHECK(second->status.ok());
  CHECK(CountDue(dir) == 0);
  const auto problems = checker::Check(before, checker::TakeSnapshot(spec, dir / "state.db"), dir / "state.db");
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  return out;
}

TEST_CASE("every call the files store makes, failed with EIO, ENOSPC or EPERM, leaves an exact ledger",
          "[fault][files][purge]") {
  // Mount ids from statx, or (as on kernels before 5.8) from the
  // fallbacks: name_to_handle_at, or /proc/self/fdinfo without handles.
  const int mount_ids = GENERATE(0, 1, 2);
  INFO((mount_ids == 0 ? "mount ids from statx" : mount_ids == 1 ? "from handles" : "from fdinfo"));
  auto make_fs = [&] {
    auto fs = std::make_shared<FaultFileSystem>();
    if (mount_ids > 0) fs->HideStatxMountId();
    if (mount_ids > 1) fs->WithoutHandles();
    return fs;
  };
  // The calls a clean run makes, by kind.
  auto counting = make_fs();
  const Outcome clean = PurgeThrough(counting);
  REQUIRE(clean.started);
  REQUIRE(clean.status.ok());
  REQUIRE(clean.remaining == 0);
  // The calls every files purge makes, whatever the kernel offers.
  // kFsync: every batch's unlinks are made durable (Store::Sync) before
  // they are settled.
  for (FsCall kind : {FsCall::kOpen, FsCall::kOpenAt, FsCall::kFstat, FsCall::kFstatAt, FsCall::kStatx,
                      FsCall::kUnlinkAt, FsCall::kFlock, FsCall::kReadDirectory, FsCall::kFsync})
    CHECK(counting->calls(kind) > 0);
  if (mount_ids > 0) CHECK(counting->calls(FsCall::kNameToHandleAt) > 0);
  if (mount_ids > 1) CHECK(counting->calls(FsCall::kRead) > 0);

  int injected_runs = 0;
  for (size_t k = 0; k < testing::kFsCallKinds; ++k) {
    const auto kind = static_cast<FsCall>(k);
    const int total = counting->calls(kind);
    // Not called: a fallback this mode does not need, or the inode flags,
    // read only after a refused unlink (the test below).
    if (total == 0) continue;
    std::set<int> nths = {1, (total + 1) / 2, total};
    for (int nth : nths) {
      for (int err : {EIO, ENOSPC, EPERM}) {
        DYNAMIC_SECTION(FsCallName(kind) << " #" << nth << " of " << total << ": " << std::strerror(err)) {
          auto fs = make_fs();
          fs->FailNth(kind, nth, err);
          const Outcome o = PurgeThrough(fs);
          REQUIRE(fs->injected() == 1);
          ++injected_runs;
          // A run that started ends as its status says, and an error is
          // never an exit 0.
          if (o.started) {
            if (o.status.ok()) {
              CHECK(o.outcome == "ok");
            } else {
              CHECK(o.outcome == "failed");
              CHECK(ExitStatusOf(o.status) != 0);
            }
          } else {
            CHECK_FALSE(o.status.ok());
          }
          if (kind == FsCall::kUnlinkAt) {
            // The run had started and reached the nth unlink.
            REQUIRE(o.started);
            if (err == EPERM) {
              // Refused by the system: kept, said why, and the rest goes.
              CHECK(o.status.ok());
              CHECK(o.outcome == "ok");
              CHECK(o.remaining == 1);
              REQUIRE(o.kept.size() == 1);
              CHECK(o.kept[0].detail.find("\"skip\":\"undeletable\"") != std::string::npos);
            } else {
              // An unknown state: stop at once, with what went recorded.
              CHECK(o.status.code() == StatusCode::kIoError);
              CHECK(ExitStatusOf(o.status) == 74);
              CHECK(o.outcome == "failed");
              CHECK(o.remaining == kDue - (nth - 1));
            }
          }
        }
      }
    }
  }
  (void)injected_runs;
}

TEST_CASE("a file the system refuses to delete, by name, is kept and the run goes on", "[fault][files][purge]") {
  // Reading the inode flags to say why may fail as well: still kept.
  for (int flags_err : {0, EIO, ENOSPC, EPERM}) {
    DYNAMIC_SECTION("inode flags: " << (flags_err ? std::strerror(flags_err) : "readable")) {
      auto fs = std::make_shared<FaultFileSystem>();
      fs->FailName("sub/app.log-1010.gz", EPERM, FsCall::kUnlinkAt);
      if (flags_err) fs->FailNth(FsCall::kGetInodeFlags, 1, flags_err);
      const Outcome o = PurgeThrough(fs);
      CHECK(fs->injected() == (flags_err ? 2 : 1));
      REQUIRE(o.started);
      CHECK(o.status.ok());
      CHECK(o.outcome == "ok");
      CHECK(o.remaining == 1);
      REQUIRE(o.kept.size() == 1);
      CHECK(o.kept[0].record_key == "sub/app.log-1010.gz");
      CHECK(o.kept[0].detail.find("\"skip\":\"undeletable\"") != std::string::npos);
      CHECK(o.kept[0].detail.find("Operation not permitted") != std::string::npos);
    }
  }
}

TEST_CASE("a files store whose root cannot be opened refuses the purge before it starts", "[fault][files][purge]") {
  auto fs = std::make_shared<FaultFileSystem>();
  fs->FailNth(FsCall::kOpen, 1, EIO);
  const Outcome o = PurgeThrough(fs);
  CHECK(fs->injected() == 1);
  CHECK_FALSE(o.started);
  CHECK(o.status.code() == StatusCode::kUnavailable);
  CHECK(ExitStatusOf(o.status) == 69);
}

}  // namespace
}  // namespace retention
