// The exit codes of SPEC section 5, chosen from a Status's domain code.
//
// This is the only place that knows the numbers: modules report what went
// wrong (util/status.h), the command line decides how the process exits.
#pragma once

#include "util/status.h"

namespace retention {

// Exit codes of SPEC section 5 (sysexits.h values where one fits).
enum class ExitCode : int {
  kOk = 0,
  kUsage = 64,        // EX_USAGE: bad command line
  kInvalid = 65,      // EX_DATAERR: invalid config, rules or hold spec
  kUnavailable = 69,  // EX_UNAVAILABLE: a store cannot be reached
  kSoftware = 70,     // EX_SOFTWARE: internal error (a bug)
  kIoError = 74,      // EX_IOERR: I/O error during deletion
  kTempFail = 75,     // EX_TEMPFAIL: lock held, or stopped early with work left
  kSafetyValve = 76,  // refused: would delete too much
  kClockSanity = 77,  // refused: the clock moved backwards or jumped
  kAuditFailed = 78,  // the ledger does not verify
};

// The exit code a command whose result is `code` ends with.
ExitCode ExitCodeFor(StatusCode code);

// The same, as the process's exit status (0 for an ok Status).
int ExitStatusOf(const Status& status);

// Whether a failure with `code` is reported as a warning rather than an
// error (journal priority): the run did what it could and will be retried
// (a lock held, stopped early with work left, out of compliance).
bool IsRetryLater(StatusCode code);

}  // namespace retention
