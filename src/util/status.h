// Status and Result<T>: expected failures as values (STYLE.md, "Errors").
//
// A Status carries the exit code of SPEC section 5 it maps to, so the error
// a module reports is the exit code the command ends with; no table in main
// has to guess. Exceptions from third-party libraries are caught at the
// adapter that called them and turned into a Status.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace retention {

// Exit codes of SPEC section 5 (sysexits.h values).
enum class ExitCode : int {
  kOk = 0,
  kUsage = 64,        // EX_USAGE: bad command line
  kInvalid = 65,      // EX_DATAERR: invalid config, rules or hold spec
  kUnavailable = 69,  // EX_UNAVAILABLE: a store cannot be reached
  kIoError = 74,      // EX_IOERR: I/O error during deletion
  kTempFail = 75,     // EX_TEMPFAIL: lock held, or stopped early with work left
  kSafetyValve = 76,  // refused: would delete too much
  kClockSanity = 77,  // refused: the clock moved backwards or jumped
  kAuditFailed = 78,  // the ledger does not verify
  kSoftware = 70,     // EX_SOFTWARE: internal error (a bug)
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status Usage(std::string m) { return Status(ExitCode::kUsage, std::move(m)); }
  static Status Invalid(std::string m) { return Status(ExitCode::kInvalid, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(ExitCode::kUnavailable, std::move(m)); }
  static Status IoError(std::string m) { return Status(ExitCode::kIoError, std::move(m)); }
  static Status TempFail(std::string m) { return Status(ExitCode::kTempFail, std::move(m)); }
  static Status SafetyValve(std::string m) { return Status(ExitCode::kSafetyValve, std::move(m)); }
  static Status ClockSanity(std::string m) { return Status(ExitCode::kClockSanity, std::move(m)); }
  static Status AuditFailed(std::string m) { return Status(ExitCode::kAuditFailed, std::move(m)); }
  static Status Internal(std::string m) { return Status(ExitCode::kSoftware, std::move(m)); }

  bool ok() const { return code_ == ExitCode::kOk; }
  ExitCode code() const { return code_; }
  int exit_code() const { return static_cast<int>(code_); }
  const std::string& message() const { return message_; }

  // Same code, message prefixed with context ("store app: ...").
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  Status(ExitCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ExitCode code_ = ExitCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_ = Status::Internal("result has no value");
};

}  // namespace retention

// Early return on error, in the style of leveldb's/abseil's RETURN_IF_ERROR.
#define RETENTION_RETURN_IF_ERROR(expr)       \
  do {                                        \
    ::retention::Status _st = (expr);         \
    if (!_st.ok()) return _st;                \
  } while (0)
