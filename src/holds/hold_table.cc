#include "holds/hold_table.h"

#include <algorithm>
#include <array>

namespace retention {
namespace {

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Characters of UTF-8 text (hold texts are checked to be valid UTF-8).
size_t Width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return !IsContinuation(c); }));
}

// The first `width` characters, "..." included, when `s` is longer.
std::string Cut(const std::string& s, size_t width) {
  if (width == 0 || Width(s) <= width) return s;
  const size_t keep = width > 3 ? width - 3 : 0;
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if (!IsContinuation(s[i]) && chars++ == keep) break;
  }
  return s.substr(0, i) + "...";
}

}  // namespace

std::string HoldScopeText(const HoldScope& s) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  if (s.category) add("category=" + *s.category);
  if (s.target) add("target=" + *s.target);
  if (s.subject_kind) add("subject=" + *s.subject_kind + ":" + s.subject_id.value_or(""));
  if (s.key) add("key=" + *s.key);
  if (s.clock_from) add("from=" + FormatTimestamp(*s.clock_from));
  if (s.clock_until) add("until=" + FormatTimestamp(*s.clock_until));
  return out.empty() ? "EVERYTHING (all deletion frozen)" : out;
}

std::string FormatHoldTable(const std::vector<Hold>& holds, Timestamp now, size_t reason_width) {
  constexpr size_t kColumns = 8;
  using Row = std::array<std::string, kColumns>;
  std::vector<Row> rows;
  rows.push_back({"ID", "STATE", "PLACED", "EXPIRES", "BY", "MATTER", "SCOPE", "REASON"});
  for (const Hold& h : holds) {
    const char* state = h.released_at ? "released" : (h.ActiveAt(now) ? "active" : "expired");
    rows.push_back({std::to_string(h.id), state, FormatTimestamp(h.placed_at),
                    h.expires_at ? FormatTimestamp(*h.expires_at) : "never", h.author, h.matter,
                    HoldScopeText(h.scope), Cut(h.reason, reason_width)});
  }
  std::array<size_t, kColumns> width{};
  for (const Row& r : rows)
    for (size_t c = 0; c < kColumns; ++c) width[c] = std::max(width[c], Width(r[c]));
  std::string out;
  for (const Row& r : rows) {
    std::string line;
    for (size_t c = 0; c < kColumns; ++c) {
      line += r[c];
      // The last column is not padded: no trailing blanks.
      if (c + 1 < kColumns) line += std::string(width[c] - Width(r[c]) + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace retention
