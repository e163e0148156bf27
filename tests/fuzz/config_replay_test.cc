// The config fuzzer's corpus and fixed crashes, replayed (see replay.h).
#define LLVMFuzzerTestOneInput Retention_config_FuzzOne
#include "../../fuzz/config_fuzz.cc"
#undef LLVMFuzzerTestOneInput

#include "fuzz/replay.h"

TEST_CASE("fuzz inputs replay without a crash: config files", "[fuzz]") {
  CHECK(retention::fuzz_replay::Replay("config", Retention_config_FuzzOne) >= 5);
}
