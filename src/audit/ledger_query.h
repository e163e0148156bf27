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
// the stored JSON text exactly as hashed.
//
// JSON Lines (--format json / jsonl): one object per entry with the same
// names; `detail` is the parsed JSON object (the stored text when it does
// not parse), integers are numbers.
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
// One field, quoted as RFC 4180 requires.
void WriteCsvField(std::string_view field, std::ostream& out);
void WriteCsvHeader(std::ostream& out);
void WriteCsvRow(const LedgerEntry& e, std::ostream& out);

nlohmann::json EntryToJson(const LedgerEntry& e);
// One compact JSON line (invalid UTF-8 replaced, never thrown on).
void WriteJsonLine(const LedgerEntry& e, std::ostream& out);

// The human table: a header, then one line per entry.
void WriteTableHeader(std::ostream& out);
void WriteTableRow(const LedgerEntry& e, std::ostream& out);

// The detail's "reason" (kept entries), or "" when absent.
std::string DetailString(const std::string& detail_json, const char* field);

}  // namespace retention::audit
