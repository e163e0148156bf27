#include "util/log_context.h"

namespace retention {

namespace {
// Per thread: a run's fields must not leak into lines another thread logs.
thread_local std::vector<LogField> t_fields;
}  // namespace

ScopedLogField::ScopedLogField(std::string name, std::string value) {
  t_fields.push_back({std::move(name), std::move(value)});
}

// Scopes end in reverse order of their start (stack objects): the last
// field is this scope's.
ScopedLogField::~ScopedLogField() { t_fields.pop_back(); }

std::vector<LogField> CurrentLogFields() {
  std::vector<LogField> out;
  for (const LogField& f : t_fields) {
    bool shadowed = false;
    for (LogField& o : out)
      if (o.name == f.name) {
        o.value = f.value;
        shadowed = true;
      }
    if (!shadowed) out.push_back(f);
  }
  return out;
}

}  // namespace retention
