// The receipt of an erasure request: what the operator sends back to the
// requester and keeps as evidence (SPEC 5 `erase`). Rendered from an
// ErasureReceipt's facts and the rules: every date in it is computed here.
//
//   - a floor's end: the first day the floor's category no longer keeps a
//     record with the group's newest clock, and the day the record's own
//     schedule then deletes it;
//   - roll-out: for each category none of whose targets maps the subject's
//     kind (request logs, backups ...), the day by which a record written
//     at the latest when the request was executed is due under the
//     category's schedule;
//   - the request's deadline.
// A date is the first instant at which a purge would find the record due
// (the inverse of calendar/cutoff.h's ComputeCutoff: never earlier than the
// cutoff arithmetic makes it), in the store's zone.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "calendar/cutoff.h"
#include "config/config.h"
#include "erase/erasure.h"
#include "rules/rule.h"
#include "util/status.h"

namespace retention {

enum class ReceiptFormat { kTable, kJson, kMarkdown };

// "table", "json", "md": Invalid otherwise.
Result<ReceiptFormat> ParseReceiptFormat(const std::string& name);

// What FirstDueAt returns when no instant in the calendar ComputeCutoff
// handles (years -30000..30000) makes the record due: it is never due.
inline constexpr Timestamp kNeverDue = Timestamp::max();

// The first instant t at which a record with `clock` is due under
// `duration` (ComputeCutoff(t, duration, zone) > clock), to the whole
// second: t is due and t - 1s is not, nor is any earlier instant. Exact
// across month ends (a record of 02-28 is due under "1 month" from 03-28,
// though 03-29..03-31 reach back to 02-28 00:00 only) and DST changes,
// where the cutoff can fall back for a while (fall-back, a day that does not
// exist): the FIRST such instant, not the last.
Timestamp FirstDueAt(Timestamp clock, const CalendarDuration& duration, const TimeZone& zone);

// The receipt as a JSON value (the `--format json` output, and what the
// Markdown and table forms print): the facts, plus every computed date.
// Roll-out dates count from `receipt.executed`; a dry run (no `executed`)
// counts from `now`, the moment of the preview. The forms without `now`
// take the system clock for it.
nlohmann::json ReceiptToJson(const ErasureReceipt& receipt, const Config& config, const RuleSet& rules);
nlohmann::json ReceiptToJson(const ErasureReceipt& receipt, const Config& config, const RuleSet& rules,
                             Timestamp now);

// Writes the receipt in `format` (table: for the terminal; md: to send).
void WriteReceipt(const ErasureReceipt& receipt, const Config& config, const RuleSet& rules,
                  ReceiptFormat format, std::ostream& out);
void WriteReceipt(const ErasureReceipt& receipt, const Config& config, const RuleSet& rules,
                  ReceiptFormat format, std::ostream& out, Timestamp now);

}  // namespace retention
