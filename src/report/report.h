// The auditor's compliance report (`retention report`, SPEC 2 and 5): per
// line of the privacy policy, does the data on disk comply, and how do we
// know. A plain value gathered once (GatherReport) and rendered by one
// function per format (report/report_render.h), so that Markdown, HTML and
// JSON say the same thing.
//
// A policy line is the categories sharing one `policy` quote: request logs
// in a table and rotated log files are one line ("Server logs | 30-90
// days") with several targets. A category without a quote is a line of its
// own.
//
// Per line the verdict is, first match wins:
//   overdue      a target holds records past delete_after + grace that no
//                hold or floor keeps (plan/overdue.h, as `status` counts);
//   not applied  a category of the line has no successful purge that ended
//                within max_age before as_of and went through it (what
//                `status` calls "configured but not applied");
//   held         complies, but holds keep records past their schedule;
//   complies     none of the above.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/full_verification.h"
#include "audit/run_history.h"
#include "calendar/duration.h"
#include "calendar/timestamp.h"
#include "config/config.h"
#include "erase/erasure.h"
#include "holds/hold_set.h"
#include "rules/rule.h"
#include "state/state_db.h"
#include "stores/store_set.h"
#include "util/status.h"

namespace retention::report {

inline constexpr const char* kReportFormat = "retention-report/1";

enum class Verdict { kComplies, kOverdue, kNotApplied, kHeld };

// "complies", "overdue", "not applied", "held": the words every format uses.
const char* VerdictName(Verdict verdict);

// Records by age against the schedule. Bin i holds the records whose age
// is in [factors[i-1], factors[i]) times the schedule (bin 0: younger than
// factors[0]; the last bin: factors.back() and older). The boundary at
// factor 1 is the cutoff itself (computed on the calendar), the others are
// the same span scaled.
struct AgeHistogram {
  std::vector<double> factors;
  std::vector<int64_t> counts;  // factors.size() + 1 bins
  // What the scale is: "delete after 90 days", or the floor's when the
  // category has no delete_after.
  std::string scale;
};

// The boundaries every histogram uses: 1/4, 1/2, 3/4, 1, 1.5, 2 and 4
// times the schedule.
const std::vector<double>& HistogramFactors();

struct TargetFacts {
  std::string category;
  std::string target;
  std::string store;
  std::string schedule;  // ScheduleText of its category
  std::optional<Timestamp> cutoff;  // delete_after's, as of the report
  int64_t records = 0;
  int64_t undated = 0;
  int64_t due = 0;              // past the cutoff, before holds and floors
  int64_t held = 0;             // of which a hold keeps
  int64_t floor_protected = 0;  // of which a floor keeps
  int64_t overdue = 0;          // past due + grace, kept by nothing
  std::optional<Timestamp> oldest_overdue;
  std::optional<Timestamp> oldest_record;  // among the dated
  AgeHistogram ages;
};

// A hold in force that keeps records of the line past their schedule.
struct HoldFacts {
  int64_t id = 0;
  std::string matter;
  std::string reason;
  Timestamp placed_at{};
  std::optional<Timestamp> expires_at;
  int64_t records = 0;  // due records of the line's targets it covers
};

struct RunFacts {
  int64_t id = 0;
  Timestamp ended{};
  int64_t deleted = 0;  // of the line's categories
};

struct PolicyLine {
  std::string policy;  // the quote; the category's description (or name) without one
  std::string source;  // policy_source (distinct sources joined by "; ")
  std::vector<std::string> categories;
  std::vector<std::string> schedules;  // the distinct ScheduleTexts, in order
  std::vector<TargetFacts> targets;
  std::vector<HoldFacts> holds;
  std::optional<RunFacts> last_success;  // the last successful purge through every category of the line
  std::vector<std::string> never_applied;  // categories no successful purge within max_age went through
  int64_t deleted_in_period = 0;           // by runs that ended in the period (purge and erase)
  int64_t runs_in_period = 0;              // of those, the runs that deleted some of the line's records
  Verdict verdict = Verdict::kComplies;
  std::string verdict_reason;  // one sentence: why this verdict

  int64_t Records() const;
  int64_t Overdue() const;
  int64_t Held() const;
};

struct ErasureFacts {
  std::vector<ErasureRequest> executed;  // done or partial
  std::vector<ErasureRequest> pending;   // pending or failed
  std::vector<std::string> late;         // references of those past their deadline not done
};

struct LedgerFacts {
  bool state_present = false;  // false: no state database, nothing verified
  bool ok = false;
  int64_t entries = 0;
  int64_t records = 0;
  int64_t head_seq = 0;
  std::string head_hash;
  std::optional<Timestamp> head_at;
  std::optional<int64_t> first_bad_seq;
  std::string problem;
  std::vector<std::string> warnings;
  // The checkpoint verified against (--against), when one was given.
  std::optional<audit::Checkpoint> checkpoint;
  std::string checkpoint_file;
  bool checkpoint_signature_checked = false;
};

struct Report {
  Timestamp as_of{};
  Timestamp made_at{};
  Timestamp period_start{};
  std::string period;   // "30 days"
  std::string max_age;  // "2 days"
  std::string grace;    // "1 day", "none"
  std::string time_zone;
  std::string rules_hash;
  std::string config_file;
  std::vector<PolicyLine> lines;
  ErasureFacts erasure;
  LedgerFacts ledger;

  int64_t LinesWith(Verdict verdict) const;
};

struct ReportOptions {
  Timestamp as_of{};
  Timestamp now{};
  CalendarDuration period{30, DurationUnit::kDays};
  CalendarDuration max_age{2, DurationUnit::kDays};
  CalendarDuration grace{1, DurationUnit::kDays};
};

// What the report is made of, read by the caller (read-only): the runs
// (audit::SummarizeRuns), the erasure requests, the holds in force and the
// ledger's verification (nullopt without a state database).
struct ReportInputs {
  const Config* config = nullptr;
  const RuleSet* rules = nullptr;
  const HoldSet* holds = nullptr;
  StoreSet* stores = nullptr;  // opened read-only
  std::vector<audit::RunSummary> runs;
  std::vector<ErasureRequest> requests;
  std::optional<audit::FullVerification> verification;
  std::optional<audit::Checkpoint> checkpoint;
  std::string checkpoint_file;
  bool checkpoint_signature_checked = false;
};

// Measures every target (reads only) and builds the report. A store that
// cannot be read is an error (the report would be wrong, not partial).
Result<Report> GatherReport(ReportInputs inputs, const ReportOptions& options);

// Sets a line's verdict and its reason from the facts gathered (exposed so
// that tests can state a fixture's facts and check the verdict). `max_age`
// and `grace` are the report's, as words.
void DecideVerdict(PolicyLine* line, const std::string& max_age, const std::string& grace);

// Words every format uses.
// `parts` with `separator` between them.
std::string JoinWords(const std::vector<std::string>& parts, const char* separator);
// "0.25" for a histogram factor.
std::string FactorText(double factor);
// "< 0.25x", "0.25-0.5x", ">= 4x": bin `bin` of `h`.
std::string BinLabel(const AgeHistogram& h, size_t bin);
// The first bin whose records are past the scale's cutoff (factor 1).
size_t FirstBinPastCutoff(const AgeHistogram& h);
// `t` to the second, for people ("2026-11-30T21:31:54Z"); JSON keeps the
// microseconds.
std::string TimeText(Timestamp t);
// The checkpoint's signature: "not signed", "signature verified", ...
std::string SignatureText(const LedgerFacts& ledger);
// The age of `t` at `as_of`: "5 hours" under two days, else "412 days".
std::string AgeText(Timestamp as_of, Timestamp t);

}  // namespace retention::report
