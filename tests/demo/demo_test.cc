// `retention demo`: the demo database and config (demo/demo.h), and the
// shipped retention-rules/ checked against the demo's schema.
//
// Clock values are read back with SQLite's own date functions, so these
// tests do not depend on the engine's clock parser.
#include "cli/exit_codes.h"
#include "demo/demo.h"
#include "util/file_util.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <toml++/toml.h>
#include <vector>

#ifndef RETENTION_SHIPPED_RULES
#define RETENTION_SHIPPED_RULES "retention-rules"
#endif

namespace retention {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

// 2026-05-08T12:00:00Z, and three calendar years before it.
const Timestamp kNow = sys_days{year{2026} / May / 8} + hours{12};
constexpr int64_t kNowUnix = 1778241600;
constexpr int64_t kStartUnix = 1683547200;  // 2023-05-08T12:00:00Z
constexpr int64_t kDay = 86400;
constexpr int64_t kRows = 5000;

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("retention-demo-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

DemoOptions Options(const fs::path& dir, uint64_t seed = 7) {
  DemoOptions o;
  o.dir = dir;
  o.rows = kRows;
  o.now = kNow;
  o.rules_dir = RETENTION_SHIPPED_RULES;
  o.seed = seed;
  return o;
}

class Db {
 public:
  explicit Db(const fs::path& file) {
    REQUIRE(sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  }
  ~Db() { sqlite3_close(db_); }

  // Rows of text (NULL as "<null>").
  std::vector<std::vector<std::string>> Rows(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    INFO(sql);
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    std::vector<std::vector<std::string>> rows;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        row.push_back(text ? reinterpret_cast<const char*>(text) : "<null>");
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    REQUIRE(rc == SQLITE_DONE);
    return rows;
  }

  int64_t Int(const std::string& sql) {
    auto rows = Rows(sql);
    REQUIRE(rows.size() == 1);
    REQUIRE(rows[0][0] != "<null>");
    return std::stoll(rows[0][0]);
  }

  std::vector<std::string> Columns(const std::string& table) {
    std::vector<std::string> names;
    for (auto& row : Rows("SELECT name FROM pragma_table_info('" + table + "') ORDER BY cid")) {
      names.push_back(row[0]);
    }
    return names;
  }

  // An index whose first column is `column`, or the rowid alias.
  bool Indexed(const std::string& table, const std::string& column) {
    for (auto& row : Rows("SELECT name, pk, type FROM pragma_table_info('" + table + "')")) {
      if (row[0] == column && row[1] == "1" && row[2] == "INTEGER") return true;
    }
    return Int("SELECT count(*) FROM pragma_index_list('" + table +
               "') AS l, pragma_index_info(l.name) AS i WHERE i.seqno = 0 AND i.name = '" + column +
               "'") > 0;
  }

  std::string Dump() {
    std::string out;
    for (auto& t : Rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite_%' ORDER BY name")) {
      out += "== " + t[0] + "\n";
      for (auto& row : Rows("SELECT * FROM \"" + t[0] + "\" ORDER BY rowid")) {
        for (auto& v : row) out += v + "|";
        out += "\n";
      }
    }
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// How a clock column is encoded, as SQL yielding unix seconds or NULL.
enum class Enc { kText, kSeconds, kMillis };
struct Clock {
  std::string table, column;
  Enc enc;
  bool may_be_future;
};
const Clock kClocks[] = {
    {"accounts", "created_at", Enc::kText, false},
    {"customers", "created_at", Enc::kText, false},
    {"inventory_items", "created_at", Enc::kText, false},
    {"sales", "sold_at", Enc::kText, false},
    {"invoices", "issued_at", Enc::kSeconds, false},
    {"support_tickets", "last_activity_at", Enc::kText, false},
    {"support_emails", "sent_at", Enc::kText, false},
    {"audit_events", "occurred_at", Enc::kMillis, false},
    {"security_events", "occurred_at", Enc::kText, false},
    {"request_logs", "created_at", Enc::kText, false},
    {"sessions", "created_at", Enc::kText, false},
    {"sessions", "expires_at", Enc::kText, true},
    {"oauth_states", "created_at", Enc::kSeconds, false},
    {"oauth_states", "expires_at", Enc::kSeconds, true},
    {"usage_events", "occurred_at", Enc::kText, false},
};

std::string SecondsOf(const std::string& column, Enc enc) {
  switch (enc) {
    case Enc::kText: return "unixepoch(" + column + ")";
    case Enc::kSeconds: return column;
    case Enc::kMillis: return "(" + column + " / 1000)";
  }
  return column;
}

struct Demo {
  TempDir dir;
  DemoSummary summary;
  explicit Demo(uint64_t seed = 7) {
    auto r = CreateDemo(Options(dir.path(), seed));
    INFO(r.status().message());
    REQUIRE(r.ok());
    summary = *r;
  }
};

TEST_CASE("demo writes the documented tables and columns", "[demo]") {
  Demo demo;
  CHECK(demo.summary.database == fs::absolute(demo.dir.path() / "app.db"));
  CHECK(demo.summary.config == fs::absolute(demo.dir.path() / "retention.toml"));
  Db db(demo.summary.database);

  const std::map<std::string, std::vector<std::string>> expected = {
      {"accounts", {"id", "name", "email", "status", "created_at", "closed_at"}},
      {"customers", {"id", "account_id", "name", "email", "phone", "created_at"}},
      {"inventory_items", {"id", "account_id", "sku", "title", "price_cents", "created_at"}},
      {"sales", {"id", "account_id", "customer_id", "amount_cents", "sold_at"}},
      {"invoices", {"id", "account_id", "customer_id", "total_cents", "issued_at"}},
      {"support_tickets", {"id", "account_id", "customer_id", "subject", "status", "last_activity_at"}},
      {"support_emails", {"id", "ticket_id", "customer_id", "sender", "body", "sent_at"}},
      {"audit_events", {"id", "account_id", "actor", "action", "occurred_at"}},
      {"security_events", {"id", "account_id", "kind", "ip", "occurred_at"}},
      {"request_logs", {"id", "account_id", "method", "path", "status", "latency_ms", "ip", "created_at"}},
      {"sessions", {"id", "account_id", "created_at", "expires_at"}},
      {"oauth_states", {"state", "account_id", "created_at", "expires_at"}},
      {"usage_events", {"id", "account_id", "name", "occurred_at"}},
  };
  for (const auto& [table, columns] : expected) {
    INFO(table);
    CHECK(db.Columns(table) == columns);
  }
  CHECK(db.Int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") ==
        static_cast<int64_t>(expected.size()));
  CHECK(db.Rows("PRAGMA journal_mode")[0][0] == "wal");

  // Integer clocks hold integers, text clocks text (or NULL).
  CHECK(db.Int("SELECT count(*) FROM invoices WHERE typeof(issued_at) NOT IN ('integer', 'null')") == 0);
  CHECK(db.Int("SELECT count(*) FROM audit_events WHERE typeof(occurred_at) NOT IN ('integer', 'null')") == 0);
  CHECK(db.Int("SELECT count(*) FROM oauth_states WHERE typeof(expires_at) NOT IN ('integer', 'null')") == 0);
  CHECK(db.Int("SELECT count(*) FROM request_logs WHERE typeof(created_at) NOT IN ('text', 'null')") == 0);
  // Formats: SQL text, ISO with Z, ISO with offsets (several distinct ones).
  CHECK(db.Int("SELECT count(*) FROM request_logs WHERE created_at GLOB "
               "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'") >
        kRows / 3);
  CHECK(db.Int("SELECT count(*) FROM sales WHERE sold_at GLOB '*T*Z'") > 0);
  CHECK(db.Int("SELECT count(DISTINCT substr(occurred_at, 20)) FROM security_events "
               "WHERE length(occurred_at) = 25") >= 4);
}

TEST_CASE("demo row counts add up to the request", "[demo]") {
  Demo demo;
  Db db(demo.summary.database);
  int64_t total = 0;
  std::map<std::string, int64_t> counts;
  for (const auto& [table, n] : demo.summary.rows_per_table) {
    INFO(table);
    CHECK(n == db.Int("SELECT count(*) FROM \"" + table + "\""));
    counts[table] = n;
    total += n;
  }
  CHECK(counts.size() == 13);
  CHECK(total >= kRows * 9 / 10);
  CHECK(total <= kRows * 12 / 10);
  // request_logs is the biggest table, about 40%.
  for (const auto& [table, n] : counts) CHECK(n <= counts["request_logs"]);
  CHECK(counts["request_logs"] * 100 / total >= 35);
  CHECK(counts["request_logs"] * 100 / total <= 45);
}

TEST_CASE("demo clocks span the three years before now", "[demo]") {
  Demo demo;
  Db db(demo.summary.database);
  for (const Clock& c : kClocks) {
    INFO(c.table << "." << c.column);
    const std::string secs = SecondsOf(c.column, c.enc);
    const int64_t lo = db.Int("SELECT min(" + secs + ") FROM " + c.table);
    const int64_t hi = db.Int("SELECT max(" + secs + ") FROM " + c.table);
    CHECK(lo >= kStartUnix);
    // The data reaches back ~3 years; activity grows linearly, so the
    // earliest of n rows is expected within span * sqrt(1/n) of the start.
    const double n = static_cast<double>(db.Int("SELECT count(*) FROM " + c.table));
    const double span = static_cast<double>(kNowUnix - kStartUnix);
    CHECK(lo <= kStartUnix + 15 * kDay + static_cast<int64_t>(span * std::sqrt(2.0 / n)));
    CHECK(hi >= kNowUnix - 30 * kDay);     // ... and up to about now
    if (c.may_be_future) {
      CHECK(hi > kNowUnix);  // live sessions / OAuth flows
      CHECK(hi <= kNowUnix + 15 * kDay);
    } else {
      CHECK(hi < kNowUnix);
    }
  }
  // Activity of an account lies between its sign-up and its closure.
  CHECK(db.Int("SELECT count(*) FROM request_logs r JOIN accounts a ON a.id = r.account_id "
               "WHERE unixepoch(r.created_at) < unixepoch(a.created_at) "
               "OR unixepoch(r.created_at) > unixepoch(a.closed_at)") == 0);
  // Sessions live 14 days, OAuth state 10 minutes; some of each still live.
  CHECK(db.Int("SELECT count(*) FROM sessions WHERE unixepoch(expires_at) - unixepoch(created_at) "
               "!= 14 * 86400") == 0);
  CHECK(db.Int("SELECT count(*) FROM oauth_states WHERE expires_at - created_at != 600") == 0);
  const int64_t sessions = db.Int("SELECT count(*) FROM sessions");
  const int64_t live = db.Int("SELECT count(*) FROM sessions WHERE unixepoch(expires_at) > " +
                              std::to_string(kNowUnix));
  CHECK(live > 0);
  CHECK(live < sessions / 2);  // most expired
  CHECK(db.Int("SELECT count(*) FROM oauth_states WHERE expires_at > " + std::to_string(kNowUnix)) > 0);
}

TEST_CASE("demo accounts closed recently and long ago", "[demo]") {
  Demo demo;
  Db db(demo.summary.database);
  const std::string recent = std::to_string(kNowUnix - 90 * kDay);
  CHECK(db.Int("SELECT count(*) FROM accounts WHERE unixepoch(closed_at) >= " + recent) > 0);
  CHECK(db.Int("SELECT count(*) FROM accounts WHERE unixepoch(closed_at) < " + recent) > 0);
  CHECK(db.Int("SELECT count(*) FROM accounts WHERE unixepoch(closed_at) >= " + std::to_string(kNowUnix)) == 0);
  // closed_at is set exactly for closed accounts (dated or not).
  CHECK(db.Int("SELECT count(*) FROM accounts WHERE status = 'active' AND closed_at IS NOT NULL") == 0);
  const int64_t accounts = db.Int("SELECT count(*) FROM accounts");
  const int64_t closed = db.Int("SELECT count(*) FROM accounts WHERE status = 'closed'");
  CHECK(closed * 100 / accounts >= 10);
  CHECK(closed * 100 / accounts <= 20);
  // Closed accounts have customer data to age through the join.
  CHECK(db.Int("SELECT count(*) FROM customers c JOIN accounts a ON a.id = c.account_id "
               "WHERE unixepoch(a.closed_at) < " + recent) > 0);
  CHECK(db.Int("SELECT count(*) FROM sales s JOIN accounts a ON a.id = s.account_id "
               "WHERE unixepoch(a.closed_at) < " + recent) > 0);
  // Customer ids belong to the row's own account.
  for (const char* table : {"sales", "invoices", "support_tickets"}) {
    INFO(table);
    CHECK(db.Int(std::string("SELECT count(*) FROM ") + table +
                 " t JOIN customers c ON c.id = t.customer_id WHERE c.account_id != t.account_id") == 0);
    CHECK(db.Int(std::string("SELECT count(*) FROM ") + table + " WHERE customer_id IS NOT NULL") > 0);
  }
  CHECK(db.Int("SELECT count(*) FROM support_emails e JOIN support_tickets t ON t.id = e.ticket_id "
               "WHERE e.customer_id IS NOT t.customer_id") == 0);
}

TEST_CASE("demo has undated rows in every clock a rule reads", "[demo]") {
  Demo demo;
  Db db(demo.summary.database);
  const Clock rule_clocks[] = {
      {"accounts", "closed_at", Enc::kText, false},
      {"sales", "sold_at", Enc::kText, false},
      {"invoices", "issued_at", Enc::kSeconds, false},
      {"support_tickets", "last_activity_at", Enc::kText, false},
      {"audit_events", "occurred_at", Enc::kMillis, false},
      {"security_events", "occurred_at", Enc::kText, false},
      {"request_logs", "created_at", Enc::kText, false},
      {"sessions", "expires_at", Enc::kText, true},
      {"oauth_states", "expires_at", Enc::kSeconds, true},
      {"usage_events", "occurred_at", Enc::kText, false},
  };
  for (const Clock& c : rule_clocks) {
    INFO(c.table << "." << c.column);
    const std::string where = c.table == "accounts" ? " WHERE status = 'closed'" : "";
    const int64_t undated =
        db.Int("SELECT count(*) FROM " + c.table + where + (where.empty() ? " WHERE " : " AND ") +
               SecondsOf(c.column, c.enc) + " IS NULL");
    CHECK(undated >= 1);
    CHECK(undated <= 6);
    CHECK(db.Int("SELECT count(*) FROM " + c.table + " WHERE " + c.column + " IS NULL") >= 1);
    if (c.enc == Enc::kText) {
      // Unparseable text, never a non-integer in an integer clock.
      if (c.table != "accounts") {
        CHECK(db.Int("SELECT count(*) FROM " + c.table + " WHERE " + c.column + " = 'unknown'") >= 1);
        CHECK(db.Int("SELECT count(*) FROM " + c.table + " WHERE " + c.column + " = ''") >= 1);
      }
    }
  }
  // Through the joins: customers of an undated closure, e-mails of an undated ticket.
  CHECK(db.Int("SELECT count(*) FROM support_emails e JOIN support_tickets t ON t.id = e.ticket_id "
               "WHERE unixepoch(t.last_activity_at) IS NULL") >= 1);
}

TEST_CASE("demo indexes every clock, join and subject column", "[demo]") {
  Demo demo;
  Db db(demo.summary.database);
  const std::pair<const char*, const char*> indexed[] = {
      {"accounts", "closed_at"},          {"sales", "sold_at"},
      {"invoices", "issued_at"},          {"support_tickets", "last_activity_at"},
      {"support_emails", "sent_at"},      {"audit_events", "occurred_at"},
      {"security_events", "occurred_at"}, {"request_logs", "created_at"},
      {"sessions", "expires_at"},         {"oauth_states", "expires_at"},
      {"usage_events", "occurred_at"},    {"customers", "account_id"},
      {"inventory_items", "account_id"},  {"sales", "customer_id"},
      {"invoices", "customer_id"},        {"support_tickets", "customer_id"},
      {"support_emails", "ticket_id"},    {"support_emails", "customer_id"},
      {"request_logs", "account_id"},     {"usage_events", "account_id"},
  };
  for (const auto& [table, column] : indexed) {
    INFO(table << "." << column);
    CHECK(db.Indexed(table, column));
  }
  CHECK_FALSE(db.Indexed("request_logs", "path"));  // the probe can fail
}

TEST_CASE("demo is deterministic in its seed", "[demo]") {
  Demo a(11), b(11), c(12);
  const std::string dump_a = Db(a.summary.database).Dump();
  const std::string dump_b = Db(b.summary.database).Dump();
  const std::string dump_c = Db(c.summary.database).Dump();
  CHECK(dump_a.size() > 100000);
  CHECK(dump_a == dump_b);
  CHECK(dump_a != dump_c);
  CHECK(a.summary.rows_per_table == b.summary.rows_per_table);
}

TEST_CASE("demo refuses a non-empty directory without force", "[demo]") {
  TempDir dir;
  REQUIRE(CreateDemo(Options(dir.path())).ok());
  const auto size_before = fs::file_size(dir.path() / "app.db");
  { std::ofstream(dir.path() / "notes.txt") << "keep me\n"; }

  SECTION("a second demo in the same directory is refused") {
    auto again = CreateDemo(Options(dir.path(), /*seed=*/99));
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().code() == StatusCode::kInvalid);
    CHECK(ExitStatusOf(again.status()) == 65);
    CHECK_THAT(again.status().message(), Catch::Contains(dir.path().string()) &&
                                             Catch::Contains("not empty") && Catch::Contains("--force"));
    CHECK(fs::file_size(dir.path() / "app.db") == size_before);
  }
  SECTION("any other content is refused too") {
    TempDir other;
    fs::create_directories(other.path());
    { std::ofstream(other.path() / "README") << "x"; }
    auto r = CreateDemo(Options(other.path()));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalid);
    CHECK_FALSE(fs::exists(other.path() / "app.db"));
    CHECK_FALSE(fs::exists(other.path() / "retention.toml"));
  }
  SECTION("force replaces the demo and leaves other files alone") {
    { std::ofstream(dir.path() / "state.db") << "old state"; }
    DemoOptions o = Options(dir.path(), /*seed=*/99);
    o.force = true;
    auto r = CreateDemo(o);
    INFO(r.status().message());
    REQUIRE(r.ok());
    CHECK(fs::exists(dir.path() / "notes.txt"));
    // The old state is gone; the demo created a new, empty one.
    CHECK(ReadFileBytes(dir.path() / "state.db").rfind("SQLite format 3", 0) == 0);
    CHECK_FALSE(fs::exists(dir.path() / ".app.db.partial"));
    Db db(dir.path() / "app.db");
    CHECK(db.Int("SELECT count(*) FROM request_logs") > 0);
  }
  SECTION("a path that is a file is refused") {
    DemoOptions o = Options(dir.path() / "notes.txt");
    o.force = true;
    auto r = CreateDemo(o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalid);
  }
}

TEST_CASE("demo creates a missing directory", "[demo]") {
  TempDir dir;
  auto r = CreateDemo(Options(dir.path() / "a" / "b"));
  INFO(r.status().message());
  REQUIRE(r.ok());
  CHECK(fs::exists(dir.path() / "a" / "b" / "app.db"));
}

TEST_CASE("demo config is TOML with the documented keys", "[demo]") {
  Demo demo;
  toml::table config;
  try {
    config = toml::parse_file(demo.summary.config.string());
  } catch (const toml::parse_error& e) {
    FAIL("retention.toml does not parse: " << e.what());
  }
  std::ifstream in(demo.summary.config);
  std::string first_line;
  std::getline(in, first_line);
  CHECK(first_line == "# written by `retention demo`");

  const fs::path rules = fs::absolute(RETENTION_SHIPPED_RULES).lexically_normal();
  CHECK(config["rules"].value<std::string>() == rules.string());
  CHECK(fs::path(*config["rules"].value<std::string>()).is_absolute());
  CHECK(config["state"].value<std::string>() == "state.db");
  CHECK(config["time_zone"].value<std::string>() == "UTC");
  CHECK(config["limits"]["batch_size"].value<int64_t>() == 1000);
  CHECK(config["limits"]["max_delete"].value<int64_t>() == 10000000);
  CHECK(config["limits"]["max_delete_fraction"].value<double>() == Approx(0.9));
  CHECK(config["stores"]["app"]["type"].value<std::string>() == "sqlite");
  CHECK(config["stores"]["app"]["path"].value<std::string>() == "app.db");
  CHECK(config["stores"]["logs"]["type"].value<std::string>() == "files");
  CHECK(config["stores"]["logs"]["root"].value<std::string>() == "logs");
  CHECK(config["stores"]["backups"]["type"].value<std::string>() == "files");
  CHECK(config["stores"]["backups"]["root"].value<std::string>() == "backups");
  CHECK(config["stores"].as_table()->size() == 3);
  CHECK(config.size() == 5);  // rules, state, time_zone, limits, stores
}

TEST_CASE("demo config quotes an unusual rules path", "[demo]") {
  TempDir dir;
  DemoOptions o = Options(dir.path());
  o.rules_dir = "/opt/with \"quotes\" and \\ back/rules";
  REQUIRE(CreateDemo(o).ok());
  auto config = toml::parse_file((dir.path() / "retention.toml").string());
  CHECK(config["rules"].value<std::string>() == o.rules_dir.string());
}

// --- The shipped rules against the demo -------------------------------------

struct RuleTarget {
  std::string category, table, column, encoding;
  std::string join_table, join_key, join_on;
  std::vector<std::pair<std::string, std::string>> where;  // column = 'text' or integer
  std::string subject_kind, subject_column;
};

struct RuleCategory {
  std::string name, delete_after, keep_at_least;
  std::vector<RuleTarget> targets;
};

std::vector<RuleCategory> LoadShippedRules() {
  std::vector<RuleCategory> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(RETENTION_SHIPPED_RULES)) {
    if (e.path().extension() == ".toml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    INFO(file.string());
    toml::table doc;
    try {
      doc = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
      FAIL("does not parse: " << e.what());
    }
    for (const auto& [name, node] : doc) {
      const toml::table& cat = *node.as_table();
      RuleCategory c;
      c.name = std::string(name.str());
      INFO(c.name);
      for (const char* key : {"description", "policy", "policy_source"}) {
        CHECK_FALSE(cat[key].value<std::string>().value_or("").empty());
      }
      c.delete_after = cat["delete_after"].value<std::string>().value_or("");
      c.keep_at_least = cat["keep_at_least"].value<std::string>().value_or("");
      const toml::array* targets = cat["target"].as_array();
      REQUIRE(targets);
      for (const toml::node& tn : *targets) {
        const toml::table& t = *tn.as_table();
        // The files stores (logs, backups) have their own tests.
        if (t["store"].value<std::string>() != "app") continue;
        RuleTarget r;
        r.category = c.name;
        r.table = t["table"].value<std::string>().value_or("");
        r.column = t["clock"]["column"].value<std::string>().value_or("");
        r.encoding = t["clock"]["encoding"].value<std::string>().value_or("text");
        r.join_table = t["clock"]["join"]["table"].value<std::string>().value_or("");
        r.join_key = t["clock"]["join"]["key"].value<std::string>().value_or("");
        r.join_on = t["clock"]["join"]["on"].value<std::string>().value_or("");
        if (const toml::table* where = t["where"].as_table()) {
          for (const auto& [col, v] : *where) {
            if (auto s = v.value<std::string>()) {
              r.where.emplace_back(std::string(col.str()), "'" + *s + "'");
            } else {
              REQUIRE(v.is_integer());
              r.where.emplace_back(std::string(col.str()), std::to_string(*v.value<int64_t>()));
            }
          }
        }
        r.subject_kind = t["subject"]["kind"].value<std::string>().value_or("");
        r.subject_column = t["subject"]["column"].value<std::string>().value_or("");
        c.targets.push_back(r);
      }
      if (!c.targets.empty()) out.push_back(c);
    }
  }
  return out;
}

// "90 days" -> SQLite date modifier "-90 days" ("weeks" as days).
std::string Modifier(const std::string& duration) {
  const auto space = duration.find(' ');
  int64_t n = std::stoll(duration.substr(0, space));
  std::string unit = duration.substr(space + 1);
  if (unit.back() != 's') unit += 's';
  if (unit == "weeks") {
    n *= 7;
    unit = "days";
  }
  return "-" + std::to_string(n) + " " + unit;
}

TEST_CASE("shipped rules cover the policy table", "[demo]") {
  const auto rules = LoadShippedRules();
  std::map<std::string, RuleCategory> by_name;
  for (const auto& c : rules) by_name[c.name] = c;
  const std::set<std::string> expected = {"audit_security", "closed_accounts", "request_logs",
                                          "sessions",       "support",         "transactions",
                                          "usage_events"};
  std::set<std::string> names;
  for (const auto& c : rules) names.insert(c.name);
  CHECK(names == expected);
  CHECK(by_name["request_logs"].keep_at_least == "30 days");
  CHECK(by_name["request_logs"].delete_after == "90 days");
  CHECK(by_name["audit_security"].delete_after == "12 months");
  CHECK(by_name["support"].delete_after == "24 months");
  CHECK(by_name["closed_accounts"].delete_after == "90 days");
  CHECK(by_name["transactions"].keep_at_least == "7 years");
  CHECK(by_name["transactions"].delete_after == "7 years");
  CHECK(by_name["sessions"].delete_after == "1 day");
  CHECK(by_name["usage_events"].delete_after == "14 months");

  // Rows aged through a join come before the row they are aged by.
  auto order = [](const RuleCategory& c, const std::string& table) {
    for (size_t i = 0; i < c.targets.size(); ++i) {
      if (c.targets[i].table == table) return static_cast<int>(i);
    }
    return -1;
  };
  const RuleCategory& closed = by_name["closed_accounts"];
  CHECK(order(closed, "accounts") == static_cast<int>(closed.targets.size()) - 1);
  CHECK(order(closed, "sales") >= 0);  // purchase history, held by the transactions floor
  CHECK(order(by_name["support"], "support_emails") < order(by_name["support"], "support_tickets"));
}

TEST_CASE("shipped rules fit the demo schema and a first purge passes the valve", "[demo]") {
  Demo demo;
  Db db(demo.summary.database);
  const auto rules = LoadShippedRules();
  REQUIRE_FALSE(rules.empty());
  const std::string now = std::to_string(kNowUnix);

  for (const RuleCategory& c : rules) {
    int64_t category_due = 0;
    for (const RuleTarget& t : c.targets) {
      INFO(c.name << ": " << t.table << " clock " << t.column);
      const auto columns = db.Columns(t.table);
      REQUIRE_FALSE(columns.empty());
      auto has = [&](const std::vector<std::string>& cols, const std::string& name) {
        return std::find(cols.begin(), cols.end(), name) != cols.end();
      };
      const std::string clock_table = t.join_table.empty() ? t.table : t.join_table;
      CHECK(has(db.Columns(clock_table), t.column));
      CHECK(db.Indexed(clock_table, t.column));
      if (!t.join_table.empty()) {
        CHECK(has(db.Columns(t.join_table), t.join_key));
        CHECK(has(columns, t.join_on));
        CHECK(db.Indexed(t.join_table, t.join_key));
        CHECK(db.Indexed(t.table, t.join_on));
      }
      for (const auto& [col, value] : t.where) CHECK(has(columns, col));
      CHECK(has(columns, t.subject_column));
      CHECK(db.Indexed(t.table, t.subject_column));
      CHECK((t.subject_kind == "customer" || t.subject_kind == "account"));
      if (t.subject_kind == "account" && t.subject_column != "id") CHECK(t.subject_column == "account_id");
      if (has(columns, "customer_id")) CHECK(t.subject_column == "customer_id");

      // Due share of the target at the demo's now (SQLite date arithmetic;
      // close enough to the engine's calendar for a bound).
      const std::string q = "\"" + clock_table + "\".\"" + t.column + "\"";
      const std::string secs = t.encoding == "unix_seconds" ? q
                               : t.encoding == "unix_millis" ? "(" + q + " / 1000)"
                                                             : "unixepoch(" + q + ")";
      std::string from = "\"" + t.table + "\"";
      if (!t.join_table.empty()) {
        from += " LEFT JOIN \"" + t.join_table + "\" ON \"" + t.join_table + "\".\"" + t.join_key +
                "\" = \"" + t.table + "\".\"" + t.join_on + "\"";
      }
      std::string where = " WHERE 1";
      for (const auto& [col, value] : t.where) where += " AND \"" + t.table + "\".\"" + col + "\" = " + value;
      const int64_t rows = db.Int("SELECT count(*) FROM " + from + where);
      REQUIRE(rows > 0);
      int64_t due = 0;
      if (!c.delete_after.empty()) {
        std::string due_where = where + " AND " + secs + " < unixepoch(" + now + ", 'unixepoch', '" +
                                Modifier(c.delete_after) + "')";
        if (!c.keep_at_least.empty()) {
          due_where += " AND " + secs + " < unixepoch(" + now + ", 'unixepoch', '" +
                       Modifier(c.keep_at_least) + "')";
        }
        due = db.Int("SELECT count(*) FROM " + from + due_where);
      }
      INFO("due " << due << " of " << rows);
      CHECK(due * 10 <= rows * 9);  // max_delete_fraction = 0.9
      category_due += due;
    }
    INFO(c.name);
    if (c.name == "transactions") {
      CHECK(category_due == 0);  // three years of data, a seven-year schedule
    } else {
      CHECK(category_due > 0);
    }
  }
}

}  // namespace
}  // namespace retention
