// The test harness's PostgreSQL server itself: the [postgres] tests stand on
// it, so a harness that silently reached no server (or the machine's own
// cluster) would make them prove nothing.
#include "support/pg_cluster.h"

#include <catch2/catch.hpp>

namespace retention::pgtest {

TEST_CASE("The test cluster is a PostgreSQL 15 server of the run's own, and each test gets an empty database",
          "[postgres]") {
  PgTestDatabase db;
  PgConnection conn = db.Connect();
  CHECK(conn.Scalar("SELECT current_setting('server_version_num')::int / 10000") == "15");
  // A socket under /tmp/retention-pg-*, never the machine's /var/run/postgresql.
  CHECK(conn.Scalar("SELECT current_setting('unix_socket_directories')").rfind("/tmp/retention-pg-", 0) == 0);
  CHECK(conn.Scalar("SELECT current_database()") == db.name());
  CHECK(conn.Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0");
  CHECK(conn.Scalar("SHOW fsync") == "on");

  // A second database of the same run is another, empty one.
  conn.Exec("CREATE TABLE t (id int primary key)");
  PgTestDatabase other;
  CHECK(other.name() != db.name());
  CHECK(other.Connect().Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0");
}

TEST_CASE("A private cluster can be stopped and started again with its data", "[postgres]") {
  PgCluster cluster;
  {
    PgTestDatabase db(cluster);
    db.Connect().Exec("CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)");
    cluster.Stop();
    CHECK_THROWS_WITH(db.Connect(), Catch::Contains("cannot connect"));
    cluster.Start();
    CHECK(db.Connect().Scalar("SELECT v FROM kept") == "7");
  }
}

}  // namespace retention::pgtest
