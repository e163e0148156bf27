// The stores of a config, opened on first use and kept for the command.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "stores/store.h"

namespace retention {

class StoreSet {
 public:
  StoreSet(const Config& config, bool read_only) : config_(config), read_only_(read_only) {}

  // The opened store, or Unavailable naming it.
  Result<Store*> Get(const std::string& name);

  bool read_only() const { return read_only_; }

 private:
  const Config& config_;
  bool read_only_;
  std::map<std::string, std::unique_ptr<Store>> open_;
};

}  // namespace retention
