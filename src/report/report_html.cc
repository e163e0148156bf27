// The report as one HTML page that stands alone: inline CSS and SVG, no
// script, no font or image fetched, so that it opens offline years later
// and prints to PDF as it reads on screen (@media print).
#include <algorithm>
#include <cstdio>

#include "report/report_render.h"

namespace retention::report {

namespace {

// Every text that comes from rules, config or state goes through here.
std::string Esc(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Time(const std::optional<Timestamp>& t) { return t ? TimeText(*t) : "-"; }

std::string VerdictClass(Verdict v) {
  switch (v) {
    case Verdict::kComplies: return "complies";
    case Verdict::kOverdue: return "overdue";
    case Verdict::kNotApplied: return "not-applied";
    case Verdict::kHeld: return "held";
  }
  return "";
}

std::string VerdictBadge(Verdict v) {
  return "<span class=\"verdict " + VerdictClass(v) + "\">" + VerdictName(v) + "</span>";
}

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1b1f24;max-width:1100px;margin:24px auto;padding:0 20px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#57606a;margin:0 0 14px}code{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
table{border-collapse:collapse;margin:6px 0 10px;width:100%}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;white-space:nowrap}
.complies{background:#dafbe1;color:#116329}.overdue{background:#ffebe9;color:#a40e26}
.not-applied{background:#fff1c2;color:#7d4e00}.held{background:#ddf4ff;color:#0550ae}
.ledger{border:2px solid #2da44e;border-radius:6px;padding:8px 12px;margin:12px 0}.ledger.bad{border-color:#cf222e;background:#ffebe9}
.ledger.bad strong{color:#a40e26;font-size:16px}blockquote{margin:6px 0;padding:4px 12px;border-left:4px solid #d0d7de;color:#24292f;font-style:italic}
.reason{margin:6px 0 10px}.target{break-inside:avoid;page-break-inside:avoid}svg.ages{display:block;margin:4px 0 8px;max-width:100%}
ul.facts{margin:4px 0;padding-left:20px}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid;page-break-after:avoid}
section.line{break-before:page;page-break-before:always}tr{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
)";

// The histogram as an inline SVG bar chart: bars younger than the cutoff
// in blue, older in orange, a dashed red line at the cutoff.
void Chart(const TargetFacts& t, std::ostream& out) {
  const AgeHistogram& h = t.ages;
  if (h.counts.empty()) return;
  const int bins = static_cast<int>(h.counts.size());
  const int left = 10, top = 26, plot_h = 110, bar_w = 64, gap = 10;
  const int width = left * 2 + bins * (bar_w + gap), height = top + plot_h + 40;
  const int64_t most = std::max<int64_t>(1, *std::max_element(h.counts.begin(), h.counts.end()));
  const size_t past = FirstBinPastCutoff(h);
  out << "<svg class=\"ages\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height << "\" role=\"img\" aria-label=\"records of "
      << Esc(t.category + "/" + t.target) << " by age\"><title>Records of " << Esc(t.category + "/" + t.target)
      << " by age, in multiples of the schedule (" << Esc(h.scale) << ")</title>\n";
  out << "<line x1=\"" << left << "\" y1=\"" << top + plot_h << "\" x2=\"" << width - left << "\" y2=\""
      << top + plot_h << "\" stroke=\"#8c959f\"/>\n";
  for (int i = 0; i < bins; ++i) {
    const int64_t n = h.counts[static_cast<size_t>(i)];
    const int bar_h = n == 0 ? 0 : std::max(2, static_cast<int>(n * plot_h / most));
    const int x = left + i * (bar_w + gap) + gap / 2;
    const bool old = static_cast<size_t>(i) >= past;
    out << "<rect x=\"" << x << "\" y=\"" << top + plot_h - bar_h << "\" width=\"" << bar_w << "\" height=\"" << bar_h
        << "\" fill=\"" << (old ? "#e16f24" : "#4a7bb7") << "\"/>"
        << "<text x=\"" << x + bar_w / 2 << "\" y=\"" << top + plot_h - bar_h - 4
        << "\" font-size=\"11\" text-anchor=\"middle\" fill=\"#1b1f24\">" << n << "</text>"
        << "<text x=\"" << x + bar_w / 2 << "\" y=\"" << top + plot_h + 15
        << "\" font-size=\"11\" text-anchor=\"middle\" fill=\"#57606a\">" << Esc(BinLabel(h, static_cast<size_t>(i)))
        << "</text>\n";
  }
  if (past <= h.counts.size()) {
    const int x = left + static_cast<int>(past) * (bar_w + gap);
    out << "<line class=\"cutoff\" x1=\"" << x << "\" y1=\"" << top - 14 << "\" x2=\"" << x << "\" y2=\""
        << top + plot_h + 22 << "\" stroke=\"#cf222e\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>"
        << "<text x=\"" << x + 4 << "\" y=\"" << top - 4 << "\" font-size=\"11\" fill=\"#cf222e\">cutoff: "
        << Esc(h.scale) << "</text>\n";
  }
  out << "<text x=\"" << left << "\" y=\"" << height - 4 << "\" font-size=\"11\" fill=\"#57606a\">age in multiples "
      << "of the schedule; blue: within it, orange: past it</text>\n</svg>\n";
}

void Ledger(const Report& r, std::ostream& out) {
  const LedgerFacts& l = r.ledger;
  const bool good = l.state_present && l.ok;
  out << "<section class=\"ledger" << (good ? "" : " bad") << "\" id=\"ledger\">";
  if (!l.state_present) {
    out << "<strong>Ledger NOT VERIFIED:</strong> there is no state database, so there is no purge log and no "
           "run history to verify.";
  } else if (!l.ok) {
    out << "<strong>LEDGER VERIFICATION FAILED at entry " << l.first_bad_seq.value_or(0) << ": " << Esc(l.problem)
        << "</strong><br>The run history in this report cannot be trusted.";
  } else {
    out << "<strong>Ledger verified:</strong> " << l.entries << " entries (" << l.records
        << " records), head entry " << l.head_seq << " <code>" << Esc(l.head_hash) << "</code>";
    if (l.head_at) out << " written " << TimeText(*l.head_at);
    out << ".";
  }
  if (l.checkpoint) {
    out << "<br>Checked against checkpoint <code>" << Esc(l.checkpoint_file) << "</code>: entry "
        << l.checkpoint->seq << " <code>" << Esc(l.checkpoint->hash) << "</code>, taken "
        << Esc(l.checkpoint->time) << ", "
        << SignatureText(l)
        << ".";
  } else if (l.state_present) {
    out << "<br>No checkpoint was given (<code>--against FILE</code>): a cut tail of the ledger would not show.";
  }
  for (const std::string& w : l.warnings) out << "<br>Warning: " << Esc(w);
  out << "</section>\n";
}

void Requests(const Report& r, std::ostream& out) {
  out << "<h2>Erasure requests</h2>\n";
  if (r.erasure.executed.empty() && r.erasure.pending.empty()) {
    out << "<p>None recorded.</p>\n";
    return;
  }
  out << "<table id=\"erasure\"><tr><th>Request</th><th>Subject</th><th>Received</th><th>Deadline</th>"
         "<th>Outcome</th><th class=\"n\">Erased</th><th class=\"n\">Kept</th></tr>\n";
  auto row = [&](const ErasureRequest& q) {
    const bool late = std::count(r.erasure.late.begin(), r.erasure.late.end(), q.reference) > 0;
    out << "<tr><td>" << Esc(q.reference) << "</td><td>" << Esc(q.subject) << "</td><td>"
        << TimeText(q.received) << "</td><td>" << TimeText(q.deadline)
        << (late ? " <span class=\"verdict overdue\">late</span>" : "") << "</td><td>" << Esc(q.outcome)
        << "</td><td class=\"n\">" << q.erased << "</td><td class=\"n\">" << q.kept << "</td></tr>\n";
  };
  for (const ErasureRequest& q : r.erasure.executed) row(q);
  for (const ErasureRequest& q : r.erasure.pending) row(q);
  out << "</table>\n<p>" << r.erasure.executed.size() << " executed, " << r.erasure.pending.size()
      << " pending or failed, " << r.erasure.late.size() << " past their deadline.</p>\n";
}

void Line(const Report& r, const PolicyLine& line, size_t n, std::ostream& out) {
  out << "<section class=\"line\" id=\"line-" << n << "\"><h2>" << n << ". " << Esc(line.policy) << " "
      << VerdictBadge(line.verdict) << "</h2>\n<blockquote>" << Esc(line.policy);
  if (!line.source.empty()) out << "<br>&mdash; " << Esc(line.source);
  out << "</blockquote>\n<p class=\"reason\"><strong>Verdict: " << VerdictName(line.verdict) << "</strong> &mdash; "
      << Esc(line.verdict_reason) << ".</p>\n<ul class=\"facts\"><li>Categories: "
      << Esc(JoinWords(line.categories, ", ")) << "</li><li>Schedule: " << Esc(JoinWords(line.schedules, "; "))
      << "</li><li>Last successful purge: ";
  if (line.last_success)
    out << "run " << line.last_success->id << ", ended " << TimeText(line.last_success->ended) << ", deleted "
        << line.last_success->deleted << " of this line's records";
  else
    out << "never";
  out << "</li><li>Deleted in the reporting period: " << line.deleted_in_period << " records in "
      << line.runs_in_period << " runs</li></ul>\n";
  for (const TargetFacts& t : line.targets) {
    out << "<div class=\"target\"><h3>" << Esc(t.category) << " / " << Esc(t.target) << " <small>(store "
        << Esc(t.store) << ")</small></h3>\n<table><tr><th class=\"n\">Records</th><th class=\"n\">Undated</th>"
        << "<th class=\"n\">Past cutoff</th><th class=\"n\">Held</th><th class=\"n\">Floor</th>"
        << "<th class=\"n\">Overdue</th><th>Oldest record</th><th>Oldest overdue</th><th>Cutoff</th></tr>\n<tr><td class=\"n\">"
        << t.records << "</td><td class=\"n\">" << t.undated << "</td><td class=\"n\">" << t.due
        << "</td><td class=\"n\">" << t.held << "</td><td class=\"n\">" << t.floor_protected << "</td><td class=\"n\">"
        << t.overdue << "</td><td>" << Time(t.oldest_record)
        << (t.oldest_record ? " (" + AgeText(r.as_of, *t.oldest_record) + ")" : "") << "</td><td>"
        << Time(t.oldest_overdue) << "</td><td>" << (t.cutoff ? TimeText(*t.cutoff) : "none")
        << "</td></tr></table>\n";
    Chart(t, out);
    out << "</div>\n";
  }
  if (!line.holds.empty()) {
    out << "<h3>Holds keeping records past the schedule</h3>\n<table><tr><th class=\"n\">Hold</th><th>Matter</th>"
           "<th>Since</th><th>Until</th><th class=\"n\">Records</th><th>Reason</th></tr>\n";
    for (const HoldFacts& h : line.holds)
      out << "<tr><td class=\"n\">" << h.id << "</td><td>" << Esc(h.matter) << "</td><td>"
          << TimeText(h.placed_at) << "</td><td>"
          << (h.expires_at ? TimeText(*h.expires_at) : "until released") << "</td><td class=\"n\">"
          << h.records << "</td><td>" << Esc(h.reason) << "</td></tr>\n";
    out << "</table>\n";
  }
  out << "</section>\n";
}

}  // namespace

void RenderHtml(const Report& r, std::ostream& out) {
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>Retention compliance report, as of " << TimeText(r.as_of) << "</title>\n<style>" << kStyle
      << "</style></head>\n<body>\n<header><h1>Retention compliance report</h1>\n<p class=\"meta\">As of "
      << TimeText(r.as_of) << " (time zone " << Esc(r.time_zone) << "), reporting period " << Esc(r.period)
      << " from " << TimeText(r.period_start) << ". Made " << TimeText(r.made_at) << " from <code>"
      << Esc(r.config_file) << "</code>, rules SHA-256 <code>" << Esc(r.rules_hash) << "</code>.</p></header>\n";
  Ledger(r, out);
  out << "<h2>Summary</h2>\n<p>" << r.lines.size() << " policy lines: " << r.LinesWith(Verdict::kComplies)
      << " comply, " << r.LinesWith(Verdict::kHeld) << " held, " << r.LinesWith(Verdict::kOverdue) << " overdue, "
      << r.LinesWith(Verdict::kNotApplied) << " not applied.</p>\n"
      << "<table id=\"summary\" class=\"summary\"><tr><th>Policy line</th><th>Schedule</th><th class=\"n\">Records</th>"
      << "<th class=\"n\">Overdue</th><th class=\"n\">Held</th><th>Last successful purge</th><th>Verdict</th></tr>\n";
  size_t n = 0;
  for (const PolicyLine& line : r.lines) {
    out << "<tr><td><a href=\"#line-" << ++n << "\">" << Esc(line.policy) << "</a></td><td>"
        << Esc(JoinWords(line.schedules, "; ")) << "</td><td class=\"n\">" << line.Records() << "</td><td class=\"n\">"
        << line.Overdue() << "</td><td class=\"n\">" << line.Held() << "</td><td>";
    if (line.last_success)
      out << "run " << line.last_success->id << ", " << TimeText(line.last_success->ended);
    else
      out << "never";
    out << "</td><td>" << VerdictBadge(line.verdict) << "</td></tr>\n";
  }
  out << "</table>\n<p class=\"meta\">Overdue: past delete_after by more than the grace (" << Esc(r.grace)
      << "), kept by no hold or floor. Not applied: no successful purge through the line within " << Esc(r.max_age)
      << ".</p>\n";
  Requests(r, out);
  n = 0;
  for (const PolicyLine& line : r.lines) Line(r, line, ++n, out);
  out << "</body></html>\n";
}

}  // namespace retention::report
