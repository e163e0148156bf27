// The ledger_verify fuzzer's corpus and fixed crashes, replayed (see replay.h).
#define LLVMFuzzerTestOneInput Retention_ledger_verify_FuzzOne
#include "../../fuzz/ledger_verify_fuzz.cc"
#undef LLVMFuzzerTestOneInput

#include "fuzz/replay.h"

TEST_CASE("fuzz inputs replay without a crash: tampered ledgers", "[fuzz]") {
  CHECK(retention::fuzz_replay::Replay("ledger_verify", Retention_ledger_verify_FuzzOne) >= 5);
}
