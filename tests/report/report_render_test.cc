// The report's three renderers from one Report value (report/report.h):
// the same facts in each, every text from the rules escaped for its
// format, the histogram drawn with its cutoff, absent values left out of
// the JSON; and the verdict's order of precedence.
#include <catch2/catch.hpp>

#include <sstream>

#include "report/report.h"
#include "report/report_render.h"

namespace retention::report {
namespace {

using Json = nlohmann::json;

Timestamp At(int64_t unix_seconds) { return FromUnixMicros(unix_seconds * 1000000); }

constexpr int64_t kAsOf = 1796083200;  // 2026-12-01T00:00:00Z

// One line whose quote tries to break each format, with a held target and
// a histogram; one overdue line without a source.
Report Fixture() {
  Report r;
  r.as_of = r.made_at = At(kAsOf);
  r.period_start = At(kAsOf - 30 * 86400);
  r.period = "30 days";
  r.max_age = "2 days";
  r.grace = "1 day";
  r.time_zone = "UTC";
  r.rules_hash = std::string(64, 'a');
  r.config_file = "/etc/retention/retention.toml";

  PolicyLine quoted;
  quoted.policy = "Logs | <script>alert(1)</script> & \"30\" days";
  quoted.source = "Policy\nsection 4";
  quoted.categories = {"logs"};
  quoted.schedules = {"delete after 90 days"};
  TargetFacts t;
  t.category = "logs";
  t.target = "<b>rotated</b>";
  t.store = "files";
  t.schedule = "delete after 90 days";
  t.cutoff = At(kAsOf - 90 * 86400);
  t.records = 12;
  t.due = 3;
  t.held = 3;
  t.oldest_record = At(kAsOf - 400 * 86400);
  t.ages.factors = HistogramFactors();
  t.ages.counts = {5, 2, 1, 1, 0, 0, 0, 3};
  t.ages.scale = "delete after 90 days";
  quoted.targets.push_back(t);
  quoted.holds.push_back({4, "M-<1>", "keep & hold", At(kAsOf - 86400), std::nullopt, 3});
  quoted.last_success = RunFacts{9, At(kAsOf - 3600), 17};
  quoted.deleted_in_period = 40;
  quoted.runs_in_period = 2;
  DecideVerdict(&quoted, r.max_age, r.grace);
  r.lines.push_back(quoted);

  PolicyLine late;
  late.policy = "Tickets | 24 months";
  late.categories = {"support"};
  late.schedules = {"delete after 24 months"};
  TargetFacts s;
  s.category = "support";
  s.target = "tickets";
  s.store = "app";
  s.records = 8;
  s.due = 2;
  s.overdue = 2;
  s.oldest_overdue = At(kAsOf - 800 * 86400);
  late.targets.push_back(s);
  late.never_applied = {"support"};
  DecideVerdict(&late, r.max_age, r.grace);
  r.lines.push_back(late);

  ErasureRequest q;
  q.reference = "DSR-<7>";
  q.subject = "customer:42";
  q.received = At(kAsOf - 40 * 86400);
  q.deadline = At(kAsOf - 10 * 86400);
  q.outcome = "pending";
  r.erasure.pending.push_back(q);
  r.erasure.late.push_back(q.reference);

  r.ledger.state_present = true;
  r.ledger.ok = true;
  r.ledger.entries = 120;
  r.ledger.records = 4000;
  r.ledger.head_seq = 120;
  r.ledger.head_hash = std::string(64, 'b');
  return r;
}

std::string Html(const Report& r) {
  std::ostringstream out;
  RenderHtml(r, out);
  return out.str();
}

std::string Markdown(const Report& r) {
  std::ostringstream out;
  RenderMarkdown(r, out);
  return out.str();
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("report verdicts: overdue before not applied before held before complies", "[report]") {
  PolicyLine line;
  line.targets.push_back({});
  auto verdict = [&] {
    DecideVerdict(&line, "2 days", "1 day");
    return line.verdict;
  };
  CHECK(verdict() == Verdict::kComplies);
  line.targets[0].held = 1;
  CHECK(verdict() == Verdict::kHeld);
  line.never_applied = {"c"};
  CHECK(verdict() == Verdict::kNotApplied);
  CHECK(Has(line.verdict_reason, "within 2 days"));
  line.targets[0].overdue = 1;
  CHECK(verdict() == Verdict::kOverdue);
  CHECK(Has(line.verdict_reason, "by more than 1 day"));
  CHECK(std::string(VerdictName(Verdict::kNotApplied)) == "not applied");
}

TEST_CASE("report renderers: JSON states each fact once, absent values left out", "[report]") {
  const Report r = Fixture();
  const Json j = ReportToJson(r);
  CHECK(j.at("format") == "retention-report/1");
  CHECK(j.at("as_of") == "2026-12-01T00:00:00Z");
  CHECK(j.at("summary") == Json{{"lines", 2}, {"complies", 0}, {"overdue", 1}, {"not_applied", 0}, {"held", 1}});
  const Json& held = j.at("lines")[0];
  CHECK(held.at("verdict") == "held");
  CHECK(held.at("policy") == r.lines[0].policy);  // JSON keeps the text as it is
  CHECK(held.at("last_success") == Json{{"run", 9}, {"ended", "2026-11-30T23:00:00Z"}, {"deleted", 17}});
  const Json& bins = held.at("targets")[0].at("ages").at("bins");
  REQUIRE(bins.size() == 8);
  CHECK(bins[3].at("label") == "0.75-1x");
  CHECK(bins[3].at("past_cutoff") == false);
  CHECK(bins[4].at("past_cutoff") == true);
  CHECK(bins[7].at("label") == ">= 4x");
  CHECK_FALSE(bins[7].contains("to"));
  CHECK(held.at("holds")[0].at("matter") == "M-<1>");
  CHECK_FALSE(held.at("holds")[0].contains("expires_at"));
  const Json& late = j.at("lines")[1];
  CHECK(late.at("verdict") == "overdue");
  CHECK_FALSE(late.contains("source"));
  CHECK_FALSE(late.contains("last_success"));
  CHECK_FALSE(late.at("targets")[0].contains("ages"));
  CHECK_FALSE(late.at("targets")[0].contains("cutoff"));
  CHECK(late.at("targets")[0].at("oldest_overdue") == "2024-09-22T00:00:00Z");
  const Json& pending = j.at("erasure_requests").at("pending")[0];
  CHECK(pending.at("past_deadline") == true);
  CHECK_FALSE(pending.contains("executed"));
  CHECK(j.at("ledger").at("verified") == true);
  CHECK_FALSE(j.at("ledger").contains("first_bad_seq"));
}

TEST_CASE("report renderers: HTML escapes every text and draws the histogram with its cutoff", "[report]") {
  const Report r = Fixture();
  const std::string html = Html(r);
  CHECK_FALSE(Has(html, "<script>"));
  CHECK_FALSE(Has(html, "<b>rotated"));
  CHECK_FALSE(Has(html, "M-<1>"));
  CHECK_FALSE(Has(html, "DSR-<7>"));
  CHECK(Has(html, "Logs | &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;30&quot; days"));
  CHECK(Has(html, "&lt;b&gt;rotated&lt;/b&gt;"));
  CHECK(Has(html, "keep &amp; hold"));
  CHECK(Has(html, "<table id=\"summary\""));
  // One chart, for the one target with a histogram: its bars and cutoff.
  CHECK(Has(html, "<svg class=\"ages\""));
  CHECK(html.find("<svg") == html.rfind("<svg"));
  CHECK(Has(html, "class=\"cutoff\""));
  CHECK(Has(html, ">cutoff: delete after 90 days</text>"));
  CHECK(Has(html, "fill=\"#e16f24\""));  // a bar past the cutoff
  // Self-contained: nothing fetched, no script.
  CHECK_FALSE(Has(html, "src="));
  CHECK_FALSE(Has(html, "<link"));
  CHECK_FALSE(Has(html, "@import"));
  CHECK(Has(html, "@media print"));
  CHECK(Has(html, "<span class=\"verdict overdue\">late</span>"));
}

TEST_CASE("report renderers: Markdown keeps table cells whole and draws text bars", "[report]") {
  const Report r = Fixture();
  const std::string md = Markdown(r);
  CHECK(Has(md, "| Logs \\| &lt;script&gt;alert(1)&lt;/script&gt; & \"30\" days |"));
  CHECK_FALSE(Has(md, "<script>"));
  CHECK(Has(md, "| Tickets \\| 24 months | delete after 24 months | 8 | 2 | 0 | never | **overdue** |"));
  CHECK(Has(md, "> - Policy section 4"));  // a newline in a quote stays on its line
  CHECK(Has(md, "---------- cutoff: delete after 90 days ----------\n1-1.5x"));
  // The biggest bin gets the full bar, an empty one none.
  CHECK(Has(md, "< 0.25x             5  \u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588"));
  CHECK(Has(md, "1-1.5x              0\n"));
  CHECK(Has(md, "**Ledger: verified** - 120 entries"));
  CHECK(Has(md, "| DSR-&lt;7&gt; |"));
  CHECK(Has(md, "**LATE**"));
}

TEST_CASE("report renderers: the same verdicts and counts in every format", "[report]") {
  const Report r = Fixture();
  const std::string html = Html(r), md = Markdown(r);
  const Json j = ReportToJson(r);
  for (size_t i = 0; i < r.lines.size(); ++i) {
    const std::string verdict = VerdictName(r.lines[i].verdict);
    CHECK(j.at("lines")[i].at("verdict") == verdict);
    CHECK(Has(md, "**Verdict: " + verdict + "**"));
    CHECK(Has(html, "<strong>Verdict: " + verdict + "</strong>"));
  }
  CHECK(Has(md, "2 policy lines: 0 comply, 1 held, 1 overdue, 0 not applied."));
  CHECK(Has(html, "2 policy lines: 0 comply, 1 held, 1 overdue, 0 not applied."));
}

TEST_CASE("report renderers: a ledger that fails verification is said first, in every format", "[report]") {
  Report r = Fixture();
  r.ledger.ok = false;
  r.ledger.first_bad_seq = 17;
  r.ledger.problem = "entry 17 hash <mismatch>";
  const std::string md = Markdown(r), html = Html(r);
  CHECK(md.find("**LEDGER VERIFICATION FAILED at entry 17") < md.find("## Summary"));
  CHECK(html.find("LEDGER VERIFICATION FAILED at entry 17: entry 17 hash &lt;mismatch&gt;") < html.find("Summary"));
  CHECK(Has(html, "class=\"ledger bad\""));
  CHECK(ReportToJson(r).at("ledger").at("first_bad_seq") == 17);
}

}  // namespace
}  // namespace retention::report
