#include "cli/exit_codes.h"

namespace retention {

ExitCode ExitCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return ExitCode::kOk;
    case StatusCode::kUsage: return ExitCode::kUsage;
    case StatusCode::kInvalid: return ExitCode::kInvalid;
    case StatusCode::kUnavailable: return ExitCode::kUnavailable;
    case StatusCode::kIoError: return ExitCode::kIoError;
    case StatusCode::kBusy:
    case StatusCode::kStopped:
    case StatusCode::kOutOfCompliance: return ExitCode::kTempFail;
    case StatusCode::kSafetyValve: return ExitCode::kSafetyValve;
    case StatusCode::kClockSanity: return ExitCode::kClockSanity;
    case StatusCode::kAuditFailed: return ExitCode::kAuditFailed;
    case StatusCode::kInternal: return ExitCode::kSoftware;
  }
  return ExitCode::kSoftware;
}

int ExitStatusOf(const Status& status) { return static_cast<int>(ExitCodeFor(status.code())); }

bool IsRetryLater(StatusCode code) { return ExitCodeFor(code) == ExitCode::kTempFail; }

}  // namespace retention
