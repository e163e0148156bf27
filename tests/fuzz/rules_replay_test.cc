// The rules fuzzer's corpus and fixed crashes, replayed (see replay.h).
#define LLVMFuzzerTestOneInput Retention_rules_FuzzOne
#include "../../fuzz/rules_fuzz.cc"
#undef LLVMFuzzerTestOneInput

#include "fuzz/replay.h"

TEST_CASE("fuzz inputs replay without a crash: rule files", "[fuzz]") {
  CHECK(retention::fuzz_replay::Replay("rules", Retention_rules_FuzzOne) >= 5);
}
