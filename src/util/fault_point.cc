#include "util/fault_point.h"

#include <signal.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

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

struct PauseSpec {
  std::string name;
  long countdown = 0;  // 0: disabled
  std::string file;
};

PauseSpec& Pause() {
  static PauseSpec spec = [] {
    PauseSpec s;
    const char* env = std::getenv("RETENTION_PAUSE");
    if (!env) return s;
    std::string value(env);
    const auto first = value.find(':');
    if (first == std::string::npos) return s;
    const auto second = value.find(':', first + 1);
    if (second == std::string::npos) return s;
    s.name = value.substr(0, first);
    s.countdown = std::strtol(value.c_str() + first + 1, nullptr, 10);
    s.file = value.substr(second + 1);
    return s;
  }();
  return spec;
}

void PauseHere(const PauseSpec& spec) {
  const std::string reached = spec.file + ".reached";
  const int fd = ::open(reached.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  while (::access(spec.file.c_str(), F_OK) != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace

void FaultPoint(std::string_view name) {
  FaultSpec& spec = Spec();
  if (spec.countdown > 0 && name == spec.name && --spec.countdown == 0) ::kill(::getpid(), SIGKILL);
  PauseSpec& pause = Pause();
  if (pause.countdown > 0 && name == pause.name && --pause.countdown == 0) PauseHere(pause);
}

}  // namespace retention
