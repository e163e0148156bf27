// Property test: every rendering of a Selection agrees with Evaluate.
//
// Random rules over one SQLite table (overlapping targets with filters, the
// three column clock encodings, naive zones, floors, subjects), random
// holds with every scope field, erasure variants (any age, one subject),
// and random records (NULL and garbage clocks, NULL subjects). The SQLite
// store's cursor and Measure, the files store's cursor and Measure over
// random files, and the purge log's pruning test must select exactly the
// records Evaluate lets go, its facts derived here from the values the
// generator wrote, independently of every store. Seeded; a failure names
// its seed.
#include <fnmatch.h>

#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <variant>

#include <date/date.h>

#include "calendar/clock_value.h"
#include "holds/hold_set.h"
#include "plan/selection.h"
#include "state/test_util.h"
#include "stores/file_system.h"
#include "stores/files_test_support.h"
#include "stores/purge_log_store.h"
#include "stores/sqlite_store.h"
#include "support/pg_cluster.h"
#include "support/trials_for_build.h"

namespace retention {
namespace {

using testing::RawDb;
namespace fs = std::filesystem;

struct Rng {
  std::mt19937_64 gen;
  explicit Rng(uint64_t seed) : gen(seed) {}
  int Pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); }
  bool Chance(int percent) { return Pick(1, 100) <= percent; }
  template <typename T>
  const T& Of(const std::vector<T>& v) { return v[static_cast<size_t>(Pick(0, static_cast<int>(v.size()) - 1))]; }
};

const Timestamp kAsOf = *ParseClockText("2026-12-01T00:00:00Z", TimeZone::Utc());
const std::vector<std::string> kZones = {"UTC", "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"};

Timestamp RandomTime(Rng& r) {
  // Often exactly on a cutoff or floor (as of minus a rule's days, as UTC
  // computes it), where `<` and `<=` differ; else 2025-01-01 .. 2026-12-31
  // on whole seconds.
  if (r.Chance(25)) return kAsOf - std::chrono::hours(24 * r.Of(std::vector<int>{1, 30, 90, 200, 400}));
  return FromUnixMicros((int64_t{1735689600} + r.Pick(0, 730 * 24) * int64_t{3600} + r.Pick(0, 3599)) * 1000000);
}

std::optional<CalendarDuration> RandomDuration(Rng& r, int none_percent) {
  if (r.Chance(none_percent)) return std::nullopt;
  return CalendarDuration{r.Of(std::vector<int>{1, 30, 90, 200, 400}), DurationUnit::kDays};
}

// Adds category `name` with a random schedule and the one target `t`.
void AddCategory(Rng& r, const std::string& name, Target t, RuleSet* rules,
                 std::vector<std::pair<std::string, std::string>>* names) {
  Category c;
  c.name = name;
  c.delete_after = RandomDuration(r, 15);
  c.keep_at_least = RandomDuration(r, 60);
  names->emplace_back(name, t.name);
  c.targets.push_back(std::move(t));
  rules->categories.push_back(std::move(c));
}

// Random holds over the given category/target names; every scope field.
std::vector<Hold> RandomHolds(Rng& r, const std::vector<std::pair<std::string, std::string>>& names,
                              const std::vector<std::string>& keys) {
  std::vector<Hold> holds;
  // Sometimes many: renderers group holds past a few (IN lists, tables).
  const bool many = r.Chance(15);
  const int n = many ? 40 : r.Pick(0, 4);
  for (int i = 0; i < n; ++i) {
    Hold h;
    h.id = i + 1;
    h.matter = "M-" + std::to_string(i + 1);
    h.placed_at = FromUnixMicros(0);
    HoldScope& s = h.scope;
    const auto& name = r.Of(names);
    if (r.Chance(30)) s.category = r.Chance(85) ? name.first : std::string("elsewhere");
    if (r.Chance(20)) s.target = name.second;
    if (r.Chance(35)) {
      s.subject_kind = r.Chance(70) ? "customer" : "account";
      s.subject_id = std::to_string(r.Pick(1, 4));
    }
    if (r.Chance(many ? 30 : 20) && !keys.empty()) s.key = r.Of(keys);
    if (r.Chance(many ? 60 : 30)) s.clock_from = RandomTime(r);
    if (r.Chance(many ? 60 : 30)) s.clock_until = RandomTime(r);
    if (s.empty() && r.Chance(70)) s.key = "no-such-key";
    holds.push_back(std::move(h));
  }
  return holds;
}

// The erasure variant of a selection: one subject, any age.
Selection Erasure(Rng& r, Selection s) {
  s.any_age = r.Chance(80);
  s.subject = std::to_string(r.Pick(1, 4));
  return s;
}

// ---- SQLite ----------------------------------------------------------------

using Value = std::variant<std::monostate, int64_t, double, std::string>;

std::string Sql(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "NULL";
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    return std::string(buf) + (std::string(buf).find_first_of(".e") == std::string::npos ? ".0" : "");
  }
  std::string out = "'";
  for (char c : std::get<std::string>(v)) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::optional<std::string> Text(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return std::nullopt;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return std::nullopt;  // reals are never subjects here
}

struct Row {
  int64_t id = 0;
  Value ct, cs, cm, k, s, subj, subj2;
};

// Columns: ct text clocks, cs unix seconds, cm unix millis, k and s filter
// columns, subj (customer, integers or text) and subj2 (account, text).
Value TextClock(Rng& r) {
  const Timestamp t = RandomTime(r);
  const std::string iso = FormatTimestamp(t);  // 2026-05-01T10:00:00Z
  switch (r.Pick(0, 8)) {
    case 0: return std::monostate{};
    case 1: return iso;
    case 2: return iso.substr(0, 10) + " " + iso.substr(11, 8);  // naive SQL text
    case 3: return iso.substr(0, 19) + r.Of(std::vector<std::string>{"+05:30", "-08:00", "+14:00", "+0100"});
    case 4: return iso.substr(0, 10);  // date only: local midnight
    case 5: return r.Of(std::vector<std::string>{"garbage", "", "2026-02-30", "2026-13-01 00:00:00"});
    case 6: return iso.substr(0, 16);  // minutes only, naive
    case 7: return iso.substr(0, 19) + ".123456Z";
    default: return int64_t{ToUnixMicros(t) / 1000000};  // a number in a text clock: undated
  }
}

Value NumberClock(Rng& r, int64_t per_second) {
  const int64_t seconds = ToUnixMicros(RandomTime(r)) / 1000000;
  switch (r.Pick(0, 5)) {
    case 0: return std::monostate{};
    case 1: return std::string("garbage");
    case 2: return static_cast<double>(seconds * per_second) + 0.5;
    case 3: return int64_t{seconds * per_second + r.Pick(0, 999)};
    default: return int64_t{seconds * per_second};
  }
}

std::optional<Timestamp> ClockOf(const Value& v, ClockEncoding e, const TimeZone& zone) {
  switch (e) {
    case ClockEncoding::kText:
      if (auto* s = std::get_if<std::string>(&v)) return ParseClockText(*s, zone);
      return std::nullopt;
    case ClockEncoding::kUnixSeconds:
    case ClockEncoding::kUnixMillis: {
      double d;
      if (auto* i = std::get_if<int64_t>(&v)) d = static_cast<double>(*i);
      else if (auto* x = std::get_if<double>(&v)) d = *x;
      else return std::nullopt;
      return e == ClockEncoding::kUnixSeconds ? ClockFromUnixSeconds(d) : ClockFromUnixMillis(d);
    }
    default: return std::nullopt;
  }
}

const Value& Column(const Row& row, const std::string& name) {
  if (name == "ct") return row.ct;
  if (name == "cs") return row.cs;
  if (name == "cm") return row.cm;
  if (name == "k") return row.k;
  if (name == "s") return row.s;
  if (name == "subj") return row.subj;
  return row.subj2;
}

bool FilterMatches(const Filter& f, const Row& row) {
  const Value& v = Column(row, f.column);
  const bool null = std::holds_alternative<std::monostate>(v);
  switch (f.op) {
    case FilterOp::kIsNull: return null;
    case FilterOp::kIsNotNull: return !null;
    case FilterOp::kEquals:
    case FilterOp::kIn:
      for (const FilterValue& fv : f.values) {
        if (auto* i = std::get_if<int64_t>(&fv); i && std::holds_alternative<int64_t>(v) && std::get<int64_t>(v) == *i)
          return true;
        if (auto* s = std::get_if<std::string>(&fv);
            s && std::holds_alternative<std::string>(v) && std::get<std::string>(v) == *s)
          return true;
      }
      return false;
  }
  return false;
}

RecordFacts SqliteFacts(const Selection& sel, const Row& row) {
  RecordFacts facts;
  facts.exists = true;
  facts.key = std::to_string(row.id);
  for (const SelectionScope& scope : sel.scopes) {
    const Target& t = *scope.target;
    RecordFacts::ScopeFacts f;
    f.matches_filters = true;
    for (const Filter& filter : t.filters) f.matches_filters &= FilterMatches(filter, row);
    auto zone = TimeZone::Load(t.clock.time_zone.empty() ? sel.zone.name() : t.clock.time_zone);
    REQUIRE(zone.ok());
    f.clock = ClockOf(Column(row, t.clock.column), t.clock.encoding, *zone);
    if (t.subject) {
      if (auto id = Text(Column(row, t.subject->column))) {
        f.subject_kind = t.subject->kind;
        f.subject_id = *id;
      }
    }
    facts.scopes.push_back(std::move(f));
  }
  return facts;
}

Target RandomSqliteTarget(Rng& r, int index) {
  Target t;
  t.name = "t" + std::to_string(index);
  t.store = "app";
  t.table = r.Chance(50) ? "r" : "R";  // the same table, as SQLite spells it either way
  switch (r.Pick(0, 2)) {
    case 0: t.clock.column = "ct"; t.clock.encoding = ClockEncoding::kText; break;
    case 1: t.clock.column = "cs"; t.clock.encoding = ClockEncoding::kUnixSeconds; break;
    default: t.clock.column = "cm"; t.clock.encoding = ClockEncoding::kUnixMillis; break;
  }
  if (r.Chance(30)) t.clock.time_zone = r.Of(kZones);
  if (r.Chance(40)) t.filters.push_back({"k", FilterOp::kEquals, {int64_t{r.Pick(0, 2)}}, {}});
  if (r.Chance(40)) {
    Filter f{"s", FilterOp::kIn, {}, {}};
    for (const char* v : {"a", "b", "c"})
      if (r.Chance(50)) f.values.push_back(std::string(v));
    if (f.values.empty()) f.values.push_back(std::string("a"));
    t.filters.push_back(std::move(f));
  }
  if (r.Chance(20)) t.filters.push_back({"subj", r.Chance(50) ? FilterOp::kIsNull : FilterOp::kIsNotNull, {}, {}});
  switch (r.Pick(0, 2)) {
    case 0: t.subject = SubjectSpec{"customer", "subj"}; break;
    case 1: t.subject = SubjectSpec{"account", "subj2"}; break;
    default: break;
  }
  return t;
}

TEST_CASE("the SQLite rendering of random selections agrees with Evaluate", "[agreement][sqlite]") {
  int64_t selections = 0, deletable = 0;
  for (uint64_t seed = 1; seed <= uint64_t(testing::TrialsForBuild(600)); ++seed) {
    INFO("seed " << seed);
    Rng r(seed);
    testing::TempDir dir;
    std::vector<Row> rows;
    {
      RawDb db(dir / "app.db");
      REQUIRE(db.Exec("CREATE TABLE r (id INTEGER PRIMARY KEY, ct, cs, cm, k, s, subj, subj2);"
                      "CREATE INDEX r_ct ON r(ct); CREATE INDEX r_cs ON r(cs);") == "");
      std::string sql = "BEGIN;";
      const int n = r.Pick(1, 40);
      for (int i = 1; i <= n; ++i) {
        Row row;
        row.id = i;
        row.ct = TextClock(r);
        row.cs = NumberClock(r, 1);
        row.cm = NumberClock(r, 1000);
        if (r.Chance(80)) row.k = int64_t{r.Pick(0, 2)};
        if (r.Chance(80)) row.s = std::string(1, static_cast<char>('a' + r.Pick(0, 2)));
        if (r.Chance(80)) row.subj = r.Chance(70) ? Value(int64_t{r.Pick(1, 4)}) : Value(std::to_string(r.Pick(1, 4)));
        if (r.Chance(80)) row.subj2 = std::to_string(r.Pick(1, 4));
        sql += "INSERT INTO r VALUES (" + std::to_string(i) + "," + Sql(row.ct) + "," + Sql(row.cs) + "," +
               Sql(row.cm) + "," + Sql(row.k) + "," + Sql(row.s) + "," + Sql(row.subj) + "," + Sql(row.subj2) + ");";
        rows.push_back(std::move(row));
      }
      REQUIRE(db.Exec(sql + "COMMIT;") == "");
    }
    Config config;
    config.time_zone = r.Of(kZones);
    config.stores["app"] = StoreConfig{"app", StoreType::kSqlite, dir / "app.db", "", "", "", "", {}};
    if (r.Chance(30)) config.stores["app"].time_zone = r.Of(kZones);
    RuleSet rules;
    std::vector<std::pair<std::string, std::string>> names;
    const int categories = r.Pick(1, 3);
    for (int i = 0; i < categories; ++i)
      AddCategory(r, "c" + std::to_string(i), RandomSqliteTarget(r, i), &rules, &names);
    std::vector<std::string> keys;
    for (const Row& row : rows) keys.push_back(std::to_string(row.id));
    const HoldSet holds(RandomHolds(r, names, keys), kAsOf);
    auto made = MakeSelections(config, rules, kAsOf, "");
    REQUIRE(made.ok());
    auto store = OpenStore(config.stores["app"], true, files::PosixFileSystem());
    REQUIRE(store.ok());
    for (const Selection& base : *made) {
      for (const Selection& sel : {WithHolds(base, holds), WithHolds(Erasure(r, base), holds)}) {
        ++selections;
        std::set<std::string> expected;
        for (const Row& row : rows)
          if (Evaluate(sel, SqliteFacts(sel, row)).deletable) expected.insert(std::to_string(row.id));
        deletable += static_cast<int64_t>(expected.size());
        CAPTURE(sel.target->name, sel.any_age, sel.subject.value_or("-"), sel.exclusions.size(), sel.floors.size());
        CHECK(files_test::Keys(files_test::Drain(**store, sel, 3)) == expected);
        auto stats = (*store)->Measure(sel);
        REQUIRE(stats.ok());
        if (!sel.any_age) CHECK(stats->deletable == static_cast<int64_t>(expected.size()));
        // Lookup reports the same facts the test derived.
        const Row& row = r.Of(rows);
        auto looked = (*store)->Lookup(sel, std::to_string(row.id));
        REQUIRE(looked.ok());
        const RecordFacts derived = SqliteFacts(sel, row);
        REQUIRE(looked->scopes.size() == derived.scopes.size());
        for (size_t i = 0; i < derived.scopes.size(); ++i) {
          CHECK(looked->scopes[i].matches_filters == derived.scopes[i].matches_filters);
          CHECK(looked->scopes[i].clock == derived.scopes[i].clock);
          CHECK(looked->scopes[i].subject_id == derived.scopes[i].subject_id);
        }
      }
    }
  }
  INFO(selections << " selections, " << deletable << " deletable");
  CHECK(selections > 2000 / testing::kSweepDivisor);
  CHECK(deletable > 100 / testing::kSweepDivisor);
}

// ---- files -----------------------------------------------------------------

TEST_CASE("the files rendering of random selections agrees with Evaluate", "[agreement][files]") {
  using namespace files_test;
  int64_t selections = 0, deletable = 0;
  const std::vector<std::string> globs = {"*.log", "d1/*.log", "*/*.log", "*/*", "*.txt", "*/x-*", "d2/f-*.log"};
  for (uint64_t seed = 1; seed <= uint64_t(testing::TrialsForBuild(240)); ++seed) {
    INFO("seed " << seed);
    Rng r(seed);
    TempDir tmp;
    const fs::path root = tmp / "root";
    fs::create_directories(root);
    struct File {
      std::string key;
      Timestamp mtime;
      std::optional<date::year_month_day> name_date;  // a real date in the name
    };
    std::vector<File> files;
    const int n = r.Pick(1, 25);
    for (int i = 0; i < n; ++i) {
      const std::string dir = r.Of(std::vector<std::string>{"", "d1/", "d2/"});
      const Timestamp named = RandomTime(r);
      const std::string ymd = date::format("%Y%m%d", date::floor<date::days>(named));
      std::string base;
      std::optional<date::year_month_day> name_date;
      switch (r.Pick(0, 3)) {
        case 0: base = "f-" + ymd + "-" + std::to_string(i) + ".log"; name_date = date::year_month_day(date::floor<date::days>(named)); break;
        case 1: base = "x-" + ymd + "-" + std::to_string(i) + ".txt"; name_date = date::year_month_day(date::floor<date::days>(named)); break;
        case 2: base = "bad-20260230-" + std::to_string(i) + ".log"; break;
        default: base = "g" + std::to_string(i) + ".log"; break;
      }
      File f{dir + base, RandomTime(r), name_date};
      WriteFile(root / f.key, f.mtime);
      files.push_back(std::move(f));
    }
    Config config;
    config.time_zone = r.Of(kZones);
    config.stores["logs"] = FilesConfig(root);
    RuleSet rules;
    std::vector<std::pair<std::string, std::string>> names;
    const int categories = r.Pick(1, 3);
    for (int i = 0; i < categories; ++i) {
      Target t;
      t.name = "t" + std::to_string(i);
      t.store = "logs";
      t.paths.push_back(r.Of(globs));
      if (r.Chance(30)) t.paths.push_back(r.Of(globs));
      t.clock = r.Chance(50) ? MtimeClock() : NameClock("%Y%m%d", r.Chance(30) ? r.Of(kZones) : "");
      AddCategory(r, "c" + std::to_string(i), std::move(t), &rules, &names);
    }
    std::vector<std::string> keys;
    for (const File& f : files) keys.push_back(f.key);
    const HoldSet holds(RandomHolds(r, names, keys), kAsOf);
    auto made = MakeSelections(config, rules, kAsOf, "");
    REQUIRE(made.ok());
    auto store = OpenOrFail(config.stores["logs"], true);
    for (const Selection& base : *made) {
      for (const Selection& sel : {WithHolds(base, holds), WithHolds(Erasure(r, base), holds)}) {
        ++selections;
        std::set<std::string> expected;
        for (const File& file : files) {
          RecordFacts facts;
          facts.exists = true;
          facts.key = file.key;
          for (const SelectionScope& scope : sel.scopes) {
            const Target& t = *scope.target;
            RecordFacts::ScopeFacts f;
            for (const std::string& g : t.paths)
              f.matches_filters |= ::fnmatch(g.c_str(), file.key.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0;
            if (t.clock.source == ClockSource::kFileMtime) {
              f.clock = file.mtime;
            } else if (file.name_date) {
              auto zone = TimeZone::Load(t.clock.time_zone.empty() ? sel.zone.name() : t.clock.time_zone);
              REQUIRE(zone.ok());
              f.clock = zone->FromLocal(TimeZone::LocalTime(date::local_days(*file.name_date).time_since_epoch()),
                                        TimeZone::Pick::kLater);
            }
            facts.scopes.push_back(std::move(f));
          }
          if (Evaluate(sel, facts).deletable) expected.insert(file.key);
        }
        deletable += static_cast<int64_t>(expected.size());
        CAPTURE(sel.target->name, sel.target->paths, sel.any_age, sel.exclusions.size(), sel.floors.size());
        CHECK(Keys(Drain(*store, sel, 4)) == expected);
        auto stats = store->Measure(sel);
        REQUIRE(stats.ok());
        if (!sel.subject) CHECK(stats->deletable == static_cast<int64_t>(expected.size()));
      }
    }
  }
  INFO(selections << " selections, " << deletable << " deletable");
  CHECK(selections > 600 / testing::kSweepDivisor);
  CHECK(deletable > 50 / testing::kSweepDivisor);
}

// ---- PostgreSQL ------------------------------------------------------------

// Wall times at and around the DST changes of the zones above (Berlin's
// spring gap and autumn overlap, New York's), where a naive clock's reading
// is not its wall time minus one offset.
const std::vector<std::string> kDstWallTimes = {
    "2026-03-29 01:59:59", "2026-03-29 02:00:00", "2026-03-29 02:30:00", "2026-03-29 03:00:00",
    "2026-10-25 01:59:59", "2026-10-25 02:00:00", "2026-10-25 02:30:00", "2026-10-25 03:00:00",
    "2026-03-08 02:30:00", "2026-11-01 01:30:00", "2026-11-01 02:00:00"};

struct PgRow {
  int64_t id = 0;
  // Every value in its SQL text form; nullopt is NULL.
  std::optional<std::string> ct, cs, cm, tz, ts, d, k, s, subj, subj2;
};

std::string Quoted(const std::optional<std::string>& v) {
  if (!v) return "NULL";
  std::string out = "'";
  for (char c : *v) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string WallText(Timestamp t) {
  const std::string iso = FormatTimestamp(t);
  return iso.substr(0, 10) + " " + iso.substr(11, 8);
}

PgRow RandomPgRow(Rng& r, int64_t id) {
  PgRow row;
  row.id = id;
  const Value text = TextClock(r);
  if (auto* str = std::get_if<std::string>(&text)) row.ct = *str;
  else if (auto* i = std::get_if<int64_t>(&text)) row.ct = std::to_string(*i);
  if (!r.Chance(15)) row.cs = std::to_string(ToUnixMicros(RandomTime(r)) / 1000000);
  if (!r.Chance(15)) row.cm = std::to_string(ToUnixMicros(RandomTime(r)) / 1000 + r.Pick(0, 999)) + (r.Chance(30) ? ".5" : "");
  if (!r.Chance(10)) row.tz = r.Chance(5) ? std::string(r.Chance(50) ? "infinity" : "-infinity") : FormatTimestamp(RandomTime(r));
  if (!r.Chance(10)) row.ts = r.Chance(25) ? r.Of(kDstWallTimes) : WallText(RandomTime(r));
  if (!r.Chance(10)) row.d = r.Chance(15) ? r.Of(kDstWallTimes).substr(0, 10) : WallText(RandomTime(r)).substr(0, 10);
  if (r.Chance(80)) row.k = std::to_string(r.Pick(0, 2));
  if (r.Chance(80)) row.s = std::string(1, static_cast<char>('a' + r.Pick(0, 2)));
  if (r.Chance(80)) row.subj = std::to_string(r.Pick(1, 4));
  if (r.Chance(80)) row.subj2 = std::to_string(r.Pick(1, 4));
  return row;
}

const std::optional<std::string>& PgColumnOf(const PgRow& row, const std::string& name) {
  if (name == "ct") return row.ct;
  if (name == "cs") return row.cs;
  if (name == "cm") return row.cm;
  if (name == "tz") return row.tz;
  if (name == "ts") return row.ts;
  if (name == "d") return row.d;
  if (name == "k") return row.k;
  if (name == "s") return row.s;
  if (name == "subj") return row.subj;
  return row.subj2;
}

// The facts of a row as the rule reads them, from the values written: text
// and naive clocks through ParseClockText (a timestamp's or date's text is
// a naive clock text), unix clocks through ClockFromUnix*, infinities undated.
RecordFacts PgFacts(const Selection& sel, const PgRow& row) {
  RecordFacts facts;
  facts.exists = true;
  facts.key = std::to_string(row.id);
  for (const SelectionScope& scope : sel.scopes) {
    const Target& t = *scope.target;
    RecordFacts::ScopeFacts f;
    f.matches_filters = true;
    for (const Filter& filter : t.filters) {
      const auto& v = PgColumnOf(row, filter.column);
      bool match = false;
      switch (filter.op) {
        case FilterOp::kIsNull: match = !v; break;
        case FilterOp::kIsNotNull: match = v.has_value(); break;
        default:
          for (const FilterValue& fv : filter.values) {
            if (auto* i = std::get_if<int64_t>(&fv); i && v && *v == std::to_string(*i)) match = true;
            if (auto* s = std::get_if<std::string>(&fv); s && v && *v == *s) match = true;
          }
      }
      f.matches_filters &= match;
    }
    auto zone = TimeZone::Load(t.clock.time_zone.empty() ? sel.zone.name() : t.clock.time_zone);
    REQUIRE(zone.ok());
    const auto& clock = PgColumnOf(row, t.clock.column);
    if (clock) {
      if (t.clock.encoding == ClockEncoding::kUnixSeconds) f.clock = ClockFromUnixSeconds(std::stod(*clock));
      else if (t.clock.encoding == ClockEncoding::kUnixMillis) f.clock = ClockFromUnixMillis(std::stod(*clock));
      else if (t.clock.column == "tz") f.clock = clock->find("infinity") == std::string::npos ? ParseClockText(*clock, TimeZone::Utc()) : std::nullopt;
      else f.clock = ParseClockText(*clock, *zone);
    }
    if (t.subject) {
      if (const auto& id = PgColumnOf(row, t.subject->column)) {
        f.subject_kind = t.subject->kind;
        f.subject_id = *id;
      }
    }
    facts.scopes.push_back(std::move(f));
  }
  return facts;
}

TEST_CASE("the PostgreSQL rendering of random selections agrees with Evaluate", "[agreement][postgres]") {
  pgtest::PgTestDatabase db;
  pgtest::PgConnection sql = db.Connect();
  const std::string var = "RETENTION_AGREEMENT_PG_" + db.name();
  ::setenv(var.c_str(), db.Conninfo().c_str(), 1);
  int64_t selections = 0, deletable = 0;
  for (uint64_t seed = 1; seed <= uint64_t(testing::TrialsForBuild(150)); ++seed) {
    INFO("seed " << seed);
    Rng r(seed);
    std::vector<PgRow> rows;
    std::string load =
        "DROP TABLE IF EXISTS r; CREATE TABLE r (id bigint PRIMARY KEY, ct text, cs bigint, cm numeric,"
        " tz timestamptz, ts timestamp, d date, k int, s text, subj text, subj2 text);"
        " CREATE INDEX ON r (tz); CREATE INDEX ON r (ts); CREATE INDEX ON r (cs);";
    const int n = r.Pick(1, 40);
    for (int i = 1; i <= n; ++i) {
      PgRow row = RandomPgRow(r, i);
      load += "INSERT INTO r VALUES (" + std::to_string(i) + "," + Quoted(row.ct) + "," + Quoted(row.cs) + "," +
              Quoted(row.cm) + "," + Quoted(row.tz) + "," + Quoted(row.ts) + "," + Quoted(row.d) + "," +
              Quoted(row.k) + "," + Quoted(row.s) + "," + Quoted(row.subj) + "," + Quoted(row.subj2) + ");";
      rows.push_back(std::move(row));
    }
    sql.Exec(load);
    Config config;
    config.time_zone = r.Of(kZones);
    StoreConfig store_config;
    store_config.name = "app";
    store_config.type = StoreType::kPostgres;
    store_config.conninfo_env = var;
    if (r.Chance(30)) store_config.time_zone = r.Of(kZones);
    config.stores["app"] = store_config;
    RuleSet rules;
    std::vector<std::pair<std::string, std::string>> names;
    const int categories = r.Pick(1, 3);
    for (int i = 0; i < categories; ++i) {
      Target t = RandomSqliteTarget(r, i);
      if (r.Chance(50)) t.table = "public.r";
      switch (r.Pick(0, 5)) {
        case 0: t.clock.column = "ct"; t.clock.encoding = ClockEncoding::kText; break;
        case 1: t.clock.column = "cs"; t.clock.encoding = ClockEncoding::kUnixSeconds; break;
        case 2: t.clock.column = "cm"; t.clock.encoding = ClockEncoding::kUnixMillis; break;
        case 3: t.clock.column = "tz"; t.clock.encoding = ClockEncoding::kNative; break;
        case 4: t.clock.column = "ts"; t.clock.encoding = ClockEncoding::kNative; break;
        default: t.clock.column = "d"; t.clock.encoding = ClockEncoding::kNative; break;
      }
      AddCategory(r, "c" + std::to_string(i), std::move(t), &rules, &names);
    }
    std::vector<std::string> keys;
    for (const PgRow& row : rows) keys.push_back(std::to_string(row.id));
    std::vector<Hold> hold_list = RandomHolds(r, names, keys);
    // Some clock ranges end or start inside a DST change.
    for (Hold& h : hold_list) {
      if (h.scope.clock_from && r.Chance(25))
        h.scope.clock_from = ParseClockText(r.Of(kDstWallTimes), *TimeZone::Load(r.Of(kZones)));
      if (h.scope.clock_until && r.Chance(25))
        h.scope.clock_until = ParseClockText(r.Of(kDstWallTimes), *TimeZone::Load(r.Of(kZones)));
    }
    const HoldSet holds(hold_list, kAsOf);
    auto made = MakeSelections(config, rules, kAsOf, "");
    REQUIRE(made.ok());
    auto store = OpenStore(config.stores["app"], true, files::PosixFileSystem());
    INFO(store.status().message());
    REQUIRE(store.ok());
    for (const Selection& base : *made) {
      for (const Selection& sel : {WithHolds(base, holds), WithHolds(Erasure(r, base), holds)}) {
        ++selections;
        std::set<std::string> expected;
        for (const PgRow& row : rows)
          if (Evaluate(sel, PgFacts(sel, row)).deletable) expected.insert(std::to_string(row.id));
        deletable += static_cast<int64_t>(expected.size());
        CAPTURE(sel.target->name, sel.target->clock.column, sel.any_age, sel.subject.value_or("-"),
                sel.exclusions.size(), sel.floors.size());
        CHECK(files_test::Keys(files_test::Drain(**store, sel, 3)) == expected);
        auto stats = (*store)->Measure(sel);
        INFO(stats.status().message());
        REQUIRE(stats.ok());
        if (!sel.any_age) CHECK(stats->deletable == static_cast<int64_t>(expected.size()));
        auto covered = (*store)->CountCovered(sel);
        REQUIRE(covered.ok());
        const PgRow& row = r.Of(rows);
        auto looked = (*store)->Lookup(sel, std::to_string(row.id));
        INFO(looked.status().message());
        REQUIRE(looked.ok());
        REQUIRE(looked->exists);
        const RecordFacts derived = PgFacts(sel, row);
        REQUIRE(looked->scopes.size() == derived.scopes.size());
        for (size_t i = 0; i < derived.scopes.size(); ++i) {
          CAPTURE(i, looked->scopes[i].clock_text);
          CHECK(looked->scopes[i].matches_filters == derived.scopes[i].matches_filters);
          CHECK(looked->scopes[i].clock == derived.scopes[i].clock);
          CHECK(looked->scopes[i].subject_id == derived.scopes[i].subject_id);
        }
      }
    }
  }
  ::unsetenv(var.c_str());
  INFO(selections << " selections, " << deletable << " deletable");
  CHECK(selections > 400 / testing::kSweepDivisor);
  CHECK(deletable > 100 / testing::kSweepDivisor);
}

// ---- purge log -------------------------------------------------------------

TEST_CASE("the purge log's evaluation of random selections agrees with Evaluate", "[agreement][purge-log]") {
  int64_t selections = 0, prunable = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    INFO("seed " << seed);
    Rng r(seed);
    Config config;
    config.time_zone = r.Of(kZones);
    RuleSet rules;
    std::vector<std::pair<std::string, std::string>> names;
    const int categories = r.Pick(1, 2);
    for (int i = 0; i < categories; ++i) {
      Target t;
      t.name = "purge-log";
      t.store = kPurgeLogStore;
      t.clock.source = ClockSource::kLedgerTime;
      AddCategory(r, "audit" + std::to_string(i), std::move(t), &rules, &names);
    }
    std::vector<LedgerEntry> entries;
    std::vector<std::string> keys;
    for (int i = 1; i <= 30; ++i) {
      LedgerEntry e;
      e.seq = i;
      e.at = RandomTime(r);
      if (r.Chance(60)) e.subject = r.Of(std::vector<std::string>{"customer", "account"}) + ":" + std::to_string(r.Pick(1, 4));
      keys.push_back(std::to_string(i));
      entries.push_back(std::move(e));
    }
    const HoldSet holds(RandomHolds(r, names, keys), kAsOf);
    auto made = MakeSelections(config, rules, kAsOf, "");
    REQUIRE(made.ok());
    for (const Selection& base : *made) {
      const Selection sel = WithHolds(base, holds);
      ++selections;
      for (const LedgerEntry& e : entries) {
        RecordFacts facts;
        facts.exists = true;
        facts.key = std::to_string(e.seq);
        RecordFacts::ScopeFacts f;
        f.matches_filters = true;
        f.clock = e.at;
        if (const auto colon = e.subject.find(':'); colon != std::string::npos) {
          f.subject_kind = e.subject.substr(0, colon);
          f.subject_id = e.subject.substr(colon + 1);
        }
        facts.scopes.assign(sel.scopes.size(), f);
        const bool expected = Evaluate(sel, facts).deletable;
        prunable += expected;
        CAPTURE(e.seq, e.subject, sel.exclusions.size());
        CHECK(!PurgeLogEntryKept(sel, e).has_value() == expected);
      }
    }
  }
  CHECK(selections > 300);
  CHECK(prunable > 100);
}

}  // namespace
}  // namespace retention
