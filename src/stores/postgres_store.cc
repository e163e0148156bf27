#include "stores/postgres_store.h"

namespace retention {

// CONTRACT-STUB: the PostgreSQL store (issue 14) is built on a branch.
Result<std::unique_ptr<Store>> OpenPostgresStore(const StoreConfig& config, bool /*read_only*/) {
  return Status::Unavailable("store '" + config.name + "': the PostgreSQL store is not built yet");
}

}  // namespace retention
