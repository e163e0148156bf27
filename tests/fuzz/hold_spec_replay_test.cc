// The hold_spec fuzzer's corpus and fixed crashes, replayed (see replay.h).
#define LLVMFuzzerTestOneInput Retention_hold_spec_FuzzOne
#include "../../fuzz/hold_spec_fuzz.cc"
#undef LLVMFuzzerTestOneInput

#include "fuzz/replay.h"

TEST_CASE("fuzz inputs replay without a crash: hold specs", "[fuzz]") {
  CHECK(retention::fuzz_replay::Replay("hold_spec", Retention_hold_spec_FuzzOne) >= 5);
}
