// Log output for the three places retention runs (SPEC 2, issue 6):
//   - under systemd (stderr is the journal stream named by $JOURNAL_STREAM):
//     one native journal entry per event, with its priority and the fields
//     of the scopes in force (util/journal.h); when journald's socket is not
//     there, every line "<N>text" on the stream, N the syslog priority, no
//     timestamp and no colour: the journal adds both and files the line at N;
//   - on a terminal: "level: message", the level in colour;
//   - anywhere else (a file, a pipe, cron mail): "level: message", plain.
// Every message goes through RedactSecrets first, so a conninfo or URL
// that reaches a log line never carries its password.
//
// On a terminal a "status line" (the progress bar) may sit at the bottom:
// log lines are printed above it and it is redrawn after them.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "util/journal.h"

namespace retention {

enum class LogTarget { kTerminal, kJournal, kPlain };

// Where stderr goes. kJournal only when $JOURNAL_STREAM names stderr's own
// device:inode (sd_journal_stream_fd(3): a child that redirected stderr to
// a file must not write priority prefixes into it).
LogTarget DetectLogTarget();

// The logger "retention" for `target`, installed as spdlog's default.
// For kJournal, entries go to the system journal (OpenSystemJournal) or,
// without one, to the stream.
std::shared_ptr<spdlog::logger> SetUpLogger(LogTarget target);
// The same with the journal writer given (tests: a fake journal; null: the
// stream fallback).
std::shared_ptr<spdlog::logger> SetUpLogger(LogTarget target, std::unique_ptr<JournalWriter> journal);

// The target SetUpLogger was last called with (kPlain before that).
LogTarget CurrentLogTarget();

// Logs `text` at `level` as the event `message_id` (MESSAGE_ID in the
// journal; the other targets print the text as any other line).
void LogEvent(spdlog::level::level_enum level, const char* message_id, const std::string& text);

// A command's final error, as the refusal event (kMessageIdRefusal): said
// whatever --log-level, as it was when written straight to stderr.
void LogCommandError(spdlog::level::level_enum level, const std::string& text);

// Masks passwords: "password=..." / "passwd=..." (conninfo keywords,
// quoted or not) and the password of "scheme://user:password@host" URLs.
std::string RedactSecrets(std::string text);

// The terminal status line (progress). Empty clears it. No-op unless the
// log target is kTerminal.
void SetStatusLine(const std::string& line);

}  // namespace retention
