#include "util/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "util/logging.h"

namespace retention {

ProgressMeter::ProgressMeter(std::string label, int64_t total, bool terminal, std::chrono::seconds log_every,
                             Clock clock)
    : label_(std::move(label)), total_(total), terminal_(terminal), log_every_(log_every), clock_(std::move(clock)) {
  started_ = last_draw_ = Now();
}

ProgressMeter::~ProgressMeter() { Finish(); }

std::chrono::steady_clock::time_point ProgressMeter::Now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

std::string ProgressMeter::FormatEta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long s = std::llround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

namespace {
std::string FormatRate(double rate) {
  if (rate <= 0) return "?";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", rate);
  return buf;
}
}  // namespace

std::string ProgressMeter::Describe(int64_t done, double rate, bool bar) const {
  char buf[256];
  if (total_ <= 0) {  // no total: a count and a rate, no claim of how far
    if (bar)
      std::snprintf(buf, sizeof buf, "%s  %lld done  %s/s", label_.c_str(), static_cast<long long>(done),
                    FormatRate(rate).c_str());
    else
      std::snprintf(buf, sizeof buf, "%s progress: %lld done, %s/s", label_.c_str(), static_cast<long long>(done),
                    FormatRate(rate).c_str());
    return buf;
  }
  const double fraction = total_ > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total_)) : 0;
  const double eta = rate > 0 && total_ > 0 ? static_cast<double>(std::max<int64_t>(0, total_ - done)) / rate : NAN;
  if (bar) {
    constexpr int kWidth = 20;
    std::string cells(kWidth, '.');
    std::fill_n(cells.begin(), static_cast<int>(fraction * kWidth), '#');
    std::snprintf(buf, sizeof buf, "%s [%s] %3d%%  %lld/%lld  %s/s  ETA %s", label_.c_str(), cells.c_str(),
                  static_cast<int>(fraction * 100), static_cast<long long>(done), static_cast<long long>(total_),
                  FormatRate(rate).c_str(), FormatEta(eta).c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%s progress: %lld of %lld (%d%%), %s/s, ETA %s", label_.c_str(),
                  static_cast<long long>(done), static_cast<long long>(total_), static_cast<int>(fraction * 100),
                  FormatRate(rate).c_str(), FormatEta(eta).c_str());
  }
  return buf;
}

void ProgressMeter::Update(int64_t done, const std::string& what) {
  const auto now = Now();
  const auto since_draw = now - last_draw_;
  // A new piece is drawn at once on a terminal: the line names what is
  // being worked on, not what was 200 ms ago.
  const bool moved_on = terminal_ && what != last_what_;
  if (finished_) return;
  if (!moved_on &&
      (terminal_ ? (drawn_ && since_draw < std::chrono::milliseconds(200)) : since_draw < log_every_))
    return;
  last_draw_ = now;
  last_what_ = what;
  const double elapsed = std::chrono::duration<double>(now - started_).count();
  // No rate (and no ETA) from less than a second of work.
  const double rate = elapsed >= 1.0 ? static_cast<double>(done) / elapsed : 0;
  last_line_ = Describe(done, rate, terminal_);
  if (!what.empty()) last_line_ += terminal_ ? "  " + what : " (" + what + ")";
  if (terminal_) {
    drawn_ = true;
    SetStatusLine(last_line_);
  } else {
    spdlog::info("{}", last_line_);
  }
}

void ProgressMeter::Finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_ && drawn_) SetStatusLine("");
}

void ProgressMeter::Finish(int64_t done, const std::string& note) {
  if (finished_) return;
  if (!terminal_ || !drawn_) {  // a quick run drew nothing: nothing to end
    finished_ = true;
    return;
  }
  const double elapsed = std::chrono::duration<double>(Now() - started_).count();
  const double rate = elapsed >= 1.0 ? static_cast<double>(done) / elapsed : 0;
  std::string line = Describe(done, rate, /*bar=*/true);
  // No ETA at the end: the work is over.
  if (const size_t eta = line.rfind("  ETA "); eta != std::string::npos) line.resize(eta);
  line += note.empty() ? "  done" : "  " + note;
  last_line_ = line;
  finished_ = true;
  SetStatusLine("");
  // Kept above what follows (the report on stdout): the end of the bar is
  // the answer to "did it get through?".
  if (CurrentLogTarget() == LogTarget::kTerminal) std::fprintf(stderr, "%s\n", line.c_str());
}

bool ProgressOnTerminal() {
  return CurrentLogTarget() == LogTarget::kTerminal && spdlog::should_log(spdlog::level::info);
}

std::unique_ptr<ProgressMeter> TerminalMeter(std::string label, int64_t total) {
  if (!ProgressOnTerminal()) return nullptr;
  return std::make_unique<ProgressMeter>(std::move(label), total, /*terminal=*/true);
}

}  // namespace retention
