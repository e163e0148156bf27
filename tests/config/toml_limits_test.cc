// The shape bounds checked before toml++ parses a file (config/toml_limits.h):
// a table of texts it must refuse, with the exact message, a table it must
// let through, and the crash it exists for, through ParseTomlFile.
#include "config/toml_limits.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/loader_test_support.h"
#include "config/toml_reader.h"

namespace retention {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// "a.a.a" with n parts.
std::string Dotted(int n, const std::string& part = "a") {
  std::string out = part;
  for (int i = 1; i < n; ++i) out += "." + part;
  return out;
}

const std::string kTooDeep =
    "nested more than 32 levels deep (table header parts, dotted key parts, arrays and inline tables together)";

struct Case {
  const char* what;
  std::string text;
  std::string message;  // empty: accepted
};

// Built when the test runs, not at static initialization: the 17 MB of
// the largest case once cost every test process (all of CTest's, one a
// test) most of its start-up.
std::vector<Case> Cases() {
  return {
      // Refused, at the first construct past 32 levels.
      {"table header of 50,000 parts", "[" + Dotted(50000) + "]\n", "f.toml:1:1: " + kTooDeep},
      {"table header of 33 parts", "x = 1\n[" + Dotted(33) + "]\n", "f.toml:2:1: " + kTooDeep},
      {"array-of-tables header of 32 parts", "[[" + Dotted(32) + "]]\n", "f.toml:1:1: " + kTooDeep},
      {"dotted key of 50,000 parts", Dotted(50000) + " = 1\n", "f.toml:1:1: " + kTooDeep},
      {"dotted key of quoted parts", Dotted(33, "\"a.b\"") + " = 1\n", "f.toml:1:1: " + kTooDeep},
      {"dotted key with blanks around the dots", Dotted(33, " a ") + " = 1\n", "f.toml:1:2: " + kTooDeep},
      {"header and dotted key together", "[" + Dotted(20) + "]\n  " + Dotted(13) + " = 1\n",
       "f.toml:2:3: " + kTooDeep},
      {"100,000 nested arrays", "a = " + Repeat("[", 100000), "f.toml:1:37: " + kTooDeep},
      {"100,000 nested inline tables", "a = " + Repeat("{b=", 100000), "f.toml:1:99: " + kTooDeep},
      {"dotted key inside nested inline tables", "a = {b = {" + Dotted(31) + " = 1}}\n", "f.toml:1:11: " + kTooDeep},
      {"arrays of inline tables", "a = " + Repeat("[{b=", 20), "f.toml:1:67: " + kTooDeep},
      {"after a multi-line string with quotes and brackets",
       "s = \"\"\"\n[not a header\n\"\" still in it \\\"\"\" \"\"\"\"\n" + Dotted(40) + " = 1\n",
       "f.toml:4:1: " + kTooDeep},
      {"line longer than 1 MiB", "a = \"" + std::string(kMaxTomlLineBytes, 'x') + "\"\n",
       "f.toml:1:1048577: line longer than 1 MiB"},
      {"file larger than 16 MiB", Repeat("# " + std::string(1000, 'x') + "\n", 17000),
       "f.toml: larger than 16 MiB, the most a config or rule file may have"},

      // Accepted: real shapes, and look-alikes of deep nesting that are not.
      {"empty file", "", ""},
      {"the shape of a rule file",
       "[[category]]\nname = \"x\"\ndelete_after = \"90 days\"\n[[category.target]]\nstore = \"app\"\n"
       "where = { status = [\"closed\", \"done\"], kind.sub = 1 }\n",
       ""},
      {"header of 32 parts", "[" + Dotted(32) + "]\n", ""},
      {"dotted key of 32 parts", Dotted(32) + " = 1\n", ""},
      {"31 nested arrays", "a = " + Repeat("[", 31) + Repeat("]", 31) + "\n", ""},
      {"dots inside strings and comments", "a = \"" + Dotted(100) + "\" # " + Dotted(100) + "\nb = '" + Dotted(100) +
                                               "'\nc = '''" + Dotted(100) + "'''\n",
       ""},
      {"brackets inside strings", "a = \"" + Repeat("[{", 100) + "\"\n", ""},
      {"floats and dates in values under a deep header",
       "[" + Dotted(31) + "]\nk = 1.5\nd = 1979-05-27T07:32:00.999Z\n", ""},
      {"many shallow arrays in sequence", Repeat("a" + std::to_string(0) + " = [[1], [2]]\n", 1).append(
                                              Repeat("[t]\nx = [[[1]]]\n", 1000)),
       ""},
  };
}

TEST_CASE("toml limits: deep nesting, long lines and big files are refused at FILE:LINE:COL", "[config][toml]") {
  for (const Case& c : Cases()) {
    INFO(c.what);
    Status s = CheckTomlLimits(c.text, "f.toml");
    if (c.message.empty()) {
      CHECK(s.ok());
      CHECK(s.message() == "");
    } else {
      CHECK(s.code() == StatusCode::kInvalid);
      CHECK(s.message() == c.message);
    }
  }
}

TEST_CASE("toml limits: ParseTomlFile refuses what would crash toml++, before parsing it", "[config][toml]") {
  loader_test::ScratchDir dir;
  const auto file = dir / "deep.toml";
  SECTION("header") { loader_test::WriteFile(file, "[" + Dotted(50000) + "]\n"); }
  SECTION("dotted key") { loader_test::WriteFile(file, "x = 1\n" + Dotted(50000) + " = 1\n"); }
  auto parsed = ParseTomlFile(file);
  REQUIRE(!parsed.ok());
  CHECK(parsed.status().code() == StatusCode::kInvalid);
  CHECK(parsed.status().message().rfind(file.string() + ":", 0) == 0);
  CHECK(parsed.status().message().find(kTooDeep) != std::string::npos);
}

}  // namespace
}  // namespace retention
