#include "demo/demo.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <system_error>

#include "demo/app_database.h"
#include "demo/demo_files.h"
#include "state/state_open.h"

namespace retention {
namespace {

namespace fs = std::filesystem;

constexpr const char* kConfigName = "retention.toml";
constexpr const char* kDatabaseName = "app.db";
constexpr const char* kStateName = "state.db";

// The files a demo writes, each with the companions SQLite may leave.
std::vector<std::string> DemoFiles() {
  std::vector<std::string> names = {kConfigName};
  for (const char* db : {kDatabaseName, kStateName}) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) names.push_back(std::string(db) + suffix);
  }
  return names;
}

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char kHex[] = "0123456789ABCDEF";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string ConfigText(const fs::path& rules_dir) {
  std::string t;
  t += "# written by `retention demo`\n";
  t += "rules = " + TomlString(rules_dir.string()) + "\n";
  t += "state = \"state.db\"\n";
  t += "time_zone = \"UTC\"\n";
  t += "\n";
  t += "# The demo database was never purged: its first purge removes most of\n";
  t += "# request_logs (about 85%) and sessions, so the safety valve is opened\n";
  t += "# wider than the defaults.\n";
  t += "[limits]\n";
  t += "batch_size = 1000\n";
  t += "max_delete = 10000000\n";
  t += "max_delete_fraction = 0.9\n";
  t += "\n";
  t += "[stores.app]\n";
  t += "type = \"sqlite\"\n";
  t += "path = \"app.db\"\n";
  t += "\n";
  t += "[stores.logs]\n";
  t += "type = \"files\"\n";
  t += "root = \"logs\"\n";
  t += "\n";
  t += "[stores.backups]\n";
  t += "type = \"files\"\n";
  t += "root = \"backups\"\n";
  return t;
}

// Writes `text` to `file` through a temporary file and a rename.
Status WriteFileAtomically(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Status::IoError("demo: cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::IoError("demo: cannot write " + file.string() + ": " + ec.message());
  }
  return Status::Ok();
}

// DIR exists as a directory afterwards, holding no file of an earlier demo.
Status PrepareDirectory(const DemoOptions& options) {
  const fs::path& dir = options.dir;
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IoError("demo: " + dir.string() + ": " + ec.message());
  }
  if (!fs::exists(st)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IoError("demo: cannot create " + dir.string() + ": " + ec.message());
    return Status::Ok();
  }
  if (!fs::is_directory(st)) return Status::Invalid("demo: " + dir.string() + " exists and is not a directory");

  std::vector<std::string> present;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    present.push_back(it->path().filename().string());
  }
  if (ec) return Status::IoError("demo: cannot list " + dir.string() + ": " + ec.message());
  if (present.empty()) return Status::Ok();
  if (!options.force) {
    std::sort(present.begin(), present.end());
    std::string listing;
    for (size_t i = 0; i < present.size() && i < 5; ++i) listing += (i ? ", " : "") + present[i];
    if (present.size() > 5) listing += ", ...";
    return Status::Invalid("demo: " + dir.string() + " is not empty (" + listing +
                           "); choose an empty or new directory, or --force to replace a demo there");
  }
  for (const std::string& name : DemoFiles()) {
    fs::remove(dir / name, ec);
    if (ec) return Status::IoError("demo: cannot remove " + (dir / name).string() + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

Result<DemoSummary> CreateDemo(const DemoOptions& options) {
  if (options.dir.empty()) return Status::Usage("demo: no directory given");
  if (options.rows <= 0) return Status::Usage("demo: the row count must be positive");
  if (options.rules_dir.empty()) return Status::Invalid("demo: no rules directory to point the config at");

  std::error_code ec;
  const fs::path rules_dir = fs::absolute(options.rules_dir, ec).lexically_normal();
  if (ec) return Status::IoError("demo: " + options.rules_dir.string() + ": " + ec.message());

  RETENTION_RETURN_IF_ERROR(PrepareDirectory(options));

  DemoSummary summary;
  const fs::path dir = fs::absolute(options.dir, ec).lexically_normal();
  if (ec) return Status::IoError("demo: " + options.dir.string() + ": " + ec.message());
  summary.database = dir / kDatabaseName;
  summary.config = dir / kConfigName;

  // Built under a temporary name: app.db appears complete or not at all.
  const fs::path partial = dir / ".app.db.partial";
  fs::remove(partial, ec);
  demo::AppDatabaseSpec spec;
  spec.rows = options.rows;
  spec.now = std::chrono::floor<std::chrono::seconds>(options.now).time_since_epoch().count();
  spec.seed = options.seed;
  auto rows = demo::WriteAppDatabase(partial, spec);
  if (!rows.ok()) {
    fs::remove(partial, ec);
    return rows.status();
  }
  fs::rename(partial, summary.database, ec);
  if (ec) {
    fs::remove(partial, ec);
    return Status::IoError("demo: cannot create " + summary.database.string() + ": " + ec.message());
  }
  RETENTION_RETURN_IF_ERROR(demo::EnableWal(summary.database));
  summary.rows_per_table = std::move(*rows);
  RETENTION_RETURN_IF_ERROR(CreateDemoFiles(dir, options.now, options.seed));

  RETENTION_RETURN_IF_ERROR(WriteFileAtomically(summary.config, ConfigText(rules_dir)));
  // The demo's own, new state database: nothing but `state init` and the
  // demo ever creates one (a purge refuses to run without it).
  summary.state = dir / kStateName;
  StateConfig demo_state;
  demo_state.path = summary.state.string();
  auto state = OpenStateDbAt(demo_state, StateOpenMode::kCreate);
  if (!state.ok()) return state.status();
  return summary;
}

}  // namespace retention
