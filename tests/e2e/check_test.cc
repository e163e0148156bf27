// End-to-end: `retention check` (SPEC 5) against a database built here, and
// against the demo with the shipped rules. Check reads; it changes nothing
// (SPEC 6.11), and bad rules are errors naming FILE:LINE:COL (SPEC 6.12).
#include <regex>

#include <catch2/catch.hpp>

#include "e2e/e2e_util.h"

namespace retention::e2e {
namespace {

// An application database with the shapes rules meet in the wild.
void BuildFixtureDb(const fs::path& path) {
  Db db(path);
  db.Exec(R"sql(
    CREATE TABLE events_indexed(id INTEGER PRIMARY KEY, path TEXT, created_at TEXT);
    CREATE INDEX events_indexed_created_at ON events_indexed(created_at);
    CREATE TABLE events_plain(id INTEGER PRIMARY KEY, path TEXT, created_at TEXT);
    CREATE TABLE unix_events(id INTEGER PRIMARY KEY, action TEXT, occurred_at INTEGER);
    CREATE INDEX unix_events_occurred_at ON unix_events(occurred_at);
    CREATE TABLE accounts(id INTEGER PRIMARY KEY, status TEXT, closed_at TEXT);
    CREATE INDEX accounts_closed_at ON accounts(closed_at);
    CREATE TABLE customers(id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, name TEXT);
    CREATE INDEX customers_account_id ON customers(account_id);
    CREATE TABLE y(id INTEGER PRIMARY KEY, v TEXT);
    INSERT INTO y(v) VALUES ('must survive');
  )sql");
  const int64_t now = NowUnixSeconds();
  db.Exec("BEGIN");
  for (int i = 0; i < 200; ++i) {
    const int64_t t = now - int64_t{i} * 86400 * 3;  // one every 3 days, 600 days back
    const std::string text = FormatUtc(t);
    db.Query("INSERT INTO events_indexed(path, created_at) VALUES ('/a', ?)", {text});
    db.Query("INSERT INTO events_plain(path, created_at) VALUES ('/b', ?)", {text});
    db.Query("INSERT INTO unix_events(action, occurred_at) VALUES ('login', ?)", {std::to_string(t)});
  }
  for (int a = 1; a <= 10; ++a) {
    const bool closed = a % 3 == 0;
    db.Query("INSERT INTO accounts(id, status, closed_at) VALUES (?, ?, ?)",
             {std::to_string(a), closed ? "closed" : "active",
              closed ? FormatUtc(now - int64_t{a} * 30 * 86400) : std::string()});
    for (int c = 0; c < 5; ++c)
      db.Query("INSERT INTO customers(account_id, name) VALUES (?, 'someone')", {std::to_string(a)});
  }
  db.Exec("UPDATE accounts SET closed_at = NULL WHERE closed_at = ''");
  db.Exec("COMMIT");
}

// The rules that match the fixture. Line numbers matter to the tests below
// only through the FILE:LINE:COL pattern, not their values.
const char* const kGoodRules = R"toml(
[web_logs]
description = "Request logs"
policy = "Server logs | 30-90 days"
keep_at_least = "30 days"
delete_after = "90 days"

[[web_logs.target]]
store = "app"
table = "events_indexed"
key = "id"
clock = { column = "created_at", encoding = "text" }

[[web_logs.target]]
store = "app"
table = "events_plain"
key = "id"
clock = { column = "created_at", encoding = "text" }

[security_audit]
description = "Audit events"
policy = "Audit logs | 12 months"
delete_after = "12 months"

[[security_audit.target]]
store = "app"
table = "unix_events"
key = "id"
clock = { column = "occurred_at", encoding = "unix_seconds" }

[closed_customers]
description = "Customers of closed accounts"
policy = "Customer Data after account closure | 90 days"
delete_after = "90 days"

[[closed_customers.target]]
store = "app"
table = "customers"
key = "id"
clock = { column = "closed_at", encoding = "text", join = { table = "accounts", key = "id", on = "account_id" } }
subject = { kind = "customer", column = "id" }
)toml";

// A rule file with one target on `table` whose clock is `column` read as `encoding`.
// `name`, when given, names the target (else the table does).
std::string OneTargetRule(const std::string& table, const std::string& column, const std::string& encoding,
                          const std::string& name = "") {
  return "[odd]\n"
         "description = \"odd\"\n"
         "policy = \"odd | 90 days\"\n"
         "delete_after = \"90 days\"\n"
         "\n"
         "[[odd.target]]\n"
         + (name.empty() ? std::string() : "name = \"" + name + "\"\n") +
         "store = \"app\"\n"
         "table = '" + table + "'\n"
         "key = \"id\"\n"
         "clock = { column = \"" + column + "\", encoding = \"" + encoding + "\" }\n";
}

// A temp directory with the fixture database, a config and the good rules.
struct Fixture {
  TempDir dir;
  fs::path config = dir / "retention.toml";
  fs::path app_db = dir / "app.db";
  fs::path rules = dir / "rules";

  explicit Fixture(const std::string& store_path = "app.db") {
    BuildFixtureDb(app_db);
    WriteFile(config, "rules = \"rules\"\n"
                      "state = \"state.db\"\n"
                      "time_zone = \"UTC\"\n"
                      "\n"
                      "[stores.app]\n"
                      "type = \"sqlite\"\n"
                      "path = \"" + store_path + "\"\n");
    WriteFile(rules / "app.toml", kGoodRules);
  }
  RunResult Check() { return RunWith(config, {"check"}); }
};

// Every error line names where it comes from: FILE:LINE:COL: message.
bool HasLocatedError(const std::string& err, const std::string& file) {
  const std::regex located(std::regex_replace(file, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                           R"(:[0-9]+:[0-9]+: )");
  return std::regex_search(err, located);
}

TEST_CASE("e2e check: a good config prints the category table and exits 0", "[e2e]") {
  Fixture f;
  auto r = f.Check();
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  // Names, schedules, targets and policy lines.
  for (const char* name : {"web_logs", "security_audit", "closed_customers"}) CHECK(Contains(r.out, name));
  CHECK(Contains(r.out, "delete after 90 days"));
  CHECK(Contains(r.out, "keep at least 30 days"));
  CHECK(Contains(r.out, "delete after 12 months"));
  for (const char* target : {"app:events_indexed", "app:events_plain", "app:unix_events", "app:customers"})
    CHECK(Contains(r.out, target));
  CHECK(Contains(r.out, "Server logs | 30-90 days"));
  CHECK(Contains(r.out, "Audit logs | 12 months"));
  CHECK(Contains(r.out, "0 errors"));

  // The missing index is a warning naming the table and the column; the
  // indexed tables (also through the join) are not warned about.
  CHECK(std::regex_search(r.err, std::regex(R"(warning: .*no index on events_plain\(created_at\))")));
  CHECK_FALSE(Contains(r.err, "no index on events_indexed"));
  CHECK_FALSE(Contains(r.err, "no index on unix_events"));
  CHECK_FALSE(Contains(r.err, "no index on accounts"));
  CHECK(HasLocatedError(r.err, (f.rules / "app.toml").string()));
}

TEST_CASE("e2e check: --format json lists the categories", "[e2e]") {
  Fixture f;
  auto r = RunWith(f.config, {"check", "--format", "json"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.out, "\"web_logs\""));
  CHECK(Contains(r.out, "\"categories\""));
}

TEST_CASE("e2e check changes nothing", "[e2e]") {
  Fixture f;
  const std::string bytes_before = ReadFile(f.app_db);
  const auto mtime_before = fs::last_write_time(f.app_db);
  auto r = f.Check();
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(ReadFile(f.app_db) == bytes_before);
  CHECK(fs::last_write_time(f.app_db) == mtime_before);
  CHECK_FALSE(fs::exists(f.dir / "state.db"));
  CHECK(Db(f.app_db, true).TableExists("y"));
}

TEST_CASE("e2e check: a table name made to inject SQL is a table that does not exist", "[e2e]") {
  Fixture f;
  // Named, so that the target name (by default the table's) is not what
  // rejects it: the table itself must be looked up in the catalog.
  WriteFile(f.rules / "evil.toml", OneTargetRule("x\"; DROP TABLE y; --", "created_at", "text", "evil"));
  const std::string bytes_before = ReadFile(f.app_db);
  auto r = f.Check();
  INFO(Describe(r));
  CHECK(r.exit_code == 65);
  CHECK(HasLocatedError(r.err, (f.rules / "evil.toml").string()));
  CHECK(Contains(r.err, "DROP TABLE y"));  // names the table it could not find
  CHECK(std::regex_search(r.err, std::regex("no table|not exist|does not exist|unknown table", std::regex::icase)));
  Db db(f.app_db, true);
  CHECK(db.TableExists("y"));
  CHECK(db.Count("y") == 1);
  CHECK(ReadFile(f.app_db) == bytes_before);

  // The same through plan and purge: nothing runs, y survives. (An
  // installation has its state database: the purge gets as far as the rules.)
  InitState(f.config);
  for (const char* command : {"plan", "purge"}) {
    auto p = RunWith(f.config, {command});
    INFO(command << ": " << Describe(p));
    CHECK(p.exit_code == 65);
    CHECK(Db(f.app_db, true).TableExists("y"));
  }
  CHECK(LedgerCount(f.dir / "state.db", "delete") == 0);
}

TEST_CASE("e2e check: injection through other identifiers is rejected too", "[e2e]") {
  Fixture f;
  const std::vector<std::pair<std::string, std::string>> evil = {
      // Unnamed: the target's default name is the table's.
      {"unnamed", OneTargetRule("x\"; DROP TABLE y; --", "created_at", "text")},
      {"column", OneTargetRule("events_indexed", "created_at\"; DROP TABLE y; --", "text", "evil")},
      {"filter", OneTargetRule("events_indexed", "created_at", "text", "evil") +
                     "where = { 'path\"; DROP TABLE y; --' = \"/a\" }\n"},
      {"join", "[odd]\ndescription = \"d\"\npolicy = \"p\"\ndelete_after = \"90 days\"\n"
               "[[odd.target]]\nname = \"evil\"\nstore = \"app\"\ntable = \"customers\"\nkey = \"id\"\n"
               "clock = { column = \"closed_at\", encoding = \"text\", join = { table = 'accounts\"; DROP TABLE y; --',"
               " key = \"id\", on = \"account_id\" } }\n"},
  };
  for (const auto& [what, text] : evil) {
    WriteFile(f.rules / "evil.toml", text);
    if (!fs::exists(f.dir / "state.db")) InitState(f.config);
    for (const char* command : {"check", "plan", "purge"}) {
      auto r = RunWith(f.config, {command});
      INFO(what << " / " << command << ": " << Describe(r));
      CHECK(r.exit_code == 65);
      CHECK(HasLocatedError(r.err, (f.rules / "evil.toml").string()));
      CHECK(Db(f.app_db, true).TableExists("y"));
    }
  }
  CHECK(Db(f.app_db, true).Count("y") == 1);
  CHECK(LedgerCount(f.dir / "state.db", "delete") == 0);
}

TEST_CASE("e2e check: a column that does not exist is an error at FILE:LINE:COL", "[e2e]") {
  Fixture f;
  WriteFile(f.rules / "missing.toml", OneTargetRule("events_indexed", "no_such_column", "text"));
  auto r = f.Check();
  INFO(Describe(r));
  CHECK(r.exit_code == 65);
  CHECK(HasLocatedError(r.err, (f.rules / "missing.toml").string()));
  CHECK(Contains(r.err, "no_such_column"));
}

TEST_CASE("e2e check: a clock encoding that does not match the values is reported", "[e2e]") {
  Fixture f;
  // events_indexed.created_at holds "2026-01-02 03:04:05" text, not unix seconds.
  WriteFile(f.rules / "wrong.toml", OneTargetRule("events_indexed", "created_at", "unix_seconds"));
  auto r = f.Check();
  INFO(Describe(r));
  CHECK(r.exit_code != 0);
  CHECK(HasLocatedError(r.err, (f.rules / "wrong.toml").string()));
  CHECK(Contains(r.err, "events_indexed.created_at"));
  CHECK(Contains(r.err, "unix_seconds"));
}

TEST_CASE("e2e check and purge: a clock encoding that does not parse gates both (65), nothing deleted", "[e2e]") {
  Fixture f;
  // events_plain.created_at holds text dates; read as unix seconds none parse,
  // so every record would be "undated" and the purge a silent no-op forever.
  WriteFile(f.rules / "wrong.toml", OneTargetRule("events_plain", "created_at", "unix_seconds", "plain_unix"));
  const std::string wrong = (f.rules / "wrong.toml").string();
  Db app(f.app_db, true);
  const int64_t before_indexed = app.Count("events_indexed"), before_plain = app.Count("events_plain");

  auto check = f.Check();
  INFO(Describe(check));
  CHECK(check.exit_code == 65);
  CHECK(HasLocatedError(check.err, wrong));

  // Only the bad target, and everything: the same refusal, naming the file,
  // the line and the target, before a lock or the state database exists.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"purge", "--category", "odd"}, {"purge", "--allow-mass-delete"}}) {
    auto purge = RunWith(f.config, args);
    INFO(Describe(purge));
    CHECK(purge.exit_code == 65);
    CHECK(HasLocatedError(purge.err, wrong));
    CHECK(Contains(purge.err, "events_plain.created_at"));
    CHECK(Contains(purge.err, "unix_seconds"));
    CHECK(Contains(purge.err, "nothing was deleted"));
  }
  CHECK(app.Count("events_indexed") == before_indexed);
  CHECK(app.Count("events_plain") == before_plain);
  CHECK(!fs::exists(f.dir / "state.db"));

  // Another category is not held back by it, and once fixed it purges.
  InitState(f.config);
  auto other = RunWith(f.config, {"purge", "--category", "security_audit"});
  INFO(Describe(other));
  CHECK(other.exit_code == 0);
  WriteFile(f.rules / "wrong.toml", OneTargetRule("events_plain", "created_at", "text", "plain_unix"));
  auto fixed = RunWith(f.config, {"purge", "--category", "odd", "--allow-mass-delete"});
  INFO(Describe(fixed));
  CHECK(fixed.exit_code == 0);
  CHECK(app.Count("events_plain") < before_plain);
}

TEST_CASE("e2e check: a sqlite store whose file does not exist is unavailable (69)", "[e2e]") {
  Fixture f("no-such-dir/app.db");
  auto r = f.Check();
  INFO(Describe(r));
  CHECK(r.exit_code == 69);
  CHECK(Contains(r.err, "no-such-dir/app.db"));
  // Not created by looking for it.
  CHECK_FALSE(fs::exists(f.dir / "no-such-dir"));
  CHECK_FALSE(fs::exists(f.dir / "state.db"));
}

TEST_CASE("e2e check: a malformed rule file is an error at FILE:LINE:COL (65)", "[e2e]") {
  Fixture f;
  const std::vector<std::pair<std::string, std::string>> bad_files = {
      {"syntax.toml", "[broken]\ndelete_after = \"90 days\"\npolicy = \n"},
      {"unclosed.toml", "[broken\ndelete_after = \"90 days\"\n"},
      {"duration.toml", "[broken]\ndescription = \"d\"\npolicy = \"p\"\ndelete_after = \"90 fortnights\"\n"
                        "[[broken.target]]\nstore = \"app\"\ntable = \"events_indexed\"\nkey = \"id\"\n"
                        "clock = { column = \"created_at\", encoding = \"text\" }\n"},
      {"floor.toml", "[broken]\ndescription = \"d\"\npolicy = \"p\"\ndelete_after = \"30 days\"\n"
                     "keep_at_least = \"90 days\"\n[[broken.target]]\nstore = \"app\"\n"
                     "table = \"events_indexed\"\nkey = \"id\"\n"
                     "clock = { column = \"created_at\", encoding = \"text\" }\n"},
      {"unknown_key.toml", "[broken]\ndescription = \"d\"\npolicy = \"p\"\ndelete_after = \"30 days\"\n"
                           "delete_aftre = \"30 days\"\n[[broken.target]]\nstore = \"app\"\n"
                           "table = \"events_indexed\"\nkey = \"id\"\n"
                           "clock = { column = \"created_at\", encoding = \"text\" }\n"},
      {"store.toml", "[broken]\ndescription = \"d\"\npolicy = \"p\"\ndelete_after = \"30 days\"\n"
                     "[[broken.target]]\nstore = \"nowhere\"\ntable = \"events_indexed\"\nkey = \"id\"\n"
                     "clock = { column = \"created_at\", encoding = \"text\" }\n"},
  };
  for (const auto& [name, text] : bad_files) {
    const fs::path file = f.rules / name;
    WriteFile(file, text);
    auto r = f.Check();
    INFO(name << ": " << Describe(r));
    CHECK(r.exit_code == 65);
    CHECK(HasLocatedError(r.err, file.string()));
    fs::remove(file);
  }
  // Editor and package-manager leftovers are ignored, however broken.
  WriteFile(f.rules / "app.toml~", "[[[ not toml");
  WriteFile(f.rules / "app.toml.bak", "[[[ not toml");
  WriteFile(f.rules / ".hidden.toml", "[[[ not toml");
  auto r = f.Check();
  INFO(Describe(r));
  CHECK(r.exit_code == 0);
  CHECK_FALSE(fs::exists(f.dir / "state.db"));
}

TEST_CASE("e2e check: the shipped rules against the demo", "[e2e]") {
  TempDir dir;
  const fs::path config = MakeDemo(dir / "demo", 2000);
  const fs::path app_db = dir / "demo" / "app.db";
  const std::string bytes_before = ReadFile(app_db);
  const auto mtime_before = fs::last_write_time(app_db);

  auto r = RunWith(config, {"check"});
  INFO(Describe(r));
  REQUIRE(r.exit_code == 0);
  for (const char* category : {"audit_security", "closed_accounts", "request_logs", "sessions", "support",
                               "transactions", "usage_events"})
    CHECK(Contains(r.out, category));
  CHECK(Contains(r.out, "keep at least 7 years"));
  CHECK(Contains(r.out, "app:request_logs"));
  CHECK(Contains(r.out, "0 errors"));
  // Shipped rules on the demo schema: every clock column is indexed.
  CHECK_FALSE(Contains(r.err, "no index"));

  CHECK(ReadFile(app_db) == bytes_before);
  CHECK(fs::last_write_time(app_db) == mtime_before);
  // The demo's own state database, created by `demo`; check leaves it be.
  CHECK(LedgerCount(dir / "demo" / "state.db", "delete") == 0);
}

}  // namespace
}  // namespace retention::e2e
