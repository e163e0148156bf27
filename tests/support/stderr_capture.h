// Captures what the process writes to its stderr (fd 2) while it lives:
// the log's stream output (the journal fallback, the terminal's status
// line) seen as the terminal or the journal stream would see it.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

namespace retention::test {

class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    file_ = std::tmpfile();
    ::dup2(::fileno(file_), STDERR_FILENO);
  }
  ~StderrCapture() {
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    std::fclose(file_);
  }
  std::string Text() {
    std::string out;
    char buf[4096];
    ::lseek(::fileno(file_), 0, SEEK_SET);
    for (ssize_t n; (n = ::read(::fileno(file_), buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  int saved_ = -1;
  std::FILE* file_ = nullptr;
};

}  // namespace retention::test
