// The moment fuzzer's corpus and fixed crashes, replayed (see replay.h).
#define LLVMFuzzerTestOneInput Retention_moment_FuzzOne
#include "../../fuzz/moment_fuzz.cc"
#undef LLVMFuzzerTestOneInput

#include "fuzz/replay.h"

TEST_CASE("fuzz inputs replay without a crash: moments and durations", "[fuzz]") {
  CHECK(retention::fuzz_replay::Replay("moment", Retention_moment_FuzzOne) >= 5);
}
