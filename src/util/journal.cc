#include "util/journal.h"

#include <sys/stat.h>
#include <sys/uio.h>

// Without it sd_journal_sendv, a macro, adds CODE_FILE/CODE_LINE/CODE_FUNC
// of its caller: always Send below, which tells a reader nothing.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

namespace retention {

int SyslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical: return 2;
    case spdlog::level::err: return 3;
    case spdlog::level::warn: return 4;
    case spdlog::level::info: return 6;
    default: return 7;
  }
}

std::vector<LogField> JournalEntry(spdlog::level::level_enum level, std::string_view message,
                                   const std::vector<LogField>& context) {
  std::vector<LogField> entry{{"MESSAGE", std::string(message)},
                              {"PRIORITY", std::to_string(SyslogPriority(level))},
                              {"SYSLOG_IDENTIFIER", "retention"}};
  for (const LogField& f : context)
    if (f.name != "MESSAGE" && f.name != "PRIORITY" && f.name != "SYSLOG_IDENTIFIER") entry.push_back(f);
  return entry;
}

std::string PrefixEveryLine(int priority, std::string_view text) {
  const std::string prefix = "<" + std::to_string(priority) + ">";
  std::string out;
  size_t start = 0;
  while (true) {
    size_t end = text.find('\n', start);
    std::string_view line = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += prefix;
    out += line;
    out += '\n';
    if (end == std::string_view::npos || end + 1 == text.size()) break;
    start = end + 1;
  }
  return out;
}

namespace {

class SystemJournal final : public JournalWriter {
 public:
  int Send(const std::vector<LogField>& entry) override {
    // sd_journal_sendv sends a value holding newlines in the protocol's
    // binary form: a multi-line message stays one entry.
    std::vector<std::string> items;
    items.reserve(entry.size());
    for (const LogField& f : entry) items.push_back(f.name + "=" + f.value);
    std::vector<iovec> iov;
    iov.reserve(items.size());
    for (std::string& s : items) iov.push_back({s.data(), s.size()});
    return sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
  }
};

}  // namespace

std::unique_ptr<JournalWriter> OpenSystemJournal() {
  struct stat st {};
  if (::stat("/run/systemd/journal/socket", &st) != 0 || !S_ISSOCK(st.st_mode)) return nullptr;
  return std::make_unique<SystemJournal>();
}

}  // namespace retention
