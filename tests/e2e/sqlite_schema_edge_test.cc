// SQLite schemas that are legal but unusual must not widen what a purge
// deletes (SPEC 6.1): a column named "rowid" shadows the rowid in SQL, so a
// DELETE that names rows by "rowid" took every row sharing that column's
// value -- records not due and records under a hold -- and wrote ledger
// entries for them as if they had been due.
#include <catch2/catch.hpp>

#include <set>

#include "e2e/e2e_util.h"

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


std::set<std::string> AsSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

TEST_CASE("a column named rowid never makes a purge delete rows that share its value", "[e2e][sqlite]") {
  TempDir dir;
  {
    Db app(dir / "app.db");
    // Rows 1 and 2 share rowid-column 7, rows 3 and 4 share 8. Row 2 is not
    // due; row 4 is due but held.
    app.Exec("CREATE TABLE ev (id INTEGER PRIMARY KEY, rowid INTEGER, at TEXT);"
             "CREATE INDEX ev_at ON ev(at);"
             "INSERT INTO ev VALUES (1, 7, '2020-01-01'), (2, 7, '" + e2e::FormatUtc(e2e::NowUnixSeconds() - 86400) +
             "'), (3, 8, '2020-01-02'), (4, 8, '2020-01-03');");
  }
  WriteFile(dir / "rules" / "ev.toml", R"(
[events]
delete_after = "90 days"
[[events.target]]
store = "app"
table = "ev"
key = "id"
clock = { column = "at", encoding = "text" }
)");
  const fs::path config = dir / "retention.toml";
  WriteFile(config,
            "rules = \"rules\"\nstate = \"state.db\"\n[limits]\nmax_delete_fraction = 1.0\n"
            "[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n");
  e2e::InitState(config);
  RunResult hold = RunWith(config, {"hold", "add", "--matter", "M-1", "--reason", "litigation", "--by", "legal",
                                    "--target", "ev", "--key", "4"});
  INFO(Describe(hold));
  REQUIRE(hold.exit_code == 0);

  RunResult plan = RunWith(config, {"plan", "--format", "json"});
  INFO(Describe(plan));
  REQUIRE(plan.exit_code == 0);

  RunResult purge = RunWith(config, {"purge"});
  INFO(Describe(purge));
  REQUIRE(purge.exit_code == 0);

  Db app(dir / "app.db", true);
  CHECK(AsSet(app.Column("SELECT id FROM ev")) == std::set<std::string>{"2", "4"});
  const std::vector<std::string> deleted = DeletedKeys(dir / "state.db");
  CHECK(deleted.size() == 2);
  CHECK(AsSet(deleted) == std::set<std::string>{"1", "3"});
  RunResult verify = RunWith(config, {"audit", "verify"});
  INFO(Describe(verify));
  CHECK(verify.exit_code == 0);
}

}  // namespace
}  // namespace retention
