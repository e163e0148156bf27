#include "stores/files_glob.h"

#include <algorithm>

namespace retention::files {

Status GlobSet::CompileComponent(std::string_view text, const std::string& pattern, Component* out) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("path pattern '" + pattern + "': " + why);
  };
  if (text.empty()) return bad("empty path component ('//' or a trailing '/')");
  if (text == "." || text == "..") return bad("'.' and '..' components never match");
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(text[i]);
    Token t;
    if (ch == '*') {
      t.kind = Token::kStar;
      // Consecutive stars are one star.
      if (!out->tokens.empty() && out->tokens.back().kind == Token::kStar) continue;
    } else if (ch == '?') {
      t.kind = Token::kAny;
    } else if (ch == '\\') {
      if (i + 1 >= text.size()) return bad("trailing '\\'");
      t.c = static_cast<unsigned char>(text[++i]);
    } else if (ch == '[') {
      size_t j = i + 1;
      bool negated = false;
      if (j < text.size() && (text[j] == '!' || text[j] == '^')) {
        negated = true;
        ++j;
      }
      const size_t set_begin = j;
      if (j < text.size() && text[j] == ']') ++j;  // literal ']' first in the set
      while (j < text.size() && text[j] != ']') ++j;
      if (j >= text.size()) {
        t.c = ch;  // no closing ']': a literal '['
      } else {
        std::string_view set = text.substr(set_begin, j - set_begin);
        if (set.find("[:") != std::string_view::npos)
          return bad("character classes like [[:digit:]] are not supported; write [0-9]");
        t.kind = Token::kSet;
        t.negated = negated;
        for (size_t k = 0; k < set.size(); ++k) {
          unsigned char lo = static_cast<unsigned char>(set[k]);
          unsigned char hi = lo;
          if (k + 2 < set.size() && set[k + 1] == '-') {
            hi = static_cast<unsigned char>(set[k + 2]);
            k += 2;
          }
          if (hi < lo) return bad("range " + std::string(1, static_cast<char>(lo)) + "-" +
                                  std::string(1, static_cast<char>(hi)) + " is reversed");
          t.ranges.emplace_back(lo, hi);
        }
        i = j;
      }
    } else {
      t.c = ch;
    }
    out->tokens.push_back(std::move(t));
  }
  return Status::Ok();
}

Result<GlobSet> GlobSet::Compile(const std::vector<std::string>& patterns) {
  GlobSet set;
  if (patterns.empty()) return Status::Invalid("no path patterns");
  for (const std::string& pattern : patterns) {
    if (pattern.empty()) return Status::Invalid("empty path pattern");
    if (pattern[0] == '/')
      return Status::Invalid("path pattern '" + pattern + "' must be relative to the store root");
    std::vector<std::string_view> parts;
    std::string_view rest(pattern);
    while (true) {
      size_t slash = rest.find('/');
      parts.push_back(rest.substr(0, slash));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    const uint32_t first = static_cast<uint32_t>(set.components_.size());
    const uint32_t last = first + static_cast<uint32_t>(parts.size()) - 1;
    for (size_t i = 0; i < parts.size(); ++i) {
      Component c;
      c.last = last;
      if (parts[i] == "**" && i + 1 < parts.size()) {
        c.any_dirs = true;
      } else {
        RETENTION_RETURN_IF_ERROR(CompileComponent(parts[i], pattern, &c));
      }
      set.components_.push_back(std::move(c));
    }
    set.starts_.push_back(first);
    set.patterns_.push_back(pattern);
  }
  return set;
}

bool GlobSet::ComponentMatches(const Component& c, std::string_view name) {
  const std::vector<Token>& tokens = c.tokens;
  // A leading '.' is matched only by a literal '.'.
  if (!name.empty() && name[0] == '.' &&
      (tokens.empty() || tokens[0].kind != Token::kLiteral || tokens[0].c != '.'))
    return false;
  auto one = [](const Token& t, unsigned char ch) {
    switch (t.kind) {
      case Token::kLiteral: return t.c == ch;
      case Token::kAny: return true;
      case Token::kSet: {
        bool in = false;
        for (auto [lo, hi] : t.ranges) in = in || (lo <= ch && ch <= hi);
        return in != t.negated;
      }
      case Token::kStar: return false;
    }
    return false;
  };
  // Greedy matching with backtracking to the last star: O(|tokens| * |name|).
  size_t ti = 0, ni = 0;
  size_t star_t = SIZE_MAX, star_n = 0;
  while (ni < name.size()) {
    if (ti < tokens.size() && tokens[ti].kind == Token::kStar) {
      star_t = ti++;
      star_n = ni;
    } else if (ti < tokens.size() && one(tokens[ti], static_cast<unsigned char>(name[ni]))) {
      ++ti;
      ++ni;
    } else if (star_t != SIZE_MAX) {
      ti = star_t + 1;
      ni = ++star_n;
    } else {
      return false;
    }
  }
  while (ti < tokens.size() && tokens[ti].kind == Token::kStar) ++ti;
  return ti == tokens.size();
}

void GlobSet::AddClosure(uint32_t position, State* state) const {
  // "**/" may match zero directories: being at it means being after it too.
  while (true) {
    state->push_back(position);
    if (!components_[position].any_dirs) return;
    ++position;  // any_dirs is never a pattern's last component
  }
}

GlobSet::State GlobSet::Root() const {
  State s;
  for (uint32_t start : starts_) AddClosure(start, &s);
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

GlobSet::State GlobSet::Enter(const State& state, std::string_view dir_name) const {
  State next;
  for (uint32_t p : state) {
    const Component& c = components_[p];
    if (p == c.last) continue;  // the file itself: no directory may match here
    if (c.any_dirs) {
      if (dir_name.empty() || dir_name[0] != '.') AddClosure(p, &next);  // stays inside "**"
    } else if (ComponentMatches(c, dir_name)) {
      AddClosure(p + 1, &next);
    }
  }
  std::sort(next.begin(), next.end());
  next.erase(std::unique(next.begin(), next.end()), next.end());
  return next;
}

bool GlobSet::MatchesFile(const State& state, std::string_view file_name) const {
  for (uint32_t p : state) {
    const Component& c = components_[p];
    if (p == c.last && !c.any_dirs && ComponentMatches(c, file_name)) return true;
  }
  return false;
}

bool GlobSet::Matches(std::string_view path) const {
  State s = Root();
  while (!s.empty()) {
    size_t slash = path.find('/');
    if (slash == 0) return false;  // an empty component is never a file's path
    if (slash == std::string_view::npos) return !path.empty() && MatchesFile(s, path);
    s = Enter(s, path.substr(0, slash));
    path.remove_prefix(slash + 1);
  }
  return false;
}

}  // namespace retention::files
