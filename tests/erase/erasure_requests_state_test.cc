// Schema version 5: erasure requests in the state database (state_db.h):
// written with the run's end, read back whole; a version 4 database reads
// as having none, and is upgraded in place when opened for writing.
#include <catch2/catch.hpp>

#include "state/sqlite_state_db.h"
#include "state/state_ops.h"
#include "state/state_test_support.h"
#include "state/test_util.h"

namespace retention {
namespace {

using testing::RawDb;
using testing::TempDir;

ErasureRequest Request(const std::string& ref, const std::string& outcome) {
  ErasureRequest r;
  r.reference = ref;
  r.subject = "customer:42";
  r.received = FromUnixMicros(1764460800000000);
  r.deadline = FromUnixMicros(1767052800000000);
  r.outcome = outcome;
  return r;
}

TEST_CASE("an erasure request is written with its run's end and read back whole", "[erase][state]") {
  TempDir dir;
  auto db = OpenOrCreateStateDb(dir / "state.db", false);
  REQUIRE(db.ok());
  RunInfo run;
  run.command = "erase";
  auto id = BeginRun(**db, run);
  REQUIRE(id.ok());
  ErasureRequest r = Request("DSR-1", "partial");
  r.executed = FromUnixMicros(1764460900000000);
  r.erased = 12;
  r.kept = 3;
  r.last_run_id = *id;
  REQUIRE(EndRun(**db, *id, "ok", 0, "", {}, &r).ok());
  auto got = (*db)->GetErasureRequest("DSR-1");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->subject == "customer:42");
  CHECK((*got)->received == r.received);
  CHECK((*got)->deadline == r.deadline);
  CHECK((*got)->executed == r.executed);
  CHECK((*got)->outcome == "partial");
  CHECK((*got)->erased == 12);
  CHECK((*got)->kept == 3);
  CHECK((*got)->last_run_id == *id);
  CHECK_FALSE((*db)->GetErasureRequest("DSR-2")->has_value());
  // A run end that fails writes no request: the row commits with it.
  ErasureRequest other = Request("DSR-2", "done");
  CHECK_FALSE(EndRun(**db, *id, "ok", 0, "", {}, &other).ok());  // the run has ended
  CHECK_FALSE((*db)->GetErasureRequest("DSR-2")->has_value());
  CHECK((*db)->ListErasureRequests()->size() == 1);
}

TEST_CASE("a version 4 state database has no requests read-only, and is upgraded to version 5", "[erase][state]") {
  TempDir dir;
  const auto path = dir / "state.db";
  { REQUIRE(OpenOrCreateStateDb(path, false).ok()); }
  {
    RawDb raw(path);
    REQUIRE(raw.Exec("DROP TABLE erasure_requests; UPDATE meta SET value = '4' WHERE key = 'schema_version';") == "");
  }
  {
    auto ro = OpenOrCreateStateDb(path, true);
    REQUIRE(ro.ok());
    auto list = (*ro)->ListErasureRequests();
    REQUIRE(list.ok());
    CHECK(list->empty());
  }
  {
    auto rw = OpenOrCreateStateDb(path, false);
    REQUIRE(rw.ok());
    RawDb raw(path);
    CHECK(raw.Query("SELECT value FROM meta WHERE key = 'schema_version'") == std::to_string(kStateSchemaVersion));
    CHECK(raw.Query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'erasure_requests'") == "1");
    CHECK((*rw)->ListErasureRequests()->empty());
  }
}

}  // namespace
}  // namespace retention
