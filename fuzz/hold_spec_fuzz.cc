// libFuzzer harness: hold specs, as `retention hold add --dry-run` reads
// them from the command line. The input's first byte says which options
// are given; the rest, split at '\n', are their values in this order:
// --subject --category --target --key --from --until --expires --by.
// The dry run parses the scope and its moments, validates it against the
// rules and counts what it covers in a small SQLite store and a files
// store. Never a crash; a refusal is a usage or invalid-spec error (64,
// 65) and places nothing; a spec accepted as a dry run says so.
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <sstream>

#include "cli/command.h"
#include "cli/exit_codes.h"
#include "fuzz_util.h"

using namespace retention;

namespace {

const fuzz::fs::path& ConfigFile() {
  static const fuzz::fs::path file = [] {
    const fuzz::ScratchDir& dir = fuzz::Scratch();
    fuzz::fs::create_directories(dir / "rules");
    fuzz::fs::create_directories(dir / "logs");
    fuzz::WriteFile(dir / "logs" / "app.log-20240101", "old\n");
    fuzz::WriteFile(dir / "retention.toml",
                    "rules = \"rules\"\n"
                    "state = \"state.db\"\n"
                    "time_zone = \"Europe/Berlin\"\n"
                    "[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n"
                    "[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n");
    fuzz::WriteFile(dir / "rules" / "fuzz.toml",
                    "[tickets]\n"
                    "delete_after = \"90 days\"\n"
                    "[[tickets.target]]\n"
                    "store = \"app\"\ntable = \"tickets\"\nkey = \"id\"\n"
                    "clock = { column = \"closed_at\", encoding = \"text\" }\n"
                    "subject = { kind = \"customer\", column = \"customer_id\" }\n"
                    "[server_logs]\n"
                    "delete_after = \"30 days\"\n"
                    "[[server_logs.target]]\n"
                    "name = \"rotated\"\nstore = \"logs\"\npaths = [\"app.log-*\"]\n"
                    "clock = { mtime = true }\n");
    sqlite3* db = nullptr;
    const std::string path = (dir / "app.db").string();
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE TABLE tickets(id INTEGER PRIMARY KEY, closed_at TEXT, customer_id INTEGER);"
                     "CREATE INDEX tickets_closed ON tickets(closed_at);"
                     "INSERT INTO tickets VALUES (1, '2020-01-01 00:00:00', 42), (2, '2026-03-29 02:30:00', 42),"
                     " (3, NULL, 7), (4, '2024-10-27T02:30:00+01:00', 7);",
                     nullptr, nullptr, nullptr) != SQLITE_OK)
      fuzz::Violated(std::string("cannot build the harness's app database: ") + sqlite3_errmsg(db));
    sqlite3_close(db);
    return dir / "retention.toml";
  }();
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* kOptions[] = {"--subject", "--category", "--target", "--key",
                                   "--from",    "--until",    "--expires", "--by"};
  const uint8_t present = data[0];
  const auto fields = fuzz::SplitFields(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), 8);

  CommandArgs a;
  a.name = "hold";
  a.args = {"add", "--dry-run", "--quiet", "--config", ConfigFile().string(), "--matter", "M-1", "--reason", "fuzz"};
  for (size_t i = 0; i < fields.size() && i < 8; ++i) {
    if (!(present & (1u << i))) continue;
    // --NAME=VALUE: a value that looks like an option is still a value.
    a.args.push_back(std::string(kOptions[i]) + "=" + fields[i]);
  }
  // With no scope given, sometimes ask for a freeze of everything.
  if (fields.size() < 8 && (present & 0x80)) a.args.push_back("--freeze-all");
  std::ostringstream out, err;
  a.out = &out;
  a.err = &err;
  static const Env env = Env::Default();
  a.env = &env;
  const Status s = RunHoldCommand(a);
  if (s.ok()) {
    if (out.str().find("Nothing was placed") == std::string::npos)
      fuzz::Violated("a dry run that does not say nothing was placed:\n" + out.str());
    return 0;
  }
  if (s.code() != StatusCode::kUsage && s.code() != StatusCode::kInvalid)
    fuzz::Violated("hold spec refused with exit " + std::to_string(ExitStatusOf(s)) +
                   " (expected 64 or 65): " + s.message());
  return 0;
}
