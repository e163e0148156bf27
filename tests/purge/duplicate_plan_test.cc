// A saved plan that lists a record twice (a plan edited or concatenated by
// hand): the record is one candidate, deleted once, with one delete entry,
// also when the run is killed after the delete and the next run reconciles.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "e2e/e2e_util.h"
#include "purge/ledger_outcomes.h"
#include "purge/purge_fixture.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;
using e2e::WriteFile;

// plan --out, then every record line written twice in a row.
std::filesystem::path PlanWithEveryRecordTwice(const TempDir& dir) {
  const auto file = dir / "plan.jsonl";
  RunResult plan = RunWith(dir / "retention.toml", {"plan", "--out", file.string()});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);
  std::ifstream in(file);
  std::string line, text;
  for (bool header = true; std::getline(in, line); header = false) {
    text += line + "\n";
    if (!header) text += line + "\n";
  }
  in.close();
  WriteFile(file, text);
  return file;
}

std::multiset<std::string> Deletes(const TempDir& dir) { return ReadLedgerOutcomes(dir / "state.db").deleted; }

TEST_CASE("a record a saved plan lists twice has one delete entry, killed after the delete or not",
          "[purge][crash][e2e]") {
  for (bool killed : {false, true}) {
    DYNAMIC_SECTION((killed ? "killed after the delete" : "not killed")) {
      TempDir dir;
      WriteFiveEventsFixture(dir);
      const auto plan = PlanWithEveryRecordTwice(dir);
      if (killed) {
        ::setenv("RETENTION_FAULT", "after_delete:1", 1);
        RunResult purge = RunWith(dir / "retention.toml", {"purge", "--plan", plan.string()});
        ::unsetenv("RETENTION_FAULT");
        INFO(Describe(purge));
        REQUIRE(purge.exit_code == 128 + SIGKILL);
      }
      // After the kill, the next run reconciles (and finds nothing left to do).
      const std::vector<std::string> args =
          killed ? std::vector<std::string>{"purge"} : std::vector<std::string>{"purge", "--plan", plan.string()};
      RunResult purge = RunWith(dir / "retention.toml", args);
      INFO(Describe(purge));
      REQUIRE(purge.exit_code == 0);

      Db db(dir / "app.db", true);
      CHECK(db.Column("SELECT id FROM events ORDER BY id") == std::vector<std::string>{"5"});
      CHECK(Deletes(dir) == std::multiset<std::string>{"1", "2", "3", "4"});
      // Listed twice is no reason to keep: nothing was kept.
      CHECK(ReadLedgerOutcomes(dir / "state.db").kept.empty());
      if (!killed) CHECK(purge.out.find("kept") == std::string::npos);
      RunResult verify = RunWith(dir / "retention.toml", {"audit", "verify"});
      CHECK(verify.exit_code == 0);
    }
  }
}

}  // namespace
}  // namespace retention
