// Loading the rules: every *.toml file of the rules directories, merged by
// name (rules/rule_overlay.h) and read in name order, each holding one or
// more categories (format in rule.h).
//
// Validation that needs no live store happens here: durations, the floor
// not longer than the schedule, the store exists and the target's fields
// fit its type, filters are well-formed, subject kinds are named. Checks
// against the live schema are `retention check`'s (check/).
#pragma once

#include <filesystem>
#include <string>

#include "config/config.h"
#include "rules/rule.h"
#include "util/status.h"

namespace retention {

// Backup and editor leftovers that are never read as rules: dot files,
// "*~", "*.bak", "*.dpkg-old" and other "*.dpkg-*", "*.rpmnew"/"*.rpmsave",
// "*.swp". Only "*.toml" files are read at all.
bool IsIgnoredRuleFile(const std::string& file_name);

Result<RuleSet> LoadRules(const Config& config);

// Loads a single rule file's categories into `out` (exposed for tests).
Status LoadRuleFile(const Config& config, const std::filesystem::path& file, RuleSet* out);

}  // namespace retention
