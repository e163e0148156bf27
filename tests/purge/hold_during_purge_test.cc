// SPEC 4: a hold placed while a purge runs binds it from the moment
// `hold add` returns (the scenario: purge/hold_during_run.h).
#include "purge/hold_during_run.h"

namespace retention {
namespace {

TEST_CASE("a hold placed while a purge runs protects what it covers from that moment", "[purge][holds][e2e]") {
  CheckHoldPlacedDuringRun({"purge"});
}

}  // namespace
}  // namespace retention
