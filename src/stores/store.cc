#include "stores/store.h"

#include "stores/files_store.h"
#include "stores/postgres_store.h"
#include "stores/purge_log_store.h"
#include "stores/sqlite_store.h"

namespace retention {

const char* SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kUndeletable: return "undeletable";
    case SkipReason::kLocked: return "locked";
    case SkipReason::kChanged: return "changed";
  }
  return "changed";
}

Result<std::unique_ptr<Store>> OpenStore(const StoreConfig& config, bool read_only,
                                         std::shared_ptr<const files::FileSystem> fs) {
  switch (config.type) {
    case StoreType::kSqlite: return OpenSqliteStore(config, read_only);
    case StoreType::kFiles: return OpenFilesStore(config, read_only, std::move(fs));
    case StoreType::kPurgeLog: return OpenPurgeLogStore(config);
    case StoreType::kPostgres: return OpenPostgresStore(config, read_only);
  }
  return Status::Invalid("store '" + config.name + "': type " + std::string(StoreTypeName(config.type)) +
                         " is not supported by this version");
}

}  // namespace retention
