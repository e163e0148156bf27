// Verify's fast path over batch payloads (ledger/batch_entry.h).
//
// `audit verify` must read a ledger at >= 10M records/s with flat memory:
// it needs to know that a payload follows the layout and how many records
// it holds (to check a settlement's indexes), not the records themselves.
// CountBatchRecords walks the same layout as DecodeBatchPayload, with the
// same refusals, but keeps only the length of each column's previous value.
#pragma once

#include <cstddef>
#include <string_view>

#include "util/status.h"

namespace retention {

// The number of records in payload bytes; AuditFailed exactly when
// DecodeBatchPayload would refuse them.
Result<size_t> CountBatchRecords(std::string_view bytes);

}  // namespace retention
