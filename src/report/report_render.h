// The report in each format, from one Report value (report/report.h):
// Markdown for a ticket or a repository, HTML for a browser or a PDF, JSON
// for machines. Every format states the same facts; only the layout differs.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "report/report.h"

namespace retention::report {

// JSON (format "retention-report/1"): one document, RFC 3339 UTC
// timestamps, absent values omitted rather than null. Written out at the
// top of report_json.cc.
nlohmann::json ReportToJson(const Report& report);

// Markdown: a summary table, then a section per line with a text bar per
// age bin.
void RenderMarkdown(const Report& report, std::ostream& out);

// HTML: one self-contained page (inline CSS and SVG, no script, nothing
// fetched), laid out to print on A4 or Letter. Every text from the rules,
// the config or the state is escaped.
void RenderHtml(const Report& report, std::ostream& out);

}  // namespace retention::report
