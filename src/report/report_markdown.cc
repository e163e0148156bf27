#include <algorithm>

#include "report/report_render.h"

namespace retention::report {

namespace {

// Text from rules, config or state on one line, '<' and '>' as entities so
// that a Markdown renderer shows them instead of reading a tag; in a table
// cell ('cell') a '|' escaped, or it would end the cell.
std::string Text(const std::string& text, bool cell) {
  std::string out;
  for (char c : text) {
    if (c == '|' && cell) out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

std::string Cell(const std::string& text) { return Text(text, true); }
std::string Line(const std::string& text) { return Text(text, false); }

std::string Bar(int64_t count, int64_t most) {
  constexpr int kWidth = 40;
  if (count <= 0 || most <= 0) return "";
  const int64_t n = std::max<int64_t>(1, count * kWidth / most);
  std::string out;
  for (int64_t i = 0; i < n; ++i) out += "\u2588";
  return out;
}

void Histogram(const TargetFacts& t, std::ostream& out) {
  const AgeHistogram& h = t.ages;
  if (h.counts.empty()) return;
  const int64_t most = *std::max_element(h.counts.begin(), h.counts.end());
  const size_t past = FirstBinPastCutoff(h);
  out << "\nRecords by age, in multiples of the schedule (" << h.scale << "):\n\n```\n";
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (i == past) out << "---------- cutoff: " << h.scale << " ----------\n";
    std::string label = BinLabel(h, i);
    label.resize(11, ' ');
    std::string count = std::to_string(h.counts[i]);
    if (count.size() < 10) count.insert(0, 10 - count.size(), ' ');
    const std::string bar = Bar(h.counts[i], most);
    out << label << count << (bar.empty() ? "" : "  " + bar) << "\n";
  }
  out << "```\n";
}

void Ledger(const Report& r, std::ostream& out) {
  const LedgerFacts& l = r.ledger;
  if (!l.state_present) {
    out << "**Ledger: NOT VERIFIED** - there is no state database, so there is no purge log and no run "
           "history to verify.\n";
  } else if (!l.ok) {
    out << "**LEDGER VERIFICATION FAILED at entry " << l.first_bad_seq.value_or(0) << ": " << Line(l.problem)
        << "**. The run history below cannot be trusted.\n";
  } else {
    out << "**Ledger: verified** - " << l.entries << " entries (" << l.records << " records), head entry "
        << l.head_seq << " `" << l.head_hash << "`";
    if (l.head_at) out << " written " << TimeText(*l.head_at);
    out << ".\n";
  }
  if (l.checkpoint) {
    out << "\nChecked against checkpoint `" << Line(l.checkpoint_file) << "`: entry " << l.checkpoint->seq << " `"
        << l.checkpoint->hash << "`, taken " << Line(l.checkpoint->time) << ", "
        << SignatureText(l)
        << ".\n";
  } else if (l.state_present) {
    out << "\nNo checkpoint was given (`--against FILE`): a cut tail of the ledger would not show.\n";
  }
  for (const std::string& w : l.warnings) out << "\nWarning: " << Line(w) << "\n";
}

void Requests(const Report& r, std::ostream& out) {
  out << "\n## Erasure requests\n\n";
  if (r.erasure.executed.empty() && r.erasure.pending.empty()) {
    out << "None recorded.\n";
    return;
  }
  out << "| Request | Subject | Received | Deadline | Outcome | Erased | Kept |\n|---|---|---|---|---|---:|---:|\n";
  auto row = [&](const ErasureRequest& q) {
    const bool late = std::count(r.erasure.late.begin(), r.erasure.late.end(), q.reference) > 0;
    out << "| " << Cell(q.reference) << " | " << Cell(q.subject) << " | " << TimeText(q.received) << " | "
        << TimeText(q.deadline) << (late ? " **LATE**" : "") << " | " << Cell(q.outcome) << " | " << q.erased
        << " | " << q.kept << " |\n";
  };
  for (const ErasureRequest& q : r.erasure.executed) row(q);
  for (const ErasureRequest& q : r.erasure.pending) row(q);
  out << "\n" << r.erasure.executed.size() << " executed, " << r.erasure.pending.size() << " pending or failed, "
      << r.erasure.late.size() << " past their deadline.\n";
}

}  // namespace

void RenderMarkdown(const Report& r, std::ostream& out) {
  out << "# Retention compliance report\n\n"
      << "As of " << TimeText(r.as_of) << " (time zone " << r.time_zone << "), reporting period "
      << r.period << " from " << TimeText(r.period_start) << ". Made " << TimeText(r.made_at)
      << " from `" << Line(r.config_file) << "`, rules SHA-256 `" << r.rules_hash << "`.\n\n";
  Ledger(r, out);

  out << "\n## Summary\n\n"
      << r.lines.size() << " policy lines: " << r.LinesWith(Verdict::kComplies) << " comply, "
      << r.LinesWith(Verdict::kHeld) << " held, " << r.LinesWith(Verdict::kOverdue) << " overdue, "
      << r.LinesWith(Verdict::kNotApplied) << " not applied.\n\n"
      << "| Policy line | Schedule | Records | Overdue | Held | Last successful purge | Verdict |\n"
      << "|---|---|---:|---:|---:|---|---|\n";
  for (const PolicyLine& line : r.lines)
    out << "| " << Cell(line.policy) << " | " << Cell(JoinWords(line.schedules, "; ")) << " | " << line.Records()
        << " | " << line.Overdue() << " | " << line.Held() << " | "
        << (line.last_success ? "run " + std::to_string(line.last_success->id) + ", " +
                                    TimeText(line.last_success->ended)
                              : std::string("never"))
        << " | **" << VerdictName(line.verdict) << "** |\n";
  out << "\nOverdue: past delete_after by more than the grace (" << r.grace
      << "), kept by no hold or floor. Not applied: no successful purge through the line within " << r.max_age
      << ".\n";

  Requests(r, out);

  size_t n = 0;
  for (const PolicyLine& line : r.lines) {
    out << "\n## " << ++n << ". " << Line(line.policy) << "\n\n> " << Line(line.policy) << "\n";
    if (!line.source.empty()) out << ">\n> - " << Line(line.source) << "\n";
    out << "\n**Verdict: " << VerdictName(line.verdict) << "** - " << Line(line.verdict_reason) << ".\n\n"
        << "- Categories: " << Line(JoinWords(line.categories, ", ")) << "\n"
        << "- Schedule: " << Line(JoinWords(line.schedules, "; ")) << "\n"
        << "- Last successful purge: "
        << (line.last_success ? "run " + std::to_string(line.last_success->id) + ", ended " +
                                    TimeText(line.last_success->ended) + ", deleted " +
                                    std::to_string(line.last_success->deleted) + " of this line's records"
                              : std::string("never"))
        << "\n- Deleted in the reporting period: " << line.deleted_in_period << " records in "
        << line.runs_in_period << " runs\n";
    for (const TargetFacts& t : line.targets) {
      out << "\n### " << Line(t.category) << " / " << Line(t.target) << " (store " << Line(t.store) << ")\n\n"
          << "| Records | Undated | Past cutoff | Held | Floor | Overdue | Oldest record | Cutoff |\n"
          << "|---:|---:|---:|---:|---:|---:|---|---|\n"
          << "| " << t.records << " | " << t.undated << " | " << t.due << " | " << t.held << " | "
          << t.floor_protected << " | " << t.overdue << " | "
          << (t.oldest_record ? TimeText(*t.oldest_record) + " (" + AgeText(r.as_of, *t.oldest_record) + ")"
                              : std::string("-"))
          << " | " << (t.cutoff ? TimeText(*t.cutoff) : std::string("none")) << " |\n";
      if (t.oldest_overdue)
        out << "\nOldest overdue record: " << TimeText(*t.oldest_overdue) << " ("
            << AgeText(r.as_of, *t.oldest_overdue) << ").\n";
      Histogram(t, out);
    }
    if (!line.holds.empty()) {
      out << "\nHolds keeping records past the schedule:\n\n| Hold | Matter | Since | Until | Records | Reason |\n"
          << "|---:|---|---|---|---:|---|\n";
      for (const HoldFacts& h : line.holds)
        out << "| " << h.id << " | " << Cell(h.matter) << " | " << TimeText(h.placed_at) << " | "
            << (h.expires_at ? TimeText(*h.expires_at) : std::string("until released")) << " | "
            << h.records << " | " << Cell(h.reason) << " |\n";
    }
  }
}

}  // namespace retention::report
