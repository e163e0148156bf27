// The postgres store's connection: secrets never leave it, an unreachable
// server is Unavailable naming the store, and identifiers are quoted.
#include "stores/postgres_connection.h"

#include <stdlib.h>

#include <catch2/catch.hpp>

#include "support/pg_cluster.h"

namespace retention {
namespace {

StoreConfig EnvStore(const std::string& variable) {
  StoreConfig c;
  c.name = "app";
  c.type = StoreType::kPostgres;
  c.conninfo_env = variable;
  return c;
}

}  // namespace

TEST_CASE("MaskConninfoSecrets hides every password form libpq accepts", "[postgres-connection]") {
  CHECK(MaskConninfoSecrets("host=db password=s3cret dbname=app") == "host=db password=**** dbname=app");
  CHECK(MaskConninfoSecrets("host=db password = 's3 cr\\'et' dbname=app") == "host=db password = **** dbname=app");
  CHECK(MaskConninfoSecrets("postgresql://alice:s3cret@db.example/app?sslmode=require") ==
        "postgresql://alice:****@db.example/app?sslmode=require");
  CHECK(MaskConninfoSecrets("postgres://alice@db/app?password=s3cret&sslmode=require") ==
        "postgres://alice@db/app?password=****&sslmode=require");
  CHECK(MaskConninfoSecrets("host=db user=bob") == "host=db user=bob");
  // A word that merely contains "password" is not a keyword.
  CHECK(MaskConninfoSecrets("no_password_here=1 passwordless") == "no_password_here=1 passwordless");
}

TEST_CASE("QuotePgIdent always quotes and doubles embedded quotes", "[postgres-connection]") {
  CHECK(QuotePgIdent("orders") == "\"orders\"");
  CHECK(QuotePgIdent("a\"b; DROP TABLE x") == "\"a\"\"b; DROP TABLE x\"");
}

TEST_CASE("A postgres store whose variable is unset or whose server is down is Unavailable, naming the "
          "store and never the password",
          "[postgres-connection]") {
  ::unsetenv("RETENTION_TEST_UNSET_URL");
  auto unset = PgConnection::Open(EnvStore("RETENTION_TEST_UNSET_URL"));
  REQUIRE_FALSE(unset.ok());
  CHECK(unset.status().code() == StatusCode::kUnavailable);
  CHECK(unset.status().message() ==
        "store 'app': environment variable RETENTION_TEST_UNSET_URL is not set (it should hold the libpq "
        "conninfo or URI of the database)");

  ::setenv("RETENTION_TEST_DOWN_URL", "postgresql://alice:hunter2@/app?host=/nonexistent-dir&connect_timeout=2", 1);
  auto down = PgConnection::Open(EnvStore("RETENTION_TEST_DOWN_URL"));
  ::unsetenv("RETENTION_TEST_DOWN_URL");
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(down.status().message(), Catch::StartsWith("store 'app': cannot connect to PostgreSQL: "));
  CHECK_THAT(down.status().message(), !Catch::Contains("hunter2"));
}

TEST_CASE("A postgres connection names itself retention, binds values and reports SQLSTATEs", "[postgres]") {
  pgtest::PgTestDatabase db;
  ::setenv("RETENTION_TEST_APP_URL", db.Uri().c_str(), 1);
  auto conn = PgConnection::Open(EnvStore("RETENTION_TEST_APP_URL"));
  ::unsetenv("RETENTION_TEST_APP_URL");
  REQUIRE(conn.ok());
  auto name = (*conn)->Exec("SELECT current_setting('application_name')");
  REQUIRE(name.ok());
  CHECK(name->Text(0, 0) == "retention");

  REQUIRE((*conn)->Exec("CREATE TABLE \"we\"\"ird\" (v text)").ok());
  const std::string hostile = "x'); DROP TABLE \"we\"\"ird\"; --";
  REQUIRE((*conn)->ExecParams("INSERT INTO " + QuotePgIdent("we\"ird") + " VALUES ($1), ($2)", {hostile, std::nullopt})
              .ok());
  auto rows = (*conn)->Exec("SELECT v, v IS NULL FROM \"we\"\"ird\" ORDER BY v NULLS LAST");
  REQUIRE(rows.ok());
  REQUIRE(rows->rows() == 2);
  CHECK(rows->Text(0, 0) == hostile);
  CHECK(rows->IsNull(1, 0));

  auto bad = (*conn)->Exec("SELECT * FROM no_such_table");
  REQUIRE_FALSE(bad.ok());
  CHECK((*conn)->last_sqlstate() == "42P01");
  CHECK_THAT(bad.status().message(), Catch::StartsWith("store 'app': ERROR:  relation \"no_such_table\""));
  CHECK((*conn)->healthy());
}

}  // namespace retention
