// Installs the engine's logger for `target` for one test, at info level,
// and puts the plain one back at the test runner's level after.
#pragma once

#include <memory>

#include <spdlog/spdlog.h>

#include "util/logging.h"

namespace retention::test {

class ScopedLogger {
 public:
  explicit ScopedLogger(LogTarget target, std::unique_ptr<JournalWriter> journal = nullptr)
      : level_(spdlog::get_level()) {
    SetUpLogger(target, std::move(journal))->set_level(spdlog::level::info);
  }
  ~ScopedLogger() { SetUpLogger(LogTarget::kPlain)->set_level(level_); }
  ScopedLogger(const ScopedLogger&) = delete;
  ScopedLogger& operator=(const ScopedLogger&) = delete;

 private:
  spdlog::level::level_enum level_;
};

}  // namespace retention::test
