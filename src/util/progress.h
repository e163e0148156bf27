// Progress of long work (SPEC 5: "Long work shows progress on a terminal
// and periodic log lines otherwise").
//   terminal: a status line under the log, redrawn at most 5 times a second:
//     purge [########............]  41%  12000/29000  3400/s  ETA 0:05  sessions/sessions
//   otherwise: an info log line every `log_every` (default 10 s):
//     progress: 12000 of 29000 deleted (41%), 3400/s, ETA 0:05
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace retention {

class ProgressMeter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `total` may be 0 (unknown): no percentage or ETA then.
  ProgressMeter(std::string label, int64_t total, bool terminal,
                std::chrono::seconds log_every = std::chrono::seconds(10), Clock clock = {});
  ~ProgressMeter();  // clears the status line
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  // `done` so far; `what` names the current piece (a target).
  void Update(int64_t done, const std::string& what);
  void Finish();

  // For tests: the text of the last terminal line or log line.
  const std::string& last_line() const { return last_line_; }

  // "1:02:03" / "4:05"; "?" when unknown.
  static std::string FormatEta(double seconds);

 private:
  std::chrono::steady_clock::time_point Now() const;
  std::string Describe(int64_t done, double rate, bool bar) const;

  std::string label_;
  int64_t total_;
  bool terminal_;
  std::chrono::seconds log_every_;
  Clock clock_;
  std::chrono::steady_clock::time_point started_, last_draw_;
  bool drawn_ = false;
  bool finished_ = false;
  std::string last_line_;
};

}  // namespace retention
