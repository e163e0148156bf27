// How much of a randomized sweep a build runs.
//
// The plain build runs every sweep in full. Under the sanitizers (scripts/
// test-sanitized.sh) each trial costs three to four times as much, and
// what that build looks for is a memory error or undefined behaviour on a
// path, which the first few trials of a sweep reach as well as all of
// them: it runs a quarter. The seeds are the same, so a sanitized run's
// trials are the plain run's first ones. A sweep's own guard that it
// reached both outcomes often enough divides its bound by kSweepDivisor.
#pragma once

#include <algorithm>

namespace retention::testing {

#ifdef RETENTION_SANITIZED
inline constexpr int kSweepDivisor = 4;
#else
inline constexpr int kSweepDivisor = 1;
#endif

// The number of trials (or seeds) to run out of `full`: at least one.
inline constexpr int TrialsForBuild(int full) { return std::max(1, full / kSweepDivisor); }

// A sweep bounded by time rather than count: its budget in this build.
inline constexpr double SecondsForBuild(double full) { return full / kSweepDivisor; }

}  // namespace retention::testing
