// The effective rule files of the config's rules directories, merged the
// way systemd-tmpfiles merges tmpfiles.d (SPEC 3, "Rules overlay"):
//
//   rules = ["/usr/share/retention/rules.d", "/etc/retention/rules.d"]
//
// Files are matched by name across the directories. A file in a later
// directory replaces the file of the same name in an earlier one; a symlink
// to /dev/null there masks it (the name then has no file at all). The
// effective set is ordered by file name, whichever directory each file comes
// from. `rules = "DIR"` is the overlay of one directory: the files of DIR.
//
// Names that are never rules (rule_loader.h, IsIgnoredRuleFile) are skipped
// before anything else, so "support.toml~" neither overrides nor masks. The
// first directory must exist; a later one that does not is empty (the
// admin's /etc/retention/rules.d before anything was put there). Entries
// that are not regular files (a directory named "x.toml") are skipped, as
// they always were. A broken symlink is an error naming it: the admin meant
// it to replace or mask a file, and skipping it would let the shipped file
// of that name delete by a rule they replaced.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/status.h"

namespace retention {

struct RuleFileOrigin {
  std::string name;                                    // "support.toml"
  std::filesystem::path path;                          // the file read; empty when masked
  std::vector<std::filesystem::path> overridden;       // same-named files it replaces, earlier first
  std::optional<std::filesystem::path> masked_by;      // the /dev/null symlink that masks the name
  bool masked() const { return masked_by.has_value(); }
};

struct RuleOverlay {
  std::vector<std::filesystem::path> dirs;  // as the config lists them, lowest priority first
  std::vector<RuleFileOrigin> files;        // by name; masked names included
};

// The rules directories of a config, lowest priority first.
std::vector<std::filesystem::path> RulesDirs(const Config& config);

Result<RuleOverlay> ResolveRuleOverlay(const Config& config);

// SHA-256 over the effective files' names and bytes, in name order (masked
// names leave no trace: masking a file changes the hash as removing it
// would). For one directory it is the hash the rules always had.
Result<std::string> EffectiveRulesHash(const RuleOverlay& overlay);

}  // namespace retention
