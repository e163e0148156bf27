// retention demo DIR: demo stores and a config for the shipped rules.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <iostream>

#include "cli/command.h"
#include "demo/demo.h"

namespace retention {

namespace {

namespace fs = std::filesystem;

// The shipped rules: beside an installed binary (PREFIX/share/retention/
// rules.d), else in the source tree the binary was built from.
fs::path ShippedRulesDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "share" / "retention" / "rules.d";
    if (fs::is_directory(installed, ec)) return installed;
  }
  if (fs::is_directory(RETENTION_RULES_INSTALL_DIR, ec)) return RETENTION_RULES_INSTALL_DIR;
  return fs::path(RETENTION_SOURCE_DIR) / "retention-rules";
}

}  // namespace

Status RunDemoCommand(const CommandArgs& a) {
  po::options_description desc("Options");
  desc.add_options()
      ("dir", po::value<std::string>()->value_name("DIR"), "where to create the demo")
      ("rows", po::value<int64_t>()->value_name("N"), "approximate number of rows (default 300000)")
      ("seed", po::value<std::string>()->value_name("N"), "random seed (default 42)")
      ("rules", po::value<std::string>()->value_name("DIR"), "rules directory for the config (default: the shipped rules)")
      ("force", po::bool_switch(), "replace an existing demo in DIR")
      ("help,h", po::bool_switch(), "show this help");
  po::positional_options_description pos;
  pos.add("dir", 1);
  auto vm = ParseCommandLine(a, desc, &pos, "retention demo DIR [--rows N] [--seed N] [--force]");
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::Ok();
  const po::variables_map& v = **vm;
  if (!v.count("dir")) return Status::Usage("demo needs a directory: retention demo DIR");
  DemoOptions options;
  options.dir = fs::absolute(v["dir"].as<std::string>());
  options.now = a.env->Now();
  if (v.count("rows")) {
    options.rows = v["rows"].as<int64_t>();
    if (options.rows < 1000 || options.rows > 100000000)
      return Status::Usage("--rows must be between 1000 and 100000000");
  }
  if (v.count("seed")) {
    // Boost reads "-1" as 2^64-1 for an unsigned option: take digits only.
    const std::string seed = v["seed"].as<std::string>();
    char* end = nullptr;
    errno = 0;
    options.seed = std::strtoull(seed.c_str(), &end, 10);
    if (seed.empty() || seed.find_first_not_of("0123456789") != std::string::npos || errno == ERANGE)
      return Status::Usage("--seed must be a whole number from 0 to 18446744073709551615");
  }
  options.rules_dir = fs::absolute(v.count("rules") ? fs::path(v["rules"].as<std::string>()) : ShippedRulesDir());
  options.force = v["force"].as<bool>();
  auto summary = CreateDemo(options);
  if (!summary.ok()) return summary.status();
  int64_t total = 0;
  *a.out << "Created the demo in " << options.dir.string() << ":\n";
  for (const auto& [table, rows] : summary->rows_per_table) {
    *a.out << "  " << table << ": " << rows << " rows\n";
    total += rows;
  }
  *a.out << "  (" << total << " rows in " << summary->database.string() << ")\n"
         << "  logs/ and backups/: rotated logs and nightly backups, one a day for 200 days\n"
         << "  " << summary->state.string() << ": the demo's state database (legal holds, purge log)\n\n"
         << "Next:\n"
         << "  retention --config " << summary->config.string() << " check\n"
         << "  retention --config " << summary->config.string() << " plan\n"
         << "  retention --config " << summary->config.string() << " purge\n"
         << "  retention --config " << summary->config.string() << " audit verify\n";
  return Status::Ok();
}

}  // namespace retention
