// The saved_plan fuzzer's corpus and fixed crashes, replayed (see replay.h).
#define LLVMFuzzerTestOneInput Retention_saved_plan_FuzzOne
#include "../../fuzz/saved_plan_fuzz.cc"
#undef LLVMFuzzerTestOneInput

#include "fuzz/replay.h"

TEST_CASE("fuzz inputs replay without a crash: saved plans", "[fuzz]") {
  CHECK(retention::fuzz_replay::Replay("saved_plan", Retention_saved_plan_FuzzOne) >= 5);
}
