// Log events as native journal entries (issue 18, retention(8) JOURNAL).
// One event is one entry, whatever newlines its message holds:
//   MESSAGE=<the text, secrets redacted>
//   PRIORITY=<syslog priority: 2 crit, 3 err, 4 warning, 6 info, 7 debug>
//   SYSLOG_IDENTIFIER=retention
//   then the fields of the scopes in force (util/log_context.h):
//   RETENTION_RUN, RETENTION_CATEGORY, RETENTION_TARGET, MESSAGE_ID.
// When stderr is the journal stream but the native socket cannot be used,
// every line of the text goes to the stream with its own "<N>" prefix:
// the stream makes each line an entry, and a line without the prefix
// would be filed at the stream's default level.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>

#include "util/log_context.h"

namespace retention {

// The MESSAGE_IDs of the events an operator looks up (`journalctl
// MESSAGE_ID=...`); fixed forever, listed in retention(8), JOURNAL.
inline constexpr char kMessageIdRunStart[] = "c55e9a8b1d60437c8312e62cf2833d32";
inline constexpr char kMessageIdRunEnd[] = "5c2863234d2b445eacc039cdc5d805b2";
inline constexpr char kMessageIdRefusal[] = "a920dec3976b49c084a918645e94da86";

// Syslog priority of an spdlog level.
int SyslogPriority(spdlog::level::level_enum level);

// The fields of one entry: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, then
// `context` (which cannot replace those three).
std::vector<LogField> JournalEntry(spdlog::level::level_enum level, std::string_view message,
                                   const std::vector<LogField>& context);

// "<N>line\n" for every line of `text` (the stream fallback).
std::string PrefixEveryLine(int priority, std::string_view text);

// Where entries go. Send returns 0, or -errno when the entry was not
// taken (the caller then writes it to the stream instead).
class JournalWriter {
 public:
  virtual ~JournalWriter() = default;
  virtual int Send(const std::vector<LogField>& entry) = 0;
};

// journald's native socket through sd_journal_sendv(3). Null when
// /run/systemd/journal/socket is not a socket (no journald in this mount
// namespace): sd_journal_sendv would drop entries silently then.
std::unique_ptr<JournalWriter> OpenSystemJournal();

}  // namespace retention
