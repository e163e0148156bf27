#include "util/fault_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace retention {

namespace {

struct FaultSpec {
  std::string name;
  long countdown = 0;  // 0: disabled
};

FaultSpec& Spec() {
  static FaultSpec spec = [] {
    FaultSpec s;
    const char* env = std::getenv("RETENTION_FAULT");
    if (!env) return s;
    std::string value(env);
    auto colon = value.rfind(':');
    if (colon == std::string::npos) return s;
    s.name = value.substr(0, colon);
    s.countdown = std::strtol(value.c_str() + colon + 1, nullptr, 10);
    return s;
  }();
  return spec;
}

}  // namespace

void FaultPoint(std::string_view name) {
  FaultSpec& spec = Spec();
  if (spec.countdown <= 0 || name != spec.name) return;
  if (--spec.countdown == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace retention
