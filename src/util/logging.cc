#include "util/logging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <regex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "util/log_context.h"

namespace retention {

namespace {

LogTarget g_target = LogTarget::kPlain;

const char* LevelColour(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical: return "\033[1;41m";
    case spdlog::level::err: return "\033[1;31m";
    case spdlog::level::warn: return "\033[1;33m";
    case spdlog::level::info: return "\033[32m";
    default: return "\033[36m";
  }
}

// Writes an event as one journal entry (kJournal with a journal) or to
// stderr with one write (no interleaving of two events on the journal
// stream), and keeps a terminal status line below the log. Formatting is done here, not by a pattern, since the three targets
// differ in more than the pattern (prefix per line, redaction).
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  StderrSink(LogTarget target, std::unique_ptr<JournalWriter> journal)
      : target_(target), journal_(std::move(journal)) {}

  void SetStatus(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    if (!status_.empty()) out += "\r\033[K";
    status_ = line;
    out += status_;
    Write(out);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text = RedactSecrets(std::string(msg.payload.data(), msg.payload.size()));
    const std::string level(spdlog::level::to_string_view(msg.level).data(),
                            spdlog::level::to_string_view(msg.level).size());
    std::string out;
    if (target_ == LogTarget::kJournal) {
      // One event, one entry, with the scope's fields; an entry journald
      // did not take still reaches the stream.
      if (journal_ && journal_->Send(JournalEntry(msg.level, text, CurrentLogFields())) == 0) return;
      out = PrefixEveryLine(SyslogPriority(msg.level), text);
    } else if (target_ == LogTarget::kTerminal) {
      if (!status_.empty()) out += "\r\033[K";
      out += std::string(LevelColour(msg.level)) + level + "\033[0m: " + text + "\n";
      out += status_;
    } else {
      out = level + ": " + text + "\n";
    }
    Write(out);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  static void Write(const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      ssize_t n = ::write(STDERR_FILENO, s.data() + done, s.size() - done);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return;  // nowhere left to report a failing stderr
      }
      done += static_cast<size_t>(n);
    }
  }

  LogTarget target_;
  std::unique_ptr<JournalWriter> journal_;  // kJournal only; null: the stream
  std::string status_;
};

std::shared_ptr<StderrSink> g_sink;

}  // namespace

LogTarget DetectLogTarget() {
  if (const char* js = std::getenv("JOURNAL_STREAM"); js && *js) {
    unsigned long long dev = 0, ino = 0;
    struct stat st {};
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) == 2 && ::fstat(STDERR_FILENO, &st) == 0 &&
        static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino)
      return LogTarget::kJournal;
  }
  if (::isatty(STDERR_FILENO)) {
    const char* term = std::getenv("TERM");
    if (!(term && std::string(term) == "dumb")) return LogTarget::kTerminal;
  }
  return LogTarget::kPlain;
}

std::shared_ptr<spdlog::logger> SetUpLogger(LogTarget target) {
  return SetUpLogger(target, target == LogTarget::kJournal ? OpenSystemJournal() : nullptr);
}

std::shared_ptr<spdlog::logger> SetUpLogger(LogTarget target, std::unique_ptr<JournalWriter> journal) {
  g_target = target;
  g_sink = std::make_shared<StderrSink>(target, std::move(journal));
  spdlog::drop("retention");
  auto logger = std::make_shared<spdlog::logger>("retention", g_sink);
  spdlog::register_logger(logger);
  spdlog::set_default_logger(logger);
  return logger;
}

LogTarget CurrentLogTarget() { return g_target; }

void LogEvent(spdlog::level::level_enum level, const char* message_id, const std::string& text) {
  ScopedLogField id(kLogFieldMessageId, message_id);
  spdlog::log(level, "{}", text);
}

void LogCommandError(spdlog::level::level_enum level, const std::string& text) {
  if (!g_sink) return;
  ScopedLogField id(kLogFieldMessageId, kMessageIdRefusal);
  // To the sink itself: past the logger's level.
  g_sink->log(spdlog::details::log_msg("retention", level, text));
}

std::string RedactSecrets(std::string text) {
  // Fast path: nothing that looks like a secret.
  if (text.find("pass") == std::string::npos && text.find("PASS") == std::string::npos &&
      text.find('@') == std::string::npos)
    return text;
  static const std::regex kKeyword(R"(((?:password|passwd|pwd|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;,]+))",
                                   std::regex::icase);
  static const std::regex kUrl(R"(([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^@\s/]*@)");
  text = std::regex_replace(text, kKeyword, "$1***");
  text = std::regex_replace(text, kUrl, "$1***@");
  return text;
}

void SetStatusLine(const std::string& line) {
  if (g_target != LogTarget::kTerminal || !g_sink) return;
  g_sink->SetStatus(line);
}

}  // namespace retention
