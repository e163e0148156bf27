// libFuzzer harness: one input is a rule file, loaded as the only file of
// the rules directory of a fixed config (an SQLite store "app", files
// stores "logs" and "backups", and the purge log, as the shipped rules
// expect). Loading never crashes, and a refusal is Invalid (exit 65) with a
// message that names the file (SPEC 6.12).
#include <cstddef>
#include <cstdint>

#include "cli/exit_codes.h"
#include "config/config.h"
#include "fuzz_util.h"
#include "rules/rule_loader.h"

using namespace retention;

namespace {

const Config& FixedConfig() {
  static const Config config = [] {
    const fuzz::ScratchDir& dir = fuzz::Scratch();
    fuzz::fs::create_directories(dir / "rules");
    fuzz::fs::create_directories(dir / "logs");
    fuzz::fs::create_directories(dir / "backups");
    fuzz::WriteFile(dir / "retention.toml",
                    "rules = \"rules\"\n"
                    "state = \"state.db\"\n"
                    "[stores.app]\ntype = \"sqlite\"\npath = \"app.db\"\n"
                    "[stores.logs]\ntype = \"files\"\nroot = \"logs\"\n"
                    "[stores.backups]\ntype = \"files\"\nroot = \"backups\"\n");
    Result<Config> c = LoadConfig(dir / "retention.toml");
    if (!c.ok()) fuzz::Violated("the harness's own config does not load: " + c.status().message());
    return *c;
  }();
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Config& config = FixedConfig();
  const fuzz::fs::path file = config.rules_dir / "fuzz.toml";
  fuzz::WriteFile(file, std::string_view(reinterpret_cast<const char*>(data), size));
  Result<RuleSet> rules = LoadRules(config);
  if (rules.ok()) return 0;
  if (rules.status().code() != StatusCode::kInvalid)
    fuzz::Violated("rules refused with exit " + std::to_string(ExitStatusOf(rules.status())) +
                   " instead of 65: " + rules.status().message());
  if (rules.status().message().find(file.string()) == std::string::npos)
    fuzz::Violated("rules refused without naming the file: " + rules.status().message());
  return 0;
}
