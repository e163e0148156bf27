#include "audit/ledger_query.h"

#include <algorithm>
#include <cstdio>

#include <map>
#include <utility>

#include <date/date.h>

#include "calendar/clock_value.h"
#include "holds/hold_table.h"
#include "ledger/anchor.h"
#include "ledger/batch_scan.h"
#include "ledger/ledger_payloads.h"

namespace retention::audit {

namespace {

using Json = nlohmann::json;

// Strict: every string put into the JSON went through TextJson (or came
// out of nlohmann's parser, which accepts only valid UTF-8), so nothing is
// ever replaced; a string that slipped through would throw, not be altered.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::strict); }

}  // namespace

bool LedgerFilter::Matches(const LedgerEntry& e) const {
  if (!kinds.empty() && !kinds.count(e.kind)) return false;
  if (since && e.at < *since) return false;
  if (until && !(e.at < *until)) return false;
  if (run_id && e.run_id != *run_id) return false;
  if (category && e.category != *category) return false;
  if (target && e.target != *target) return false;
  if (store && e.store != *store) return false;
  if (key && e.record_key != *key) return false;
  if (subject && e.subject != *subject) return false;
  return true;
}

Status ParseKinds(const std::string& text, std::set<LedgerKind>* kinds) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string name = text.substr(start, comma - start);
    if (!name.empty()) {
      auto k = LedgerKindFromName(name);
      if (!k) {
        return Status::Usage("--kind: unknown kind '" + name +
                             "' (run_start, run_end, delete, hold_placed, hold_released, reconciled, kept, batch)");
      }
      kinds->insert(*k);
    }
    start = comma + 1;
  }
  return Status::Ok();
}

Status ScanFiltered(StateDb& state, const LedgerFilter& filter,
                    const std::function<bool(const LedgerEntry&)>& visit) {
  return state.ScanLedger(INT64_MIN, [&](const LedgerEntry& e) {
    if (!filter.Matches(e)) return true;
    return visit(e);
  });
}

namespace {

// The rows of the entries `reader` gives, judged by `filter` on their own
// fields: the lookup indexes only choose which entries are read.
// Stops at the next entry once `*failed` is an error (`want`'s lookups).
Status RowsOf(LedgerReader& reader, const LedgerFilter& filter,
              const std::function<bool(const LedgerEntry&)>& want,
              const std::function<bool(const LedgerEntry&, const LedgerRecord*)>& visit,
              const Status* failed = nullptr) {
  auto on_record = [&](const LedgerRecord& r) {
    if (!filter.Matches(r.entry)) return true;
    return visit(r.entry, &r);
  };
  auto on_entry = [&](const LedgerEntry& e) {
    if (failed != nullptr && !failed->ok()) return false;
    // Per-record entries come through as records.
    if (e.kind == LedgerKind::kDelete || e.kind == LedgerKind::kKept) return true;
    if (!filter.Matches(e)) return true;
    return visit(e, nullptr);
  };
  return ScanRecords(reader, INT64_MIN, on_record, want, on_entry);
}

}  // namespace

Status EntryListReader::ScanLedger(int64_t from_seq, const std::function<bool(LedgerEntry&)>& visit) {
  auto first = std::lower_bound(seqs_.begin(), seqs_.end(), from_seq);
  return state_.ReadEntries(std::vector<int64_t>(first, seqs_.end()), visit);
}

Status ScanRows(StateDb& state, const LedgerFilter& filter,
                const std::function<bool(const LedgerEntry&, const LedgerRecord*)>& visit) {
  // A key, a subject or a run: the few entries the lookup indexes name
  // (schema version 6), when the database has them.
  if (filter.key || filter.subject || filter.run_id) {
    LedgerLookup lookup;
    if (filter.key) {
      lookup.key = filter.key;
      lookup.store = filter.store;
      lookup.target = filter.target;
    } else if (filter.subject) {
      lookup.subject = filter.subject;
    } else {
      lookup.run_id = filter.run_id;
    }
    auto seqs = state.LookupEntries(lookup);
    if (!seqs.ok()) return seqs.status();
    if (*seqs) {
      EntryListReader reader(state, **seqs);
      return RowsOf(reader, filter, nullptr, visit);
    }
  }
  return ScanEveryRow(state, filter, visit);
}

Status ScanEveryRow(StateDb& state, const LedgerFilter& filter,
                    const std::function<bool(const LedgerEntry&, const LedgerRecord*)>& visit) {
  // What a batch entry's own fields decide: everything but key, subject
  // and kind, which are its records'.
  LedgerFilter shared = filter;
  shared.key.reset();
  shared.subject.reset();
  shared.kinds.clear();
  // --key: the batches the index says reach it, asked once per target.
  std::map<std::pair<std::string, std::string>, std::set<int64_t>> reaching;
  Status lookup;
  auto want = [&](const LedgerEntry& e) {
    if (!shared.Matches(e)) return false;
    if (!filter.key) return true;
    auto [it, fresh] = reaching.try_emplace({e.store, e.target});
    if (fresh) {
      auto seqs = state.BatchesReaching(e.store, e.target, *filter.key);
      if (!seqs.ok()) {
        lookup = seqs.status();
        return false;
      }
      it->second.insert(seqs->begin(), seqs->end());
    }
    return it->second.count(e.seq) != 0;
  };
  RETENTION_RETURN_IF_ERROR(RowsOf(state, filter, want, visit, &lookup));
  return lookup;
}

const std::vector<std::string>& CsvColumns() {
  static const std::vector<std::string> kColumns = {
      "seq",    "at",   "kind",    "run",   "category", "store",  "target",    "key",
      "clock",  "cutoff", "rule",  "subject", "batch",  "detail", "prev_hash", "hash",
      "outcome", "settled_seq", "index"};
  return kColumns;
}

bool CsvCellNeedsFormulaGuard(std::string_view field) {
  return !field.empty() && std::string_view("=+-@\t\r").find(field.front()) != std::string_view::npos;
}

void WriteCsvField(std::string_view field, std::ostream& out) {
  const bool guard = CsvCellNeedsFormulaGuard(field);
  if (!guard && field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << field;
    return;
  }
  out << '"';
  if (guard) out << '\'';
  for (char c : field) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

void WriteCsvHeader(std::ostream& out) {
  const auto& cols = CsvColumns();
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i) out << ',';
    out << cols[i];
  }
  out << "\r\n";
}

void WriteCsvRow(const LedgerEntry& e, std::ostream& out, const LedgerRecord* record) {
  // Every cell goes through WriteCsvField, the numbers too: a negative
  // run or batch (written by hand) is a cell a spreadsheet would evaluate.
  const std::string cells[] = {std::to_string(e.seq), FormatTimestamp(e.at), std::string(LedgerKindName(e.kind)),
                               std::to_string(e.run_id)};
  for (const std::string& c : cells) {
    WriteCsvField(c, out);
    out << ',';
  }
  for (const std::string* f : {&e.category, &e.store, &e.target, &e.record_key, &e.clock, &e.cutoff, &e.rule,
                               &e.subject}) {
    WriteCsvField(*f, out);
    out << ',';
  }
  WriteCsvField(std::to_string(e.batch), out);
  out << ',';
  for (const std::string* f : {&e.detail, &e.prev_hash}) {
    WriteCsvField(*f, out);
    out << ',';
  }
  WriteCsvField(e.hash, out);
  out << ',';
  if (record != nullptr) {
    WriteCsvField(record->OutcomeName(), out);
    out << ',';
    if (record->settled_seq != 0) WriteCsvField(std::to_string(record->settled_seq), out);
    out << ',';
    if (record->batch_seq != 0) WriteCsvField(std::to_string(record->index), out);
  } else {
    out << ",,";
  }
  out << "\r\n";
}

Json EntryToJson(const LedgerEntry& e, const LedgerRecord* record) {
  // `detail` for people (the parsed JSON); `detail_text` is what was hashed.
  Json detail;
  if (e.detail.empty()) {
    detail = nullptr;
  } else {
    detail = Json::parse(e.detail, nullptr, /*allow_exceptions=*/false);
    if (detail.is_discarded()) detail = TextJson(e.detail);
  }
  Json j{{"seq", e.seq},
              {"at", FormatTimestamp(e.at)},
              {"kind", TextJson(LedgerKindName(e.kind))},
              {"run", e.run_id},
              {"category", TextJson(e.category)},
              {"store", TextJson(e.store)},
              {"target", TextJson(e.target)},
              {"key", TextJson(e.record_key)},
              {"clock", TextJson(e.clock)},
              {"cutoff", TextJson(e.cutoff)},
              {"rule", TextJson(e.rule)},
              {"subject", TextJson(e.subject)},
              {"batch", e.batch},
              {"detail", detail},
              {"detail_text", TextJson(e.detail)},
              {"prev_hash", TextJson(e.prev_hash)},
              {"hash", TextJson(e.hash)}};
  if (record != nullptr) {
    j["record"] = true;
    j["outcome"] = record->OutcomeName();
    j["settled_seq"] = record->settled_seq != 0 ? Json(record->settled_seq) : Json(nullptr);
    j["index"] = record->batch_seq != 0 ? Json(record->index) : Json(nullptr);
  } else if (e.kind == LedgerKind::kBatch) {
    j["payload"] = Base64Encode(e.payload);
  }
  return j;
}

void WriteJsonLine(const LedgerEntry& e, std::ostream& out, const LedgerRecord* record) {
  out << Dump(EntryToJson(e, record)) << '\n';
}

void WriteTableHeader(std::ostream& out) {
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %-27s %-13s %-5s %s\n", "SEQ", "AT", "KIND", "RUN", "WHAT");
  out << line;
}

namespace {

// Holds and runs told in words (their details are JSON: `audit log
// --format json` keeps them as stored); nullopt when the detail does not
// decode, and the entry is then shown as stored.
std::optional<std::string> InWords(const LedgerEntry& e, const TimeZone& zone) {
  switch (e.kind) {
    case LedgerKind::kHoldPlaced: {
      auto d = DecodeHoldPlaced(e.detail);
      if (!d.ok()) return std::nullopt;
      const Hold& h = d->hold;
      std::string what = "hold " + std::to_string(h.id) + " placed by " + h.author;
      if (!d->host.empty()) what += " on " + d->host;
      what += ": matter " + h.matter;
      if (d->has_scope) what += ", scope " + HoldScopeText(h.scope);
      what += ", expires " + (h.expires_at ? LocalTimeText(*h.expires_at, zone) : std::string("never"));
      if (!h.reason.empty()) what += ", reason: " + h.reason;
      return what;
    }
    case LedgerKind::kHoldReleased: {
      auto d = DecodeHoldReleased(e.detail);
      if (!d.ok()) return std::nullopt;
      std::string what = "hold " + std::to_string(d->id) + " (matter " + d->matter + ") released by " + d->by;
      if (!d->host.empty()) what += " on " + d->host;
      what += " at " + LocalTimeText(d->released_at, zone);
      if (!d->reason.empty()) what += ": " + d->reason;
      return what;
    }
    case LedgerKind::kRunStart: {
      auto d = DecodeRunStart(e.detail);
      if (!d.ok()) return std::nullopt;
      std::string what = "run " + std::to_string(e.run_id) + " started";
      if (auto as_of = ParseClockText(d->as_of, TimeZone::Utc())) what += " as of " + LocalTimeText(*as_of, zone);
      what += " by " + d->user + "@" + d->host;
      if (!d->command.empty()) what += ", command: " + d->command;
      if (!d->version.empty()) what += ", retention " + d->version;
      if (!d->rules_hash.empty()) what += ", rules " + d->rules_hash.substr(0, 12);
      return what;
    }
    case LedgerKind::kRunEnd: {
      auto d = DecodeRunEnd(e.detail);
      if (!d.ok()) return std::nullopt;
      std::string what = "run " + std::to_string(e.run_id) + " ended " + (d->outcome.empty() ? "?" : d->outcome);
      if (d->exit_code) what += ", exit " + std::to_string(*d->exit_code);
      if (d->more.contains("deleted") && d->more["deleted"].is_number_integer())
        what += ", " + std::to_string(d->more["deleted"].get<int64_t>()) + " deleted";
      if (const std::string error = d->error(); !error.empty()) what += ": " + error;
      return what;
    }
    default:
      return std::nullopt;
  }
}

// The WHAT column: holds and runs in words; the pruned range for an
// anchor; the record and rule for the rest.
std::string EntrySummary(const LedgerEntry& e, const TimeZone& zone) {
  if (auto words = InWords(e, zone)) return *words;
  if (e.kind == LedgerKind::kAnchor) {
    if (auto anchor = ReadAnchor(e); anchor.ok()) {
      return e.category + " " + e.store + "/" + e.target + ": entries " + std::to_string(anchor->from) + " to " +
             std::to_string(anchor->through) + " pruned (written before " + e.cutoff + "; delete after " +
             anchor->delete_after.ToString() + ", " + anchor->time_zone + ") rule=" + e.rule;
    }
  }
  std::string what;
  if (e.kind == LedgerKind::kBatch) {
    auto n = CountBatchRecords(e.payload);
    what += (n.ok() ? std::to_string(*n) + " records" : "undecodable payload") + std::string(" of ");
  }
  if (!e.category.empty()) what += e.category + " ";
  if (!e.store.empty() || !e.target.empty()) what += e.store + "/" + e.target;
  if (!e.record_key.empty()) what += "/" + e.record_key;
  if (!e.clock.empty()) what += " clock=" + e.clock;
  if (!e.cutoff.empty()) what += " cutoff=" + e.cutoff;
  if (!e.subject.empty()) what += " subject=" + e.subject;
  if (!e.rule.empty()) what += " rule=" + e.rule;
  if (!e.detail.empty() && e.kind != LedgerKind::kDelete) what += (what.empty() ? "" : " ") + e.detail;
  return what;
}

}  // namespace

std::string LocalTimeText(Timestamp t, const TimeZone& zone) {
  using namespace std::chrono;
  const TimeZone::LocalTime local = zone.ToLocal(t);
  const auto secs = floor<seconds>(local);
  const int64_t micros = (local - secs).count();
  // Formatted as if UTC: the fields are the wall clock's.
  std::string text = date::format("%Y-%m-%d %H:%M:%S", sys_seconds{secs.time_since_epoch()});
  if (micros != 0) {
    char frac[24];
    if (micros % 1000 == 0) std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(micros / 1000));
    else std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(micros));
    text += frac;
  }
  return text + " " + zone.name();
}

void WriteTableRow(const LedgerEntry& e, std::ostream& out, const TimeZone& zone) {
  char head[128];
  std::snprintf(head, sizeof head, "%-8lld %-27s %-13s %-5lld ", static_cast<long long>(e.seq),
                FormatTimestamp(e.at).c_str(), std::string(LedgerKindName(e.kind)).c_str(),
                static_cast<long long>(e.run_id));
  out << head;
  const std::string what = EntrySummary(e, zone);
  // One line per entry whatever the text holds: control characters (a
  // newline in a file name or key) are shown escaped.
  for (unsigned char c : what) {
    if (c == '\n') {
      out << "\\n";
    } else if (c == '\r') {
      out << "\\r";
    } else if (c == '\t') {
      out << "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out << esc;
    } else {
      out << static_cast<char>(c);
    }
  }
  out << '\n';
}

std::string DetailString(const std::string& detail_json, const char* field) {
  if (detail_json.empty()) return "";
  Json j = Json::parse(detail_json, nullptr, false);
  if (!j.is_object() || !j.contains(field)) return "";
  const Json& v = j[field];
  return v.is_string() ? v.get<std::string>() : Dump(v);
}

}  // namespace retention::audit
