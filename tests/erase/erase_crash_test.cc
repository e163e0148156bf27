// Crash safety of an erasure (SPEC 6.2), on the built binary: `erase`
// killed with SIGKILL at each step of the batch protocol (RETENTION_FAULT),
// then run again under the same request, leaves an exact ledger: judged by
// the independent checker against snapshots taken before the first run.
#include <catch2/catch.hpp>

#include <set>

#include "e2e/e2e_util.h"
#include "purge/events_checker.h"
#include "purge/purge_fixture.h"
#include "support/ledger_checker.h"

namespace retention {
namespace {

using e2e::Db;
using e2e::Describe;
using e2e::RunResult;
using e2e::RunWith;
using e2e::TempDir;

RunResult EraseWithFault(const TempDir& dir, const std::string& fault) {
  if (!fault.empty()) ::setenv("RETENTION_FAULT", fault.c_str(), 1);
  RunResult r = RunWith(dir / "retention.toml", {"erase", "--subject", "customer:1", "--request", "DSR-C"});
  ::unsetenv("RETENTION_FAULT");
  return r;
}

TEST_CASE("an erase killed at any step of the batch protocol leaves an exact ledger", "[erase][crash][e2e]") {
  for (const char* point : {"after_intent", "after_delete", "after_sync", "after_settle"}) {
    for (int nth : {1, 2}) {
      DYNAMIC_SECTION(point << " #" << nth) {
        TempDir dir;
        WriteDueEventsFixture(dir);  // 60 events, customer = id % 5; batches of 7
        const checker::Snapshot before = checker::TakeSnapshot(EventsSpec(dir / "app.db"), dir / "state.db");
        RunResult killed = EraseWithFault(dir, std::string(point) + ":" + std::to_string(nth));
        INFO(Describe(killed));
        if (killed.exit_code == 0) {
          // after_settle fires only on an intent carrying settlements, and
          // after_intent #2 needs a second batch: timing decides; a run not
          // killed must at least be exact.
          CHECK((std::string(point) == "after_settle" || nth > 1));
        } else {
          REQUIRE(killed.exit_code == 128 + SIGKILL);
          RunResult next = EraseWithFault(dir, "");
          INFO(Describe(next));
          REQUIRE(next.exit_code == 0);
          Db state(dir / "state.db", true);
          CHECK(state.Int("SELECT count(*) FROM runs WHERE outcome = 'crashed'") == 1);
          CHECK(state.Int("SELECT count(*) FROM ledger WHERE kind = 'erase'") == 2);
        }
        // Every event of customer 1 is gone, every other one stays, and the
        // ledger names each deletion once, in a batch naming the request.
        std::set<std::string> expected_left;
        for (int i = 1; i <= kDueEventRows; ++i)
          if (i % 5 != 1) expected_left.insert(std::to_string(i));
        CHECK(EventIds(dir) == expected_left);
        const checker::Snapshot after = checker::TakeSnapshot(EventsSpec(dir / "app.db"), dir / "state.db");
        const auto problems = checker::Check(before, after, dir / "state.db");
        INFO(checker::Report(problems));
        CHECK(problems.empty());
        std::vector<std::string> more;
        const checker::State st = checker::ReadState(dir / "state.db");
        std::multiset<std::string> keys;
        for (const checker::Entry& e : checker::BatchDeletes(st, &more)) {
          keys.insert(e.record_key);
          CHECK(e.request == "DSR-C");
        }
        CHECK(more.empty());
        CHECK(keys.size() == kDueEventRows / 5);
        CHECK(std::set<std::string>(keys.begin(), keys.end()).size() == keys.size());
        {
          Db state(dir / "state.db", true);
          CHECK(state.Column("SELECT outcome FROM erasure_requests WHERE reference = 'DSR-C'") ==
                std::vector<std::string>{"done"});
        }
        RunResult verify = RunWith(dir / "retention.toml", {"audit", "verify"});
        INFO(Describe(verify));
        CHECK(verify.exit_code == 0);
      }
    }
  }
}

}  // namespace
}  // namespace retention
