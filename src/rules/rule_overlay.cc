#include "rules/rule_overlay.h"

#include <fstream>
#include <map>
#include <sstream>

#include "ledger/sha256.h"
#include "rules/rule_loader.h"

namespace retention {

namespace fs = std::filesystem;

namespace {

// One directory entry that takes part in the overlay: a rule file, or a
// mask (a symlink that resolves to /dev/null).
struct Entry {
  std::string name;
  fs::path path;
  bool mask = false;
};

Result<std::vector<Entry>> ListDirectory(const fs::path& dir, bool must_exist, const fs::path& config_file) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) {
    if (!must_exist) return std::vector<Entry>();
    return Status::Invalid(config_file.string() + ": rules directory " + dir.string() + " does not exist");
  }
  if (!fs::is_directory(st)) return Status::Invalid(dir.string() + ": a rules directory, but not a directory");
  std::vector<Entry> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (IsIgnoredRuleFile(name)) continue;
    std::error_code e;
    if (it->is_symlink(e)) {
      const fs::path resolved = fs::canonical(it->path(), e);
      if (e)
        return Status::Invalid(it->path().string() + ": a broken symlink (to " +
                               fs::read_symlink(it->path(), e).string() +
                               "); point it at a rule file, or at /dev/null to mask the rule file of that name");
      if (resolved == "/dev/null") {
        entries.push_back({name, it->path(), true});
        continue;
      }
    }
    // A directory named "*.toml" (or a socket, ...) is no rule file and
    // replaces none, as it never was one.
    if (it->is_regular_file(e)) entries.push_back({name, it->path(), false});
  }
  if (ec) return Status::Invalid(dir.string() + ": cannot list: " + ec.message());
  return entries;
}

Result<std::string> ReadAll(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Invalid(file.string() + ": cannot read");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Status::Invalid(file.string() + ": cannot read");
  return bytes.str();
}

}  // namespace

std::vector<fs::path> RulesDirs(const Config& config) {
  std::vector<fs::path> dirs{config.rules_dir};
  dirs.insert(dirs.end(), config.rules_overlay_dirs.begin(), config.rules_overlay_dirs.end());
  return dirs;
}

Result<RuleOverlay> ResolveRuleOverlay(const Config& config) {
  RuleOverlay overlay;
  overlay.dirs = RulesDirs(config);
  // By name (std::map: byte order, as the single directory was sorted).
  std::map<std::string, RuleFileOrigin> by_name;
  for (size_t i = 0; i < overlay.dirs.size(); ++i) {
    auto entries = ListDirectory(overlay.dirs[i], i == 0, config.file);
    if (!entries.ok()) return entries.status();
    for (const Entry& e : *entries) {
      RuleFileOrigin& f = by_name[e.name];
      f.name = e.name;
      if (!f.path.empty()) f.overridden.push_back(f.path);
      if (e.mask) {
        f.path.clear();
        f.masked_by = e.path;
      } else {
        f.path = e.path;
        f.masked_by.reset();
      }
    }
  }
  for (auto& [name, f] : by_name) overlay.files.push_back(std::move(f));
  return overlay;
}

Result<std::string> EffectiveRulesHash(const RuleOverlay& overlay) {
  Sha256 hash;
  for (const RuleFileOrigin& f : overlay.files) {
    if (f.masked()) continue;
    auto bytes = ReadAll(f.path);
    if (!bytes.ok()) return bytes.status();
    hash.Update(f.name);
    hash.Update(std::string_view("\0", 1));
    hash.Update(*bytes);
  }
  return hash.FinalHex();
}

}  // namespace retention
