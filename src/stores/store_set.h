// The stores of a config, opened on first use and kept for the command.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "stores/file_system.h"
#include "stores/store.h"

namespace retention {

class StoreSet {
 public:
  // `fs` is what files stores make their calls through (Env::file_system).
  StoreSet(const Config& config, bool read_only, std::shared_ptr<const files::FileSystem> fs)
      : config_(config), read_only_(read_only), fs_(std::move(fs)) {}

  // The opened store, or Unavailable naming it.
  Result<Store*> Get(const std::string& name);

 private:
  const Config& config_;
  bool read_only_;
  std::shared_ptr<const files::FileSystem> fs_;
  std::map<std::string, std::unique_ptr<Store>> open_;
};

}  // namespace retention
