// Property test: on random trees with random mtimes, names, symlinks, holds
// and a floor, Measure, the cursor and DeleteBatch agree with an oracle
// written independently from the store (glibc fnmatch per component, the
// dates the generator wrote, the deletable definition of plan/selection.h).
#include <fnmatch.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>

#include "stores/files_test_support.h"

using namespace retention;
using namespace retention::files_test;

namespace {

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash - start));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

bool OracleMatch(const std::vector<std::string>& p, size_t pi, const std::vector<std::string>& s, size_t si) {
  if (pi == p.size()) return si == s.size();
  if (si == s.size()) return false;
  if (p[pi] == "**" && pi + 1 < p.size()) {
    if (OracleMatch(p, pi + 1, s, si)) return true;
    return s[si][0] != '.' && OracleMatch(p, pi, s, si + 1);
  }
  return ::fnmatch(p[pi].c_str(), s[si].c_str(), FNM_PERIOD) == 0 && OracleMatch(p, pi + 1, s, si + 1);
}

bool OracleMatchAny(const std::vector<std::string>& patterns, const std::string& path) {
  for (const std::string& p : patterns)
    if (OracleMatch(Split(p), 0, Split(path), 0)) return true;
  return false;
}

struct Made {
  std::string rel;
  Timestamp mtime;
  std::optional<Timestamp> name_date;
};

}  // namespace

TEST_CASE("Measure, cursor and DeleteBatch agree with an oracle on random trees", "[files]") {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    INFO("seed " << seed);
    TempDir tmp;
    const fs::path root = tmp / "root";
    fs::create_directories(root);
    std::mt19937_64 rng(seed);
    auto below = [&](uint64_t n) { return static_cast<size_t>(rng() % n); };
    const Timestamp from = Day(2024, 1, 1), to = Day(2026, 6, 30);
    const int64_t span_days = (ToUnixMicros(to) - ToUnixMicros(from)) / 86400000000LL;

    std::vector<std::string> dirs = {""};
    const char* dir_names[] = {"a", "b", "logs", "2025", ".hid", "x y", "app.log-20240101"};
    for (int i = 0; i < 25; ++i) {
      const std::string parent = dirs[below(dirs.size())];
      if (std::count(parent.begin(), parent.end(), '/') >= 3) continue;
      const std::string dir = parent + dir_names[below(std::size(dir_names))] + std::to_string(i % 3) + "/";
      if (std::find(dirs.begin(), dirs.end(), dir) != dirs.end()) continue;
      fs::create_directories(root / dir);
      dirs.push_back(dir);
    }
    // Plain names of directories matter too: "a" as well as "a0".
    std::vector<Made> made;
    for (int i = 0; i < 300; ++i) {
      const std::string dir = dirs[below(dirs.size())];
      const Timestamp day = from + std::chrono::hours{24 * static_cast<int64_t>(below(span_days))};
      const auto ymd = date::year_month_day(date::floor<date::days>(day));
      char ymd_text[16];
      std::snprintf(ymd_text, sizeof ymd_text, "%04d%02u%02u", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
      const std::string n = "-" + std::to_string(i);
      Made m;
      m.mtime = from + std::chrono::seconds{static_cast<int64_t>(below(span_days * 86400))} +
                std::chrono::microseconds{static_cast<int64_t>(below(1000000))};
      switch (below(7)) {
        case 0: m.rel = dir + "svc.log-" + ymd_text + n; m.name_date = day; break;
        case 1: m.rel = dir + "svc.log-20250230" + n; break;  // not a date
        case 2: m.rel = dir + "svc.log" + n; break;           // a live file
        case 3: m.rel = dir + "notes.txt" + n; break;
        case 4: m.rel = dir + ".svc.log-" + ymd_text + n; m.name_date = day; break;  // dot file
        case 5: m.rel = dir + "app.log-" + ymd_text + n + ".gz"; m.name_date = day; break;
        case 6: m.rel = dir + "app.log-latest" + n; break;
      }
      WriteFile(root / m.rel, m.mtime);
      made.push_back(m);
    }
    // Symlinks with matching names, to files inside and outside the root.
    WriteFile(tmp / "outside/svc.log-20240101", Day(2024, 1, 1), "outside");
    for (int i = 0; i < 20; ++i) {
      const std::string link = dirs[below(dirs.size())] + "svc.log-20240101-link" + std::to_string(i);
      const fs::path target = i % 2 ? tmp / "outside/svc.log-20240101" : root / made[below(made.size())].rel;
      fs::create_symlink(target, root / link);
    }
    fs::create_directory_symlink(tmp / "outside", root / "logs-link");

    const std::vector<std::string> paths = {"**/*svc.log-*", "logs0/app.log-*", "a*/**/app.log-*"};
    FilesRule rule("c", "t", "logs", paths, NameClock("%Y%m%d"));
    const std::vector<std::string> guard_paths = {"**/*.log-*"};
    FilesRule floor("floor", "g", "logs", guard_paths, MtimeClock());
    const Timestamp cutoff = Day(2025, 12, 1);
    const Timestamp floor_cutoff = Day(2025, 9, 1);

    std::set<std::string> key_holds, floor_key_holds;
    std::vector<Hold> hold_list;
    for (int i = 0; i < 12; ++i) {
      HoldScope s;
      s.key = made[below(made.size())].rel;
      if (i % 3 == 0) {
        s.category = "floor";  // held under the overlapping rule
        floor_key_holds.insert(*s.key);
      } else {
        key_holds.insert(*s.key);
      }
      hold_list.push_back(MakeHold(s, i + 1));
    }
    HoldScope range;
    range.category = "c";
    range.clock_from = Day(2024, 6, 1);
    range.clock_until = Day(2024, 7, 1);
    hold_list.push_back(MakeHold(range, 100));
    HoldScope released;  // released: covers nothing
    released.category = "c";
    Hold r = MakeHold(released, 101);
    r.released_at = Day(2025, 1, 1);
    hold_list.push_back(r);
    HoldSet holds(hold_list, Day(2026, 3, 1));

    // The oracle.
    TargetStats expect;
    std::vector<std::pair<Timestamp, std::string>> deletable;
    for (const Made& m : made) {
      if (!OracleMatchAny(paths, m.rel)) continue;
      ++expect.total;
      if (!m.name_date) {
        ++expect.undated;
        continue;
      }
      if (!(*m.name_date < cutoff)) continue;
      ++expect.due;
      const bool guard = OracleMatchAny(guard_paths, m.rel);
      const bool held = key_holds.count(m.rel) ||
                        (*m.name_date >= *range.clock_from && *m.name_date < *range.clock_until) ||
                        (guard && floor_key_holds.count(m.rel));
      if (held) {
        ++expect.held;
      } else if (guard && !(m.mtime < floor_cutoff)) {
        ++expect.floor_protected;
      } else {
        ++expect.deletable;
        deletable.emplace_back(*m.name_date, m.rel);
      }
    }
    std::sort(deletable.begin(), deletable.end());
    REQUIRE(expect.total > 50);
    REQUIRE(expect.deletable > 10);
    REQUIRE(expect.held > 0);
    REQUIRE(expect.floor_protected > 0);

    auto store = OpenOrFail(FilesConfig(root));
    Selection d = rule.Decide(cutoff, &holds, {floor.Guard(floor_cutoff)});
    auto stats = store->Measure(d);
    REQUIRE(stats.ok());
    CHECK(stats->total == expect.total);
    CHECK(stats->due == expect.due);
    CHECK(stats->held == expect.held);
    CHECK(stats->floor_protected == expect.floor_protected);
    CHECK(stats->deletable == expect.deletable);
    CHECK(stats->undated == expect.undated);
    REQUIRE(stats->oldest_due);
    CHECK(*stats->oldest_due == deletable.front().first);
    std::vector<std::string> samples;
    for (size_t i = 0; i < std::min<size_t>(5, deletable.size()); ++i) samples.push_back(deletable[i].second);
    CHECK(stats->sample_keys == samples);

    std::set<std::string> expect_keys;
    for (const auto& [clock, key] : deletable) expect_keys.insert(key);
    std::vector<Candidate> candidates = Drain(*store, d, 1 + seed * 3);
    CHECK(candidates.size() == expect_keys.size());  // no duplicates
    CHECK(Keys(candidates) == expect_keys);

    // Every candidate offered (and every other file too): exactly the
    // deletable ones go.
    std::vector<std::string> everything;
    for (const Made& m : made) everything.push_back(m.rel);
    const std::set<std::string> before = RegularFiles(root);
    auto deleted = store->DeleteBatch(d, CandidatesFor(everything));
    REQUIRE(deleted.ok());
    CHECK(Keys(*deleted) == expect_keys);
    std::set<std::string> after = RegularFiles(root);
    std::set<std::string> expect_after;
    std::set_difference(before.begin(), before.end(), expect_keys.begin(), expect_keys.end(),
                        std::inserter(expect_after, expect_after.end()));
    CHECK(after == expect_after);
    CHECK(ReadFile(tmp / "outside/svc.log-20240101") == "outside");
    auto again = store->Measure(d);
    REQUIRE(again.ok());
    CHECK(again->deletable == 0);
    CHECK(again->total == expect.total - expect.deletable);
  }
}
