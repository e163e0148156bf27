#include "report/report.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "calendar/cutoff.h"
#include "erase/erase_run.h"
#include "plan/overdue.h"
#include "plan/plan.h"
#include "plan/selection.h"

namespace retention::report {

namespace {

// A cutoff later than any clock a store holds: every dated record is "due"
// under it, so one Measure counts them and finds the oldest.
constexpr std::chrono::hours kEverythingAhead{24 * 366 * 1000};

// `base` judging age only: no floors, no holds, no subject. Its `due` is
// every dated record with clock < `cutoff`.
Selection AgeOnly(Selection base, Timestamp cutoff) {
  base.floors.clear();
  base.subject.reset();
  base.any_age = false;
  base.cutoff = cutoff;
  return WithHolds(std::move(base), HoldSet());
}

int64_t SumOf(const std::vector<TargetFacts>& targets, int64_t TargetFacts::*field) {
  int64_t n = 0;
  for (const TargetFacts& t : targets) n += t.*field;
  return n;
}

void AddDistinct(std::vector<std::string>* list, const std::string& value) {
  if (!value.empty() && std::find(list->begin(), list->end(), value) == list->end()) list->push_back(value);
}

// The histogram of one target: one Measure per boundary (cumulative counts
// of records older than it), differences taken.
Status MeasureAges(const Selection& base, Store& store, Timestamp as_of, const TimeZone& zone, TargetFacts* t) {
  auto all = store.Measure(AgeOnly(base, as_of + kEverythingAhead));
  if (!all.ok()) return all.status();
  t->oldest_record = all->oldest_due;
  const Category& c = *base.category;
  const std::optional<CalendarDuration> scale = c.delete_after ? c.delete_after : c.keep_at_least;
  if (!scale) return Status::Ok();
  t->ages.scale = (c.delete_after ? "delete after " : "keep at least ") + scale->ToString();
  const Timestamp one = ComputeCutoff(as_of, *scale, zone);
  const auto span = as_of - one;
  t->ages.factors = HistogramFactors();
  std::vector<int64_t> older;  // records older than each boundary
  for (double f : t->ages.factors) {
    const Timestamp cutoff =
        f == 1.0 ? one : as_of - std::chrono::duration_cast<std::chrono::microseconds>(span * f);
    auto m = store.Measure(AgeOnly(base, cutoff));
    if (!m.ok()) return m.status();
    older.push_back(m->due);
  }
  const int64_t dated = all->due;
  t->ages.counts.push_back(dated - older.front());
  for (size_t i = 1; i < older.size(); ++i) t->ages.counts.push_back(older[i - 1] - older[i]);
  t->ages.counts.push_back(older.back());
  return Status::Ok();
}

}  // namespace

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kComplies: return "complies";
    case Verdict::kOverdue: return "overdue";
    case Verdict::kNotApplied: return "not applied";
    case Verdict::kHeld: return "held";
  }
  return "?";
}

const std::vector<double>& HistogramFactors() {
  static const std::vector<double> kFactors = {0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0};
  return kFactors;
}

std::string JoinWords(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

std::string FactorText(double factor) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", factor);
  return buf;
}

std::string BinLabel(const AgeHistogram& h, size_t bin) {
  if (bin == 0) return "< " + FactorText(h.factors.front()) + "x";
  if (bin >= h.factors.size()) return ">= " + FactorText(h.factors.back()) + "x";
  return FactorText(h.factors[bin - 1]) + "-" + FactorText(h.factors[bin]) + "x";
}

size_t FirstBinPastCutoff(const AgeHistogram& h) {
  for (size_t i = 0; i < h.factors.size(); ++i)
    if (h.factors[i] >= 1.0) return i + 1;
  return h.factors.size() + 1;
}

std::string TimeText(Timestamp t) { return FormatTimestamp(std::chrono::floor<std::chrono::seconds>(t)); }

std::string SignatureText(const LedgerFacts& ledger) {
  if (!ledger.checkpoint || ledger.checkpoint->signature.empty()) return "not signed";
  return ledger.checkpoint_signature_checked ? "signature verified" : "signed, signature not checked";
}

std::string AgeText(Timestamp as_of, Timestamp t) {
  const auto age = std::chrono::duration_cast<std::chrono::hours>(as_of - t).count();
  if (age < 0) return "in the future";
  if (age < 48) return std::to_string(age) + (age == 1 ? " hour" : " hours");
  return std::to_string(age / 24) + " days";
}

int64_t PolicyLine::Records() const { return SumOf(targets, &TargetFacts::records); }
int64_t PolicyLine::Overdue() const { return SumOf(targets, &TargetFacts::overdue); }
int64_t PolicyLine::Held() const { return SumOf(targets, &TargetFacts::held); }

int64_t Report::LinesWith(Verdict verdict) const {
  return std::count_if(lines.begin(), lines.end(), [&](const PolicyLine& l) { return l.verdict == verdict; });
}

void DecideVerdict(PolicyLine* line, const std::string& max_age, const std::string& grace) {
  if (line->Overdue() > 0) {
    std::vector<std::string> where;
    for (const auto& t : line->targets)
      if (t.overdue > 0) where.push_back(t.category + "/" + t.target + " " + std::to_string(t.overdue));
    line->verdict = Verdict::kOverdue;
    line->verdict_reason = std::to_string(line->Overdue()) + " records are past delete_after" +
                           (grace == "none" ? "" : " by more than " + grace) + " and kept by nothing (" +
                           JoinWords(where, ", ") + ")";
  } else if (!line->never_applied.empty()) {
    line->verdict = Verdict::kNotApplied;
    line->verdict_reason = "no successful purge went through " + JoinWords(line->never_applied, ", ") + " within " +
                           max_age + " before the report: the schedule is configured but not applied";
  } else if (line->Held() > 0) {
    line->verdict = Verdict::kHeld;
    line->verdict_reason = std::to_string(line->Held()) +
                           " records past their schedule are kept by legal holds; nothing else is overdue";
  } else {
    line->verdict = Verdict::kComplies;
    line->verdict_reason = "no record is overdue and a successful purge went through it within " + max_age;
  }
}

Result<Report> GatherReport(ReportInputs in, const ReportOptions& options) {
  const Config& config = *in.config;
  const RuleSet& rules = *in.rules;
  auto zone = TimeZone::Load(config.time_zone);
  if (!zone.ok()) return zone.status();
  Report r;
  r.as_of = options.as_of;
  r.made_at = options.now;
  r.period_start = ComputeCutoff(options.as_of, options.period, *zone);
  r.period = options.period.ToString();
  r.max_age = options.max_age.ToString();
  r.grace = GraceText(options.grace);
  r.time_zone = config.time_zone;
  r.rules_hash = rules.hash;
  r.config_file = config.file.string();

  // Lines: categories grouped by their quote, in the rules' order.
  std::map<std::string, size_t> line_of;    // category -> index into r.lines
  std::map<std::string, size_t> quoted;     // quote -> index into r.lines
  std::vector<std::vector<std::string>> sources;  // per line, distinct
  for (const Category& c : rules.categories) {
    auto it = c.policy.empty() ? quoted.end() : quoted.find(c.policy);
    const size_t index = it != quoted.end() ? it->second : r.lines.size();
    if (index == r.lines.size()) {
      PolicyLine line;
      line.policy = !c.policy.empty() ? c.policy : !c.description.empty() ? c.description : c.name;
      r.lines.push_back(std::move(line));
      sources.emplace_back();
      if (!c.policy.empty()) quoted[c.policy] = index;
    }
    PolicyLine& line = r.lines[index];
    line.categories.push_back(c.name);
    AddDistinct(&line.schedules, ScheduleText(c));
    AddDistinct(&sources[index], c.policy_source);
    line.source = JoinWords(sources[index], "; ");
    line_of[c.name] = index;
  }

  // Overdue and the counts of now, as `status` measures them.
  MeasureOptions measure;
  measure.now = measure.as_of = options.as_of;
  measure.grace = options.grace;
  auto measured = MeasureOverdue(config, rules, *in.holds, *in.stores, measure);
  if (!measured.ok()) return measured.status();
  auto selections = MakeSelections(config, rules, options.as_of, "");
  if (!selections.ok()) return selections.status();
  for (size_t i = 0; i < selections->size(); ++i) {
    const Selection& base = (*selections)[i];
    const TargetMeasure& m = measured->per_target.at(i);
    TargetFacts t;
    t.category = base.category->name;
    t.target = base.target->name;
    t.store = base.target->store;
    t.schedule = ScheduleText(*base.category);
    t.cutoff = base.cutoff;
    t.records = m.due_now.total;
    t.undated = m.due_now.undated;
    t.due = m.due_now.due;
    t.held = m.due_now.held;
    t.floor_protected = m.due_now.floor_protected;
    t.overdue = m.overdue;
    t.oldest_overdue = m.oldest_overdue;
    auto store = in.stores->Get(base.target->store);
    if (!store.ok()) return store.status();
    RETENTION_RETURN_IF_ERROR(MeasureAges(base, **store, options.as_of, *zone, &t));
    PolicyLine& line = r.lines[line_of.at(t.category)];
    // Each hold in force alone: the due records of this target it keeps.
    for (const Hold& h : in.holds->holds()) {
      auto held = (*store)->Measure(WithHolds(base, HoldSet({h}, options.now)));
      if (!held.ok()) return held.status();
      if (held->held == 0) continue;
      auto it = std::find_if(line.holds.begin(), line.holds.end(), [&](const HoldFacts& f) { return f.id == h.id; });
      if (it == line.holds.end())
        it = line.holds.insert(line.holds.end(), HoldFacts{h.id, h.matter, h.reason, h.placed_at, h.expires_at, 0});
      it->records += held->held;
    }
    line.targets.push_back(std::move(t));
  }

  // Runs: a line is applied when a successful purge that ended within
  // max_age went through each of its categories.
  const Timestamp stale_before = ComputeCutoff(options.as_of, options.max_age, *zone);
  for (PolicyLine& line : r.lines) {
    std::map<std::string, Timestamp> applied;  // category -> last successful purge's end
    for (const audit::RunSummary& run : in.runs) {
      if (!run.ended || *run.ended > options.as_of) continue;
      int64_t deleted = 0;
      for (const std::string& c : line.categories)
        if (auto it = run.deleted_by_category.find(c); it != run.deleted_by_category.end()) deleted += it->second;
      if (*run.ended >= r.period_start) {
        line.deleted_in_period += deleted;
        if (deleted > 0) ++line.runs_in_period;
      }
      const bool purge = run.command == "purge" || run.command.rfind("purge ", 0) == 0;
      if (run.outcome != "ok" || !purge) continue;
      bool through = false;
      for (const std::string& c : line.categories)
        if (run.categories.count(c)) {
          through = true;
          applied[c] = *run.ended;
        }
      if (through) line.last_success = RunFacts{run.id, *run.ended, deleted};
    }
    for (const std::string& c : line.categories) {
      auto it = applied.find(c);
      if (it == applied.end() || it->second < stale_before) line.never_applied.push_back(c);
    }
    DecideVerdict(&line, r.max_age, r.grace);
  }

  for (const ErasureRequest& q : in.requests) {
    if (q.outcome == "done" || q.outcome == "partial") r.erasure.executed.push_back(q);
    else r.erasure.pending.push_back(q);
    if (RequestPastDeadline(q, options.as_of)) r.erasure.late.push_back(q.reference);
  }

  LedgerFacts& l = r.ledger;
  if (in.verification) {
    const VerifyReport& v = in.verification->report;
    l.state_present = true;
    l.ok = v.ok;
    l.entries = v.entries;
    l.records = v.records;
    l.head_seq = v.head_seq;
    l.head_hash = v.head_hash;
    l.head_at = v.head_at;
    l.first_bad_seq = v.first_bad_seq;
    l.problem = v.problem;
    l.warnings = in.verification->warnings;
  }
  l.checkpoint = std::move(in.checkpoint);
  l.checkpoint_file = in.checkpoint_file;
  l.checkpoint_signature_checked = in.checkpoint_signature_checked;
  return r;
}

}  // namespace retention::report
