#include "stores/files_glob.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using retention::files::GlobSet;

namespace {

struct Case {
  const char* pattern;
  const char* path;
  bool matches;
};

GlobSet Compile(std::vector<std::string> patterns) {
  auto g = GlobSet::Compile(patterns);
  REQUIRE(g.ok());
  return *g;
}

}  // namespace

TEST_CASE("glob matching table", "[files]") {
  const Case cases[] = {
      // Rotated logs never select the live file.
      {"access.log-*", "access.log-20260301.gz", true},
      {"access.log-*", "access.log-", true},
      {"access.log-*", "access.log", false},
      {"access.log-*", "access.log.1", false},
      {"access.log-*", "old/access.log-20260301.gz", false},  // anchored: top level only
      {"db-*.sqlite.gz", "db-2026-03-01.sqlite.gz", true},
      {"db-*.sqlite.gz", "db-2026-03-01.sqlite.gz.tmp", false},
      {"db-*.sqlite.gz", "xdb-2026-03-01.sqlite.gz", false},
      // '*' and '?' never cross '/'.
      {"*.gz", "a/b.gz", false},
      {"*/*.gz", "a/b.gz", true},
      {"*/*.gz", "a/b/c.gz", false},
      {"?.log", "a.log", true},
      {"?.log", "ab.log", false},
      {"a?b", "a/b", false},
      // Sets.
      {"app.log-[0-9]*", "app.log-2026", true},
      {"app.log-[0-9]*", "app.log-x", false},
      {"app.log-[!0-9]*", "app.log-x", true},
      {"app.log-[^0-9]*", "app.log-1", false},
      {"[]]x", "]x", true},
      {"[a-c]", "b", true},
      {"[a-c]", "d", false},
      {"[x", "[x", true},  // unterminated: literal
      {"\\*.log", "*.log", true},
      {"\\*.log", "a.log", false},
      // '**/' any depth, including none.
      {"**/*.log", "a.log", true},
      {"**/*.log", "x/y/z/a.log", true},
      {"**/*.log", "x/y/z/a.txt", false},
      {"logs/**/*.gz", "logs/a.gz", true},
      {"logs/**/*.gz", "logs/2026/03/a.gz", true},
      {"logs/**/*.gz", "other/2026/a.gz", false},
      {"logs/**/*.gz", "logs", false},
      {"**/**/a", "a", true},
      {"**/**/a", "x/y/a", true},
      {"a/**/b/**/c", "a/b/c", true},
      {"a/**/b/**/c", "a/x/b/y/z/c", true},
      {"a/**/b/**/c", "a/x/y/z/c", false},
      // '**' not followed by '/' is a plain star.
      {"logs/**", "logs/a", true},
      {"logs/**", "logs/a/b", false},
      {"a**b", "axxb", true},
      {"a**b", "ax/xb", false},
      // Dot files and dot directories: only a literal '.' selects them.
      {"*.log", ".hidden.log", false},
      {".*.log", ".hidden.log", true},
      {"*", ".", false},
      {"**/*.log", ".git/a.log", false},
      {".git/*.log", ".git/a.log", true},
      {"*/a.log", ".cache/a.log", false},
      {"?.log", "..log", false},
      // Empty and odd components in paths never match.
      {"*", "", false},
      {"*/*", "a//b", false},
      {"*/*", "/b", false},
  };
  for (const Case& c : cases) {
    INFO("pattern " << c.pattern << " path " << c.path);
    GlobSet g = Compile({c.pattern});
    CHECK(g.Matches(c.path) == c.matches);
  }
}

TEST_CASE("glob sets match when any pattern matches", "[files]") {
  GlobSet g = Compile({"access.log-*", "app.log-*"});
  CHECK(g.Matches("access.log-1"));
  CHECK(g.Matches("app.log-1"));
  CHECK_FALSE(g.Matches("app.log"));
  CHECK_FALSE(g.Matches("access.log"));
}

TEST_CASE("glob states prune directories", "[files]") {
  GlobSet g = Compile({"logs/*/*.gz"});
  GlobSet::State root = g.Root();
  CHECK_FALSE(g.Enter(root, "logs").empty());
  CHECK(g.Enter(root, "other").empty());
  GlobSet::State logs = g.Enter(root, "logs");
  GlobSet::State day = g.Enter(logs, "2026");
  CHECK(g.MatchesFile(day, "a.gz"));
  CHECK(g.Enter(day, "deeper").empty());
  CHECK_FALSE(g.MatchesFile(logs, "a.gz"));

  GlobSet any = Compile({"**/*.gz"});
  GlobSet::State s = any.Root();
  for (int i = 0; i < 100; ++i) s = any.Enter(s, "d");
  CHECK(any.MatchesFile(s, "x.gz"));
  CHECK(any.Enter(any.Root(), ".hidden").empty());
}

TEST_CASE("bad glob patterns are rejected", "[files]") {
  const std::pair<const char*, const char*> bad[] = {
      {"", "empty path pattern"},
      {"/var/log/*.gz", "must be relative"},
      {"a//b", "empty path component"},
      {"logs/", "empty path component"},
      {"./a", "'.' and '..'"},
      {"a/../b", "'.' and '..'"},
      {"a\\", "trailing '\\'"},
      {"[[:digit:]]", "not supported"},
      {"[z-a]", "reversed"},
  };
  for (auto [pattern, message] : bad) {
    INFO(pattern);
    auto g = GlobSet::Compile({pattern});
    REQUIRE_FALSE(g.ok());
    CHECK_THAT(g.status().message(), Catch::Contains(message));
  }
  CHECK_FALSE(GlobSet::Compile({}).ok());
}
