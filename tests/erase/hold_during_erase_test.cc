// SPEC 4, for an erasure: a hold placed while `erase` runs binds it from
// the moment `hold add` returns (the scenario: purge/hold_during_run.h).
#include "purge/hold_during_run.h"

namespace retention {
namespace {

TEST_CASE("a hold placed while an erase runs protects what it covers from that moment", "[erase][holds][e2e]") {
  CheckHoldPlacedDuringRun({"erase", "--subject", "customer:1", "--request", "DSR-H"});
}

}  // namespace
}  // namespace retention
