// Reading the purge log for an auditor: filters over ledger entries and
// records, and the formats `audit log` and `audit export` print them in.
//
// ROWS: one per entry that is not a per-record entry (runs, holds, anchors,
// reconciliations, batch entries themselves), and one per RECORD
// (ledger/ledger_records.h): a delete or kept entry as it is, and each
// candidate of a batch entry once its settlement is read (outcome deleted,
// kept or replaced), or at the end while still open (pending: claims
// nothing). A batch record's row carries the batch entry's seq, at, hash
// and prev_hash (the entry that holds it), its shared fields (run,
// category, store, target, cutoff, rule, batch), and the record's own key,
// clock and subject; its kind is delete (deleted, replaced), kept (detail:
// the kept reason, as a kept entry's) or batch (pending).
//
// Everything here streams: entries are filtered while the ledger is
// scanned and written out one at a time, so memory stays flat whatever the
// ledger's size.
//
// CSV (audit log --format csv, audit export --format csv), RFC 4180: CRLF
// line ends, a header row, every field quoted when it holds a comma, a
// double quote, CR or LF (quotes doubled). Columns, in order:
//   seq, at, kind, run, category, store, target, key, clock, cutoff, rule,
//   subject, batch, detail, prev_hash, hash,
//   outcome, settled_seq, index
// The last three are new with batch entries: `outcome` is deleted, kept,
// replaced or pending for a record of a batch entry, deleted or kept for a
// per-record entry, empty for other entries; `settled_seq` the entry whose
// settlement gave the outcome (empty unless a batch's settled record);
// `index` the candidate's place in the batch entry's payload (empty unless
// a batch's record).
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
// microseconds (FormatTimestamp is exact to the microsecond). A batch
// entry's line also has `payload`: standard base64 of its packed candidates
// (ledger/batch_entry.h), hashed as field 16. A record's line (above) has
// `outcome`, `settled_seq` (null unless settled from a batch), `index`
// (null unless from a batch) and `record: true`; it is not an entry and
// does not re-hash: its seq and hash name the entry that holds it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "calendar/cutoff.h"
#include "calendar/timestamp.h"
#include "ledger/ledger_entry.h"
#include "ledger/ledger_records.h"
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

// The ledger seen through a list of seqs (sorted; those a lookup index
// named, StateDb::LookupEntries): the entries there, in seq order.
class EntryListReader final : public LedgerReader {
 public:
  EntryListReader(StateDb& state, const std::vector<int64_t>& seqs) : state_(state), seqs_(seqs) {}
  Status ScanLedger(int64_t from_seq, const std::function<bool(LedgerEntry&)>& visit) override;
  Result<LedgerHead> Head() override { return state_.Head(); }

 private:
  StateDb& state_;
  const std::vector<int64_t>& seqs_;
};

// Streams the ROWS (above) matching `filter`: `record` is null for an entry
// row. With a key, a subject or a run, only the entries the state's lookup
// indexes name are read (StateDb::LookupEntries, schema version 6), and
// each row is still judged by `filter` on the entry's own fields, so an
// index row that names a wrong entry adds nothing; without those indexes
// (an older database opened read-only), or with a batch index that
// disagrees with itself, every entry is read (ScanEveryRow).
Status ScanRows(StateDb& state, const LedgerFilter& filter,
                const std::function<bool(const LedgerEntry&, const LedgerRecord*)>& visit);
// The same from every entry of the ledger, in one pass. Batch entries that
// cannot match (their run, category, store, target or time; with a key,
// those the batch index says do not reach it) are not decoded. The oracle
// the lookups are tested against.
Status ScanEveryRow(StateDb& state, const LedgerFilter& filter,
                    const std::function<bool(const LedgerEntry&, const LedgerRecord*)>& visit);

// The CSV column names, in order.
const std::vector<std::string>& CsvColumns();
// One field, quoted as RFC 4180 requires, formula cells guarded (above).
void WriteCsvField(std::string_view field, std::ostream& out);
void WriteCsvHeader(std::ostream& out);
void WriteCsvRow(const LedgerEntry& e, std::ostream& out, const LedgerRecord* record = nullptr);


nlohmann::json EntryToJson(const LedgerEntry& e, const LedgerRecord* record = nullptr);
// One compact JSON line, lossless (see above).
void WriteJsonLine(const LedgerEntry& e, std::ostream& out, const LedgerRecord* record = nullptr);

// The human table: a header, then one line per entry; holds and runs told
// in words ("hold 3 placed by alice: matter M-1, scope category=support,
// expires 2027-01-01 00:00:00 Europe/Berlin", "run 12 started as
// of ... by root@host, command: purge"), their times in `zone` (the config's). The other
// formats keep the stored detail.
void WriteTableHeader(std::ostream& out);
void WriteTableRow(const LedgerEntry& e, std::ostream& out, const TimeZone& zone);

// "2027-01-01 00:00:00 Europe/Berlin": `t` on the wall clock of `zone`,
// with the milliseconds (or microseconds) it has.
std::string LocalTimeText(Timestamp t, const TimeZone& zone);

// The detail's "reason" (kept entries), or "" when absent.
std::string DetailString(const std::string& detail_json, const char* field);

}  // namespace retention::audit
