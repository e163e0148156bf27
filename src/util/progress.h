// Progress of long work (SPEC 5: "Long work shows progress on a terminal
// and periodic log lines otherwise").
//   terminal: a status line under the log, redrawn at most 5 times a second:
//     purge [########............]  41%  12000/29000  3400/s  ETA 0:05  sessions/sessions
//   otherwise: an info log line every `log_every` (default 10 s):
//     purge progress: 12000 of 29000 (41%), 3400/s, ETA 0:05 (sessions/sessions)
// On a terminal the line follows the work: a new piece (`what`) is drawn at
// once, whatever the 5-a-second limit. Finish draws the last state and keeps
// it above the output, so a run that did everything ends at 100% and one that
// did less says how far it got and why. With no total known (0) there is no
// bar, percentage or ETA, only the count and the rate.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
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
  // The end: on a terminal where the meter was drawn, its last state
  // (`done`, then `note`, e.g. why it stops short of the total) stays as a
  // line of its own; off a terminal nothing more is logged (the caller logs
  // the result). Once; later calls and the destructor do nothing.
  void Finish(int64_t done, const std::string& note);
  // The end without a last state (an error): clears the terminal line.
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
  std::string last_what_;
};

// Whether work someone waits on shows a bar: stderr is a terminal and info
// lines are shown (not --quiet). The bar is drawn on stderr only: stdout
// (a table, JSON) is untouched.
bool ProgressOnTerminal();

// A terminal meter (plan, status, audit reads) when ProgressOnTerminal(),
// else null.
std::unique_ptr<ProgressMeter> TerminalMeter(std::string label, int64_t total);

}  // namespace retention
