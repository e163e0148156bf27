#include "stores/store_set.h"

namespace retention {

Result<Store*> StoreSet::Get(const std::string& name) {
  if (auto it = open_.find(name); it != open_.end()) return it->second.get();
  auto config = config_.stores.find(name);
  if (config == config_.stores.end()) return Status::Invalid("unknown store '" + name + "'");
  auto store = OpenStore(config->second, read_only_, fs_);
  if (!store.ok()) return store.status();
  Store* raw = store->get();
  open_.emplace(name, std::move(*store));
  return raw;
}

}  // namespace retention
