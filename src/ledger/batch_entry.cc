#include "ledger/batch_entry.h"

namespace retention {

// CONTRACT-STUB: the ledger-format engineer replaces this file.
Result<std::string> EncodeBatchPayload(const BatchPayload&) { return Status::Internal("CONTRACT-STUB: not yet built"); }
Result<BatchPayload> DecodeBatchPayload(std::string_view) { return Status::Internal("CONTRACT-STUB: not yet built"); }
BatchKeyRange KeyRangeOf(const BatchPayload&) { return {}; }
nlohmann::json SettlementsJson(const std::vector<Settlement>&) { return nlohmann::json::array(); }
Result<std::vector<Settlement>> SettlementsOf(std::string_view) { return Status::Internal("CONTRACT-STUB: not yet built"); }

}  // namespace retention
