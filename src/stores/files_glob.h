// Glob patterns that select a files target's records, relative to the root.
//
// A pattern is matched against the whole relative path ("logs/app.log-1"),
// component by component ('/' separates components):
//   *      any run of characters within one component (may be empty)
//   ?      one character
//   [abc]  [a-z] [!a-z] [^a-z]: one character of (not of) a set; a ']' first
//          in the set is literal; a '[' with no closing ']' is literal
//   \c     the character c, literally
//   **/    zero or more whole directories (only as a whole component
//          followed by more; elsewhere "**" means the same as "*")
// No wildcard ever matches '/', and (as fnmatch's FNM_PERIOD) a component
// starting with '.' is matched only by a pattern component starting with a
// literal '.': "*" does not select dot files and "**/" does not descend into
// dot directories. Matching is anchored at both ends, so the rotated pattern
// "access.log-*" never selects the live "access.log" (the '-' is literal).
//
// The walker uses the state API to prune: Enter() follows one directory and
// an empty state means nothing below can match.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace retention::files {

class GlobSet {
 public:
  // Compiles a target's `paths`. An empty list, an empty pattern, a leading
  // '/', an empty, "." or ".." component, a trailing '\' and POSIX classes
  // ("[[:digit:]]", unsupported) are Invalid, naming the pattern.
  static Result<GlobSet> Compile(const std::vector<std::string>& patterns);

  // Positions inside the patterns still alive after the directories walked
  // so far; sorted, unique. Empty: nothing below can match.
  using State = std::vector<uint32_t>;

  State Root() const;
  State Enter(const State& state, std::string_view dir_name) const;
  bool MatchesFile(const State& state, std::string_view file_name) const;

  // Whole relative path ("a/b/c"), for keys handed back to the store.
  bool Matches(std::string_view relative_path) const;

  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  struct Token {
    enum Kind : uint8_t { kLiteral, kAny, kStar, kSet } kind = kLiteral;
    bool negated = false;  // kSet
    unsigned char c = 0;   // kLiteral
    std::vector<std::pair<unsigned char, unsigned char>> ranges;  // kSet
  };
  struct Component {
    bool any_dirs = false;       // "**" followed by more components
    std::vector<Token> tokens;   // otherwise
    uint32_t last = 0;           // index of its pattern's last component
  };

  static Status CompileComponent(std::string_view text, const std::string& pattern, Component* out);
  static bool ComponentMatches(const Component& c, std::string_view name);
  void AddClosure(uint32_t position, State* state) const;

  std::vector<std::string> patterns_;
  std::vector<Component> components_;
  std::vector<uint32_t> starts_;  // first component of each pattern
};

}  // namespace retention::files
