// Reconciliation judges identity, not the key alone (SPEC 6.2, issue 11
// item 5): a purge killed between the target's delete and the settle, then
// the application reusing the deleted keys (rows inserted with explicit
// rowids, a rotated log re-created under its name). The next run must write
// a `delete` entry for every selected record that went, and none for a
// record still there.
#include <catch2/catch.hpp>

#include <sys/time.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

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

// ---- an independent check of records against the ledger -----------------

// A record by its identity as the ledger names it: key and clock.
using Identity = std::pair<std::string, std::string>;

// Every record present before and no longer there with the same identity
// has exactly one `delete` entry naming it; no `delete` entry names a
// record still there.
void CheckLedgerAccountsFor(const std::set<Identity>& before, const std::set<Identity>& now,
                            const std::multiset<Identity>& deletes) {
  for (const Identity& r : before) {
    INFO("record " << r.first << " clock " << r.second);
    CHECK(deletes.count(r) == (now.count(r) ? 0u : 1u));
  }
  for (const Identity& d : deletes) {
    INFO("delete entry for " << d.first << " clock " << d.second);
    CHECK(now.count(d) == 0);
  }
}

// Every deletion the ledger claims: a batch entry's candidate its
// settlement does not keep (or an old per-record delete entry).
std::multiset<Identity> LedgerDeletes(const TempDir& dir) { return ReadLedgerOutcomes(dir / "state.db").deleted_clocks; }

// Keys a reconciliation found gone with another record under them
// (reconciled settlements' "replaced"; only reconciliation writes it).
std::set<std::string> ReplacedKeys(const TempDir& dir) { return ReadLedgerOutcomes(dir / "state.db").replaced; }

// ---- SQLite --------------------------------------------------------------

constexpr int kRows = kDueEventRows;  // batches of 7

void MakeSqliteFixture(const TempDir& dir) { WriteDueEventsFixture(dir); }

std::set<Identity> Rows(const TempDir& dir) {
  Db db(dir / "app.db", true);
  std::set<Identity> out;
  for (const auto& row : db.Query("SELECT id, at FROM events")) out.insert({*row[0], *row[1]});
  return out;
}

std::set<std::string> Keys(const std::set<Identity>& records) {
  std::set<std::string> out;
  for (const auto& r : records) out.insert(r.first);
  return out;
}

// Killed after the first batch's DELETE committed, before its ledger
// entries: returns the identities of the rows that batch deleted.
std::set<Identity> CrashAfterFirstSqliteDelete(const TempDir& dir) {
  const std::set<Identity> before = Rows(dir);
  RunResult killed = PurgeWithFault(dir, "after_delete:1");
  INFO(Describe(killed));
  REQUIRE(killed.exit_code == 128 + SIGKILL);
  const std::set<Identity> after = Rows(dir);
  std::set<Identity> gone;
  for (const auto& r : before)
    if (!after.count(r)) gone.insert(r);
  REQUIRE(gone.size() == 7);
  REQUIRE(LedgerDeletes(dir).empty());
  return gone;
}

TEST_CASE("reconciliation writes delete entries for rows whose rowids were reused after a crash",
          "[purge][crash][reconcile][e2e]") {
  TempDir dir;
  MakeSqliteFixture(dir);
  const std::set<Identity> before = Rows(dir);
  const std::set<Identity> gone = CrashAfterFirstSqliteDelete(dir);

  // The application inserts rows that take the deleted rowids again: four
  // young ones (not due), three old ones (due under their own clock), all
  // with the subject the old row had, so that only the clock tells them
  // apart.
  std::set<Identity> reused;
  {
    Db db(dir / "app.db");
    int n = 0;
    for (const auto& [id, at] : gone) {
      const std::string clock = n++ < 4 ? "2099-01-01 00:00:00" : "2019-06-0" + std::to_string(n) + " 00:00:00";
      db.Exec("INSERT INTO events(id, at, who) VALUES (" + id + ", '" + clock + "', " +
              std::to_string(std::stoi(id) % 5) + ")");
      reused.insert({id, clock});
    }
  }
  std::set<Identity> all = before;
  all.insert(reused.begin(), reused.end());

  RunResult next = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(next));
  REQUIRE(next.exit_code == 0);

  // Left: the four young rows. Every other record, the seven the crashed
  // batch deleted included, has its one entry.
  const std::set<Identity> now = Rows(dir);
  CHECK(now.size() == 4);
  for (const auto& r : now) CHECK(r.second == "2099-01-01 00:00:00");
  const auto deletes = LedgerDeletes(dir);
  CheckLedgerAccountsFor(all, now, deletes);
  CHECK(deletes.size() == static_cast<size_t>(kRows) + 3);
  CHECK(ReplacedKeys(dir) == Keys(gone));

  Db state(dir / "state.db", true);
  CHECK(state.Int("SELECT count(*) FROM pending") == 0);
  auto summary = nlohmann::json::parse(state.Column("SELECT detail FROM ledger WHERE kind = 'reconciled' ORDER BY seq").at(0));
  CHECK(summary["found_deleted"] == 7);
  CHECK(summary["found_replaced"] == 7);
  CHECK(summary["found_present"] == 0);
  REQUIRE(RunWith(dir / "retention.toml", {"audit", "verify"}).exit_code == 0);
}

TEST_CASE("reconciliation writes no entry for a row the crashed batch left", "[purge][crash][reconcile][e2e]") {
  // Killed after the batch was recorded, before the delete: every row is
  // still there as selected. Nothing may be claimed deleted.
  TempDir dir;
  MakeSqliteFixture(dir);
  RunResult killed = PurgeWithFault(dir, "after_intent:1");
  REQUIRE(killed.exit_code == 128 + SIGKILL);
  REQUIRE(Rows(dir).size() == static_cast<size_t>(kRows));
  RunResult hold = RunWith(dir / "retention.toml",
                           {"hold", "add", "--freeze-all", "--matter", "M-1", "--reason", "audit", "--by", "test"});
  REQUIRE(hold.exit_code == 0);
  RunResult next = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(next));
  REQUIRE(next.exit_code == 0);
  CHECK(Rows(dir).size() == static_cast<size_t>(kRows));
  CHECK(LedgerDeletes(dir).empty());
  Db state(dir / "state.db", true);
  auto summary = nlohmann::json::parse(state.Column("SELECT detail FROM ledger WHERE kind = 'reconciled' ORDER BY seq").at(0));
  CHECK(summary["found_present"] == 7);
  CHECK(summary["found_deleted"] == 0);
}

// ---- files ---------------------------------------------------------------

constexpr int kFiles = 40;  // all older than 90 days; batches of 6

void SetMtime(const std::filesystem::path& p, time_t when) {
  struct timeval times[2] = {{when, 0}, {when, 0}};
  REQUIRE(::utimes(p.c_str(), times) == 0);
}

void MakeFilesFixture(const TempDir& dir) {
  const time_t old = ::time(nullptr) - 200 * 86400;
  for (int i = 0; i < kFiles; ++i) {
    auto p = dir / "logs" / ("app.log-" + std::to_string(1000 + i) + ".gz");
    WriteFile(p, "line\n");
    SetMtime(p, old + i * 3600);
  }
  WriteFile(dir / "rules" / "logs.toml", R"(
[logs]
delete_after = "90 days"
[[logs.target]]
name = "rotated"
store = "logs"
paths = ["app.log-*"]
clock = { mtime = true }
)");
  WritePurgeTestConfig(dir, 6, "files");
}

std::set<std::string> Files(const TempDir& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir / "logs")) out.insert(e.path().filename().string());
  return out;
}

TEST_CASE("reconciliation writes delete entries for files re-created under their names after a crash",
          "[files][crash][reconcile][e2e]") {
  TempDir dir;
  MakeFilesFixture(dir);
  const std::set<std::string> before = Files(dir);
  RunResult killed = PurgeWithFault(dir, "after_delete:1");
  INFO(Describe(killed));
  REQUIRE(killed.exit_code == 128 + SIGKILL);
  std::set<std::string> gone;
  for (const auto& f : before)
    if (!Files(dir).count(f)) gone.insert(f);
  REQUIRE(gone.size() == 6);

  // Rotation writes new files under the same names: some young, some old
  // enough to be due themselves (another mtime than the file selected).
  const time_t older = ::time(nullptr) - 300 * 86400;
  int n = 0;
  for (const auto& f : gone) {
    WriteFile(dir / "logs" / f, "new content\n");
    if (n++ % 2 == 1) SetMtime(dir / "logs" / f, older);
  }

  RunResult next = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(next));
  REQUIRE(next.exit_code == 0);

  // The young re-created files stay; every file selected before the crash,
  // and the old re-created ones, have their entries.
  const std::set<std::string> now = Files(dir);
  CHECK(now.size() == 3);
  for (const auto& f : now) CHECK(gone.count(f) == 1);
  Db state(dir / "state.db", true);
  std::map<std::string, int> per_key;
  for (const auto& k : ReadLedgerOutcomes(dir / "state.db").deleted) ++per_key[k];
  for (const auto& f : before) {
    INFO(f);
    const int expected = gone.count(f) ? (now.count(f) ? 1 : 2) : 1;
    CHECK(per_key[f] == expected);
  }
  CHECK(ReplacedKeys(dir) == gone);
  REQUIRE(RunWith(dir / "retention.toml", {"audit", "verify"}).exit_code == 0);
}

TEST_CASE("reconciliation that cannot see a selected file stops the run, deleting nothing", "[files][crash][reconcile][e2e]") {
  TempDir dir;
  const time_t old = ::time(nullptr) - 200 * 86400;
  for (int i = 0; i < 12; ++i) {
    auto p = dir / "logs" / "sub" / ("app.log-" + std::to_string(1000 + i) + ".gz");
    WriteFile(p, "line\n");
    SetMtime(p, old + i * 3600);
  }
  WriteFile(dir / "rules" / "logs.toml", R"(
[logs]
delete_after = "90 days"
[[logs.target]]
name = "rotated"
store = "logs"
paths = ["sub/app.log-*"]
clock = { mtime = true }
)");
  WritePurgeTestConfig(dir, 6, "files");
  RunResult killed = PurgeWithFault(dir, "after_delete:1");
  REQUIRE(killed.exit_code == 128 + SIGKILL);

  // The directory of the crashed batch's files is now a symbolic link to a
  // copy: from the root, whether they are gone cannot be seen.
  std::filesystem::rename(dir / "logs" / "sub", dir / "elsewhere");
  std::filesystem::create_directory_symlink(dir / "elsewhere", dir / "logs" / "sub");
  RunResult next = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(next));
  CHECK(next.exit_code == 69);
  CHECK(next.err.find("cannot tell whether sub/app.log-") != std::string::npos);
  CHECK(std::distance(std::filesystem::directory_iterator(dir / "elsewhere"), {}) == 6);
  Db state(dir / "state.db", true);
  CHECK_FALSE(ReadLedgerOutcomes(dir / "state.db").open.empty());
  CHECK(ReadLedgerOutcomes(dir / "state.db").deleted.empty());

  // Put back, the next run settles the batch.
  std::filesystem::remove(dir / "logs" / "sub");
  std::filesystem::rename(dir / "elsewhere", dir / "logs" / "sub");
  RunResult fixed = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(fixed));
  REQUIRE(fixed.exit_code == 0);
  CHECK(ReadLedgerOutcomes(dir / "state.db").deleted.size() == 12);
  CHECK(ReadLedgerOutcomes(dir / "state.db").open.empty());
}

// ---- a batch left pending by a schema version 2 run ------------------------

// Turns the state database back into what version 2 wrote: no identity
// column, schema_version 2.
void DowngradeStateToV2(const TempDir& dir) {
  Db state(dir / "state.db");
  state.Exec("ALTER TABLE pending_records DROP COLUMN identity;"
             "UPDATE meta SET value = '2' WHERE key = 'schema_version';");
}

TEST_CASE("a batch left pending by a version 2 run is reconciled on key and clock after the upgrade",
          "[purge][crash][reconcile][state][e2e]") {
  TempDir dir;
  MakeSqliteFixture(dir);
  const std::set<Identity> before = Rows(dir);
  const std::set<Identity> gone = CrashAfterFirstSqliteDelete(dir);
  DowngradeStateToV2(dir);
  std::set<Identity> reused;
  {
    Db db(dir / "app.db");
    for (const auto& [id, at] : gone) {
      db.Exec("INSERT INTO events(id, at, who) VALUES (" + id + ", '2099-01-01 00:00:00', 0)");
      reused.insert({id, "2099-01-01 00:00:00"});
    }
  }

  // Read-only commands read the version 2 database as it is.
  RunResult status = RunWith(dir / "retention.toml", {"audit", "verify"});
  INFO(Describe(status));
  CHECK(status.exit_code == 0);
  {
    Db state(dir / "state.db", true);
    CHECK(state.Column("SELECT value FROM meta WHERE key = 'schema_version'") == std::vector<std::string>{"2"});
  }

  RunResult next = RunWith(dir / "retention.toml", {"purge"});
  INFO(Describe(next));
  REQUIRE(next.exit_code == 0);
  Db state(dir / "state.db", true);
  CHECK(state.Column("SELECT value FROM meta WHERE key = 'schema_version'") == std::vector<std::string>{"8"});
  const std::set<Identity> now = Rows(dir);
  CHECK(now == reused);
  std::set<Identity> all = before;
  all.insert(reused.begin(), reused.end());
  CheckLedgerAccountsFor(all, now, LedgerDeletes(dir));
  CHECK(ReplacedKeys(dir) == Keys(gone));
}

}  // namespace
}  // namespace retention
