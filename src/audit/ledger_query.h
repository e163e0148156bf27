// Reading the purge log for an auditor: filters over ledger entries, and
// the formats `audit log` and `audit export` print them in.
//
// Everything here streams: entries are filtered while the ledger is
// scanned and written out one at a time, so memory stays flat whatever the
// ledger's size.
//
// CSV (audit log --format csv, audit export --format csv), RFC 4180: CRLF
// line ends, a header row, every field quoted when it holds a comma, a
// double quote, CR or LF (quotes doubled). Columns, in order:
//   seq, at, kind, run, category, store, target, key, clock, cutoff, rule,
//   subject, batch, detail, prev_hash, hash
// `at` is FormatTimestamp (UTC, "2026-11-22T15:12:25.123456Z"), `detail`
// the stored JSON text exactly as hashed. A cell that starts with = + - @
// TAB or CR, which a spreadsheet would run as a formula (OWASP "CSV
// injection"), is quoted and prefixed with a single quote inside the
// quotes: the key `=HYPERLINK(...)` is written "'=HYPERLINK(...)", and a
// plain negative number such as the key -1 is written "'-1" too. CSV is
// for people; JSON Lines is the lossless, re-hashable form.
//
// JSON Lines (--format json / jsonl): one object per entry with the same
// names, plus `detail_text`. Integers (seq, run, batch) are numbers. Every
// text field -- kind, category, store, target, key, clock, cutoff, rule,
// subject, detail_text, prev_hash, hash -- holds the stored bytes exactly:
// a JSON string when they are valid UTF-8, else an object
//   {"base64": "<standard base64, with padding, of the bytes>"}
// in place of the string (never a replacement character). `detail_text`
// is the detail exactly as hashed; `detail` is the same parsed, for people
// (null when empty; the text, or its base64 object, when it is not JSON).
// To re-hash an entry (layout at the top of ledger/ledger.cc): the text
// fields' bytes as above, detail from `detail_text`, and `at` as unix
// microseconds (FormatTimestamp is exact to the microsecond).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "calendar/timestamp.h"
#include "ledger/ledger_entry.h"
#include "state/state_db.h"
#include "util/json_text.h"
#include "util/status.h"

namespace retention::audit {

// Every given field must match (AND); an unset field matches everything.
struct LedgerFilter {
  std::optional<Timestamp> since;  // at >= since
  std::optional<Timestamp> until;  // at <  until
  std::optional<int64_t> run_id;
  std::optional<std::string> category;
  std::optional<std::string> target;
  std::optional<std::string> store;
  std::optional<std::string> key;
  std::optional<std::string> subject;  // "customer:42"
  std::set<LedgerKind> kinds;          // empty: every kind

  bool Matches(const LedgerEntry& e) const;
};

// Parses "--kind delete,kept" into kinds; unknown names are a Usage error
// listing the known ones.
Status ParseKinds(const std::string& text, std::set<LedgerKind>* kinds);

// Streams the entries matching `filter` in seq order; `visit` returns false
// to stop. Ledger read errors (including undecodable entries) are returned.
Status ScanFiltered(StateDb& state, const LedgerFilter& filter,
                    const std::function<bool(const LedgerEntry&)>& visit);

// The CSV column names, in order.
const std::vector<std::string>& CsvColumns();
// One field, quoted as RFC 4180 requires, formula cells guarded (above).
void WriteCsvField(std::string_view field, std::ostream& out);
void WriteCsvHeader(std::ostream& out);
void WriteCsvRow(const LedgerEntry& e, std::ostream& out);


nlohmann::json EntryToJson(const LedgerEntry& e);
// One compact JSON line, lossless (see above).
void WriteJsonLine(const LedgerEntry& e, std::ostream& out);

// The human table: a header, then one line per entry.
void WriteTableHeader(std::ostream& out);
void WriteTableRow(const LedgerEntry& e, std::ostream& out);

// The detail's "reason" (kept entries), or "" when absent.
std::string DetailString(const std::string& detail_json, const char* field);

}  // namespace retention::audit
