// Structured context of log lines (issue 18): a scope sets fields that
// every line logged on its thread carries while the scope lives, e.g. the
// run id around a purge run, the category and target around one target.
// The journal gets them as fields of each entry (util/journal.h), so
// `journalctl RETENTION_RUN=42` lists one run's lines. The other log
// targets do not print them: their lines already say what they concern.
//
// Scopes nest strictly (they are stack objects); an inner scope setting a
// name again shadows the outer value until it ends.
#pragma once

#include <string>
#include <vector>

namespace retention {

struct LogField {
  std::string name;  // a journal field name: A-Z, 0-9, '_', not starting with '_'
  std::string value;
};

// The engine's journal fields (retention(8), JOURNAL).
inline constexpr char kLogFieldRun[] = "RETENTION_RUN";
inline constexpr char kLogFieldCategory[] = "RETENTION_CATEGORY";
inline constexpr char kLogFieldTarget[] = "RETENTION_TARGET";
inline constexpr char kLogFieldMessageId[] = "MESSAGE_ID";

class ScopedLogField {
 public:
  ScopedLogField(std::string name, std::string value);
  ~ScopedLogField();
  ScopedLogField(const ScopedLogField&) = delete;
  ScopedLogField& operator=(const ScopedLogField&) = delete;
};

// The fields in force on this thread, outermost first, each name once
// (with its innermost value).
std::vector<LogField> CurrentLogFields();

}  // namespace retention
