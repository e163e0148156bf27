// Shared by the audit tests: a state database with a synthetic ledger built
// through the StateDb API, a config that points at it, and a child run
// whose peak memory is measured.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

#include "e2e/e2e_util.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "state/sqlite_state_db.h"

namespace retention::audit_test {

using namespace retention::e2e;

// The JSON values of `text`, one a line (audit export --format jsonl, audit
// log --format json); blank lines skipped.
inline std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// What entry i of the synthetic ledger holds (deterministic).
// SQL a forger runs after cutting the ledger's tail by hand, so that the
// run tally index (state schema version 8) agrees with what is left: the
// counts of SyntheticEntry's per-record entries, recounted. The tests of
// checkpoints show what only a checkpoint catches.
inline constexpr const char* kRecountRunTallies =
    "DELETE FROM run_tallies; "
    "INSERT INTO run_tallies SELECT run_id, category, sum(kind = 'delete'), sum(kind = 'kept'), "
    "sum(kind = 'kept' AND detail LIKE '%\"held by hold%') FROM ledger "
    "WHERE run_id <> 0 AND kind IN ('delete', 'kept') GROUP BY run_id, category;";

inline LedgerEntry SyntheticEntry(int64_t i) {
  static const char* kCategories[] = {"request_logs", "support", "sessions", "closed_accounts"};
  static const char* kTargets[] = {"requests", "tickets", "sessions", "customers"};
  LedgerEntry e;
  e.at = FromUnixMicros(1700000000LL * 1000000 + i * 60LL * 1000000);  // one a minute
  e.run_id = 101 + i / 1000;  // clear of the runs table's own ids
  switch (i % 10) {
    case 0: e.kind = LedgerKind::kRunStart; e.detail = R"({"user":"ops","host":"h1"})"; return e;
    case 9: e.kind = LedgerKind::kKept; break;
    default: e.kind = LedgerKind::kDelete; break;
  }
  e.category = kCategories[i % 4];
  e.store = i % 3 == 0 ? "files" : "app";
  e.target = kTargets[i % 4];
  e.record_key = std::to_string(i);
  e.clock = "2023-01-01 00:00:00";
  e.cutoff = "2024-01-01T00:00:00Z";
  e.rule = "rules/x.toml:" + std::to_string(3 + i % 4);
  e.subject = "customer:" + std::to_string(i % 17);
  e.batch = i / 100;
  if (e.kind == LedgerKind::kKept) e.detail = R"j({"reason":"held by hold 1 (M-1)"})j";
  // Awkward text for the CSV round trip: commas, quotes, newlines, UTF-8.
  if (i % 101 == 5) e.record_key = "a,b \"quoted\"\nline2\r\nline3 é";
  return e;
}

// A config with one empty files store and one rule on it, which gives the
// purge log no schedule: enough for the audit commands, which read the
// state database (and the rules only for the purge log's schedule).
struct LedgerFixture {
  TempDir dir;
  fs::path config = dir / "retention.toml";
  fs::path state_db = dir / "state.db";

  explicit LedgerFixture(int64_t entries) {
    fs::create_directories(dir / "rules");
    fs::create_directories(dir / "files");
    WriteFile(dir / "rules" / "scratch.toml",
              "[scratch]\ndelete_after = \"30 days\"\n[[scratch.target]]\nname = \"tmp\"\nstore = \"files\"\n"
              "paths = [\"*.tmp\"]\nclock = { mtime = true }\n");
    WriteFile(config,
              "rules = \"rules\"\nstate = \"state.db\"\ntime_zone = \"UTC\"\n"
              "[stores.files]\ntype = \"files\"\nroot = \"files\"\n");
    auto db = OpenOrCreateStateDb(state_db, /*read_only=*/false);
    REQUIRE(db.ok());
    std::vector<LedgerEntry> batch;
    for (int64_t i = 0; i < entries; ++i) {
      batch.push_back(SyntheticEntry(i));
      if (batch.size() == 20000) {
        REQUIRE(Append(**db, std::move(batch)).ok());
        batch.clear();
      }
    }
    if (!batch.empty()) REQUIRE(Append(**db, std::move(batch)).ok());
  }

  RunResult Retention(std::vector<std::string> args) { return RunWith(config, std::move(args)); }
};

// Runs the binary like e2e::Run, and reports its peak RSS (KiB). Measured
// by /usr/bin/time (Debian package `time`): the rusage of a child this
// process forks would include this test's own memory, copied at fork and
// kept in the high-water mark across exec.
inline RunResult RunMeasured(const std::vector<std::string>& args, long* max_rss_kib) {
  char templ[] = "/tmp/retention-audit-rss-XXXXXX";
  const int fd = ::mkstemp(templ);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  std::vector<std::string> command{"/usr/bin/time", "-f", "%M", "-o", templ, kBinary};
  command.insert(command.end(), args.begin(), args.end());
  RunResult r = e2e::RunProgram(command);
  std::istringstream rss(ReadFile(templ));
  ::unlink(templ);
  // time writes "Command exited with non-zero status N" first on failure:
  // the peak RSS is the last line.
  std::string line, last;
  while (std::getline(rss, line))
    if (!line.empty()) last = line;
  if (last.empty()) throw std::runtime_error("/usr/bin/time wrote no peak RSS (is the package `time` installed?)");
  *max_rss_kib = std::stol(last);
  return r;
}

}  // namespace retention::audit_test
