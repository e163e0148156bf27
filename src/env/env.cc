#include "env/env.h"

namespace retention {

Env Env::Default() {
  Env env;
  env.clock = SystemNow;
  env.state_opener = [](const Config& config, StateOpenMode mode, const Clock& clock) {
    return OpenStateDb(config, mode, clock);
  };
  env.locks_opener = OpenStateLocks;
  env.file_system = files::PosixFileSystem();
  return env;
}

}  // namespace retention
