#include "config/toml_limits.h"

#include <cstring>
#include <vector>

#include "util/source_location.h"

namespace retention {
namespace {

bool IsBareKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// One pass over the text, no recursion: the nesting it measures is the
// attacker's, so it lives in `frames_`, on the heap.
class TomlShapeScanner {
 public:
  TomlShapeScanner(std::string_view text, const std::string& file) : s_(text), file_(file) {}

  Status Run() {
    if (s_.size() > kMaxTomlFileBytes)
      return Status::Invalid(file_ + ": larger than " + std::to_string(kMaxTomlFileBytes >> 20) +
                             " MiB, the most a config or rule file may have");
    RETENTION_RETURN_IF_ERROR(CheckLineLengths());

    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '\n') {
        ++pos_;
        if (frames_.empty()) {
          expect_key_ = true;
          at_line_start_ = true;
        }
        continue;
      }
      if (IsBlank(c)) {
        ++pos_;
        continue;
      }
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
        continue;
      }
      const bool line_start = at_line_start_;
      at_line_start_ = false;
      if (c == '[' && frames_.empty() && line_start) {
        RETENTION_RETURN_IF_ERROR(Header());
        continue;
      }
      if (c == '"' || c == '\'' || IsBareKeyChar(c)) {
        const size_t start = pos_;
        const int parts = Chain();
        if (expect_key_) {
          const int depth = (frames_.empty() ? header_depth_ : frames_.back().depth) + parts;
          if (depth > kMaxTomlDepth) return TooDeep(start);
          key_depth_ = depth;
        }
        continue;
      }
      ++pos_;
      switch (c) {
        case '=':
          expect_key_ = false;
          break;
        case ',':
          expect_key_ = !frames_.empty() && frames_.back().kind == '{';
          break;
        case '[':
        case '{': {
          // The container is the value of the last key, or an element of
          // the array it is in.
          const int depth =
              !frames_.empty() && frames_.back().kind == '[' ? frames_.back().depth + 1 : key_depth_;
          if (depth > kMaxTomlDepth) return TooDeep(pos_ - 1);
          frames_.push_back({c, depth});
          expect_key_ = c == '{';
          break;
        }
        case ']':
        case '}':
          if (!frames_.empty()) frames_.pop_back();
          expect_key_ = false;
          break;
        default:
          break;  // '+', ':' in values, or text toml++ will reject
      }
    }
    return Status::Ok();
  }

 private:
  struct Frame {
    char kind;  // '[' array, '{' inline table
    int depth;  // levels from the root to the container itself
  };

  Status CheckLineLengths() const {
    size_t line_start = 0;
    while (line_start <= s_.size()) {
      const void* nl = std::memchr(s_.data() + line_start, '\n', s_.size() - line_start);
      const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - s_.data()) : s_.size();
      if (end - line_start > kMaxTomlLineBytes)
        return ErrorAt(line_start + kMaxTomlLineBytes, "line longer than " +
                                                           std::to_string(kMaxTomlLineBytes >> 20) +
                                                           " MiB");
      if (!nl) break;
      line_start = end + 1;
    }
    return Status::Ok();
  }

  // "[a.b.c]" or "[[a.b]]": the table every following key is under.
  Status Header() {
    const size_t start = pos_;
    ++pos_;
    bool array = false;
    if (pos_ < s_.size() && s_[pos_] == '[') {
      array = true;
      ++pos_;
    }
    while (pos_ < s_.size() && IsBlank(s_[pos_])) ++pos_;
    // An element of an array of tables is one level below the array.
    header_depth_ = Chain() + (array ? 1 : 0);
    if (header_depth_ > kMaxTomlDepth) return TooDeep(start);
    key_depth_ = header_depth_;
    expect_key_ = false;  // only "]" and a comment may follow on the line
    return Status::Ok();
  }

  // A run of keys joined by dots, "a . 'b' . \"c\"": the number of parts
  // (0 when pos_ is at none).
  int Chain() {
    int parts = 0;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '"' || c == '\'') {
        SkipString();
      } else if (IsBareKeyChar(c)) {
        while (pos_ < s_.size() && IsBareKeyChar(s_[pos_])) ++pos_;
      } else {
        break;
      }
      ++parts;
      while (pos_ < s_.size() && IsBlank(s_[pos_])) ++pos_;
      if (pos_ >= s_.size() || s_[pos_] != '.') break;
      ++pos_;
      while (pos_ < s_.size() && IsBlank(s_[pos_])) ++pos_;
    }
    return parts;
  }

  // Skips a basic, literal or multi-line string starting at its quote. An
  // unterminated one ends where toml++ will report it (end of line or file).
  void SkipString() {
    const char q = s_[pos_];
    const bool basic = q == '"';
    const std::string_view triple = basic ? "\"\"\"" : "'''";
    if (s_.substr(pos_, 3) == triple) {
      pos_ += 3;
      while (pos_ < s_.size()) {
        if (basic && s_[pos_] == '\\') {
          pos_ += 2;
          continue;
        }
        if (s_.substr(pos_, 3) == triple) {
          pos_ += 3;
          // Up to two quotes just before the delimiter belong to the string.
          for (int extra = 0; extra < 2 && pos_ < s_.size() && s_[pos_] == q; ++extra) ++pos_;
          return;
        }
        ++pos_;
      }
      pos_ = s_.size();
      return;
    }
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != '\n') {
      if (basic && s_[pos_] == '\\' && pos_ + 1 < s_.size() && s_[pos_ + 1] != '\n') {
        pos_ += 2;
        continue;
      }
      if (s_[pos_++] == q) return;
    }
  }

  Status TooDeep(size_t at) const {
    return ErrorAt(at, "nested more than " + std::to_string(kMaxTomlDepth) +
                           " levels deep (table header parts, dotted key parts, arrays and inline tables "
                           "together)");
  }

  // FILE:LINE:COL, the column in characters as toml++ counts them.
  Status ErrorAt(size_t at, const std::string& message) const {
    if (at > s_.size()) at = s_.size();
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < at; ++i) {
      if (s_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    int column = 1;
    for (size_t i = line_start; i < at; ++i) column += (static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80;
    return Status::Invalid(SourceLocation{file_, line, column}.ToString() + ": " + message);
  }

  std::string_view s_;
  const std::string& file_;
  size_t pos_ = 0;
  std::vector<Frame> frames_;
  int header_depth_ = 0;  // parts of the current [table] header
  int key_depth_ = 0;     // depth of the last key read: where its value sits
  bool expect_key_ = true;
  bool at_line_start_ = true;
};

}  // namespace

Status CheckTomlLimits(std::string_view text, const std::string& file) {
  return TomlShapeScanner(text, file).Run();
}

}  // namespace retention
