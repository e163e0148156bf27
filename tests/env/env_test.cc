// The Env main builds reaches what a purge does: its clock stamps the
// ledger, its state opener opens the state, its file system serves the
// files store.
#include "env/env.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "config/config.h"
#include "purge/purge.h"
#include "purge/purge_fixture.h"
#include "rules/rule_loader.h"
#include "support/ledger_checker.h"

namespace retention {
namespace {

TEST_CASE("a purge reads the clock and opens the state only through its Env", "[env][purge]") {
  e2e::TempDir dir;
  WriteDueEventsFixture(dir);
  auto config = LoadConfig(dir / "retention.toml");
  REQUIRE(config.ok());
  auto rules = LoadRules(*config);
  REQUIRE(rules.ok());

  const Timestamp fixed = FromUnixMicros(1767225600LL * 1000000);  // 2026-01-01, not today
  std::vector<StateOpenMode> opened;
  PurgeOptions options;
  options.exit_code_of = ExitStatusOf;
  options.env = Env::Default();
  options.env.clock = [fixed] { return fixed; };
  const Env::StateOpener real = options.env.state_opener;
  options.env.state_opener = [&](const Config& c, StateOpenMode mode, const Env::Clock& clock) {
    opened.push_back(mode);
    return real(c, mode, clock);
  };
  options.now = options.env.Now();
  auto report = RunPurge(*config, *rules, options);
  REQUIRE(report.ok());
  REQUIRE(report->status.ok());
  CHECK(report->TotalDeleted() == kDueEventRows);

  REQUIRE(opened.size() == 1);
  CHECK(opened[0] == StateOpenMode::kWrite);
  // Every entry of the run, stamped by the state itself, carries the Env's
  // clock: nothing read the system clock behind it.
  const checker::State st = checker::ReadState(dir / "state.db");
  // The deletions are recorded: batch entries (the intents) settled by later
  // entries, every due record claimed once; each claim is dated by the
  // entry that settled it.
  std::vector<std::string> problems;
  const std::vector<checker::Entry> deleted = checker::BatchDeletes(st, &problems);
  INFO(checker::Report(problems));
  CHECK(problems.empty());
  REQUIRE(deleted.size() == static_cast<size_t>(kDueEventRows));
  REQUIRE(st.ledger.size() >= 2);  // at least one batch entry and the entry settling it
  for (const checker::Entry& e : st.ledger) {
    INFO("seq " << e.seq << " " << e.kind);
    CHECK(e.at == ToUnixMicros(fixed));
  }
  std::set<std::string> keys;
  for (const checker::Entry& d : deleted) {
    INFO("deleted " << d.record_key << ", settled by seq " << d.seq);
    CHECK(d.at == ToUnixMicros(fixed));
    keys.insert(d.store + "/" + d.target + "/" + d.record_key);
  }
  CHECK(keys.size() == deleted.size());
  REQUIRE(st.runs.count(report->run_id) == 1);
  CHECK(st.runs.at(report->run_id).ended_at == ToUnixMicros(fixed));
}

TEST_CASE("a purge without an Env is refused, not run on a default", "[env][purge]") {
  e2e::TempDir dir;
  WriteDueEventsFixture(dir);
  auto config = LoadConfig(dir / "retention.toml");
  REQUIRE(config.ok());
  auto rules = LoadRules(*config);
  REQUIRE(rules.ok());
  PurgeOptions options;  // env left empty
  auto report = RunPurge(*config, *rules, options);
  REQUIRE_FALSE(report.ok());
  CHECK(report.status().code() == StatusCode::kInternal);
}

}  // namespace
}  // namespace retention
