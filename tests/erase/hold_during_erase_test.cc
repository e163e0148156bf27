// SPEC 4, for an erasure: a hold is effective from the moment `hold add`
// returns, also while `erase` runs. On the built binary: an erasure of one
// subject works through many small batches; once the ledger shows it
// deleting, a hold is placed over records it has not reached yet; every
// covered record that still existed when `hold add` returned must survive.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

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

constexpr int kRows = 4000;

pid_t SpawnErase(const std::filesystem::path& config) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(e2e::kBinary, e2e::kBinary, "--config", config.c_str(), "erase", "--subject", "customer:1",
            "--request", "DSR-H", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_CASE("a hold placed while an erase runs protects what it covers from that moment", "[erase][holds][e2e]") {
  TempDir dir;
  {
    Db db(dir / "app.db");
    db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER, subj INTEGER);"
            "CREATE INDEX events_at ON events(at);");
    std::string sql = "BEGIN;";
    // Row i is i hours after 2020-01-01: the erase deletes in id order.
    for (int i = 1; i <= kRows; ++i)
      sql += "INSERT INTO events VALUES (" + std::to_string(i) + ", " + std::to_string(1577836800 + 3600 * i) + ", 1);";
    db.Exec(sql + "COMMIT;");
  }
  WriteFile(dir / "rules" / "events.toml", R"(
[events]
delete_after = "30 days"
[[events.target]]
store = "app"
table = "events"
clock = { column = "at", encoding = "unix_seconds" }
subject = { kind = "customer", column = "subj" }
)");
  WritePurgeTestConfig(dir, 5);

  const pid_t erase = SpawnErase(dir / "retention.toml");
  // Wait until the erase is deleting (found through the ledger).
  for (int i = 0; i < 20000; ++i) {
    if (std::filesystem::exists(dir / "state.db")) {
      try {
        Db state(dir / "state.db", true);
        // A settled batch: one carried in a later entry's "settles".
        if (state.Int("SELECT count(*) FROM ledger WHERE detail LIKE '%\"settles\"%'") > 0) break;
      } catch (const std::exception&) {
        // The schema may not exist yet.
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The hold covers the younger half of the table: clocks from row 2000 on.
  RunResult hold = RunWith(dir / "retention.toml",
                           {"hold", "add", "--matter", "M-7", "--reason", "litigation", "--by", "test", "--from",
                            "2020-03-24T08:00:00Z"});  // 1577836800 + 3600 * 2000
  INFO(Describe(hold));
  REQUIRE(hold.exit_code == 0);
  std::set<std::string> covered_at_return;
  {
    Db db(dir / "app.db", true);
    for (const auto& id : db.Column("SELECT id FROM events WHERE id >= 2000")) covered_at_return.insert(id);
  }
  const int erase_exit = Wait(erase);
  REQUIRE(erase_exit == 0);

  // The erase was still running when the hold was placed, or the test
  // proves nothing: it had not reached the covered rows yet.
  REQUIRE(covered_at_return.size() > 100);
  Db db(dir / "app.db", true);
  std::set<std::string> remaining;
  for (const auto& id : db.Column("SELECT id FROM events")) remaining.insert(id);
  for (const auto& id : covered_at_return) REQUIRE(remaining.count(id) == 1);
  // Everything the hold does not cover went.
  CHECK(db.Int("SELECT count(*) FROM events WHERE id < 2000") == 0);
  const LedgerOutcomes ledger = ReadLedgerOutcomes(dir / "state.db");
  int64_t young_deleted = 0;
  for (const std::string& key : ledger.deleted)
    if (std::stoll(key) >= 2000) ++young_deleted;
  CHECK(young_deleted == static_cast<int64_t>(kRows - 2000 + 1 - covered_at_return.size()));
}

}  // namespace
}  // namespace retention
