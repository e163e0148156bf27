// Status and Result<T>: expected failures as values (STYLE.md, "Errors").
//
// A Status carries a domain code: what went wrong (a usage error, invalid
// input, a store that cannot be reached, a lock held...), never how the
// process should exit. Modules compare these codes; the exit codes of SPEC
// section 5 are chosen from them in one place, cli/exit_codes.h.
// Exceptions from third-party libraries are caught at the adapter that
// called them and turned into a Status.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace retention {

// What went wrong.
enum class StatusCode {
  kOk,
  kUsage,            // the command line is wrong
  kInvalid,          // invalid config, rules, hold spec, saved plan or input
  kUnavailable,      // a store or the state database cannot be reached or opened
  kIoError,          // an I/O error while reading or deleting
  kBusy,             // a lock (run lock, hold barrier, database) is held by someone else
  kStopped,          // the run stopped early (max runtime, a signal) with work left
  kOutOfCompliance,  // `status --check`: something is overdue or the last run is stale
  kSafetyValve,      // refused: the run would delete too much
  kClockSanity,      // refused: the clock moved backwards or jumped
  kAuditFailed,      // the ledger does not verify
  kInternal,         // a bug: a precondition this code should have kept
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status Usage(std::string m) { return Status(StatusCode::kUsage, std::move(m)); }
  static Status Invalid(std::string m) { return Status(StatusCode::kInvalid, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(StatusCode::kUnavailable, std::move(m)); }
  static Status IoError(std::string m) { return Status(StatusCode::kIoError, std::move(m)); }
  static Status Busy(std::string m) { return Status(StatusCode::kBusy, std::move(m)); }
  static Status Stopped(std::string m) { return Status(StatusCode::kStopped, std::move(m)); }
  static Status OutOfCompliance(std::string m) { return Status(StatusCode::kOutOfCompliance, std::move(m)); }
  static Status SafetyValve(std::string m) { return Status(StatusCode::kSafetyValve, std::move(m)); }
  static Status ClockSanity(std::string m) { return Status(StatusCode::kClockSanity, std::move(m)); }
  static Status AuditFailed(std::string m) { return Status(StatusCode::kAuditFailed, std::move(m)); }
  static Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Same code, message prefixed with context ("store app: ...").
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
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
