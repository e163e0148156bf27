// Test-only fault points for the crash tests (SPEC 6.2).
//
// RETENTION_FAULT="NAME:N" makes the N-th arrival at FaultPoint("NAME")
// kill the process with SIGKILL, exactly as a power cut or the OOM killer
// would: no destructor, no flush, no handler runs. Unset (always, outside
// tests), a fault point costs one branch.
//
// RETENTION_PAUSE="NAME:N:FILE" makes the N-th arrival at FaultPoint("NAME")
// create FILE.reached and then wait until FILE exists, so that a test can
// act (remove a file, start a second process) at an exact moment of a run.
#pragma once

#include <string_view>

namespace retention {

void FaultPoint(std::string_view name);

}  // namespace retention
