#include "stores/postgres_selection_sql.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>

#include "calendar/clock_value.h"

namespace retention {

namespace {

using std::chrono::days;
using std::chrono::microseconds;
using std::chrono::seconds;

// The grammar of SplitClockText as a POSIX ARE (bound as a parameter, so
// no quoting applies). Groups: 1 year, 2 month, 3 day, 4 hour, 5 minute,
// 6 second, 7 fraction, 8 offset (Z or signed), 9 its sign, 10 its hours,
// 11 its minutes. [0-9], never \d: that would match other scripts' digits.
constexpr char kClockTextRegex[] =
    "^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]{1,9}))?)?"
    "([Zz]|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?$";

// Over the match `m`: true when the text is not a valid clock (no match,
// year 0, a date the calendar lacks, fields out of range). The CASE keeps
// make_date from ever seeing an invalid month.
constexpr char kTextInvalid[] =
    "CASE WHEN m IS NULL THEN true"
    " WHEN m[1] = '0000' OR m[2]::int NOT BETWEEN 1 AND 12 OR m[3]::int < 1 THEN true"
    " WHEN m[3]::int > date_part('day', make_date(m[1]::int, m[2]::int, 1) + interval '1 month' - interval '1 day')"
    " THEN true"
    " WHEN coalesce(m[4]::int, 0) > 23 OR coalesce(m[5]::int, 0) > 59 OR coalesce(m[6]::int, 0) > 59"
    " OR coalesce(m[10]::int, 0) > 23 OR coalesce(m[11]::int, 0) > 59 THEN true ELSE false END";
// The wall time in microseconds since 1970-01-01 00:00 (valid matches only);
// the fraction rounded up to microseconds as Cursor::Fraction does.
constexpr char kTextLocalMicros[] =
    "((make_date(m[1]::int, m[2]::int, m[3]::int) - DATE '1970-01-01')::bigint * 86400000000"
    " + coalesce(m[4]::bigint, 0) * 3600000000 + coalesce(m[5]::bigint, 0) * 60000000"
    " + coalesce(m[6]::bigint, 0) * 1000000 + coalesce((rpad(m[7], 9, '0')::bigint + 999) / 1000, 0))";
// The offset east of UTC in microseconds (0 for Z).
constexpr char kTextOffsetMicros[] =
    "(CASE WHEN m[9] IS NULL THEN 0 ELSE (CASE WHEN m[9] = '-' THEN -1 ELSE 1 END)"
    " * (m[10]::bigint * 3600000000 + coalesce(m[11]::bigint, 0) * 60000000) END)";

constexpr int64_t kFirstUnixMicros = int64_t{-2208988800} * 1000000;  // 1900-01-01
constexpr int64_t kEndUnixMicros = int64_t{253402300800} * 1000000;   // 10000-01-01
// Year 1: nothing PostgreSQL stores in these kinds is read before it here
// (text clocks start there; earlier cutoffs mean "nothing is due").
constexpr int64_t kYearOneMicros = int64_t{-62135596800} * 1000000;

std::string ScopeAlias(size_t i) { return i == 0 ? "j" : "s" + std::to_string(i); }

int64_t CeilDiv(int64_t a, int64_t b) { return a / b + (a % b > 0 ? 1 : 0); }

int64_t UnitMicros(ClockEncoding e) { return e == ClockEncoding::kUnixSeconds ? 1000000 : 1000; }

// micros / unit as an exact decimal text.
std::string DecimalOf(int64_t micros, int64_t unit) {
  const bool negative = micros < 0;
  const uint64_t m = negative ? static_cast<uint64_t>(-(micros + 1)) + 1 : static_cast<uint64_t>(micros);
  const uint64_t whole = m / static_cast<uint64_t>(unit), frac = m % static_cast<uint64_t>(unit);
  std::string f = std::to_string(frac);
  const size_t digits = unit == 1000000 ? 6 : 3;
  f.insert(0, digits - f.size(), '0');
  return (negative ? "-" : "") + std::to_string(whole) + "." + f;
}

// The first midnight at or after a wall time, as "YYYY-MM-DD".
std::string CeilDayText(TimeZone::LocalTime t) {
  // Formatted as the UTC date of the same count: a wall time's fields.
  const std::chrono::sys_time<microseconds> u(t.time_since_epoch());
  auto d = date::floor<days>(u);
  if (d < u) d += days(1);
  return date::format("%F", d);
}

// An exact decimal "-12.345678" (extract(epoch ...)) as microseconds.
std::optional<int64_t> MicrosOfDecimal(std::string_view s) {
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  const size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string frac = dot == std::string_view::npos ? std::string() : std::string(s.substr(dot + 1));
  int64_t w = 0;
  if (whole.empty() || std::from_chars(whole.data(), whole.data() + whole.size(), w).ec != std::errc()) return std::nullopt;
  while (frac.size() < 6) frac += '0';
  const int64_t f = std::atoll(frac.substr(0, 6).c_str());
  const int64_t micros = w * 1000000 + f;
  return negative ? -micros : micros;
}

}  // namespace

std::string PgArrayLiteral(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string PgArrayLiteral(const std::vector<std::string>& values) {
  std::vector<std::optional<std::string>> v(values.begin(), values.end());
  return PgArrayLiteral(v);
}

std::string PgLocalText(TimeZone::LocalTime t) {
  const std::chrono::sys_time<microseconds> u(t.time_since_epoch());
  const auto s = date::floor<seconds>(u);
  std::string f = std::to_string((u - s).count());
  f.insert(0, 6 - f.size(), '0');
  return date::format("%F %T", s) + "." + f;
}

std::string PgInstantText(Timestamp t) { return PgLocalText(TimeZone::LocalTime(t.time_since_epoch())) + "+00"; }

std::vector<LocalRange> LocalTimesBefore(const TimeZone& zone, Timestamp t) {
  using Local = TimeZone::LocalTime;
  const date::time_zone* z = zone.zone();
  if (z == nullptr) return {{std::nullopt, Local(t.time_since_epoch())}};
  // Outside two days around t's wall time the answer is plain (offsets are
  // under a day); inside, the reading is v - offset on each stretch between
  // the wall times where a transition starts or ends, so the wall times
  // before t are, per stretch, those below t + offset.
  const Local t_local = zone.ToLocal(t);
  const Local lo = t_local - days(2), hi = t_local + days(2);
  std::vector<Local> points{lo};
  const auto t_sec = date::floor<seconds>(t);
  auto info = z->get_info(t_sec - days(3));
  while (info.end < t_sec + days(3)) {
    const auto next = z->get_info(info.end);
    for (auto offset : {info.offset, next.offset}) {
      const Local p(std::chrono::duration_cast<microseconds>(info.end.time_since_epoch() + offset));
      if (p > lo && p < hi) points.push_back(p);
    }
    info = next;
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  points.push_back(hi);
  std::vector<LocalRange> out{{std::nullopt, lo}};
  for (size_t i = 0; i + 1 < points.size(); ++i) {
    const Local a = points[i];
    const Timestamp at = zone.FromLocal(a, TimeZone::Pick::kLater);
    const auto offset = a.time_since_epoch() - at.time_since_epoch();
    const Local bound(t.time_since_epoch() + offset);
    const Local end = std::min(points[i + 1], bound);
    if (!(a < end)) continue;
    if (out.back().until >= a) out.back().until = std::max(out.back().until, end);
    else out.push_back({a, end});
  }
  return out;
}

std::optional<Timestamp> ReadPgClock(PgClockKind kind, ClockEncoding encoding, std::optional<std::string_view> raw,
                                     std::optional<std::string_view> epoch, const TimeZone& zone) {
  switch (kind) {
    case PgClockKind::kTimestampTz: {
      if (!epoch) return std::nullopt;
      auto micros = MicrosOfDecimal(*epoch);
      if (!micros) return std::nullopt;
      return FromUnixMicros(*micros);
    }
    case PgClockKind::kTimestamp:
    case PgClockKind::kDate: {
      if (!epoch) return std::nullopt;
      auto micros = MicrosOfDecimal(*epoch);
      if (!micros) return std::nullopt;
      return zone.FromLocal(TimeZone::LocalTime(microseconds(*micros)), TimeZone::Pick::kLater);
    }
    case PgClockKind::kText:
      if (!raw) return std::nullopt;
      return ParseClockText(*raw, zone);
    case PgClockKind::kUnixInteger:
    case PgClockKind::kUnixNumeric: {
      if (!raw || raw->empty()) return std::nullopt;
      const std::string text(*raw);
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (end == nullptr || *end != '\0') return std::nullopt;
      return encoding == ClockEncoding::kUnixMillis ? ClockFromUnixMillis(v) : ClockFromUnixSeconds(v);
    }
  }
  return std::nullopt;
}

std::string PgCol(const std::string& alias, const PgColumn& column) { return alias + "." + QuotePgIdent(column.name); }

std::string PgKeyText(const ResolvedPgTarget& r, const std::string& alias) {
  if (r.key.size() == 1) return PgCol(alias, r.key[0]) + "::text";
  std::string out = "jsonb_build_array(";
  for (size_t i = 0; i < r.key.size(); ++i) out += (i ? ", " : "") + PgCol(alias, r.key[i]) + "::text";
  return out + ")::text";
}

void PgKeyIn(PgQuery* q, const ResolvedPgTarget& r, const std::vector<std::string>& keys, const std::string& alias) {
  if (r.key.size() == 1) {
    *q += PgCol(alias, r.key[0]) + " = ANY(" + q->Bind(PgArrayLiteral(keys)) + "::" + r.key[0].type + "[])";
    return;
  }
  // The composite key decoded from its jsonb texts, each component cast to
  // its column's type.
  std::string cols = "(", decoded;
  for (size_t i = 0; i < r.key.size(); ++i) {
    cols += (i ? ", " : "") + PgCol(alias, r.key[i]);
    decoded += (i ? ", " : "") + std::string("(x->>") + std::to_string(i) + ")::" + r.key[i].type;
  }
  *q += cols + ") IN (SELECT " + decoded + " FROM unnest(" + q->Bind(PgArrayLiteral(keys)) + "::jsonb[]) AS x)";
}

Result<PgSelectionSql> PgSelectionSql::Make(const Selection& selection, std::vector<ResolvedPgTarget> scopes) {
  RETENTION_RETURN_IF_ERROR(CheckRenderable(selection));
  if (scopes.size() != selection.scopes.size())
    return Status::Internal("selection scopes resolved " + std::to_string(scopes.size()) + " of " +
                            std::to_string(selection.scopes.size()));
  std::vector<Scope> out;
  for (size_t i = 0; i < scopes.size(); ++i) {
    const Target* target = selection.scopes[i].target;
    TimeZone zone = selection.zone;
    if (!target->clock.time_zone.empty()) {
      auto loaded = TimeZone::Load(target->clock.time_zone);
      if (!loaded.ok()) return loaded.status();
      zone = *loaded;
    }
    std::string alias = scopes[i].join_key ? ScopeAlias(i) : "t";
    out.push_back({target, std::move(scopes[i]), std::move(zone), std::move(alias)});
  }
  return PgSelectionSql(selection, std::move(out));
}

std::string PgSelectionSql::From() const {
  const ResolvedPgTarget& self = scopes_[0].r;
  std::string f = " FROM " + self.QualifiedTable() + " AS t";
  for (size_t i = 0; i < scopes_.size(); ++i) {
    const ResolvedPgTarget& s = scopes_[i].r;
    if (!s.join_key) continue;
    f += " LEFT JOIN " + s.QualifiedClockTable() + " AS " + ScopeAlias(i) + " ON " + PgCol(ScopeAlias(i), *s.join_key) +
         " = " + PgCol("t", *s.join_on);
  }
  return f;
}

bool PgSelectionSql::HasJoins() const {
  for (const Scope& s : scopes_)
    if (s.r.join_key) return true;
  return false;
}

std::string PgSelectionSql::ClockColumn(size_t scope) const {
  return PgCol(scopes_[scope].alias, scopes_[scope].r.clock);
}

std::vector<std::string> PgSelectionSql::KeyColumns() const {
  std::vector<std::string> out;
  for (const PgColumn& c : self().key) out.push_back(PgCol("t", c));
  return out;
}

std::string PgSelectionSql::SubjectText(size_t scope) const {
  const auto& s = scopes_[scope].r.subject;
  return s ? PgCol("t", *s) + "::text" : std::string("NULL::text");
}

std::string PgSelectionSql::ClockEpoch(size_t scope) const {
  const std::string c = ClockColumn(scope);
  switch (scopes_[scope].r.clock_kind) {
    case PgClockKind::kTimestampTz:
    case PgClockKind::kTimestamp:
      return "CASE WHEN isfinite(" + c + ") THEN extract(epoch FROM " + c + ")::text END";
    case PgClockKind::kDate:
      return "CASE WHEN isfinite(" + c + ") THEN extract(epoch FROM " + c + "::timestamp)::text END";
    default:
      return "NULL::text";
  }
}

namespace {

void FiltersOf(PgQuery* q, const Target& target, const ResolvedPgTarget& r) {
  *q += "(true";
  for (size_t i = 0; i < target.filters.size(); ++i) {
    const Filter& filter = target.filters[i];
    const std::string column = PgCol("t", r.filters[i]);
    switch (filter.op) {
      case FilterOp::kEquals:
        *q += " AND " + column + " = " + q->Bind(PgFilterText(filter.values[0])) + "::" + r.filters[i].type;
        break;
      case FilterOp::kIn: {
        std::vector<std::string> values;
        for (const FilterValue& v : filter.values) values.push_back(PgFilterText(v));
        *q += " AND " + column + " = ANY(" + q->Bind(PgArrayLiteral(values)) + "::" + r.filters[i].type + "[])";
        break;
      }
      case FilterOp::kIsNull:
        *q += " AND " + column + " IS NULL";
        break;
      case FilterOp::kIsNotNull:
        *q += " AND " + column + " IS NOT NULL";
        break;
    }
  }
  *q += ")";
}

}  // namespace

void PgSelectionSql::Filters(PgQuery* q) const { FiltersOf(q, *selection_->target, self()); }

void PgSelectionSql::ScopeFilters(PgQuery* q, size_t scope) const {
  *q += "coalesce(";
  FiltersOf(q, *scopes_[scope].target, scopes_[scope].r);
  *q += ", false)";
}

void PgSelectionSql::Subject(PgQuery* q) const {
  if (!selection_->subject) {
    *q += "true";
  } else if (!self().subject) {
    *q += "false";  // the target maps no subject: none of its records is the subject's
  } else {
    *q += "coalesce(" + SubjectText(0) + " = " + q->Bind(*selection_->subject) + ", false)";
  }
}

// `value` (a wall time as `cast`, or with dates as the day) in the ranges
// LocalTimesBefore gives for t.
void PgSelectionSql::LocalBefore(PgQuery* q, const std::string& value, const char* cast, size_t scope, Timestamp t,
                                 bool dates) const {
  const bool micros = std::string_view(cast) == "bigint";
  auto text = [&](TimeZone::LocalTime v) {
    if (micros) return std::to_string(v.time_since_epoch().count());
    return dates ? CeilDayText(v) : PgLocalText(v);
  };
  const TimeZone::LocalTime year_one{microseconds(kYearOneMicros)};
  *q += "(false";
  for (const LocalRange& r : LocalTimesBefore(scopes_[scope].zone, t)) {
    if (!micros && r.until <= year_one) continue;  // before anything the type holds here
    if (dates && r.from && CeilDayText(*r.from) >= CeilDayText(r.until)) continue;
    *q += " OR (";
    if (r.from && (micros || *r.from > year_one)) *q += value + " >= " + q->Bind(text(*r.from)) + "::" + cast + " AND ";
    *q += value + " < " + q->Bind(text(r.until)) + "::" + cast + ")";
  }
  *q += ")";
}

void PgSelectionSql::Before(PgQuery* q, size_t scope, Timestamp t) const {
  const Scope& s = scopes_[scope];
  const std::string c = ClockColumn(scope);
  const int64_t micros = ToUnixMicros(t);
  switch (s.r.clock_kind) {
    case PgClockKind::kTimestampTz:
      if (micros <= kYearOneMicros) {
        *q += "false";
        return;
      }
      *q += "coalesce(" + c + " < " + q->Bind(PgInstantText(t)) + "::timestamptz AND " + c +
            " > '-infinity'::timestamptz, false)";
      return;
    case PgClockKind::kTimestamp:
    case PgClockKind::kDate: {
      const bool dates = s.r.clock_kind == PgClockKind::kDate;
      *q += "coalesce(";
      LocalBefore(q, c, dates ? "date" : "timestamp", scope, t, dates);
      *q += " AND " + c + " > '-infinity', false)";
      return;
    }
    case PgClockKind::kText: {
      *q += "coalesce((SELECT CASE WHEN " + std::string(kTextInvalid) + " THEN false WHEN m[8] IS NULL THEN ";
      LocalBefore(q, kTextLocalMicros, "bigint", scope, t, false);
      *q += " ELSE " + std::string(kTextLocalMicros) + " - " + kTextOffsetMicros + " < " +
            q->Bind(std::to_string(micros)) + "::bigint END FROM regexp_match(" + c + "::text, " +
            q->Bind(kClockTextRegex) + ") AS r(m)), false)";
      return;
    }
    case PgClockKind::kUnixInteger: {
      const int64_t unit = UnitMicros(s.target->clock.encoding);
      const int64_t first = kFirstUnixMicros / unit, end = kEndUnixMicros / unit;
      const int64_t before = std::min(CeilDiv(micros, unit), end);
      *q += "coalesce(" + c + " >= " + q->Bind(std::to_string(first)) + "::bigint AND " + c + " < " +
            q->Bind(std::to_string(before)) + "::bigint, false)";
      return;
    }
    case PgClockKind::kUnixNumeric: {
      const int64_t unit = UnitMicros(s.target->clock.encoding);
      const std::string n = c + "::numeric", u = std::to_string(unit);
      const std::string m = "(floor(" + n + ") * " + u + " + round((" + n + " - floor(" + n + ")) * " + u + "))";
      *q += "coalesce(" + m + " >= " + q->Bind(std::to_string(kFirstUnixMicros)) + "::numeric AND " + m + " < " +
            q->Bind(std::to_string(std::min(micros, kEndUnixMicros))) + "::numeric, false)";
      return;
    }
  }
}

void PgSelectionSql::Undated(PgQuery* q, size_t scope) const {
  const Scope& s = scopes_[scope];
  const std::string c = ClockColumn(scope);
  switch (s.r.clock_kind) {
    case PgClockKind::kTimestampTz:
    case PgClockKind::kTimestamp:
    case PgClockKind::kDate:
      *q += "(" + c + " IS NULL OR NOT isfinite(" + c + "))";
      return;
    case PgClockKind::kText:
      *q += "coalesce((SELECT " + std::string(kTextInvalid) + " FROM regexp_match(" + c + "::text, " +
            q->Bind(kClockTextRegex) + ") AS r(m)), true)";
      return;
    case PgClockKind::kUnixInteger: {
      const int64_t unit = UnitMicros(s.target->clock.encoding);
      *q += "NOT coalesce(" + c + " >= " + q->Bind(std::to_string(kFirstUnixMicros / unit)) + "::bigint AND " + c +
            " < " + q->Bind(std::to_string(kEndUnixMicros / unit)) + "::bigint, false)";
      return;
    }
    case PgClockKind::kUnixNumeric: {
      const int64_t unit = UnitMicros(s.target->clock.encoding);
      const std::string n = c + "::numeric", u = std::to_string(unit);
      const std::string m = "(floor(" + n + ") * " + u + " + round((" + n + " - floor(" + n + ")) * " + u + "))";
      *q += "NOT coalesce(" + m + " >= " + q->Bind(std::to_string(kFirstUnixMicros)) + "::numeric AND " + m + " < " +
            q->Bind(std::to_string(kEndUnixMicros)) + "::numeric, false)";
      return;
    }
  }
}

void PgSelectionSql::DueRange(PgQuery* q) const {
  if (selection_->any_age) {
    *q += "true";
    return;
  }
  if (!selection_->cutoff) {
    *q += "false";
    return;
  }
  const Timestamp t = *selection_->cutoff;
  const int64_t micros = ToUnixMicros(t);
  const Scope& s = scopes_[0];
  const std::string c = ClockColumn(0);
  if (micros <= kYearOneMicros) {
    *q += "false";
    return;
  }
  switch (s.r.clock_kind) {
    case PgClockKind::kTimestampTz:
      *q += "(" + c + " < " + q->Bind(PgInstantText(t)) + "::timestamptz)";
      return;
    case PgClockKind::kTimestamp:
    case PgClockKind::kDate: {
      const auto until = LocalTimesBefore(s.zone, t).back().until;
      const bool dates = s.r.clock_kind == PgClockKind::kDate;
      *q += "(" + c + " < " + q->Bind(dates ? CeilDayText(until) : PgLocalText(until)) + "::" +
            (dates ? "date" : "timestamp") + ")";
      return;
    }
    case PgClockKind::kText: {
      // Any form sorts by its date first; an offset or a zone moves a text
      // less than a day from its instant.
      const std::string day = date::format("%F", date::floor<days>(t) + days(2));
      *q += "(" + c + "::text COLLATE \"C\" < " + q->Bind(day) + "::text)";
      return;
    }
    case PgClockKind::kUnixInteger: {
      const int64_t unit = UnitMicros(s.target->clock.encoding);
      *q += "(" + c + " < " + q->Bind(std::to_string(CeilDiv(micros, unit))) + "::bigint)";
      return;
    }
    case PgClockKind::kUnixNumeric: {
      const int64_t unit = UnitMicros(s.target->clock.encoding);
      *q += "(" + c + " < " + q->Bind(DecimalOf(micros, unit)) + "::" + s.r.clock.type + " + 1)";
      return;
    }
  }
}

void PgSelectionSql::Due(PgQuery* q) const {
  if (selection_->any_age || !selection_->cutoff) return DueRange(q);
  *q += "(";
  DueRange(q);
  *q += " AND ";
  Before(q, 0, *selection_->cutoff);
  *q += ")";
}

void PgSelectionSql::FloorsPass(PgQuery* q) const {
  *q += "(true";
  for (const FloorGuard& floor : selection_->floors) {
    // The guard keeps the record when its scope's filters match and its
    // clock there is not provably older than the floor.
    *q += " AND (NOT ";
    ScopeFilters(q, floor.scope);
    *q += " OR ";
    Before(q, floor.scope, floor.floor_cutoff);
    *q += ")";
  }
  *q += ")";
}

void PgSelectionSql::HeldInScope(PgQuery* q, size_t scope, const std::vector<const HoldExclusion*>& exclusions) const {
  const Scope& s = scopes_[scope];
  std::vector<std::string> subjects, keys;
  std::vector<const HoldExclusion*> ranged;
  bool whole_scope = false;
  for (const HoldExclusion* e : exclusions) {
    // A subject hold of a kind this scope's target does not map covers
    // none of its records (HoldSet::Matches).
    if (e->subject_kind && (!s.target->subject || s.target->subject->kind != *e->subject_kind || !s.r.subject))
      continue;
    const bool has_range = e->clock_from || e->clock_until;
    if (e->subject_kind && !e->key && !has_range) subjects.push_back(*e->subject_id);
    else if (!e->subject_kind && e->key && !has_range) keys.push_back(*e->key);
    else if (!e->subject_kind && !e->key && !has_range) whole_scope = true;
    else ranged.push_back(e);
  }
  if (!whole_scope && subjects.empty() && keys.empty() && ranged.empty()) {
    *q += "false";
    return;
  }
  *q += "coalesce(";
  ScopeFilters(q, scope);
  *q += " AND ";
  if (whole_scope) {
    *q += "true";
  } else {
    *q += "(false";
    // Holds of one field are one array each, however many (= ANY).
    if (!subjects.empty()) *q += " OR " + SubjectText(scope) + " = ANY(" + q->Bind(PgArrayLiteral(subjects)) + "::text[])";
    if (!keys.empty()) *q += " OR " + KeyText() + " = ANY(" + q->Bind(PgArrayLiteral(keys)) + "::text[])";
    for (const HoldExclusion* e : ranged) {
      *q += " OR (true";
      if (e->subject_kind) *q += " AND " + SubjectText(scope) + " = " + q->Bind(*e->subject_id);
      if (e->key) *q += " AND " + KeyText() + " = " + q->Bind(*e->key);
      // An undated record is covered by any clock range (when unsure, keep):
      // it is never "before", so NOT Before(from) holds for it.
      if (e->clock_from) {
        *q += " AND NOT ";
        Before(q, scope, *e->clock_from);
      }
      if (e->clock_until) {
        *q += " AND (";
        Undated(q, scope);
        *q += " OR ";
        Before(q, scope, *e->clock_until);
        *q += ")";
      }
      *q += ")";
    }
    *q += ")";
  }
  *q += ", false)";
}

void PgSelectionSql::Held(PgQuery* q) const {
  std::map<size_t, std::vector<const HoldExclusion*>> by_scope;
  for (const HoldExclusion& e : selection_->exclusions) by_scope[e.scope].push_back(&e);
  *q += "(false";
  for (const auto& [scope, exclusions] : by_scope) {
    *q += " OR ";
    HeldInScope(q, scope, exclusions);
  }
  *q += ")";
}

void PgSelectionSql::Deletable(PgQuery* q) const {
  *q += "(";
  Filters(q);
  *q += " AND ";
  Subject(q);
  *q += " AND ";
  Due(q);
  *q += " AND ";
  FloorsPass(q);
  *q += " AND NOT ";
  Held(q);
  *q += ")";
}

PgQuery PgCandidatePageQuery(const PgSelectionSql& b, const std::optional<PgPageAfter>& after, size_t limit,
                             const std::vector<std::string>& skip_partitions) {
  // Keyset paging on (clock, key): records kept by a hold or floor are
  // passed once, never rescanned by later pages.
  const std::string clock = b.ClockColumn();
  const std::vector<std::string> keys = b.KeyColumns();
  std::string key_list;
  for (size_t i = 0; i < keys.size(); ++i) key_list += (i ? ", " : "") + keys[i];
  PgQuery q;
  // Each text once: the clock's is also the keyset's bound, and a single
  // key's text its column's.
  q.sql = "SELECT " + b.KeyText() + ", " + clock + "::text, " + b.SubjectText();
  if (keys.size() > 1)
    for (const std::string& k : keys) q.sql += ", " + k + "::text";
  q.sql += b.From() + " WHERE ";
  b.Deletable(&q);
  if (!skip_partitions.empty()) q.sql += " AND t.tableoid <> ALL(" + q.Bind(PgArrayLiteral(skip_partitions)) + "::oid[])";
  if (after) {
    std::string bound_keys;
    for (size_t i = 0; i < keys.size(); ++i)
      bound_keys += (i ? ", " : "") + q.Bind(after->keys[i]) + "::" + b.self().key[i].type;
    const std::string clock_type = b.scope(0).clock.type;
    if (!after->clock) {
      // Undated records come first (any_age): the other NULLs by key, then
      // every dated record.
      q.sql += " AND ((" + clock + " IS NULL AND (" + key_list + ") > (" + bound_keys + ")) OR " + clock +
               " IS NOT NULL)";
    } else {
      q.sql += " AND (" + clock + ", " + key_list + ") > (" + q.Bind(*after->clock) + "::" + clock_type + ", " +
               bound_keys + ")";
    }
  }
  q.sql += " ORDER BY " + clock + (b.PagesUndated() ? " NULLS FIRST" : "") + ", " + key_list + " LIMIT " +
           std::to_string(limit);
  return q;
}

namespace {

// "N:" and the bytes: texts joined this way cannot run into each other.
void AppendPrefixed(std::string* out, std::string_view v) {
  *out += std::to_string(v.size());
  *out += ':';
  out->append(v);
}

std::string SqlPrefixed(const std::string& text) { return "octet_length(" + text + ")::text || ':' || " + text; }

// A clock whose column's order is its values' order, so that the batch's
// clock range (min and max of its texts cast back) is an index range.
bool RangeClock(const ResolvedPgTarget& r) {
  if (r.join_key) return false;
  switch (r.clock_kind) {
    case PgClockKind::kTimestampTz:
    case PgClockKind::kTimestamp:
    case PgClockKind::kDate:
    case PgClockKind::kUnixInteger:
    case PgClockKind::kUnixNumeric:
      return true;
    case PgClockKind::kText:  // a collation's order, not the cast's
      return false;
  }
  return false;
}

}  // namespace

PgQuery PgDeleteBatchQuery(const PgSelectionSql& b, const std::vector<PgBatchRow>& rows) {
  const ResolvedPgTarget& self = b.self();
  std::vector<std::string> keys, full, part, clocks;
  keys.reserve(rows.size());
  bool dated = true;
  for (const PgBatchRow& r : rows) {
    keys.emplace_back(r.key);
    std::string id;
    AppendPrefixed(&id, r.key);
    AppendPrefixed(&id, r.clock);
    if (r.full) {
      id += r.subject;
      full.push_back(std::move(id));
    } else {
      part.push_back(std::move(id));
    }
    // An undated candidate (any_age) is in no clock range.
    if (r.clock.empty()) dated = false;
    else clocks.emplace_back(r.clock);
  }
  const std::string kt = b.KeyText();
  const std::string st = "coalesce(" + b.SubjectText() + ", '')";
  const std::string id = SqlPrefixed(kt) + " || " + SqlPrefixed("coalesce(" + b.ClockColumn() + "::text, '')");

  PgQuery q;
  q.sql = "WITH v AS MATERIALIZED (SELECT t.ctid AS tid";
  std::string key_match;
  for (size_t i = 0; i < self.key.size(); ++i) {
    q += ", " + PgCol("t", self.key[i]) + " AS k" + std::to_string(i);
    key_match += std::string(i ? " AND " : "") + PgCol("d", self.key[i]) + " = v.k" + std::to_string(i);
  }
  q += ", " + kt + " AS kt, " + st + " AS st" + b.From() + " WHERE ";
  // The qualifications both halves share, written once (their placeholders
  // name the same parameters).
  const size_t mark = q.sql.size();
  if (dated && !clocks.empty() && RangeClock(self)) {
    const std::string c = b.ClockColumn(), array = q.Bind(PgArrayLiteral(clocks)) + "::" + b.scope(0).clock.type + "[]";
    q += c + " >= (SELECT min(x) FROM unnest(" + array + ") AS x) AND " + c + " <= (SELECT max(x) FROM unnest(" + array +
         ") AS x) AND ";
  }
  PgKeyIn(&q, self, keys);
  q += " AND (false";
  if (!full.empty()) q += " OR " + id + " || " + st + " = ANY(" + q.Bind(PgArrayLiteral(full)) + "::text[])";
  if (!part.empty()) q += " OR " + id + " = ANY(" + q.Bind(PgArrayLiteral(part)) + "::text[])";
  q += ") AND ";
  b.Deletable(&q);
  const std::string quals = q.sql.substr(mark);
  // The locked rows are deleted by their ctid (a TID scan, not a second
  // key lookup per row); a partitioned table's ctids are per partition, so
  // there by key.
  q += " FOR UPDATE OF t SKIP LOCKED), d AS (DELETE FROM " + self.QualifiedTable() + " AS d USING v WHERE " +
       (self.partitioned ? key_match : std::string("d.ctid = v.tid")) +
       " RETURNING v.kt, v.st) SELECT kt, st, true FROM d UNION ALL SELECT " + kt + ", NULL, false" + b.From() +
       " WHERE (SELECT count(*) FROM d) < " + std::to_string(rows.size()) + " AND " + quals + " AND " + kt +
       " NOT IN (SELECT kt FROM d)";
  return q;
}

}  // namespace retention
