// libFuzzer harness: `audit verify` over tampered ledgers (SPEC 6.10).
//
// Once per process, two small valid state databases are built through the
// engine's API: runs with delete and kept entries, a hold placed and
// released; the second also has its oldest entries pruned behind an anchor.
// Per input, a copy of one of them (the first byte picks) is tampered with
// as an attacker with write access would: the ledger's triggers dropped,
// then the input's bytes read as a list of UPDATE / DELETE / INSERT
// mutations of ledger rows (see Mutate). Then the verifier runs, without
// and with a checkpoint of the original head. It must never crash, and:
//   - with the checkpoint, it never reports ok for a ledger that reads
//     differently from the original;
//   - without it, the only different ledger it may pass is the original
//     cut short at the tail (detectable only against a checkpoint).
// "Reads differently" is judged on the entries as the engine reads them
// (ScanLedger), so a mutation invisible to every reader (an integer column
// rewritten as the same number in text) counts as a no-op.
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_util.h"
#include "ledger/anchor.h"
#include "ledger/ledger.h"
#include "state/sqlite_state_db.h"
#include "state/state_ops.h"

using namespace retention;

namespace {

namespace fs = fuzz::fs;

Timestamp At(int64_t minutes) { return FromUnixMicros((1600000000LL + minutes * 60) * 1000000LL); }

void Must(const Status& s, const char* what) {
  if (!s.ok()) fuzz::Violated(std::string("building the template ledger: ") + what + ": " + s.message());
}
template <typename T>
void Must(const Result<T>& r, const char* what) {
  if (!r.ok()) Must(r.status(), what);
}

LedgerEntry Deleted(int64_t run, int64_t i, LedgerKind kind = LedgerKind::kDelete) {
  LedgerEntry e;
  e.at = At(100 + i);
  e.kind = kind;
  e.run_id = run;
  e.category = i % 2 ? "support" : "request_logs";
  e.store = "app";
  e.target = i % 2 ? "support_tickets" : "request_logs";
  e.record_key = std::to_string(1000 + i);
  e.clock = "2019-01-0" + std::to_string(1 + i % 9) + " 00:00:00";
  e.cutoff = "2020-01-01T00:00:00Z";
  e.rule = "rules/x.toml:" + std::to_string(3 + i);
  e.subject = "customer:" + std::to_string(i % 5);
  e.batch = i / 3;
  if (kind == LedgerKind::kKept) e.detail = R"j({"reason":"held by hold 1 (M-1)"})j";
  return e;
}

struct Template {
  fs::path file;
  LedgerCheckpoint head;
  std::vector<std::string> entries;  // as the engine reads them (Serialize)
};

std::string Serialize(const LedgerEntry& e) {
  std::string s;
  for (const std::string* f : {&e.category, &e.store, &e.target, &e.record_key, &e.clock, &e.cutoff, &e.rule,
                               &e.subject, &e.detail, &e.prev_hash, &e.hash})
    s += std::to_string(f->size()) + ":" + *f + ",";
  s += std::to_string(e.seq) + "," + std::to_string(ToUnixMicros(e.at)) + "," +
       std::string(LedgerKindName(e.kind)) + "," + std::to_string(e.run_id) + "," + std::to_string(e.batch);
  return s;
}

// The entries as the engine reads them, or nullopt when it cannot.
std::optional<std::vector<std::string>> ReadEntries(StateDb& state) {
  std::vector<std::string> out;
  Status s = state.ScanLedger(0, [&](LedgerEntry& e) {
    out.push_back(Serialize(e));
    return true;
  });
  if (!s.ok()) return std::nullopt;
  return out;
}

Template Build(const std::string& name, bool anchored) {
  Template t;
  t.file = fuzz::Scratch() / (name + ".db");
  {
    SqliteStateDbOptions options;
    options.clock = [] { return At(1000); };
    options.create = true;  // a fresh file per process
    auto db = OpenSqliteStateDb(t.file, options);
    if (!db.ok()) fuzz::Violated("cannot create the template state database: " + db.status().message());
    StateDb& state = **db;
    RunInfo run;
    run.started_at = At(90);
    run.as_of = At(90);
    run.user = "ops";
    run.host = "h1";
    run.version = "fuzz";
    run.rules_hash = "fuzz-rules-hash";
    run.command = "purge";
    run.outcome = "running";
    auto run_id = BeginRun(state, run);
    Must(run_id, "BeginRun");
    std::vector<LedgerEntry> batch;
    for (int i = 0; i < 6; ++i) batch.push_back(Deleted(*run_id, i, i == 4 ? LedgerKind::kKept : LedgerKind::kDelete));
    Must(Append(state, batch), "Append");
    Hold hold;
    hold.matter = "M-1";
    hold.reason = "litigation";
    hold.author = "legal";
    hold.placed_at = At(200);
    hold.scope.subject_kind = "customer";
    hold.scope.subject_id = "42";
    auto hold_id = AddHold(state, hold, "test-host");
    Must(hold_id, "AddHold");
    Must(EndRun(state, *run_id, "ok", 0, R"({"deleted":5})"), "EndRun");
    Must(ReleaseHold(state, *hold_id, "legal", "settled", At(300), "test-host"), "ReleaseHold");
    if (anchored) {
      // Prune entries 1..4 as the purge log's retention would.
      std::optional<LedgerEntry> fourth;
      Must(state.ScanLedger(0,
                            [&](LedgerEntry& e) {
                              if (e.seq == 4) fourth = e;
                              return e.seq < 4;
                            }),
           "ScanLedger");
      if (!fourth) fuzz::Violated("template ledger has no entry 4");
      LedgerAnchor anchor;
      anchor.from = 1;
      anchor.through = 4;
      anchor.through_hash = fourth->hash;
      anchor.through_at = fourth->at;
      anchor.cutoff = fourth->at + std::chrono::seconds(1);
      anchor.delete_after = CalendarDuration{1, DurationUnit::kHours};
      LedgerEntry e;
      e.at = anchor.cutoff + std::chrono::hours(1);
      e.run_id = *run_id;
      e.category = "audit_security";
      e.store = kPurgeLogStore;
      e.target = "purge-log";
      e.rule = "rules/audit.toml:9";
      WriteAnchor(anchor, &e);
      Must(Append(state, {e}), "Append anchor");
      Must(state.DeletePrunedEntries(4), "DeletePrunedEntries");
    }
    auto head = state.Head();
    Must(head, "Head");
    t.head = *head;
    auto entries = ReadEntries(state);
    if (!entries) fuzz::Violated("cannot read the template ledger back");
    t.entries = std::move(*entries);
  }
  auto db = OpenSqliteStateDb(t.file, /*read_only=*/true);
  if (!db.ok()) fuzz::Violated("cannot reopen the template: " + db.status().message());
  auto report = VerifyLedger(**db, t.head, SystemNow());
  if (!report.ok() || !report->ok)
    fuzz::Violated("the untampered template ledger does not verify: " +
                   (report.ok() ? report->problem : report.status().message()));
  return t;
}

// Reads the input as mutations, one after another:
//   op % 7 == 0: UPDATE one column of one row to a value (kinds below)
//             1: DELETE one row            2: DELETE every row after one
//             3: INSERT a copy of a row under another seq
//             4: renumber a row            5: swap the seqs of two rows
//             6: UPDATE one column of one row to another row's value
// A statement SQLite refuses (a NOT NULL, a duplicate seq) changes nothing.
class Mutator {
 public:
  Mutator(sqlite3* db, const uint8_t* data, size_t size) : db_(db), data_(data), size_(size) {}

  void Run() {
    static const char* kColumns[] = {"seq",    "at",    "kind",    "run_id", "category", "store",
                                     "target", "record_key", "clock", "cutoff", "rule", "subject",
                                     "batch",  "detail", "prev_hash", "hash"};
    while (pos_ < size_) {
      const uint8_t op = Byte() % 7;
      const int64_t row = Byte() % 12;
      const std::string column = kColumns[Byte() % 16];
      switch (op) {
        case 0: Update(row, column); break;
        case 1: Exec("DELETE FROM ledger WHERE seq = " + std::to_string(row)); break;
        case 2: Exec("DELETE FROM ledger WHERE seq > " + std::to_string(row)); break;
        case 3:
          Exec("INSERT INTO ledger SELECT " + std::to_string(row + Byte() % 12) +
               ", at, kind, run_id, category, store, target, record_key, clock, cutoff, rule, subject, batch, "
               "detail, prev_hash, hash, payload FROM ledger WHERE seq = " + std::to_string(row));
          break;
        case 4:
          Exec("UPDATE ledger SET seq = " + std::to_string(static_cast<int8_t>(Byte())) +
               " WHERE seq = " + std::to_string(row));
          break;
        case 5: {
          const std::string a = std::to_string(row), b = std::to_string(Byte() % 12);
          Exec("UPDATE ledger SET seq = -1000 WHERE seq = " + a + "; UPDATE ledger SET seq = " + a +
               " WHERE seq = " + b + "; UPDATE ledger SET seq = " + b + " WHERE seq = -1000");
          break;
        }
        default:
          Exec("UPDATE ledger SET " + column + " = (SELECT " + column + " FROM ledger WHERE seq = " +
               std::to_string(Byte() % 12) + ") WHERE seq = " + std::to_string(row));
      }
    }
  }

 private:
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  void Update(int64_t row, const std::string& column) {
    sqlite3_stmt* st = nullptr;
    const std::string sql = "UPDATE ledger SET " + column + " = ? WHERE seq = " + std::to_string(row);
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return;
    switch (Byte() % 5) {
      case 0: {  // any 64-bit integer
        int64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
        sqlite3_bind_int64(st, 1, v);
        break;
      }
      case 1: sqlite3_bind_null(st, 1); break;
      case 2: sqlite3_bind_double(st, 1, static_cast<double>(static_cast<int8_t>(Byte())) / 4); break;
      case 3: {  // a one-character edit of the current text
        sqlite3_finalize(st);
        const int at = 1 + Byte() % 64;
        Exec("UPDATE ledger SET " + column + " = substr(" + column + ", 1, " + std::to_string(at - 1) +
             ") || char(" + std::to_string(Byte()) + ") || substr(" + column + ", " + std::to_string(at + 1) +
             ") WHERE seq = " + std::to_string(row));
        return;
      }
      default: {  // raw bytes as text: NULs, invalid UTF-8
        const size_t n = std::min<size_t>(Byte() % 40, size_ - pos_);
        sqlite3_bind_text(st, 1, reinterpret_cast<const char*>(data_ + pos_), static_cast<int>(n), SQLITE_TRANSIENT);
        pos_ += n;
      }
    }
    sqlite3_step(st);
    sqlite3_finalize(st);
  }

  void Exec(const std::string& sql) { sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); }

  sqlite3* db_;
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

bool IsPrefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Template plain = Build("plain", false);
  static const Template anchored = Build("anchored", true);
  if (size < 1) return 0;
  const Template& t = (data[0] & 1) ? anchored : plain;
  const fs::path work = fuzz::Scratch() / "work.db";
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(work.string() + suffix);
  fs::copy_file(t.file, work);

  sqlite3* raw = nullptr;
  if (sqlite3_open(work.c_str(), &raw) != SQLITE_OK) fuzz::Violated("cannot open the copy");
  sqlite3_exec(raw, "DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_no_delete;", nullptr, nullptr, nullptr);
  Mutator(raw, data + 1, size - 1).Run();
  sqlite3_close(raw);

  auto state = OpenSqliteStateDb(work, /*read_only=*/true);
  if (!state.ok()) return 0;  // refused with a Status: fine
  const auto entries = ReadEntries(**state);
  const bool same = entries && *entries == t.entries;
  const bool cut_short = entries && IsPrefix(*entries, t.entries);

  auto report = VerifyLedger(**state, SystemNow());
  if (report.ok() && report->ok && !same && !cut_short)
    fuzz::Violated("audit verify passed a tampered ledger (no checkpoint)");
  auto against = VerifyLedger(**state, t.head, SystemNow());
  if (against.ok() && against->ok && !same)
    fuzz::Violated("audit verify --against the checkpoint passed a tampered ledger");
  return 0;
}
