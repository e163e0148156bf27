// A PostgreSQL target for the tests that judge the postgres store from the
// outside (tests/e2e/postgres_*_test.cc, tests/purge/postgres_*_test.cc):
// a database of the test's own (support/pg_cluster.h), a config whose
// store "app" is `type = "postgres"` reached through the environment
// variable APP_DATABASE_URL, a rules directory and a state database, and
// the built binary run with that variable in its environment only (the
// test process's own environment is never changed, so tests may run side by
// side).
//
// What the engine did is read back with the test's own SQL (PgConnection)
// and the independent ledger checker (support/ledger_checker.h through
// e2e::DeletedKeys), never with the engine's code.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "e2e/e2e_util.h"
#include "support/pg_cluster.h"

namespace retention::pgtest {

namespace fs = std::filesystem;
using e2e::RunResult;

// The variable every postgres config written here names.
inline constexpr const char* kConninfoEnv = "APP_DATABASE_URL";

// Runs the binary with `args`, `env` ("NAME=value") added to its
// environment; output captured as e2e::Run does.
inline RunResult RunWithEnv(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  return e2e::Spawn(args, env).Finish();
}

// The values of the first column of `sql`'s rows.
inline std::set<std::string> ColumnSet(PgConnection& conn, const std::string& sql) {
  std::set<std::string> out;
  for (auto& row : conn.Query(sql)) out.insert(row.at(0));
  return out;
}

// A SQL string literal (standard_conforming_strings is on: only quotes
// double). For the test's own setup SQL only.
inline std::string Lit(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// A quoted identifier, for the test's own setup SQL.
inline std::string Ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A TOML basic string (quotes and backslashes escaped).
inline std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

inline std::set<std::string> Minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  for (const auto& x : a)
    if (!b.count(x)) out.insert(x);
  return out;
}

// One PostgreSQL store "app" with its database, config, rules and state.
class PgStoreFixture {
 public:
  // On the run's shared cluster, or on `cluster` (a test that stops it).
  PgStoreFixture() : db_(std::make_unique<PgTestDatabase>()) { Init(); }
  explicit PgStoreFixture(const PgCluster& cluster) : db_(std::make_unique<PgTestDatabase>(cluster)) { Init(); }

  const e2e::TempDir& dir() const { return dir_; }
  fs::path config() const { return dir_ / "retention.toml"; }
  fs::path state() const { return dir_ / "state.db"; }
  PgTestDatabase& db() { return *db_; }
  // What APP_DATABASE_URL holds for the engine (a test may change it, e.g.
  // to add a password or another role).
  std::string conninfo;

  PgConnection Connect() { return db_->Connect(); }

  // Rewrites the config: batch_size 0 keeps the default; `limits_extra`
  // and `store_extra` add lines to [limits] and [stores.app].
  void WriteConfig(int batch_size = 0, const std::string& limits_extra = "", const std::string& store_extra = "") {
    std::string text = "rules = \"rules\"\nstate = \"state.db\"\n[limits]\nmax_delete_fraction = 1.0\n";
    if (batch_size > 0) text += "batch_size = " + std::to_string(batch_size) + "\n";
    text += limits_extra;
    text += "[stores.app]\ntype = \"postgres\"\nconninfo_env = \"" + std::string(kConninfoEnv) + "\"\n" + store_extra;
    e2e::WriteFile(config(), text);
  }

  // DIR/rules/NAME.toml; replaces every rule file when `only`.
  void WriteRules(const std::string& name, const std::string& text, bool only = true) {
    if (only && fs::exists(dir_ / "rules")) fs::remove_all(dir_ / "rules");  // our own temp dir
    e2e::WriteFile(dir_ / "rules" / (name + ".toml"), text);
  }

  // `retention --config CONFIG ARGS...` with APP_DATABASE_URL=conninfo and
  // `env` in its environment.
  RunResult Retention(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"--config", config().string()});
    env.push_back(std::string(kConninfoEnv) + "=" + conninfo);
    return RunWithEnv(args, env);
  }

  // The keys the ledger claims deleted (independent checker), as a set;
  // `count` gets how many claims there were (one per record, never two).
  std::set<std::string> LedgerDeleted(size_t* count = nullptr) {
    if (!fs::exists(state())) return {};
    const std::vector<std::string> keys = e2e::DeletedKeys(state());
    if (count) *count = keys.size();
    return {keys.begin(), keys.end()};
  }

 private:
  void Init() {
    conninfo = db_->Conninfo();
    fs::create_directories(dir_ / "rules");
    WriteConfig();
    const RunResult r = Retention({"state", "init"});
    if (r.exit_code != 0) throw std::runtime_error("retention state init failed: " + e2e::Describe(r));
  }

  e2e::TempDir dir_;
  std::unique_ptr<PgTestDatabase> db_;
};

}  // namespace retention::pgtest
