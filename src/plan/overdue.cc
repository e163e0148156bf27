#include "plan/overdue.h"

#include <algorithm>
#include <cctype>

#include "plan/selection.h"

namespace retention {

namespace {

std::string Trim(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  return std::string(text.substr(b, e - b));
}

void Add(TargetStats* sum, const TargetStats& t) {
  sum->total += t.total;
  sum->due += t.due;
  sum->held += t.held;
  sum->floor_protected += t.floor_protected;
  sum->deletable += t.deletable;
  sum->undated += t.undated;
  if (t.oldest_due && (!sum->oldest_due || *t.oldest_due < *sum->oldest_due)) sum->oldest_due = t.oldest_due;
}

}  // namespace

Result<CalendarDuration> ParseGrace(std::string_view text) {
  // Zero is no grace, written in any unit a duration may be written in
  // ("0", "0s", "0 days"); anything else is a duration of the one grammar.
  const std::string t = Trim(text);
  const size_t digits = t.find_first_not_of("0123456789");
  if (!t.empty() && digits != 0 && t.find_first_not_of('0') >= std::min(digits, t.size())) {
    if (digits == std::string::npos) return CalendarDuration{0, DurationUnit::kHours};
    if (auto unit = ParseDuration("1" + t.substr(digits)); unit.ok()) return CalendarDuration{0, unit->unit};
  }
  auto d = ParseDuration(t);
  if (!d.ok()) return Status::Usage(d.status().message() + " (or 0 for no grace)");
  return *d;
}

std::string GraceText(const CalendarDuration& grace) { return grace.amount == 0 ? "none" : grace.ToString(); }

CalendarDuration ConfiguredGrace(const Config& config) {
  return config.overdue_grace.value_or(kDefaultOverdueGrace);
}

Timestamp OverdueAsOf(Timestamp now, const CalendarDuration& grace, const TimeZone& zone) {
  if (grace.amount == 0) return now;
  return ComputeCutoff(now, grace, zone);
}

Result<OverdueMeasure> MeasureOverdue(const Config& config, const RuleSet& rules, const HoldSet& holds,
                                      StoreSet& stores, const MeasureOptions& options) {
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  const Timestamp overdue_as_of = OverdueAsOf(options.now, options.grace, *zone);
  auto late = MakeSelections(config, rules, overdue_as_of, options.category);
  if (!late.ok()) return late.status();
  std::vector<Selection> now;
  if (options.measure_due_now) {
    auto s = MakeSelections(config, rules, options.as_of, options.category);
    if (!s.ok()) return s.status();
    now = WithHolds(std::move(*s), holds);
  }
  const std::vector<Selection> overdue = WithHolds(std::move(*late), holds);

  OverdueMeasure out;
  for (const Category& c : rules.categories)
    if (options.category.empty() || c.name == options.category) out.categories.push_back({c.name, {}, 0, {}, true});
  auto category_of = [&](const std::string& name) -> CategoryMeasure* {
    for (auto& c : out.categories)
      if (c.category == name) return &c;
    return nullptr;
  };
  // One target's stats under one selection; an error is returned or, when
  // tolerated, recorded and the category marked incomplete.
  auto measure = [&](const Selection& d, CategoryMeasure* c) -> Result<std::optional<TargetStats>> {
    Status error;
    auto store = stores.Get(d.target->store);
    if (store.ok()) {
      auto stats = (*store)->Measure(d);
      if (stats.ok()) return std::optional<TargetStats>(std::move(*stats));
      error = stats.status();
    } else {
      error = store.status();
    }
    if (!options.tolerate_store_errors) return error;
    if (c) c->complete = false;
    out.errors.push_back(d.category->name + "/" + d.target->name + ": " + error.message());
    return std::optional<TargetStats>();
  };
  for (size_t i = 0; i < overdue.size(); ++i) {
    const Selection& d = overdue[i];
    if (options.progress) options.progress(i, overdue.size(), d);
    CategoryMeasure* c = category_of(d.category->name);
    out.targets.emplace_back(d.category->name, d.target->name);
    TargetMeasure& t = out.per_target.emplace_back();
    if (options.measure_due_now) {
      auto s = measure(now[i], c);
      if (!s.ok()) return s.status();
      if (!*s) {  // the same store: the second pass would fail alike
        t.complete = false;
        continue;
      }
      t.due_now = **s;
      if (c) Add(&c->due_now, **s);
    }
    auto s = measure(d, c);
    if (!s.ok()) return s.status();
    if (!*s) t.complete = false;
    if (*s) {
      t.overdue = (*s)->deletable;
      t.oldest_overdue = (*s)->oldest_due;
    }
    if (*s && c) {
      c->overdue += (*s)->deletable;
      if ((*s)->oldest_due && (!c->oldest_overdue || *(*s)->oldest_due < *c->oldest_overdue))
        c->oldest_overdue = (*s)->oldest_due;
    }
  }
  return out;
}

}  // namespace retention
