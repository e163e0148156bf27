// hold list's table (holds/hold_table.h): columns line up whatever the
// widths, multi-byte text counted in characters; the reason is cut only
// when a width is given (a terminal).
#include "holds/hold_table.h"

#include <catch2/catch.hpp>

#include <sstream>

namespace retention {
namespace {

Timestamp Day(int d) { return Timestamp(std::chrono::sys_days{std::chrono::year{2026} / 11 / d}.time_since_epoch()); }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Characters (not bytes) before byte `pos` of `s`.
size_t Column(const std::string& s, size_t pos) {
  size_t n = 0;
  for (size_t i = 0; i < pos && i < s.size(); ++i) n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  return n;
}

std::vector<Hold> Holds() {
  Hold a;
  a.id = 1;
  a.matter = "M-1";
  a.reason = std::string(120, 'r') + " the end";
  a.author = "al";
  a.placed_at = Day(1);
  a.scope.subject_kind = "customer";
  a.scope.subject_id = "42";
  Hold b;
  b.id = 12345;
  b.matter = "Müller v. Example GmbH, Landgericht München";
  b.reason = "Prüfung";
  b.author = "a-very-long-author-name@example.com";
  b.placed_at = Day(2);
  b.expires_at = Day(30);
  b.scope.category = "transactions";
  return {a, b};
}

TEST_CASE("hold table: every column starts at the same character on every line", "[holds]") {
  const std::string text = FormatHoldTable(Holds(), Day(3), 0);
  const auto lines = Lines(text);
  REQUIRE(lines.size() == 3);
  for (const char* column : {"STATE", "PLACED", "EXPIRES", "BY", "MATTER", "SCOPE", "REASON"}) {
    INFO(column << "\n" << text);
    const size_t at = Column(lines[0], lines[0].find(column));
    for (size_t i = 1; i < lines.size(); ++i) {
      // The character column of the value: the first after a run of two
      // blanks at or after the header's column.
      const std::string& l = lines[i];
      size_t byte = 0;
      while (byte < l.size() && Column(l, byte) < at) ++byte;
      CHECK(Column(l, byte) == at);
      REQUIRE(byte >= 2);
      CHECK(l.substr(byte - 2, 2) == "  ");
      CHECK(l[byte] != ' ');
    }
  }
  CHECK(lines[1].find("never") != std::string::npos);
  CHECK(lines[2].find("2026-11-30T00:00:00Z") != std::string::npos);
  CHECK(lines[1].find("active") != std::string::npos);
  // Whole reasons, and no trailing blanks.
  CHECK(lines[1].find(std::string(120, 'r') + " the end") != std::string::npos);
  for (const auto& l : lines) CHECK(l.back() != ' ');
}

TEST_CASE("hold table: a reason is cut to the width given, on a character boundary", "[holds]") {
  const auto lines = Lines(FormatHoldTable(Holds(), Day(3), 10));
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].substr(lines[1].size() - 10) == "rrrrrrr...");
  CHECK(lines[2].substr(lines[2].size() - std::string("Prüfung").size()) == "Prüfung");  // 7 characters: whole
  Hold h = Holds()[1];
  h.reason = "ééééééééééé";  // 11 two-byte characters
  const auto cut = Lines(FormatHoldTable({h}, Day(3), 10));
  CHECK(cut[1].substr(cut[1].size() - 17) == "ééééééé...");
}

}  // namespace
}  // namespace retention
