// The batch_payload fuzzer's corpus and fixed crashes, replayed (see replay.h).
#define LLVMFuzzerTestOneInput Retention_batch_payload_FuzzOne
#include "../../fuzz/batch_payload_fuzz.cc"
#undef LLVMFuzzerTestOneInput

#include "fuzz/replay.h"

TEST_CASE("fuzz inputs replay without a crash: batch entry payloads", "[fuzz]") {
  CHECK(retention::fuzz_replay::Replay("batch_payload", Retention_batch_payload_FuzzOne) >= 6);
}
