// libFuzzer harness: one input is a config file (retention.toml). Loading
// never crashes, and a refusal is Invalid (exit 65) with a message that
// names the file (SPEC 6.12).
#include <cstddef>
#include <cstdint>

#include "cli/exit_codes.h"
#include "config/config.h"
#include "fuzz_util.h"

using namespace retention;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::fs::path file = fuzz::Scratch() / "retention.toml";
  fuzz::WriteFile(file, std::string_view(reinterpret_cast<const char*>(data), size));
  Result<Config> config = LoadConfig(file);
  if (config.ok()) return 0;
  if (config.status().code() != StatusCode::kInvalid)
    fuzz::Violated("config refused with exit " + std::to_string(ExitStatusOf(config.status())) +
                   " instead of 65: " + config.status().message());
  if (config.status().message().rfind(file.string(), 0) != 0)
    fuzz::Violated("config refused without naming the file: " + config.status().message());
  return 0;
}
