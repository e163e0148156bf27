// The SQLite state database.
//
// FILE: one SQLite database (journal_mode=WAL, synchronous=FULL so that a
// committed ledger entry survives a power cut), created with mode 0640: the
// ledger names record keys and data subjects. application_id = 0x52544e31
// ("RTN1"). Every timestamp is INTEGER unix microseconds UTC; every id is
// AUTOINCREMENT so that no id is ever reused.
//
// SCHEMA, version 10 (meta.schema_version):
//
//   meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)
//        -- schema_version, created_at, created_by; moved_to once
//        -- `state migrate` moved the state into PostgreSQL (version 10:
//        -- no table changed, but a binary that knows only version 9 would
//        -- not read the key, and refuses the newer version instead)
//   runs(id INTEGER PRIMARY KEY AUTOINCREMENT,
//        started_at INTEGER NOT NULL, ended_at INTEGER, as_of INTEGER NOT NULL,
//        user, host, version, rules_hash, command TEXT NOT NULL,
//        outcome TEXT NOT NULL,  -- running, ok, stopped, failed, crashed
//        exit_code INTEGER NOT NULL)
//   holds(id INTEGER PRIMARY KEY AUTOINCREMENT,
//        matter, reason, author TEXT NOT NULL,
//        placed_at INTEGER NOT NULL, expires_at INTEGER,
//        scope_category, scope_target, scope_subject_kind, scope_subject_id,
//        scope_key TEXT,                      -- NULL: not part of the scope
//        scope_clock_from, scope_clock_until INTEGER,
//        released_at INTEGER,                 -- NULL while in force
//        released_by, release_reason TEXT NOT NULL DEFAULT '')
//        -- a trigger aborts DELETE: holds are only ever released
//   pending(id INTEGER PRIMARY KEY AUTOINCREMENT, run_id, batch INTEGER NOT NULL,
//        category, store, target, rule, cutoff TEXT NOT NULL)
//   pending_records(pending_id INTEGER NOT NULL, ord INTEGER NOT NULL,
//        key, clock, subject TEXT NOT NULL, PRIMARY KEY(pending_id, ord),
//        identity TEXT)
//        -- version 3: the candidate's identity beyond key, clock and
//        -- subject (stores/store.h Candidate::identity); NULL when not
//        -- known: a saved plan's candidate, or a row written by version 2
//   ledger(...)  -- columns and hash chain: see ledger/ledger.cc;
//        triggers abort UPDATE, and DELETE of an entry no anchor has pruned
//        -- version 4: payload BLOB NOT NULL DEFAULT x'', a batch entry's
//        -- packed candidates (ledger/batch_entry.h); x'' for other kinds
//   ledger_anchors(seq INTEGER PRIMARY KEY, through INTEGER NOT NULL)
//        -- version 2: one row per anchor entry (ledger/anchor.h), written
//        -- with it; append-only
//   ledger_batches(seq INTEGER PRIMARY KEY,  -- a batch entry's seq
//        store, target TEXT NOT NULL,
//        key_lo, key_hi,                      -- its smallest and largest key:
//                                             --   INTEGER when every key of the
//                                             --   batch is an integer, else TEXT
//        open INTEGER NOT NULL)               -- 1 until a later entry settles it
//        -- version 4: written with the batch entry (StateAppend::IndexBatch),
//        -- closed with its settlement (CloseBatch); index (store, target,
//        -- key_lo) for BatchesReaching, partial index on open ones. Rows of
//        -- pruned entries go with them. Not covered by the chain: an index,
//        -- rebuilt from nothing but the entries it names.
//   erasure_requests(reference TEXT PRIMARY KEY,  -- the operator's ("DSR-2026-0117")
//        subject TEXT NOT NULL,               -- "customer:42"
//        received, deadline INTEGER NOT NULL, -- first recorded; + [erasure] answer_within
//        executed INTEGER,                    -- the start of its last run; NULL: none
//        outcome TEXT NOT NULL,               -- pending, done, partial, failed
//        erased, kept INTEGER NOT NULL,       -- over every run; after the last
//        last_run_id INTEGER NOT NULL,        -- 0: none
//        first_seq INTEGER NOT NULL)          -- its first erase entry; never updated
//        -- version 5 (erase/erasure.h ErasureRequest): written with the
//        -- run's erase entry (pending) and again with its run_end, in the
//        -- same transaction, so a request never says "done" for a run
//        -- whose end is not recorded.
//   ledger_subjects(subject TEXT NOT NULL, seq INTEGER NOT NULL,
//        PRIMARY KEY(subject, seq))       -- WITHOUT ROWID; index on seq
//        -- version 6 (ledger/entry_index.h): a batch entry's distinct
//        -- subjects, written with it (InsertEntries); rows of pruned
//        -- entries go with them.
//        -- version 9: (bucket INTEGER NOT NULL, seq, subject), PRIMARY
//        -- KEY(bucket, seq, subject), no index on seq: rows filed under
//        -- SubjectBucket(subject) (ledger/entry_index.h), so a batch appends
//        -- to each bucket's end instead of rewriting a page per subject;
//        -- rows copied at the upgrade. A lookup reads the subject's bucket;
//        -- pruning a seq range of every bucket (an index on seq doubled the
//        -- index's size and its pages written per batch).
//   ledger_batches.settled_by INTEGER     -- version 6: the entry that
//        -- settles the batch, set when that entry is inserted; NULL while
//        -- open
//   indexes on ledger (version 6): run_id; record_key and subject where
//        -- not '' (per-record entries, erase entries)
//        -- Version 6 lookup indexes are for `audit log --key/--subject/
//        -- --run`, `audit show`, `explain`: not covered by the chain,
//        -- rebuilt from the entries at the upgrade, and every entry they
//        -- lead to is judged on its own fields (audit/ledger_query.h).
//   ledger_key_spans(store, target TEXT NOT NULL, widest INTEGER NOT NULL,
//        PRIMARY KEY(store, target))      -- WITHOUT ROWID
//        -- version 7: per target, the widest key_hi - key_lo of its
//        -- integer-keyed batch rows (INT64_MAX when wider), raised with
//        -- each IndexBatch and never lowered (pruned rows may have been
//        -- the widest: a bound, not a maximum). BatchesReaching reads only
//        -- the rows whose key_lo lies within that much below the key, not
//        -- every row below it. Filled from ledger_batches at the upgrade.
//   run_tallies(run_id INTEGER NOT NULL, category TEXT NOT NULL,
//        deleted, kept, kept_by_hold INTEGER NOT NULL,
//        PRIMARY KEY(run_id, category))   -- WITHOUT ROWID
//        -- version 8 (ledger/run_tally.h): what each run deleted and kept,
//        -- added to in the transaction of every entry that holds or
//        -- settles records (IndexEntry), so `audit runs`, `audit show` and
//        -- `status` read a run's counts, not its batch entries. Rows of
//        -- runs whose entries were pruned stay (unused: such a run is
//        -- counted from the entries left). Rebuilt from the entries at the
//        -- upgrade.
//   index ledger_run_events on ledger(run_id, seq) where kind is run_start,
//        -- run_end, reconciled or anchor (version 8): a run's own events.
//
// UPGRADE: an older database is upgraded in place, in one transaction, the
// first time it is opened for writing (version 1 has no ledger_anchors,
// version 2 no pending_records.identity, version 3 no ledger.payload and no
// ledger_batches, version 4 no erasure_requests, version 5 no lookup
// indexes, version 6 no ledger_key_spans, version 7 no run_tallies, version
// 8 ledger_subjects by subject, not bucket, version 9 no moved_to note); read-only commands read it as it is (no payload column
// reads as x'', no ledger_batches as no batch entries). Pending records a version 2 run left keep a NULL identity: they are
// reconciled on key and clock alone (purge/reconcile.h).
//
// TRANSACTIONS: every write is one BEGIN IMMEDIATE transaction. An append
// (StateAppend, state/state_db.h) is one too, so the ledger head read
// through it cannot change before it commits, even with several processes
// appending, and Insert refuses entries that do not follow that head. What
// commits together (a hold row and its entry, a run row and its start/end
// entry, a pending batch's removal and its entries) is decided above, in
// state/state_ops.cc; this file stores rows and hashes nothing.
#include "state/sqlite_state_db.h"

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <system_error>
#include <vector>

#include <spdlog/spdlog.h>

#include "ledger/batch_entry.h"
#include "ledger/batch_scan.h"
#include "ledger/entry_index.h"
#include "ledger/run_tally.h"
#include "state/chained_entries.h"

#ifndef RETENTION_VERSION
#define RETENTION_VERSION "dev"
#endif

namespace retention {
namespace {

namespace fs = std::filesystem;

constexpr int kApplicationId = 0x52544e31;  // "RTN1"

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  as_of INTEGER NOT NULL,
  user TEXT NOT NULL,
  host TEXT NOT NULL,
  version TEXT NOT NULL,
  rules_hash TEXT NOT NULL,
  command TEXT NOT NULL,
  outcome TEXT NOT NULL,
  exit_code INTEGER NOT NULL DEFAULT 0);
CREATE TABLE holds(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  matter TEXT NOT NULL,
  reason TEXT NOT NULL,
  author TEXT NOT NULL,
  placed_at INTEGER NOT NULL,
  expires_at INTEGER,
  scope_category TEXT,
  scope_target TEXT,
  scope_subject_kind TEXT,
  scope_subject_id TEXT,
  scope_key TEXT,
  scope_clock_from INTEGER,
  scope_clock_until INTEGER,
  released_at INTEGER,
  released_by TEXT NOT NULL DEFAULT '',
  release_reason TEXT NOT NULL DEFAULT '');
CREATE TRIGGER holds_never_deleted BEFORE DELETE ON holds
  BEGIN SELECT RAISE(ABORT, 'holds are never deleted, only released'); END;
CREATE TABLE pending(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL,
  batch INTEGER NOT NULL,
  category TEXT NOT NULL,
  store TEXT NOT NULL,
  target TEXT NOT NULL,
  rule TEXT NOT NULL,
  cutoff TEXT NOT NULL);
CREATE TABLE pending_records(
  pending_id INTEGER NOT NULL,
  ord INTEGER NOT NULL,
  key TEXT NOT NULL,
  clock TEXT NOT NULL,
  subject TEXT NOT NULL,
  PRIMARY KEY(pending_id, ord)) WITHOUT ROWID;
CREATE TABLE ledger(
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  category TEXT NOT NULL,
  store TEXT NOT NULL,
  target TEXT NOT NULL,
  record_key TEXT NOT NULL,
  clock TEXT NOT NULL,
  cutoff TEXT NOT NULL,
  rule TEXT NOT NULL,
  subject TEXT NOT NULL,
  batch INTEGER NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
)sql";

// Schema version 2 adds pruning behind anchors (ledger/anchor.h): a row per
// anchor entry, and a DELETE trigger that lets go only of entries an anchor
// has pruned. Run on a new database after kSchemaSql, and on a version 1
// database to upgrade it.
constexpr const char* kSchemaV2Sql = R"sql(
CREATE TABLE ledger_anchors(
  seq INTEGER PRIMARY KEY,
  through INTEGER NOT NULL);
CREATE TRIGGER ledger_anchors_no_update BEFORE UPDATE ON ledger_anchors
  BEGIN SELECT RAISE(ABORT, 'ledger anchors are append-only'); END;
CREATE TRIGGER ledger_anchors_no_delete BEFORE DELETE ON ledger_anchors
  BEGIN SELECT RAISE(ABORT, 'ledger anchors are append-only'); END;
DROP TRIGGER IF EXISTS ledger_no_delete;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
  WHEN OLD.seq > coalesce((SELECT through FROM ledger_anchors ORDER BY seq DESC LIMIT 1), 0)
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: only entries an anchor has pruned may be deleted'); END;
)sql";

// Schema version 3 records each pending record's identity, so that
// reconciliation judges identity and not the key alone (SPEC 6.2). Run on a
// new database after kSchemaV2Sql, and on a version 1 or 2 database to
// upgrade it; rows already there keep NULL: identity not known.
constexpr const char* kSchemaV3Sql = R"sql(
ALTER TABLE pending_records ADD COLUMN identity TEXT;
)sql";

// Schema version 4: batch entries (ledger/batch_entry.h). Their packed
// candidates in the ledger row (x'' for every other kind, and for every
// entry written before), and the batch index. Run on a new database after
// kSchemaV3Sql, and on a version 1 to 3 database to upgrade it: the column
// only where it is missing (AddPayloadColumn), the rest IF NOT EXISTS, so
// that a database a downgrade left with either upgrades too.
constexpr const char* kSchemaV4Column = "ALTER TABLE ledger ADD COLUMN payload BLOB NOT NULL DEFAULT x''";
constexpr const char* kSchemaV4Sql = R"sql(
CREATE TABLE IF NOT EXISTS ledger_batches(
  seq INTEGER PRIMARY KEY,
  store TEXT NOT NULL,
  target TEXT NOT NULL,
  key_lo NOT NULL,
  key_hi NOT NULL,
  open INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_batches_key ON ledger_batches(store, target, key_lo);
CREATE INDEX IF NOT EXISTS ledger_batches_open ON ledger_batches(seq) WHERE open = 1;
)sql";

// Schema version 5: erasure requests (erase/erasure.h). Run on a new
// database after kSchemaV4Sql, and on a version 1 to 4 one to upgrade it.
constexpr const char* kSchemaV5Sql = R"sql(
CREATE TABLE IF NOT EXISTS erasure_requests(
  reference TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  received INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  executed INTEGER,
  outcome TEXT NOT NULL,
  erased INTEGER NOT NULL,
  kept INTEGER NOT NULL,
  last_run_id INTEGER NOT NULL,
  first_seq INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// Schema version 6: the lookup indexes (ledger/entry_index.h). Run on a new
// database after kSchemaV5Sql, and on a version 1 to 5 one to upgrade it
// (then RebuildLookupIndexes fills them from the entries). The column only
// where it is missing (a downgrade may have left it).
constexpr const char* kSchemaV6Column = "ALTER TABLE ledger_batches ADD COLUMN settled_by INTEGER";
constexpr const char* kSchemaV6Sql = R"sql(
CREATE TABLE IF NOT EXISTS ledger_subjects(
  subject TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY(subject, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ledger_subjects_seq ON ledger_subjects(seq);
CREATE INDEX IF NOT EXISTS ledger_run ON ledger(run_id);
CREATE INDEX IF NOT EXISTS ledger_key ON ledger(record_key) WHERE record_key <> '';
CREATE INDEX IF NOT EXISTS ledger_subject ON ledger(subject) WHERE subject <> '';
CREATE INDEX IF NOT EXISTS ledger_batches_span ON ledger_batches(store, target, key_lo, key_hi);
)sql";

// Schema version 7: the widest key span per target (ledger_key_spans
// above). Run on a new database after kSchemaV6Sql, and on a version 1 to
// 6 one after its batch index is complete, which it fills from. A span
// that overflows INTEGER arithmetic comes out REAL (above INT64_MAX), and
// min() turns it into INT64_MAX: no bound.
constexpr const char* kSchemaV7Sql = R"sql(
CREATE TABLE IF NOT EXISTS ledger_key_spans(
  store TEXT NOT NULL,
  target TEXT NOT NULL,
  widest INTEGER NOT NULL,
  PRIMARY KEY(store, target)) WITHOUT ROWID;
INSERT OR REPLACE INTO ledger_key_spans(store, target, widest)
  SELECT store, target, min(max(key_hi - key_lo), 9223372036854775807) FROM ledger_batches
  WHERE typeof(key_lo) = 'integer' AND typeof(key_hi) = 'integer' GROUP BY store, target;
)sql";

// Schema version 8: the run tally index (ledger/run_tally.h) and an
// index of each run's own events. Run on a new database after
// kSchemaV7Sql, and on a version 1 to 7 one after its lookup indexes are
// complete (then RebuildRunTallies fills it from the entries).
constexpr const char* kSchemaV8Sql = R"sql(
CREATE TABLE IF NOT EXISTS run_tallies(
  run_id INTEGER NOT NULL,
  category TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  kept INTEGER NOT NULL,
  kept_by_hold INTEGER NOT NULL,
  PRIMARY KEY(run_id, category)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ledger_run_events ON ledger(run_id, seq)
  WHERE kind IN ('run_start', 'run_end', 'reconciled', 'anchor');
)sql";

// Schema version 9: the subject index filed by bucket (ledger_subjects
// above). Run on a new database after kSchemaV8Sql, and on a version 6 to 8
// one to upgrade it; the rows are then copied with their bucket
// (UpgradeSubjectIndex).
constexpr const char* kSchemaV9Sql = R"sql(
ALTER TABLE ledger_subjects RENAME TO ledger_subjects_v6;
CREATE TABLE ledger_subjects(
  bucket INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  subject TEXT NOT NULL,
  PRIMARY KEY(bucket, seq, subject)) WITHOUT ROWID;
)sql";
constexpr const char* kSchemaV9DoneSql = "DROP TABLE ledger_subjects_v6";

// Without payload: the columns every schema version has.
constexpr const char* kLedgerColumns =
    "seq, at, kind, run_id, category, store, target, record_key, clock, cutoff, rule, "
    "subject, batch, detail, prev_hash, hash";

constexpr const char* kHoldColumns =
    "id, matter, reason, author, placed_at, expires_at, scope_category, scope_target, "
    "scope_subject_kind, scope_subject_id, scope_key, scope_clock_from, scope_clock_until, "
    "released_at, released_by, release_reason";

constexpr const char* kRunColumns =
    "id, started_at, ended_at, as_of, user, host, version, rules_hash, command, outcome, "
    "exit_code";

std::string Quoted(const fs::path& p) { return "'" + p.string() + "'"; }

uint32_t ReadBe32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// The tail of every refusal of a missing or empty state database: what it
// held, and the two ways on.
constexpr const char* kRestoreOrInit =
    "It held the legal holds and the purge log: if it was lost or damaged, restore it from a "
    "backup; if this is a new installation, create it with `retention state init`";

Status EmptyStateDbStatus(const fs::path& path, const std::string& what) {
  return Status::Unavailable("state database " + Quoted(path) + " is empty (" + what +
                             "), and an empty file is never taken for a new database. " +
                             kRestoreOrInit + " (after removing the empty file)");
}

Status DamagedStateDbStatus(const fs::path& path, const std::string& damage) {
  return Status::Unavailable("state database " + Quoted(path) + " is damaged: " + damage +
                             "; restore it from a backup");
}

// Checks the file header before the first query, for messages SQLite cannot
// give: an empty file refused instead of silently initialised, "not a
// SQLite database" instead of a vague "file is not a database", and a
// truncated file at open instead of "malformed" somewhere in the middle of a
// run. Reads through SQLite's own open file (`file`), never through a
// descriptor of ours: closing a second descriptor on the database would drop
// every POSIX lock this process holds on it (SQLite's "How To Corrupt Your
// Database Files", 2.2), and another connection would then delete the -wal
// and -shm files under ours. The size check is only trusted when no WAL
// holds newer pages (then the main file alone must be complete).
Status CheckHeader(const fs::path& path, sqlite3_file* file) {
  if (file == nullptr || file->pMethods == nullptr) return Status::Ok();  // SQLite will tell
  sqlite3_int64 size = 0;
  int rc = file->pMethods->xFileSize(file, &size);
  if (rc != SQLITE_OK) {
    return Status::Unavailable("cannot read state database " + Quoted(path) + ": " +
                               sqlite3_errstr(rc));
  }
  std::error_code ec;
  fs::path wal = path;
  wal += "-wal";
  const auto wal_size = fs::file_size(wal, ec);  // stat(), no open
  const bool wal_has_frames = !ec && wal_size > 32;
  if (size == 0) {
    if (wal_has_frames) return Status::Ok();  // all in the WAL yet: SQLite reads it
    return EmptyStateDbStatus(path, "0 bytes");
  }
  unsigned char header[100] = {};
  const int n = static_cast<int>(std::min<sqlite3_int64>(size, sizeof header));
  rc = file->pMethods->xRead(file, header, n, 0);
  if (rc != SQLITE_OK) {
    return Status::Unavailable("cannot read state database " + Quoted(path) + ": " +
                               sqlite3_errstr(rc));
  }
  static constexpr char kMagic[] = "SQLite format 3";  // + NUL: 16 bytes
  if (n < 16 || std::memcmp(header, kMagic, 16) != 0) {
    return Status::Invalid("state database " + Quoted(path) +
                           " is not a SQLite database (wrong file, or damaged beyond repair)");
  }
  if (n < 100) {
    return Status::Unavailable("state database " + Quoted(path) + " is truncated (" +
                               std::to_string(n) + " bytes); restore it from a backup");
  }
  uint32_t page_size = (uint32_t{header[16]} << 8) | header[17];
  if (page_size == 1) page_size = 65536;
  if (page_size < 512 || (page_size & (page_size - 1)) != 0) {
    return Status::Unavailable("state database " + Quoted(path) +
                               " is corrupt (invalid page size in its header); restore it "
                               "from a backup");
  }
  const uint32_t pages = ReadBe32(header + 28);
  const bool pages_valid = pages > 0 && ReadBe32(header + 24) == ReadBe32(header + 92);
  if (pages_valid && !wal_has_frames &&
      static_cast<uint64_t>(size) < uint64_t{pages} * page_size) {
    return Status::Unavailable(
        "state database " + Quoted(path) + " is truncated: its header says " +
        std::to_string(uint64_t{pages} * page_size) + " bytes but the file has " +
        std::to_string(size) + "; restore it from a backup");
  }
  return Status::Ok();
}

// The tables each schema version requires. Checked at every open, so that
// a damaged database (a table dropped by hand) is refused by name rather
// than failing in the middle of a command.
std::vector<const char*> RequiredTables(int version) {
  std::vector<const char*> t = {"meta", "runs", "holds", "pending", "pending_records", "ledger"};
  if (version >= 2) t.push_back("ledger_anchors");
  if (version >= 4) t.push_back("ledger_batches");
  if (version >= 5) t.push_back("erasure_requests");
  if (version >= 6) t.push_back("ledger_subjects");
  if (version >= 7) t.push_back("ledger_key_spans");
  if (version >= 8) t.push_back("run_tallies");
  return t;
}

// The descriptors of this process open on the file (dev, ino).
std::vector<int> DescriptorsOn(dev_t dev, ino_t ino) {
  std::vector<int> out;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  while (const dirent* d = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(d->d_name, &end, 10);
    if (end == d->d_name || *end != '\0' || fd == ::dirfd(dir)) continue;
    struct stat st {};
    if (::fstat(static_cast<int>(fd), &st) == 0 && st.st_dev == dev && st.st_ino == ino)
      out.push_back(static_cast<int>(fd));
  }
  ::closedir(dir);
  return out;
}

// Sets the umask so that files SQLite creates get no permission for others
// (the ledger names record keys and data subjects); restores it after.
class PrivateUmask {
 public:
  PrivateUmask() : old_(::umask(0)) { ::umask(old_ | 027); }
  ~PrivateUmask() { ::umask(old_); }
  PrivateUmask(const PrivateUmask&) = delete;
  PrivateUmask& operator=(const PrivateUmask&) = delete;

 private:
  mode_t old_;
};

// A cached statement in use: resets and clears its bindings when done.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;

  // Text is bound SQLITE_STATIC: it must outlive the next Step().
  void Bind(int i, std::string_view v) {
    // A null data pointer would bind SQL NULL, not ''.
    sqlite3_bind_text(s_, i, v.data() != nullptr ? v.data() : "", static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  // Bytes as a BLOB (x'' when empty, never NULL); SQLITE_STATIC as Bind.
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data() != nullptr ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void Bind(int i, Timestamp t) { Bind(i, ToUnixMicros(t)); }
  void BindNull(int i) { sqlite3_bind_null(s_, i); }
  template <typename T>
  void Bind(int i, const std::optional<T>& v) {
    if (v) {
      Bind(i, *v);
    } else {
      BindNull(i);
    }
  }
  int Step() { return sqlite3_step(s_); }

  bool IsNull(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  int64_t Int(int c) const { return sqlite3_column_int64(s_, c); }
  std::string Text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(s_, c));
  }
  Timestamp Time(int c) const { return FromUnixMicros(Int(c)); }
  std::optional<Timestamp> OptTime(int c) const {
    if (IsNull(c)) return std::nullopt;
    return Time(c);
  }
  std::optional<std::string> OptText(int c) const {
    if (IsNull(c)) return std::nullopt;
    return Text(c);
  }
  // Valid until the next Step() or reset.
  std::string_view Blob(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    return p == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(p), sqlite3_column_bytes(s_, c));
  }
  sqlite3_stmt* raw() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

// One row of "SELECT kLedgerColumns, payload" into `e`: AuditFailed when a
// field cannot be what the chain hashed (NULL, not an integer, an unknown
// kind). Hot path of `audit verify` (>= 1M entries/s): as few API calls per
// column as possible. A text column can hold only TEXT, NULL or (written
// by hand) a BLOB, whose bytes hash the same as text; NULL is the one
// case to catch, and sqlite3_column_text returns nullptr exactly then.
Status DecodeLedgerRow(sqlite3_stmt* raw, LedgerEntry& e) {
  static constexpr int kIntColumns[] = {0, 1, 3, 12};
  static constexpr const char* kIntNames[] = {"seq", "at", "run_id", "batch"};
  static constexpr const char* kNames[] = {
      "seq",    "at",   "kind",    "run_id", "category", "store",  "target",    "record_key",
      "clock",  "cutoff", "rule",  "subject", "batch",   "detail", "prev_hash", "hash"};
  const std::pair<int, std::string*> texts[] = {
      {4, &e.category}, {5, &e.store},   {6, &e.target}, {7, &e.record_key},
      {8, &e.clock},    {9, &e.cutoff},  {10, &e.rule},  {11, &e.subject},
      {13, &e.detail},  {14, &e.prev_hash}, {15, &e.hash}};
  const int64_t seq = sqlite3_column_int64(raw, 0);
  auto malformed = [&](const char* column, const char* what) {
    return Status::AuditFailed("ledger entry " + std::to_string(seq) + " is malformed: " + column + " is " + what);
  };
  for (int i = 0; i < 4; ++i) {
    const int type = sqlite3_column_type(raw, kIntColumns[i]);
    if (type != SQLITE_INTEGER) return malformed(kIntNames[i], type == SQLITE_NULL ? "NULL" : "not an integer");
  }
  for (const auto& [c, out] : texts) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
    if (p == nullptr) return malformed(kNames[c], "NULL");
    out->assign(p, static_cast<size_t>(sqlite3_column_bytes(raw, c)));
  }
  // The payload: a BLOB (TEXT written by hand hashes the same bytes);
  // a zero-length one has a null pointer, NULL is the case to catch.
  if (sqlite3_column_type(raw, 16) == SQLITE_NULL) return malformed("payload", "NULL");
  if (const int n = sqlite3_column_bytes(raw, 16); n > 0) {
    e.payload.assign(static_cast<const char*>(sqlite3_column_blob(raw, 16)), static_cast<size_t>(n));
  } else {
    e.payload.clear();
  }
  const auto* kind = reinterpret_cast<const char*>(sqlite3_column_text(raw, 2));
  if (kind == nullptr) return malformed("kind", "NULL");
  const std::string_view kind_name(kind, static_cast<size_t>(sqlite3_column_bytes(raw, 2)));
  const std::optional<LedgerKind> k = LedgerKindFromName(kind_name);
  if (!k) {
    return Status::AuditFailed("ledger entry " + std::to_string(seq) + " is malformed: unknown kind '" +
                               std::string(kind_name) + "'");
  }
  e.seq = seq;
  e.at = FromUnixMicros(sqlite3_column_int64(raw, 1));
  e.kind = *k;
  e.run_id = sqlite3_column_int64(raw, 3);
  e.batch = sqlite3_column_int64(raw, 12);
  return Status::Ok();
}

class SqliteStateDb final : public StateDb {
 public:
  SqliteStateDb(fs::path path, SqliteStateDbOptions options)
      : StateDb(options.clock), path_(std::move(path)), options_(std::move(options)) {}

  ~SqliteStateDb() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }

  Status Open();

  // MarkSqliteStateMoved: this one open may write to a moved state.
  void AllowMoved() { allow_moved_ = true; }
  Status MarkMoved(const LedgerHead& copied, const std::string& to);
  // The meta row "moved_to" (MarkSqliteStateMoved), nullopt when absent.
  Result<std::optional<std::string>> MovedTo();

  Status CheckStillInPlace() override;
  Status ClaimForRun() override;
  Result<std::unique_ptr<StateAppend>> BeginAppend() override;
  Result<int64_t> AddPending(const PendingBatch& batch) override;
  Result<int64_t> DeletePrunedEntries(int64_t last) override;

  Result<std::optional<RunInfo>> LastRun() override;
  Result<std::optional<ErasureRequest>> GetErasureRequest(const std::string& reference) override;
  Result<std::vector<ErasureRequest>> ListErasureRequests() override;
  Result<std::vector<RunInfo>> UnfinishedRuns() override;
  Result<std::vector<PendingBatch>> ListPending() override;
  Result<std::vector<int64_t>> OpenBatches() override;
  Result<std::vector<BatchIndexListing>> ListBatchIndex() override;
  Status ScanBatchesAndSettlements(
      const std::function<bool(int64_t seq, LedgerKind kind, const std::string& detail)>& visit) override;
  Result<std::optional<LedgerEntry>> ReadEntry(int64_t seq) override;
  Result<std::vector<int64_t>> BatchesReaching(const std::string& store, const std::string& target,
                                               const std::string& key) override;
  Result<std::optional<std::vector<int64_t>>> LookupEntries(const LedgerLookup& lookup) override;
  Status ReadEntries(const std::vector<int64_t>& seqs, const std::function<bool(LedgerEntry&)>& visit) override;
  Result<std::vector<std::pair<int64_t, std::string>>> ListSubjectIndex() override;
  Result<std::vector<std::pair<int64_t, int64_t>>> ListSettledBy() override;
  Result<std::optional<std::vector<KeySpanRow>>> ListKeySpans() override;
  Result<std::optional<RunTallies>> ListRunTallies(std::optional<int64_t> run_id) override;
  Result<std::vector<Hold>> ListHolds(bool include_released) override;
  Result<std::optional<Hold>> GetHold(int64_t id) override;

  Status ScanLedger(int64_t from_seq,
                    const std::function<bool(LedgerEntry&)>& visit) override;
  Result<LedgerHead> Head() override;
  Result<int64_t> PrunedThrough() override;
  Result<std::optional<int64_t>> OldestAnchorReaching(int64_t seq) override;
  Result<std::vector<RunInfo>> ListRuns() override;
  Result<std::vector<std::pair<int64_t, int64_t>>> ListAnchorRows() override;

 private:
  // An open BEGIN IMMEDIATE transaction; rolled back unless committed.
  class Txn {
   public:
    explicit Txn(SqliteStateDb* db) : db_(db) {}
    ~Txn() {
      if (active_) sqlite3_exec(db_->db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    // Inside the transaction, a state moved since it was opened is refused
    // (MarkSqliteStateMoved): a command that opened it before the move
    // cannot write to it after.
    Status Begin() {
      RETENTION_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE", "start a write transaction"));
      active_ = true;
      if (!db_->schema_ready_) return Status::Ok();  // no meta table to read yet
      return db_->CheckNotMoved();
    }
    Status Commit() {
      Status st = db_->Exec("COMMIT", "commit");
      // A failed COMMIT may leave the transaction open; the destructor
      // rolls it back only if SQLite still has it.
      active_ = sqlite3_get_autocommit(db_->db_) == 0;
      return st;
    }

   private:
    SqliteStateDb* db_;
    bool active_ = false;
  };

  Status Error(int rc, std::string_view what) const;
  Status Exec(const char* sql, std::string_view what);
  Result<Stmt> Prepare(const char* sql);
  Status StepDone(Stmt& s, std::string_view what);
  Status RequireWritable() const;
  Status InitSchema();
  // Refuses a write open of a moved state; a read open warns.
  Status CheckNotMoved();

  // The append transaction (StateAppend): a Txn, and the row writes that
  // may happen inside it.
  class AppendTxn;
  Status InsertEntries(const std::vector<LedgerEntry>& entries);
  Status RecordAnchor(int64_t seq, int64_t through);
  Status IndexBatch(int64_t seq, const BatchIndexRow& row);
  Status CloseBatch(int64_t seq);
  // The version 6 lookup rows of `e` (ledger/entry_index.h), inside the
  // transaction that inserts it; and all of them again from the entries
  // (the upgrade to version 6).
  Status IndexEntry(const LedgerEntry& e);
  Status RebuildLookupIndexes();
  Status TallyIndexedEntry(const LedgerEntry& e);
  Status RebuildRunTallies();
  // Version 9's subject index (kSchemaV9Sql): the version 6 table's rows
  // copied under their buckets, inside the caller's transaction.
  Status UpgradeSubjectIndex();
  // Whether ledger_subjects files its rows by bucket (version 9); an older
  // database opened read-only has it by subject.
  Result<bool> SubjectsByBucket();
  // Holds one read transaction open while the result lives: a statement
  // stepped to its row and not reset. A loop of one-row reads then takes
  // the WAL read lock once (not a few fcntl calls per row) and reads one
  // snapshot. Null (nothing held) when the step fails: the reads that
  // follow report the error themselves.
  using ReadPin = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;
  ReadPin PinRead();
  // Whether the database has what version 4 added (an older one opened
  // read-only has not): asked at each use, since another process may
  // upgrade it while this one has it open.
  Result<bool> HasColumn(const char* table, const char* column);
  Result<bool> HasTable(const char* table);
  Result<bool> HasIndex(const char* index);
  Result<bool> HasSchemaObject(const char* type, const char* name);
  Result<int64_t> InsertHold(const Hold& h);
  Result<Hold> MarkHoldReleased(int64_t id, const std::string& by, const std::string& reason, Timestamp at);
  Result<int64_t> InsertRun(const RunInfo& run);
  Status FinishRun(int64_t run_id, const std::string& outcome, int exit_code, Timestamp ended_at);
  Status PutErasureRequest(const ErasureRequest& r);
  Result<std::vector<ErasureRequest>> ReadErasureRequests(const std::string* reference);
  Status MarkRunCrashed(int64_t run_id);
  Status RemovePending(int64_t pending_id);
  static Hold ReadHold(const Stmt& s);
  static RunInfo ReadRun(const Stmt& s);

  fs::path path_;
  SqliteStateDbOptions options_;
  bool allow_moved_ = false;
  bool schema_ready_ = false;  // InitSchema done: the meta table is there
  sqlite3* db_ = nullptr;
  // SQLite's descriptor on the main file (found at open as the one that
  // appeared), or -1 when unknown; for ClaimForRun.
  int own_fd_ = -1;
  // The -wal and -shm files SQLite opened for this connection (writable
  // connections, in WAL mode), by device and inode. SQLite keeps them open
  // for the life of the connection and writes the ledger into the -wal
  // until a checkpoint: when the path names another file, or none, they
  // were removed under it, and what it writes from then on is lost (the
  // next connection creates a new, empty log beside the database).
  struct SideFile {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
  };
  std::vector<SideFile> side_files_;
  std::map<const char*, sqlite3_stmt*> cache_;  // keyed by the SQL literal
};

class SqliteStateDb::AppendTxn final : public StateAppend {
 public:
  explicit AppendTxn(SqliteStateDb* db) : db_(db), txn_(db) {}
  Status Begin() { return txn_.Begin(); }

  Result<LedgerHead> Head() override { return db_->Head(); }
  Status Insert(const std::vector<LedgerEntry>& entries) override { return db_->InsertEntries(entries); }
  Status RecordAnchor(int64_t seq, int64_t through) override { return db_->RecordAnchor(seq, through); }
  Result<int64_t> InsertHold(const Hold& hold) override { return db_->InsertHold(hold); }
  Result<Hold> MarkHoldReleased(int64_t id, const std::string& by, const std::string& reason,
                                Timestamp at) override {
    return db_->MarkHoldReleased(id, by, reason, at);
  }
  Result<int64_t> InsertRun(const RunInfo& run) override { return db_->InsertRun(run); }
  Status FinishRun(int64_t run_id, const std::string& outcome, int exit_code, Timestamp ended_at) override {
    return db_->FinishRun(run_id, outcome, exit_code, ended_at);
  }
  Status MarkRunCrashed(int64_t run_id) override { return db_->MarkRunCrashed(run_id); }
  Status PutErasureRequest(const ErasureRequest& r) override { return db_->PutErasureRequest(r); }
  Status RemovePending(int64_t pending_id) override { return db_->RemovePending(pending_id); }
  Status IndexBatch(int64_t seq, const BatchIndexRow& row) override { return db_->IndexBatch(seq, row); }
  Status CloseBatch(int64_t seq) override { return db_->CloseBatch(seq); }
  Status Commit() override { return txn_.Commit(); }

 private:
  SqliteStateDb* db_;
  Txn txn_;
};

Result<std::unique_ptr<StateAppend>> SqliteStateDb::BeginAppend() {
  RETENTION_RETURN_IF_ERROR(RequireWritable());
  auto append = std::make_unique<AppendTxn>(this);
  RETENTION_RETURN_IF_ERROR(append->Begin());
  return std::unique_ptr<StateAppend>(std::move(append));
}

Status SqliteStateDb::Error(int rc, std::string_view what) const {
  const std::string detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  const std::string file = Quoted(path_);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      return Status::Invalid("state database " + file + " is not a SQLite database (" + detail +
                             ")");
    case SQLITE_CORRUPT:
      return Status::Unavailable("state database " + file + " is corrupt (" + detail +
                                 ") while trying to " + std::string(what) +
                                 "; restore it from a backup (sqlite3 " + file +
                                 " 'PRAGMA integrity_check' shows the damage)");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy("state database " + file + " is busy: another process kept it " +
                              "locked for more than " +
                              std::to_string(options_.busy_timeout_ms / 1000) +
                              " s while trying to " + std::string(what));
    case SQLITE_READONLY:
      return Status::Unavailable("state database " + file + " is read-only: cannot " +
                                 std::string(what) + " (" + detail + ")");
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::Unavailable("cannot open state database " + file + ": " + detail);
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return Status::IoError("I/O error on state database " + file + " while trying to " +
                             std::string(what) + ": " + detail);
    default:
      return Status::Internal("state database " + file + ": cannot " + std::string(what) +
                              ": " + detail);
  }
}

Status SqliteStateDb::Exec(const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, what);
  return Status::Ok();
}

Result<Stmt> SqliteStateDb::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(it->second);
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "prepare a query");
  cache_.emplace(sql, s);
  return Stmt(s);
}

Status SqliteStateDb::StepDone(Stmt& s, std::string_view what) {
  const int rc = s.Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error(rc, what);
  return Status::Ok();
}

Status SqliteStateDb::RequireWritable() const {
  if (options_.read_only) {
    return Status::Internal("state database " + Quoted(path_) +
                            " was opened read-only; this command cannot change it");
  }
  return Status::Ok();
}

Status SqliteStateDb::Open() {
  const std::string file = Quoted(path_);
  struct stat st {};
  const bool exists = ::stat(path_.c_str(), &st) == 0;  // stat(), never open()
  if (options_.create) {
    if (options_.read_only) return Status::Internal("a state database cannot be created read-only");
    if (exists) {
      return Status::Invalid("state database " + file + " already exists (" +
                             std::to_string(st.st_size) +
                             " bytes): not creating it again. It holds the legal holds and the "
                             "purge log; if it is damaged, restore it from a backup");
    }
    std::error_code ec;
    fs::path dir = path_.parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir, ec)) {
      return Status::Unavailable("cannot create state database " + file + ": directory " +
                                 Quoted(dir) + " does not exist");
    }
  } else if (!exists) {
    return MissingStateDbStatus(path_);
  }

  // NOMUTEX: one connection per object, used from one thread (see the
  // header); SQLite's per-call mutex would cost a third of a ledger scan.
  const int flags = SQLITE_OPEN_NOMUTEX |
                    (options_.read_only ? SQLITE_OPEN_READONLY
                     : options_.create  ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
                                        : SQLITE_OPEN_READWRITE);
  int rc;
  std::vector<int> before;
  if (exists) before = DescriptorsOn(st.st_dev, st.st_ino);
  if (options_.create) {
    // Mode 0640 for the file and, as SQLite copies it, for -wal and -shm.
    PrivateUmask umask;
    rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  } else {
    rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  }
  if (rc == SQLITE_OK && exists) {
    for (int fd : DescriptorsOn(st.st_dev, st.st_ino)) {
      if (std::find(before.begin(), before.end(), fd) == before.end()) {
        own_fd_ = fd;
        break;
      }
    }
  }
  if (rc != SQLITE_OK) {
    if ((rc & 0xff) == SQLITE_CANTOPEN && !options_.create && !fs::exists(path_)) {
      return MissingStateDbStatus(path_);  // removed since the stat() above
    }
    return Error(rc, "open it");
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);

  if (!options_.create) {
    sqlite3_file* main_file = nullptr;
    if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &main_file) != SQLITE_OK)
      main_file = nullptr;
    RETENTION_RETURN_IF_ERROR(CheckHeader(path_, main_file));
  }

  // The first read of the schema: fails here for a file that is not a
  // database or whose first page is damaged.
  RETENTION_RETURN_IF_ERROR(Exec("SELECT count(*) FROM sqlite_master", "read its schema"));
  if (options_.read_only) {
    RETENTION_RETURN_IF_ERROR(Exec("PRAGMA query_only=1", "configure the connection"));
  } else {
    RETENTION_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL", "switch to WAL mode"));
    RETENTION_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL", "configure the connection"));
  }
  RETENTION_RETURN_IF_ERROR(InitSchema());
  schema_ready_ = true;
  RETENTION_RETURN_IF_ERROR(CheckNotMoved());
  if (!options_.read_only) {
    // As SQLite names them (it resolves a symlinked database path).
    const char* main_name = sqlite3_db_filename(db_, "main");
    if (main_name != nullptr && *main_name != '\0') {
      const std::string wal = sqlite3_filename_wal(main_name);
      for (const std::string& side : {wal, std::string(main_name) + "-shm"}) {
        struct stat side_st {};
        if (::stat(side.c_str(), &side_st) == 0) side_files_.push_back({side, side_st.st_dev, side_st.st_ino});
      }
    }
  }

  // Touch both ends of the ledger and the small tables, so that a damaged
  // file is reported now rather than in the middle of a run. One end per
  // statement: SQLite answers a lone min() or max() from the b-tree's edge,
  // but both in one statement from a scan of every entry.
  RETENTION_RETURN_IF_ERROR(
      Exec("SELECT min(seq) FROM ledger; SELECT max(seq) FROM ledger; SELECT count(*) FROM holds; "
           "SELECT count(*) FROM runs; SELECT count(*) FROM pending",
           "read it"));
  return Status::Ok();
}

Status SqliteStateDb::CheckStillInPlace() {
  int moved = 0;
  const int rc = sqlite3_file_control(db_, "main", SQLITE_FCNTL_HAS_MOVED, &moved);
  if (rc != SQLITE_OK) return Error(rc, "check that it is still in place");
  for (const SideFile& side : side_files_) {
    struct stat now {};
    if (::stat(side.path.c_str(), &now) != 0 || now.st_dev != side.dev || now.st_ino != side.ino) {
      moved = 1;
      break;
    }
  }
  if (moved != 0) {
    return Status::Unavailable("state database " + Quoted(path_) +
                               " (or its -wal or -shm file) was removed or replaced during the "
                               "run: what this run would "
                               "record from now on would be lost, so it stops here. Restore "
                               "the state database from a backup (it held the legal holds and "
                               "the purge log), then run again");
  }
  return Status::Ok();
}

// The claim is an exclusive flock() on the database file, taken through
// the descriptor SQLite itself opened (found in /proc/self/fd by device and
// inode): opening a descriptor of our own and closing it would drop this
// process's POSIX locks on the file (see CheckHeader). On Linux, flock and
// SQLite's fcntl locks are independent, and the kernel drops the flock when
// the connection closes or the process dies. Network file systems emulate
// flock with fcntl locks, which would collide with SQLite's: there (where
// SQLite itself is not safe) no claim is taken.
Status SqliteStateDb::ClaimForRun() {
  RETENTION_RETURN_IF_ERROR(CheckStillInPlace());
  int found = own_fd_;
  if (found < 0) {
    struct stat db {};
    if (::stat(path_.c_str(), &db) != 0) return CheckStillInPlace();
    const std::vector<int> fds = DescriptorsOn(db.st_dev, db.st_ino);
    if (fds.empty()) return Status::Ok();  // no /proc: the run lock alone
    found = fds.front();
  }
  struct statfs fs_info {};
  if (::fstatfs(found, &fs_info) == 0) {
    switch (static_cast<unsigned long>(fs_info.f_type)) {
      case 0x6969UL:      // NFS
      case 0x517BUL:      // SMB
      case 0xFF534D42UL:  // CIFS
      case 0xFE534D42UL:  // SMB2
      case 0x65735546UL:  // FUSE
        return Status::Ok();
      default:
        break;
    }
  }
  int rc;
  do {
    rc = ::flock(found, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return Status::Ok();
  if (errno == EWOULDBLOCK) {
    return Status::Busy("another run is using state database " + Quoted(path_) +
                            " (its run lock file was removed or replaced while that run went "
                            "on); not starting a second one");
  }
  return Status::Ok();  // flock unsupported here: the run lock alone
}

Status SqliteStateDb::InitSchema() {
  const std::string file = Quoted(path_);
  auto count_tables = [&](const char* name) -> Result<int64_t> {
    auto s = Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, std::string_view(name));
    const int rc = s->Step();
    if (rc != SQLITE_ROW) return Error(rc, "read its schema");
    return s->Int(0);
  };
  // The schema version present: 0 for a database with no schema at all.
  auto version_present = [&]() -> Result<int> {
    auto meta = count_tables("meta");
    if (!meta.ok()) return meta.status();
    if (*meta == 0) {
      auto any = Prepare("SELECT count(*) FROM sqlite_master");
      if (!any.ok()) return any.status();
      const int rc = any->Step();
      if (rc != SQLITE_ROW) return Error(rc, "read its schema");
      if (any->Int(0) != 0) {
        // Ours with its meta table dropped, or someone else's database.
        auto ledger = count_tables("ledger");
        if (!ledger.ok()) return ledger.status();
        auto holds = count_tables("holds");
        if (!holds.ok()) return holds.status();
        if (*ledger != 0 || *holds != 0) return DamagedStateDbStatus(path_, "table meta is missing");
        return Status::Invalid("state database " + file +
                               " is a SQLite database but not a retention state database "
                               "(it has no meta table)");
      }
      return 0;
    }
    auto s = Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!s.ok()) return s.status();
    const int rc = s->Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(rc, "read its schema version");
    if (rc == SQLITE_DONE) return DamagedStateDbStatus(path_, "its meta table has no schema_version");
    const std::string v = s->Text(0);
    int version = 0;
    try {
      size_t used = 0;
      version = std::stoi(v, &used);
      if (used != v.size()) version = 0;
    } catch (...) {
      version = 0;
    }
    if (version >= 1 && version <= kStateSchemaVersion) return version;
    if (version > kStateSchemaVersion) {
      return Status::Invalid("state database " + file + " has schema version " + v +
                             ", newer than this retention understands (" +
                             std::to_string(kStateSchemaVersion) + "): upgrade retention");
    }
    return Status::Invalid("state database " + file + " has an unknown schema version '" + v +
                           "'");
  };
  // Every table the version requires is there.
  auto validate = [&](int version) -> Status {
    for (const char* table : RequiredTables(version)) {
      auto n = count_tables(table);
      if (!n.ok()) return n.status();
      if (*n == 0) return DamagedStateDbStatus(path_, std::string("table ") + table + " is missing");
    }
    return Status::Ok();
  };

  auto present = version_present();
  if (!present.ok()) return present.status();
  if (*present != 0) RETENTION_RETURN_IF_ERROR(validate(*present));
  if (*present == kStateSchemaVersion) {
    if (options_.create) return Status::Invalid("state database " + file + " already exists: not creating it again");
    return Status::Ok();
  }
  if (*present == 0 && !options_.create) return EmptyStateDbStatus(path_, "a SQLite database with no schema");
  if (options_.read_only) return Status::Ok();  // an older version reads as it is
  Txn txn(this);
  RETENTION_RETURN_IF_ERROR(txn.Begin());
  present = version_present();  // another process may have created it meanwhile
  if (!present.ok()) return present.status();
  if (*present != 0 && options_.create) {
    return Status::Invalid("state database " + file + " was created by another process meanwhile: not creating it again");
  }
  if (*present == kStateSchemaVersion) return Status::Ok();
  if (*present != 0) {
    RETENTION_RETURN_IF_ERROR(validate(*present));
    // Each step from the version present, in one transaction.
    if (*present < 2) RETENTION_RETURN_IF_ERROR(Exec(kSchemaV2Sql, "upgrade its schema to version 2"));
    if (*present < 3) RETENTION_RETURN_IF_ERROR(Exec(kSchemaV3Sql, "upgrade its schema to version 3"));
    if (*present < 4) {
      auto has = HasColumn("ledger", "payload");
      if (!has.ok()) return has.status();
      if (!*has) RETENTION_RETURN_IF_ERROR(Exec(kSchemaV4Column, "upgrade its schema to version 4"));
      RETENTION_RETURN_IF_ERROR(Exec(kSchemaV4Sql, "upgrade its schema to version 4"));
    }
    if (*present < 5) RETENTION_RETURN_IF_ERROR(Exec(kSchemaV5Sql, "upgrade its schema to version 5"));
    if (*present < 6) {
      auto has = HasColumn("ledger_batches", "settled_by");
      if (!has.ok()) return has.status();
      if (!*has) RETENTION_RETURN_IF_ERROR(Exec(kSchemaV6Column, "upgrade its schema to version 6"));
      RETENTION_RETURN_IF_ERROR(Exec(kSchemaV6Sql, "upgrade its schema to version 6"));
      // Rebuilt in version 9's layout, the one IndexEntry writes.
      RETENTION_RETURN_IF_ERROR(UpgradeSubjectIndex().WithContext("upgrade its schema to version 9"));
      RETENTION_RETURN_IF_ERROR(RebuildLookupIndexes().WithContext("upgrade its schema to version 6"));
    }
    if (*present < 7) RETENTION_RETURN_IF_ERROR(Exec(kSchemaV7Sql, "upgrade its schema to version 7"));
    if (*present < 8) {
      RETENTION_RETURN_IF_ERROR(Exec(kSchemaV8Sql, "upgrade its schema to version 8"));
      RETENTION_RETURN_IF_ERROR(RebuildRunTallies().WithContext("upgrade its schema to version 8"));
    }
    if (*present >= 6 && *present <= 8)
      RETENTION_RETURN_IF_ERROR(UpgradeSubjectIndex().WithContext("upgrade its schema to version 9"));
    RETENTION_RETURN_IF_ERROR(Exec("UPDATE meta SET value = '10' WHERE key = 'schema_version'",
                                   "upgrade its schema to version 10"));
    return txn.Commit();
  }
  if (*present == 0 && !options_.create) return EmptyStateDbStatus(path_, "a SQLite database with no schema");
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaSql, "create its schema"));
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV2Sql, "create its schema"));
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV3Sql, "create its schema"));
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV4Column, "create its schema"));
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV4Sql, "create its schema"));
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV5Sql, "create its schema"));
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV6Column, "create its schema"));
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV6Sql, "create its schema"));
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV7Sql, "create its schema"));
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV8Sql, "create its schema"));
  RETENTION_RETURN_IF_ERROR(UpgradeSubjectIndex().WithContext("create its schema"));
  RETENTION_RETURN_IF_ERROR(
      Exec(("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str(),
           "create its schema"));
  auto ins = Prepare("INSERT INTO meta(key, value) VALUES(?1, ?2)");
  if (!ins.ok()) return ins.status();
  const std::string version = std::to_string(kStateSchemaVersion);
  const std::string created_at = FormatTimestamp(Now());
  const std::pair<std::string_view, std::string_view> rows[] = {
      {"schema_version", version},
      {"created_at", created_at},
      {"created_by", "retention " RETENTION_VERSION},
  };
  for (const auto& [k, v] : rows) {
    ins->Bind(1, k);
    ins->Bind(2, v);
    RETENTION_RETURN_IF_ERROR(StepDone(*ins, "create its schema"));
    sqlite3_reset(ins->raw());
  }
  return txn.Commit();
}

Result<std::optional<std::string>> SqliteStateDb::MovedTo() {
  auto s = Prepare("SELECT value FROM meta WHERE key = 'moved_to'");
  if (!s.ok()) return s.status();
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return Error(rc, "read its meta table");
  return std::optional<std::string>(s->Text(0));
}

Status SqliteStateDb::CheckNotMoved() {
  auto moved = MovedTo();
  if (!moved.ok()) return moved.status();
  if (!*moved || allow_moved_) return Status::Ok();
  if (options_.read_only) {
    spdlog::warn("state database {} was moved to {}: its holds and runs are no longer in force, only its purge log "
                 "is still evidence",
                 Quoted(path_), **moved);
    return Status::Ok();
  }
  return Status::Invalid("state database " + Quoted(path_) + " was moved to " + **moved +
                         ": a hold placed or a run started here would not bind the fleet, nor the holds there a run "
                         "here. Name that state in the config; this file stays readable for its purge log");
}

Status SqliteStateDb::MarkMoved(const LedgerHead& copied, const std::string& to) {
  RETENTION_RETURN_IF_ERROR(RequireWritable());
  Txn txn(this);
  RETENTION_RETURN_IF_ERROR(txn.Begin());
  auto head = Head();
  if (!head.ok()) return head.status();
  if (head->seq != copied.seq || head->hash != copied.hash) {
    return Status::Busy("state database " + Quoted(path_) + " was written while it was being moved (its ledger head "
                        "is entry " + std::to_string(head->seq) + ", the move read entry " +
                        std::to_string(copied.seq) + ")");
  }
  auto put = Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('moved_to', ?1)");
  if (!put.ok()) return put.status();
  put->Bind(1, std::string_view(to));
  RETENTION_RETURN_IF_ERROR(StepDone(*put, "note that it was moved"));
  return txn.Commit();
}

// ---- ledger -------------------------------------------------------------

// Inside an append transaction: the head read here is the one the entries
// must follow, and no other appender can move it before the commit.
Status SqliteStateDb::InsertEntries(const std::vector<LedgerEntry>& entries) {
  if (entries.empty()) return Status::Ok();
  auto head = Head();
  if (!head.ok()) return head.status();
  RETENTION_RETURN_IF_ERROR(CheckChainedOnto(*head, entries));
  auto ins = Prepare(
      "INSERT INTO ledger(seq, at, kind, run_id, category, store, target, record_key, clock, "
      "cutoff, rule, subject, batch, detail, prev_hash, hash, payload) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
  if (!ins.ok()) return ins.status();
  for (const LedgerEntry& e : entries) {
    Stmt& s = *ins;
    s.Bind(1, e.seq);
    s.Bind(2, e.at);
    s.Bind(3, LedgerKindName(e.kind));
    s.Bind(4, e.run_id);
    s.Bind(5, e.category);
    s.Bind(6, e.store);
    s.Bind(7, e.target);
    s.Bind(8, e.record_key);
    s.Bind(9, e.clock);
    s.Bind(10, e.cutoff);
    s.Bind(11, e.rule);
    s.Bind(12, e.subject);
    s.Bind(13, e.batch);
    s.Bind(14, e.detail);
    s.Bind(15, e.prev_hash);
    s.Bind(16, e.hash);
    s.BindBlob(17, e.payload);
    RETENTION_RETURN_IF_ERROR(StepDone(s, "append to the ledger"));
    sqlite3_reset(s.raw());
  }
  for (const LedgerEntry& e : entries) RETENTION_RETURN_IF_ERROR(IndexEntry(e));
  return Status::Ok();
}

// An entry whose payload or settlement does not decode gets no rows: it is
// stored as given (the chain covers it, and `audit verify` names it), and
// the lookups then miss what it holds.
Status SqliteStateDb::IndexEntry(const LedgerEntry& e) {
  RETENTION_RETURN_IF_ERROR(TallyIndexedEntry(e));
  if (e.kind != LedgerKind::kBatch && e.detail.find("\"settles\"") == std::string::npos) return Status::Ok();
  auto rows = IndexRowsOf(e);
  if (!rows.ok()) return rows.status().code() == StatusCode::kAuditFailed ? Status::Ok() : rows.status();
  if (!rows->subjects.empty()) {
    auto ins = Prepare("INSERT OR IGNORE INTO ledger_subjects(bucket, seq, subject) VALUES(?1, ?2, ?3)");
    if (!ins.ok()) return ins.status();
    for (const std::string& subject : rows->subjects) {
      ins->Bind(1, int64_t{SubjectBucket(subject)});
      ins->Bind(2, e.seq);
      ins->Bind(3, subject);
      RETENTION_RETURN_IF_ERROR(StepDone(*ins, "index a batch entry's subjects"));
      sqlite3_reset(ins->raw());
    }
  }
  if (!rows->settles.empty()) {
    auto up = Prepare("UPDATE ledger_batches SET settled_by = ?2 WHERE seq = ?1");
    if (!up.ok()) return up.status();
    for (int64_t batch : rows->settles) {
      up->Bind(1, batch);
      up->Bind(2, e.seq);
      RETENTION_RETURN_IF_ERROR(StepDone(*up, "index a batch entry's settlement"));
      sqlite3_reset(up->raw());
    }
  }
  return Status::Ok();
}

// The run tally rows `e` changes (ledger/run_tally.h); like the lookup
// rows, none for a settlement that does not decode. The settled batch is
// read back from the ledger: it is earlier, in this transaction or before.
Status SqliteStateDb::TallyIndexedEntry(const LedgerEntry& e) {
  const bool settles = e.detail.find("\"settles\"") != std::string::npos;
  if (!settles && (e.run_id == 0 || (e.kind != LedgerKind::kDelete && e.kind != LedgerKind::kKept)))
    return Status::Ok();
  auto has = HasTable("run_tallies");  // an upgrade to version 6 runs before version 8's table exists
  if (!has.ok()) return has.status();
  if (!*has) return Status::Ok();
  auto batch = Prepare("SELECT run_id, category, payload FROM ledger WHERE seq = ?1 AND kind = 'batch'");
  if (!batch.ok()) return batch.status();
  auto add = Prepare(
      "INSERT INTO run_tallies(run_id, category, deleted, kept, kept_by_hold) VALUES(?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(run_id, category) DO UPDATE SET deleted = deleted + excluded.deleted, "
      "kept = kept + excluded.kept, kept_by_hold = kept_by_hold + excluded.kept_by_hold");
  if (!add.ok()) return add.status();
  Status st = TallyEntry(
      e,
      [&](int64_t seq) -> Result<std::optional<BatchFacts>> {
        batch->Bind(1, seq);
        const int rc = batch->Step();
        std::optional<BatchFacts> facts;
        if (rc == SQLITE_ROW) {
          auto count = CountBatchRecords(batch->Blob(2));
          if (count.ok()) facts = BatchFacts{batch->Int(0), batch->Text(1), *count};
        }
        sqlite3_reset(batch->raw());
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(rc, "read a settled batch entry");
        return facts;
      },
      [&](int64_t run_id, const std::string& category, const RecordTally& t) -> Status {
        add->Bind(1, run_id);
        add->Bind(2, category);
        add->Bind(3, t.deleted);
        add->Bind(4, t.kept);
        add->Bind(5, t.kept_by_hold);
        RETENTION_RETURN_IF_ERROR(StepDone(*add, "tally a run's records"));
        sqlite3_reset(add->raw());
        return Status::Ok();
      });
  return st.code() == StatusCode::kAuditFailed ? Status::Ok() : st;
}

Status SqliteStateDb::RebuildRunTallies() {
  RETENTION_RETURN_IF_ERROR(Exec("DELETE FROM run_tallies", "clear the run tallies"));
  Status failed;
  RETENTION_RETURN_IF_ERROR(ScanLedger(INT64_MIN, [&](LedgerEntry& e) {
    failed = TallyIndexedEntry(e);
    return failed.ok();
  }));
  return failed;
}

Status SqliteStateDb::UpgradeSubjectIndex() {
  RETENTION_RETURN_IF_ERROR(Exec(kSchemaV9Sql, "file the subject index by bucket"));
  auto read = Prepare("SELECT subject, seq FROM ledger_subjects_v6");
  if (!read.ok()) return read.status();
  auto ins = Prepare("INSERT OR IGNORE INTO ledger_subjects(bucket, seq, subject) VALUES(?1, ?2, ?3)");
  if (!ins.ok()) return ins.status();
  int rc;
  while ((rc = read->Step()) == SQLITE_ROW) {
    const std::string subject = read->Text(0);
    ins->Bind(1, int64_t{SubjectBucket(subject)});
    ins->Bind(2, read->Int(1));
    ins->Bind(3, subject);
    RETENTION_RETURN_IF_ERROR(StepDone(*ins, "file the subject index by bucket"));
    sqlite3_reset(ins->raw());
  }
  if (rc != SQLITE_DONE) return Error(rc, "read the subject index");
  return Exec(kSchemaV9DoneSql, "file the subject index by bucket");
}

Result<bool> SqliteStateDb::SubjectsByBucket() { return HasColumn("ledger_subjects", "bucket"); }

Status SqliteStateDb::RebuildLookupIndexes() {
  RETENTION_RETURN_IF_ERROR(Exec("DELETE FROM ledger_subjects; UPDATE ledger_batches SET settled_by = NULL",
                                 "clear the ledger's lookup indexes"));
  // IndexEntry skips an entry that does not decode, so that a damaged
  // ledger still upgrades (holds can still be placed; verify names it).
  Status failed;
  RETENTION_RETURN_IF_ERROR(ScanLedger(INT64_MIN, [&](LedgerEntry& e) {
    failed = IndexEntry(e);
    return failed.ok();
  }));
  return failed;
}

Status SqliteStateDb::RecordAnchor(int64_t seq, int64_t through) {
  auto ins = Prepare("INSERT INTO ledger_anchors(seq, through) VALUES(?1, ?2)");
  if (!ins.ok()) return ins.status();
  ins->Bind(1, seq);
  ins->Bind(2, through);
  RETENTION_RETURN_IF_ERROR(StepDone(*ins, "record a ledger anchor"));
  sqlite3_reset(ins->raw());
  return Status::Ok();
}

Result<int64_t> SqliteStateDb::PrunedThrough() {
  // A version 1 database opened read-only has no anchors table, and so no
  // anchors.
  auto has = Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_anchors'");
  if (!has.ok()) return has.status();
  int rc = has->Step();
  if (rc != SQLITE_ROW) return Error(rc, "read its schema");
  const bool present = has->Int(0) != 0;
  sqlite3_reset(has->raw());
  if (!present) return int64_t{0};
  auto s = Prepare("SELECT through FROM ledger_anchors ORDER BY seq DESC LIMIT 1");
  if (!s.ok()) return s.status();
  rc = s->Step();
  int64_t through = 0;
  if (rc == SQLITE_ROW) through = s->Int(0);
  else if (rc != SQLITE_DONE) return Error(rc, "read the ledger anchors");
  sqlite3_reset(s->raw());
  return through;
}

Result<std::optional<int64_t>> SqliteStateDb::OldestAnchorReaching(int64_t seq) {
  std::optional<int64_t> found;
  auto through = PrunedThrough();  // 0 also when a version 1 database has no anchors table
  if (!through.ok()) return through.status();
  if (*through < seq) return found;
  auto s = Prepare(
      "SELECT a.seq FROM ledger_anchors a JOIN ledger l ON l.seq = a.seq WHERE a.through >= ?1 "
      "ORDER BY a.seq LIMIT 1");
  if (!s.ok()) return s.status();
  s->Bind(1, seq);
  const int rc = s->Step();
  if (rc == SQLITE_ROW) found = s->Int(0);
  else if (rc != SQLITE_DONE) return Error(rc, "read the ledger anchors");
  sqlite3_reset(s->raw());
  return found;
}

Result<int64_t> SqliteStateDb::DeletePrunedEntries(int64_t last) {
  RETENTION_RETURN_IF_ERROR(RequireWritable());
  Txn txn(this);
  RETENTION_RETURN_IF_ERROR(txn.Begin());
  // An open batch entry is the only record of what its batch may have
  // deleted: reconciliation needs it, so no anchor may take it.
  auto batches = HasTable("ledger_batches");
  if (!batches.ok()) return batches.status();
  if (*batches) {
    auto open = Prepare("SELECT min(seq) FROM ledger_batches WHERE open = 1 AND seq <= ?1");
    if (!open.ok()) return open.status();
    open->Bind(1, last);
    const int rc = open->Step();
    const std::optional<int64_t> first_open =
        rc == SQLITE_ROW && sqlite3_column_type(open->raw(), 0) != SQLITE_NULL ? std::optional(open->Int(0))
                                                                              : std::nullopt;
    sqlite3_reset(open->raw());
    if (rc != SQLITE_ROW) return Error(rc, "read the open batches");
    if (first_open)
      return Status::Internal("refusing to prune the ledger through entry " + std::to_string(last) + ": batch entry " +
                              std::to_string(*first_open) + " is still open (not settled)");
  }
  // The trigger refuses any entry past the newest anchor's range.
  auto del = Prepare("DELETE FROM ledger WHERE seq <= ?1");
  if (!del.ok()) return del.status();
  del->Bind(1, last);
  RETENTION_RETURN_IF_ERROR(StepDone(*del, "prune the ledger"));
  sqlite3_reset(del->raw());
  const int64_t n = sqlite3_changes64(db_);
  // The batch index rows of the entries gone.
  if (*batches) {
    auto drop = Prepare("DELETE FROM ledger_batches WHERE seq <= ?1");
    if (!drop.ok()) return drop.status();
    drop->Bind(1, last);
    RETENTION_RETURN_IF_ERROR(StepDone(*drop, "prune the ledger's batch index"));
    sqlite3_reset(drop->raw());
  }
  auto subjects = HasTable("ledger_subjects");
  if (!subjects.ok()) return subjects.status();
  if (*subjects) {
    // By bucket, each a range of the primary key (version 9 has no index on
    // seq; a database open for writing is upgraded).
    auto drop = Prepare("DELETE FROM ledger_subjects WHERE bucket = ?2 AND seq <= ?1");
    if (!drop.ok()) return drop.status();
    for (int bucket = 0; bucket < kSubjectBuckets; ++bucket) {
      drop->Bind(1, last);
      drop->Bind(2, int64_t{bucket});
      RETENTION_RETURN_IF_ERROR(StepDone(*drop, "prune the ledger's subject index"));
      sqlite3_reset(drop->raw());
    }
  }
  RETENTION_RETURN_IF_ERROR(txn.Commit());
  return n;
}

Status SqliteStateDb::ScanLedger(int64_t from_seq,
                                 const std::function<bool(LedgerEntry&)>& visit) {
  auto has_payload = HasColumn("ledger", "payload");
  if (!has_payload.ok()) return has_payload.status();
  // Its own statement, not the cache: `visit` may use this object.
  const std::string sql = std::string("SELECT ") + kLedgerColumns +
                          (*has_payload ? ", payload" : ", x''") + " FROM ledger WHERE seq >= ?1 ORDER BY seq";
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "read the ledger");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owner(raw, sqlite3_finalize);
  sqlite3_bind_int64(raw, 1, from_seq);

  LedgerEntry e;  // reused: assigning into its strings reuses their capacity
  Status bad;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    bad = DecodeLedgerRow(raw, e);
    if (!bad.ok()) return bad;
    if (!visit(e)) return Status::Ok();
  }
  if (rc != SQLITE_DONE) return Error(rc, "read the ledger");
  return Status::Ok();
}

Result<LedgerHead> SqliteStateDb::Head() {
  auto s = Prepare("SELECT seq, hash, at FROM ledger ORDER BY seq DESC LIMIT 1");
  if (!s.ok()) return s.status();
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return LedgerHead{0, std::string(kGenesisHash), std::nullopt};
  if (rc != SQLITE_ROW) return Error(rc, "read the ledger head");
  LedgerHead head{s->Int(0), s->Text(1), s->Time(2)};
  sqlite3_reset(s->raw());
  return head;
}

Result<bool> SqliteStateDb::HasColumn(const char* table, const char* column) {
  auto s = Prepare("SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2");
  if (!s.ok()) return s.status();
  s->Bind(1, std::string_view(table));
  s->Bind(2, std::string_view(column));
  const int rc = s->Step();
  if (rc != SQLITE_ROW) return Error(rc, "read its schema");
  return s->Int(0) != 0;
}

Result<bool> SqliteStateDb::HasTable(const char* table) { return HasSchemaObject("table", table); }

Result<bool> SqliteStateDb::HasIndex(const char* index) { return HasSchemaObject("index", index); }

Result<bool> SqliteStateDb::HasSchemaObject(const char* type, const char* name) {
  auto s = Prepare("SELECT count(*) FROM sqlite_master WHERE type = ?1 AND name = ?2");
  if (!s.ok()) return s.status();
  s->Bind(1, std::string_view(type));
  s->Bind(2, std::string_view(name));
  const int rc = s->Step();
  if (rc != SQLITE_ROW) return Error(rc, "read its schema");
  return s->Int(0) != 0;
}

Result<std::optional<LedgerEntry>> SqliteStateDb::ReadEntry(int64_t seq) {
  std::optional<LedgerEntry> found;
  RETENTION_RETURN_IF_ERROR(ScanLedger(seq, [&](LedgerEntry& e) {
    if (e.seq == seq) found = std::move(e);
    return false;
  }));
  return found;
}

// ---- batch index ----------------------------------------------------------


Status SqliteStateDb::IndexBatch(int64_t seq, const BatchIndexRow& row) {
  auto ins = Prepare(
      "INSERT INTO ledger_batches(seq, store, target, key_lo, key_hi, open) VALUES(?1, ?2, ?3, ?4, ?5, 1)");
  if (!ins.ok()) return ins.status();
  ins->Bind(1, seq);
  ins->Bind(2, row.store);
  ins->Bind(3, row.target);
  std::optional<int64_t> span;
  if (row.integer_keys) {
    const auto lo = CanonicalInt(row.key_lo), hi = CanonicalInt(row.key_hi);
    if (!lo || !hi) return Status::Internal("batch entry " + std::to_string(seq) + " indexed with integer keys that are not integers");
    ins->Bind(4, *lo);
    ins->Bind(5, *hi);
    span = KeySpan(*lo, *hi);
  } else {
    ins->Bind(4, row.key_lo);
    ins->Bind(5, row.key_hi);
  }
  RETENTION_RETURN_IF_ERROR(StepDone(*ins, "index a batch entry"));
  sqlite3_reset(ins->raw());
  if (!span) return Status::Ok();
  auto widen = Prepare(
      "INSERT INTO ledger_key_spans(store, target, widest) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(store, target) DO UPDATE SET widest = max(widest, excluded.widest)");
  if (!widen.ok()) return widen.status();
  widen->Bind(1, row.store);
  widen->Bind(2, row.target);
  widen->Bind(3, *span);
  RETENTION_RETURN_IF_ERROR(StepDone(*widen, "index a batch entry's key span"));
  sqlite3_reset(widen->raw());
  return Status::Ok();
}

Status SqliteStateDb::CloseBatch(int64_t seq) {
  auto up = Prepare("UPDATE ledger_batches SET open = 0 WHERE seq = ?1 AND open = 1");
  if (!up.ok()) return up.status();
  up->Bind(1, seq);
  RETENTION_RETURN_IF_ERROR(StepDone(*up, "close a batch entry"));
  sqlite3_reset(up->raw());
  if (sqlite3_changes64(db_) != 1)
    return Status::Internal("refusing to settle batch entry " + std::to_string(seq) +
                            ": it is not an open batch (settled already, or never indexed)");
  return Status::Ok();
}

Result<std::vector<int64_t>> SqliteStateDb::OpenBatches() {
  std::vector<int64_t> out;
  auto has = HasTable("ledger_batches");
  if (!has.ok()) return has.status();
  if (!*has) return out;
  auto s = Prepare("SELECT seq FROM ledger_batches WHERE open = 1 ORDER BY seq");
  if (!s.ok()) return s.status();
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) out.push_back(s->Int(0));
  if (rc != SQLITE_DONE) return Error(rc, "read the open batches");
  return out;
}

Result<std::vector<BatchIndexListing>> SqliteStateDb::ListBatchIndex() {
  std::vector<BatchIndexListing> out;
  auto has = HasTable("ledger_batches");
  if (!has.ok()) return has.status();
  if (!*has) return out;
  auto s = Prepare(
      "SELECT seq, store, target, CAST(key_lo AS TEXT), CAST(key_hi AS TEXT), "
      "typeof(key_lo) = 'integer' AND typeof(key_hi) = 'integer', open FROM ledger_batches ORDER BY seq");
  if (!s.ok()) return s.status();
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    BatchIndexListing l;
    l.seq = s->Int(0);
    l.row.store = s->Text(1);
    l.row.target = s->Text(2);
    l.row.key_lo = s->Text(3);
    l.row.key_hi = s->Text(4);
    l.row.integer_keys = s->Int(5) != 0;
    l.open = s->Int(6) != 0;
    out.push_back(std::move(l));
  }
  if (rc != SQLITE_DONE) return Error(rc, "read the batch index");
  return out;
}

Status SqliteStateDb::ScanBatchesAndSettlements(
    const std::function<bool(int64_t seq, LedgerKind kind, const std::string& detail)>& visit) {
  // Its own statement, not the cache: `visit` may use this object. The
  // payload column is not read, so a batch's overflow pages are not either.
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(
      db_, "SELECT seq, kind, detail FROM ledger WHERE kind = 'batch' OR instr(detail, '\"settles\"') > 0 ORDER BY seq",
      -1, &raw, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "read the ledger's batch entries and settlements");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owner(raw, sqlite3_finalize);
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    const auto* kind_text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 1));
    const std::optional<LedgerKind> kind = LedgerKindFromName(kind_text ? kind_text : "");
    if (!kind) return Status::AuditFailed("ledger entry " + std::to_string(sqlite3_column_int64(raw, 0)) +
                                          " has an unknown kind");
    const auto* detail = reinterpret_cast<const char*>(sqlite3_column_text(raw, 2));
    if (!visit(sqlite3_column_int64(raw, 0), *kind, detail ? std::string(detail) : std::string())) return Status::Ok();
  }
  if (rc != SQLITE_DONE) return Error(rc, "read the ledger's batch entries and settlements");
  return Status::Ok();
}

// A key that reads as an integer may belong to an integer-keyed batch (its
// range stored as INTEGER) or to a text-keyed one (TEXT): both are asked.
// SQLite orders every INTEGER before every TEXT, so each half names the
// type it wants and bounds key_lo from below as well, so that the index
// range it reads is short: text from '' up (not every integer row below
// it), integers from the key less the target's widest span
// (ledger_key_spans; unbounded without one). A range reaching the key
// starts no further below it than that.
Result<std::vector<int64_t>> SqliteStateDb::BatchesReaching(const std::string& store, const std::string& target,
                                                            const std::string& key) {
  std::vector<int64_t> out;
  auto has = HasTable("ledger_batches");
  if (!has.ok()) return has.status();
  if (!*has) return out;
  const std::optional<int64_t> as_int = CanonicalInt(key);
  int64_t lowest = INT64_MIN;
  auto spans = HasTable("ledger_key_spans");
  if (!spans.ok()) return spans.status();
  if (as_int && *spans) {
    auto w = Prepare("SELECT widest FROM ledger_key_spans WHERE store = ?1 AND target = ?2");
    if (!w.ok()) return w.status();
    w->Bind(1, store);
    w->Bind(2, target);
    const int rc = w->Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(rc, "read the key span index");
    // A span that is no INTEGER >= 0 (edited by hand) bounds nothing.
    if (rc == SQLITE_ROW && sqlite3_column_type(w->raw(), 0) == SQLITE_INTEGER && w->Int(0) >= 0 &&
        __builtin_sub_overflow(*as_int, w->Int(0), &lowest))
      lowest = INT64_MIN;
    sqlite3_reset(w->raw());
  }
  auto s = Prepare(
      "SELECT seq FROM ledger_batches WHERE store = ?1 AND target = ?2 AND key_lo >= '' AND key_lo <= ?3 "
      "AND key_hi >= ?3 AND typeof(key_lo) = 'text' "
      "UNION ALL "
      "SELECT seq FROM ledger_batches WHERE ?4 IS NOT NULL AND store = ?1 AND target = ?2 "
      "AND key_lo >= ?5 AND key_lo <= ?4 AND key_hi >= ?4 AND typeof(key_lo) = 'integer' "
      "ORDER BY 1");
  if (!s.ok()) return s.status();
  s->Bind(1, store);
  s->Bind(2, target);
  s->Bind(3, key);
  s->Bind(4, as_int);
  s->Bind(5, lowest);
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) out.push_back(s->Int(0));
  if (rc != SQLITE_DONE) return Error(rc, "read the batch index");
  return out;
}

Result<std::optional<std::vector<int64_t>>> SqliteStateDb::LookupEntries(const LedgerLookup& lookup) {
  using Found = std::optional<std::vector<int64_t>>;
  const ReadPin pin = PinRead();
  auto has = HasTable("ledger_subjects");
  if (!has.ok()) return has.status();
  if (!*has) return Found();
  std::vector<int64_t> seqs;
  auto collect = [&](Stmt& s, std::string_view what) -> Status {
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) seqs.push_back(s.Int(0));
    if (rc != SQLITE_DONE) return Error(rc, what);
    return Status::Ok();
  };
  if (lookup.key) {
    auto s = Prepare("SELECT seq FROM ledger WHERE record_key = ?1 AND record_key <> ''");
    if (!s.ok()) return s.status();
    s->Bind(1, *lookup.key);
    RETENTION_RETURN_IF_ERROR(collect(*s, "look a key up in the ledger"));
    // The batch index per store and target: those named, or each pair the
    // index holds, stepped through its (store, target) prefix: the next
    // target of the same store, else the first of the next store (each a
    // seek; a row value (store, target) > (?, ?) seeks on store alone and
    // reads every row of it).
    std::vector<std::pair<std::string, std::string>> targets;
    if (lookup.store && lookup.target) {
      targets.emplace_back(*lookup.store, *lookup.target);
    } else {
      auto same_store =
          Prepare("SELECT store, target FROM ledger_batches WHERE store = ?1 AND target > ?2 ORDER BY target LIMIT 1");
      if (!same_store.ok()) return same_store.status();
      auto next_store =
          Prepare("SELECT store, target FROM ledger_batches WHERE store > ?1 ORDER BY store, target LIMIT 1");
      if (!next_store.ok()) return next_store.status();
      auto first = Prepare("SELECT store, target FROM ledger_batches ORDER BY store, target LIMIT 1");
      if (!first.ok()) return first.status();
      std::optional<std::pair<std::string, std::string>> at;  // none yet: from the first pair
      auto step = [&](Stmt& s) -> Result<bool> {
        const int rc = s.Step();
        if (rc == SQLITE_ROW) at = std::make_pair(s.Text(0), s.Text(1));
        sqlite3_reset(s.raw());
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(rc, "read the batch index");
        return rc == SQLITE_ROW;
      };
      for (;;) {
        bool found = false;
        if (at) {
          same_store->Bind(1, at->first);
          same_store->Bind(2, at->second);
          auto r = step(*same_store);
          if (!r.ok()) return r.status();
          found = *r;
        }
        if (!found) {
          if (at) next_store->Bind(1, at->first);
          auto r = step(at ? *next_store : *first);
          if (!r.ok()) return r.status();
          if (!*r) break;
        }
        if ((!lookup.store || *lookup.store == at->first) && (!lookup.target || *lookup.target == at->second))
          targets.push_back(*at);
      }
    }
    for (const auto& [store, target] : targets) {
      auto reaching = BatchesReaching(store, target, *lookup.key);
      if (!reaching.ok()) return reaching.status();
      seqs.insert(seqs.end(), reaching->begin(), reaching->end());
    }
  } else if (lookup.subject) {
    auto by_bucket = SubjectsByBucket();
    if (!by_bucket.ok()) return by_bucket.status();
    const std::string sql = std::string("SELECT seq FROM ledger WHERE subject = ?1 AND subject <> '' "
                                        "UNION ALL SELECT seq FROM ledger_subjects WHERE subject = ?1") +
                            (*by_bucket ? " AND bucket = ?2" : " AND ?2 IS NOT NULL");
    auto s = Prepare(sql.c_str());
    if (!s.ok()) return s.status();
    s->Bind(1, *lookup.subject);
    s->Bind(2, int64_t{SubjectBucket(*lookup.subject)});
    RETENTION_RETURN_IF_ERROR(collect(*s, "look a subject up in the ledger"));
  } else if (lookup.run_id) {
    auto events = HasIndex("ledger_run_events");
    if (!events.ok()) return events.status();
    auto s = Prepare(lookup.run_events_only && *events
                         ? "SELECT seq FROM ledger WHERE run_id = ?1 "
                           "AND kind IN ('run_start', 'run_end', 'reconciled', 'anchor')"
                         : "SELECT seq FROM ledger WHERE run_id = ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, *lookup.run_id);
    RETENTION_RETURN_IF_ERROR(collect(*s, "look a run up in the ledger"));
  } else {
    return Status::Internal("LookupEntries: no key, subject or run to look up");
  }
  // The entries that settle the batches found.
  auto settled = Prepare("SELECT settled_by, open FROM ledger_batches WHERE seq = ?1");
  if (!settled.ok()) return settled.status();
  std::map<int64_t, std::vector<int64_t>> settlers;  // settling seq -> the batches it settles, says the index
  const size_t found = seqs.size();
  for (size_t i = 0; i < found; ++i) {
    settled->Bind(1, seqs[i]);
    const int rc = settled->Step();
    if (rc == SQLITE_ROW) {
      if (!settled->IsNull(0)) {
        settlers[settled->Int(0)].push_back(seqs[i]);
      } else if (settled->Int(1) == 0) {
        sqlite3_reset(settled->raw());
        return Found();  // closed, yet settled by no entry: the index is not to be trusted
      }
    } else if (rc != SQLITE_DONE) {
      return Error(rc, "read the batch index");
    }
    sqlite3_reset(settled->raw());
  }
  // Each settling entry named must settle those batches: a settled_by
  // edited to another entry would show a deleted record as pending.
  std::vector<int64_t> by;
  for (const auto& [seq, batches] : settlers) by.push_back(seq);
  bool agrees = true;
  Status bad;
  RETENTION_RETURN_IF_ERROR(ReadEntries(by, [&](const LedgerEntry& e) {
    // Only the settlement (its detail): the payload is the reader's to decode.
    auto settles = SettlementsOf(e.detail);
    if (!settles.ok()) {
      bad = settles.status();
      return false;
    }
    for (int64_t batch : settlers[e.seq])
      if (std::none_of(settles->begin(), settles->end(), [&](const Settlement& s) { return s.batch_seq == batch; }))
        agrees = false;
    settlers.erase(e.seq);
    return agrees;
  }));
  RETENTION_RETURN_IF_ERROR(bad);
  if (!agrees || !settlers.empty()) return Found();  // a settling entry that does not settle them, or is not there
  seqs.insert(seqs.end(), by.begin(), by.end());
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  return Found(std::move(seqs));
}

SqliteStateDb::ReadPin SqliteStateDb::PinRead() {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT max(seq) FROM ledger", -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return ReadPin(nullptr, sqlite3_finalize);
  }
  ReadPin pin(raw, sqlite3_finalize);
  if (sqlite3_step(raw) != SQLITE_ROW) pin.reset();
  return pin;
}

Status SqliteStateDb::ReadEntries(const std::vector<int64_t>& seqs, const std::function<bool(LedgerEntry&)>& visit) {
  const ReadPin pin = PinRead();
  auto has_payload = HasColumn("ledger", "payload");
  if (!has_payload.ok()) return has_payload.status();
  // Its own statement, not the cache: `visit` may use this object.
  const std::string sql = std::string("SELECT ") + kLedgerColumns + (*has_payload ? ", payload" : ", x''") +
                          " FROM ledger WHERE seq = ?1";
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "read the ledger");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owner(raw, sqlite3_finalize);
  LedgerEntry e;
  for (int64_t seq : seqs) {
    sqlite3_bind_int64(raw, 1, seq);
    rc = sqlite3_step(raw);
    if (rc == SQLITE_ROW) {
      RETENTION_RETURN_IF_ERROR(DecodeLedgerRow(raw, e));
      sqlite3_reset(raw);
      if (!visit(e)) return Status::Ok();
      continue;
    }
    sqlite3_reset(raw);
    if (rc != SQLITE_DONE) return Error(rc, "read the ledger");
  }
  return Status::Ok();
}

Result<std::vector<std::pair<int64_t, std::string>>> SqliteStateDb::ListSubjectIndex() {
  std::vector<std::pair<int64_t, std::string>> out;
  auto has = HasTable("ledger_subjects");
  if (!has.ok()) return has.status();
  if (!*has) return out;
  auto by_bucket = SubjectsByBucket();
  if (!by_bucket.ok()) return by_bucket.status();
  const std::string sql = std::string("SELECT seq, subject, ") + (*by_bucket ? "bucket" : "NULL") +
                          " FROM ledger_subjects ORDER BY seq, subject";
  auto s = Prepare(sql.c_str());
  if (!s.ok()) return s.status();
  int rc;
  // A row filed under another bucket than its subject's is one no lookup
  // finds: listed as missing, so audit verify names the index edited.
  while ((rc = s->Step()) == SQLITE_ROW)
    if (!*by_bucket || s->Int(2) == SubjectBucket(s->Text(1))) out.emplace_back(s->Int(0), s->Text(1));
  if (rc != SQLITE_DONE) return Error(rc, "read the subject index");
  return out;
}

Result<std::vector<std::pair<int64_t, int64_t>>> SqliteStateDb::ListSettledBy() {
  std::vector<std::pair<int64_t, int64_t>> out;
  auto has = HasColumn("ledger_batches", "settled_by");
  if (!has.ok()) return has.status();
  if (!*has) return out;
  auto s = Prepare("SELECT seq, settled_by FROM ledger_batches WHERE settled_by IS NOT NULL ORDER BY seq");
  if (!s.ok()) return s.status();
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) out.emplace_back(s->Int(0), s->Int(1));
  if (rc != SQLITE_DONE) return Error(rc, "read the batch index");
  return out;
}

Result<std::optional<std::vector<KeySpanRow>>> SqliteStateDb::ListKeySpans() {
  using Rows = std::optional<std::vector<KeySpanRow>>;
  auto has = HasTable("ledger_key_spans");
  if (!has.ok()) return has.status();
  if (!*has) return Rows();
  auto s = Prepare("SELECT store, target, widest FROM ledger_key_spans ORDER BY store, target");
  if (!s.ok()) return s.status();
  std::vector<KeySpanRow> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    const bool bounds = sqlite3_column_type(s->raw(), 2) == SQLITE_INTEGER && s->Int(2) >= 0;
    out.push_back(KeySpanRow{s->Text(0), s->Text(1), bounds ? s->Int(2) : INT64_MAX});
  }
  if (rc != SQLITE_DONE) return Error(rc, "read the key span index");
  return Rows(std::move(out));
}

Result<std::optional<RunTallies>> SqliteStateDb::ListRunTallies(std::optional<int64_t> run_id) {
  using Found = std::optional<RunTallies>;
  const ReadPin pin = PinRead();  // the head and the rows of one snapshot
  auto has = HasTable("run_tallies");
  if (!has.ok()) return has.status();
  if (!*has) return Found();
  RunTallies out;
  auto head = Head();
  if (!head.ok()) return head.status();
  out.head_seq = head->seq;
  auto s = Prepare(run_id ? "SELECT run_id, category, deleted, kept, kept_by_hold FROM run_tallies "
                            "WHERE run_id = ?1 ORDER BY category"
                          : "SELECT run_id, category, deleted, kept, kept_by_hold FROM run_tallies "
                            "ORDER BY run_id, category");
  if (!s.ok()) return s.status();
  if (run_id) s->Bind(1, *run_id);
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW)
    out.rows.push_back(RunTallyRow{s->Int(0), s->Text(1), RecordTally{s->Int(2), s->Int(3), s->Int(4)}});
  if (rc != SQLITE_DONE) return Error(rc, "read the run tallies");
  if (run_id) return Found(std::move(out));
  // Read from the events index (a few entries a run) and the tallies, not
  // from the ledger.
  auto runs = Prepare(
      "SELECT run_id FROM run_tallies UNION SELECT run_id FROM ledger "
      "WHERE kind IN ('run_start', 'run_end', 'reconciled', 'anchor') AND run_id <> 0 ORDER BY 1");
  if (!runs.ok()) return runs.status();
  while ((rc = runs->Step()) == SQLITE_ROW) out.runs.push_back(runs->Int(0));
  if (rc != SQLITE_DONE) return Error(rc, "read the runs the ledger names");
  return Found(std::move(out));
}

// ---- runs ---------------------------------------------------------------

RunInfo SqliteStateDb::ReadRun(const Stmt& s) {
  RunInfo r;
  r.id = s.Int(0);
  r.started_at = s.Time(1);
  r.ended_at = s.OptTime(2);
  r.as_of = s.Time(3);
  r.user = s.Text(4);
  r.host = s.Text(5);
  r.version = s.Text(6);
  r.rules_hash = s.Text(7);
  r.command = s.Text(8);
  r.outcome = s.Text(9);
  r.exit_code = static_cast<int>(s.Int(10));
  return r;
}

Result<int64_t> SqliteStateDb::InsertRun(const RunInfo& run) {
  auto s = Prepare(
      "INSERT INTO runs(started_at, ended_at, as_of, user, host, version, rules_hash, "
      "command, outcome, exit_code) VALUES(?1, NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!s.ok()) return s.status();
  s->Bind(1, run.started_at);
  s->Bind(2, run.as_of);
  s->Bind(3, run.user);
  s->Bind(4, run.host);
  s->Bind(5, run.version);
  s->Bind(6, run.rules_hash);
  s->Bind(7, run.command);
  s->Bind(8, run.outcome);
  s->Bind(9, int64_t{run.exit_code});
  RETENTION_RETURN_IF_ERROR(StepDone(*s, "record the run"));
  return int64_t{sqlite3_last_insert_rowid(db_)};
}

Status SqliteStateDb::FinishRun(int64_t run_id, const std::string& outcome, int exit_code, Timestamp ended_at) {
  {
    auto s = Prepare(
        "UPDATE runs SET ended_at = ?2, outcome = ?3, exit_code = ?4 "
        "WHERE id = ?1 AND outcome = 'running'");
    if (!s.ok()) return s.status();
    s->Bind(1, run_id);
    s->Bind(2, ended_at);
    s->Bind(3, outcome);
    s->Bind(4, int64_t{exit_code});
    RETENTION_RETURN_IF_ERROR(StepDone(*s, "record the end of the run"));
  }
  if (sqlite3_changes(db_) != 1) {
    return Status::Invalid("run " + std::to_string(run_id) + " does not exist or has ended");
  }
  return Status::Ok();
}

Status SqliteStateDb::PutErasureRequest(const ErasureRequest& r) {
  auto s = Prepare(
      "INSERT INTO erasure_requests(reference, subject, received, deadline, executed, outcome, "
      "erased, kept, last_run_id, first_seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT(reference) DO UPDATE SET subject = ?2, received = ?3, deadline = ?4, executed = ?5, "
      "outcome = ?6, erased = ?7, kept = ?8, last_run_id = ?9");  // first_seq: kept as first written
  if (!s.ok()) return s.status();
  s->Bind(1, r.reference);
  s->Bind(2, r.subject);
  s->Bind(3, r.received);
  s->Bind(4, r.deadline);
  s->Bind(5, r.executed);
  s->Bind(6, r.outcome);
  s->Bind(7, r.erased);
  s->Bind(8, r.kept);
  s->Bind(9, r.last_run_id);
  s->Bind(10, r.first_seq);
  return StepDone(*s, "record the erasure request");
}

Result<std::vector<ErasureRequest>> SqliteStateDb::ReadErasureRequests(const std::string* reference) {
  std::vector<ErasureRequest> out;
  auto has = HasTable("erasure_requests");  // a version 4 database opened read-only has none
  if (!has.ok()) return has.status();
  if (!*has) return out;
  auto s = Prepare(reference ? "SELECT reference, subject, received, deadline, executed, outcome, erased, kept, "
                               "last_run_id, first_seq FROM erasure_requests WHERE reference = ?1"
                             : "SELECT reference, subject, received, deadline, executed, outcome, erased, kept, "
                               "last_run_id, first_seq FROM erasure_requests ORDER BY received, reference");
  if (!s.ok()) return s.status();
  if (reference) s->Bind(1, *reference);
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    ErasureRequest r;
    r.reference = s->Text(0);
    r.subject = s->Text(1);
    r.received = s->Time(2);
    r.deadline = s->Time(3);
    r.executed = s->OptTime(4);
    r.outcome = s->Text(5);
    r.erased = s->Int(6);
    r.kept = s->Int(7);
    r.last_run_id = s->Int(8);
    r.first_seq = s->Int(9);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Error(rc, "read the erasure requests");
  return out;
}

Result<std::optional<ErasureRequest>> SqliteStateDb::GetErasureRequest(const std::string& reference) {
  auto rows = ReadErasureRequests(&reference);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<ErasureRequest>();
  return std::optional<ErasureRequest>(std::move(rows->front()));
}

Result<std::vector<ErasureRequest>> SqliteStateDb::ListErasureRequests() { return ReadErasureRequests(nullptr); }

Result<std::optional<RunInfo>> SqliteStateDb::LastRun() {
  static const std::string sql =
      std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id DESC LIMIT 1";
  auto s = Prepare(sql.c_str());
  if (!s.ok()) return s.status();
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<RunInfo>();
  if (rc != SQLITE_ROW) return Error(rc, "read the runs");
  return std::optional<RunInfo>(ReadRun(*s));
}

Result<std::vector<RunInfo>> SqliteStateDb::UnfinishedRuns() {
  static const std::string sql = std::string("SELECT ") + kRunColumns +
                                 " FROM runs WHERE outcome = 'running' ORDER BY id";
  auto s = Prepare(sql.c_str());
  if (!s.ok()) return s.status();
  std::vector<RunInfo> runs;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) runs.push_back(ReadRun(*s));
  if (rc != SQLITE_DONE) return Error(rc, "read the runs");
  return runs;
}

Status SqliteStateDb::MarkRunCrashed(int64_t run_id) {
  {
    // ended_at stays NULL: when the process died is unknown.
    auto s = Prepare(
        "UPDATE runs SET outcome = 'crashed' WHERE id = ?1 AND outcome = 'running'");
    if (!s.ok()) return s.status();
    s->Bind(1, run_id);
    RETENTION_RETURN_IF_ERROR(StepDone(*s, "mark the run crashed"));
  }
  if (sqlite3_changes(db_) != 1) {
    return Status::Invalid("run " + std::to_string(run_id) + " does not exist or has ended");
  }
  return Status::Ok();
}

// ---- pending batches ------------------------------------------------------

Result<int64_t> SqliteStateDb::AddPending(const PendingBatch& batch) {
  RETENTION_RETURN_IF_ERROR(RequireWritable());
  Txn txn(this);
  RETENTION_RETURN_IF_ERROR(txn.Begin());
  {
    auto s = Prepare(
        "INSERT INTO pending(run_id, batch, category, store, target, rule, cutoff) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s.ok()) return s.status();
    s->Bind(1, batch.run_id);
    s->Bind(2, batch.batch);
    s->Bind(3, batch.category);
    s->Bind(4, batch.store);
    s->Bind(5, batch.target);
    s->Bind(6, batch.rule);
    s->Bind(7, batch.cutoff);
    RETENTION_RETURN_IF_ERROR(StepDone(*s, "record a pending batch"));
  }
  const int64_t id = sqlite3_last_insert_rowid(db_);
  auto r = Prepare(
      "INSERT INTO pending_records(pending_id, ord, key, clock, subject, identity) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  if (!r.ok()) return r.status();
  int64_t ord = 0;
  for (const PendingBatch::Record& rec : batch.records) {
    r->Bind(1, id);
    r->Bind(2, ord++);
    r->Bind(3, rec.key);
    r->Bind(4, rec.clock);
    r->Bind(5, rec.subject);
    r->Bind(6, rec.identity);
    RETENTION_RETURN_IF_ERROR(StepDone(*r, "record a pending batch"));
    sqlite3_reset(r->raw());
  }
  RETENTION_RETURN_IF_ERROR(txn.Commit());
  return id;
}

Status SqliteStateDb::RemovePending(int64_t pending_id) {
  {
    auto s = Prepare("DELETE FROM pending WHERE id = ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, pending_id);
    RETENTION_RETURN_IF_ERROR(StepDone(*s, "settle a pending batch"));
  }
  if (sqlite3_changes(db_) != 1) {
    return Status::Internal("pending batch " + std::to_string(pending_id) +
                            " does not exist (settled twice?)");
  }
  auto s = Prepare("DELETE FROM pending_records WHERE pending_id = ?1");
  if (!s.ok()) return s.status();
  s->Bind(1, pending_id);
  return StepDone(*s, "settle a pending batch");
}

Result<std::vector<PendingBatch>> SqliteStateDb::ListPending() {
  std::vector<PendingBatch> out;
  {
    auto s = Prepare(
        "SELECT id, run_id, batch, category, store, target, rule, cutoff FROM pending "
        "ORDER BY id");
    if (!s.ok()) return s.status();
    int rc;
    while ((rc = s->Step()) == SQLITE_ROW) {
      PendingBatch b;
      b.id = s->Int(0);
      b.run_id = s->Int(1);
      b.batch = s->Int(2);
      b.category = s->Text(3);
      b.store = s->Text(4);
      b.target = s->Text(5);
      b.rule = s->Text(6);
      b.cutoff = s->Text(7);
      out.push_back(std::move(b));
    }
    if (rc != SQLITE_DONE) return Error(rc, "read the pending batches");
  }
  if (out.empty()) return out;
  // A version 2 database opened read-only has no identity column: its
  // records have no identity.
  bool has_identity = false;
  {
    auto s = Prepare(
        "SELECT count(*) FROM pragma_table_info('pending_records') WHERE name = 'identity'");
    if (!s.ok()) return s.status();
    const int rc = s->Step();
    if (rc != SQLITE_ROW) return Error(rc, "read its schema");
    has_identity = s->Int(0) != 0;
  }
  for (PendingBatch& b : out) {
    auto s = Prepare(has_identity ? "SELECT key, clock, subject, identity FROM pending_records "
                                    "WHERE pending_id = ?1 ORDER BY ord"
                                  : "SELECT key, clock, subject, NULL FROM pending_records "
                                    "WHERE pending_id = ?1 ORDER BY ord");
    if (!s.ok()) return s.status();
    s->Bind(1, b.id);
    int rc;
    while ((rc = s->Step()) == SQLITE_ROW) {
      b.records.push_back({s->Text(0), s->Text(1), s->Text(2), s->OptText(3)});
    }
    if (rc != SQLITE_DONE) return Error(rc, "read the pending batches");
  }
  return out;
}

// ---- holds ----------------------------------------------------------------

Hold SqliteStateDb::ReadHold(const Stmt& s) {
  Hold h;
  h.id = s.Int(0);
  h.matter = s.Text(1);
  h.reason = s.Text(2);
  h.author = s.Text(3);
  h.placed_at = s.Time(4);
  h.expires_at = s.OptTime(5);
  h.scope.category = s.OptText(6);
  h.scope.target = s.OptText(7);
  h.scope.subject_kind = s.OptText(8);
  h.scope.subject_id = s.OptText(9);
  h.scope.key = s.OptText(10);
  h.scope.clock_from = s.OptTime(11);
  h.scope.clock_until = s.OptTime(12);
  h.released_at = s.OptTime(13);
  h.released_by = s.Text(14);
  h.release_reason = s.Text(15);
  return h;
}

Result<int64_t> SqliteStateDb::InsertHold(const Hold& h) {
  auto s = Prepare(
      "INSERT INTO holds(matter, reason, author, placed_at, expires_at, scope_category, "
      "scope_target, scope_subject_kind, scope_subject_id, scope_key, scope_clock_from, "
      "scope_clock_until) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (!s.ok()) return s.status();
  s->Bind(1, h.matter);
  s->Bind(2, h.reason);
  s->Bind(3, h.author);
  s->Bind(4, h.placed_at);
  s->Bind(5, h.expires_at);
  s->Bind(6, h.scope.category);
  s->Bind(7, h.scope.target);
  s->Bind(8, h.scope.subject_kind);
  s->Bind(9, h.scope.subject_id);
  s->Bind(10, h.scope.key);
  s->Bind(11, h.scope.clock_from);
  s->Bind(12, h.scope.clock_until);
  RETENTION_RETURN_IF_ERROR(StepDone(*s, "record the hold"));
  return int64_t{sqlite3_last_insert_rowid(db_)};
}

Result<Hold> SqliteStateDb::MarkHoldReleased(int64_t id, const std::string& by, const std::string& reason,
                                             Timestamp at) {
  auto hold = GetHold(id);
  if (!hold.ok()) return hold.status();
  if (!*hold) return Status::Invalid("hold " + std::to_string(id) + " does not exist");
  if ((*hold)->released_at) {
    return Status::Invalid("hold " + std::to_string(id) + " was already released at " +
                           FormatTimestamp(*(*hold)->released_at) + " by " + (*hold)->released_by);
  }
  auto s = Prepare(
      "UPDATE holds SET released_at = ?2, released_by = ?3, release_reason = ?4 "
      "WHERE id = ?1 AND released_at IS NULL");
  if (!s.ok()) return s.status();
  s->Bind(1, id);
  s->Bind(2, at);
  s->Bind(3, by);
  s->Bind(4, reason);
  RETENTION_RETURN_IF_ERROR(StepDone(*s, "release the hold"));
  return std::move(**hold);
}

Result<std::vector<Hold>> SqliteStateDb::ListHolds(bool include_released) {
  static const std::string sql = std::string("SELECT ") + kHoldColumns +
                                 " FROM holds WHERE ?1 OR released_at IS NULL ORDER BY id";
  auto s = Prepare(sql.c_str());
  if (!s.ok()) return s.status();
  s->Bind(1, int64_t{include_released ? 1 : 0});
  std::vector<Hold> holds;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) holds.push_back(ReadHold(*s));
  if (rc != SQLITE_DONE) return Error(rc, "read the holds");
  return holds;
}

Result<std::optional<Hold>> SqliteStateDb::GetHold(int64_t id) {
  static const std::string sql = std::string("SELECT ") + kHoldColumns +
                                 " FROM holds WHERE id = ?1";
  auto s = Prepare(sql.c_str());
  if (!s.ok()) return s.status();
  s->Bind(1, id);
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<Hold>();
  if (rc != SQLITE_ROW) return Error(rc, "read the hold");
  return std::optional<Hold>(ReadHold(*s));
}

// ---- audit cross-check (read-only) -----------------------------------------

Result<std::vector<RunInfo>> SqliteStateDb::ListRuns() {
  static const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id";
  auto s = Prepare(sql.c_str());
  if (!s.ok()) return s.status();
  std::vector<RunInfo> runs;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) runs.push_back(ReadRun(*s));
  if (rc != SQLITE_DONE) return Error(rc, "read the runs");
  return runs;
}

Result<std::vector<std::pair<int64_t, int64_t>>> SqliteStateDb::ListAnchorRows() {
  std::vector<std::pair<int64_t, int64_t>> rows;
  // A version 1 database opened read-only has no anchors table.
  auto has = Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_anchors'");
  if (!has.ok()) return has.status();
  int rc = has->Step();
  if (rc != SQLITE_ROW) return Error(rc, "read its schema");
  const bool present = has->Int(0) != 0;
  sqlite3_reset(has->raw());
  if (!present) return rows;
  auto s = Prepare("SELECT seq, through FROM ledger_anchors ORDER BY seq");
  if (!s.ok()) return s.status();
  while ((rc = s->Step()) == SQLITE_ROW) rows.emplace_back(s->Int(0), s->Int(1));
  if (rc != SQLITE_DONE) return Error(rc, "read the ledger anchors");
  return rows;
}

}  // namespace

Result<std::unique_ptr<StateDb>> OpenSqliteStateDb(const fs::path& path,
                                                   const SqliteStateDbOptions& options) {
  auto db = std::make_unique<SqliteStateDb>(path, options);
  RETENTION_RETURN_IF_ERROR(db->Open());
  return std::unique_ptr<StateDb>(std::move(db));
}

Result<std::unique_ptr<StateDb>> OpenSqliteStateDb(const fs::path& path, bool read_only) {
  SqliteStateDbOptions options;
  options.read_only = read_only;
  return OpenSqliteStateDb(path, options);
}

Status MarkSqliteStateMoved(const fs::path& path, const LedgerHead& copied, const std::string& to) {
  SqliteStateDb db(path, SqliteStateDbOptions{});
  db.AllowMoved();
  RETENTION_RETURN_IF_ERROR(db.Open());
  return db.MarkMoved(copied, to);
}

Result<std::optional<std::string>> SqliteStateMovedTo(const fs::path& path) {
  SqliteStateDbOptions options;
  options.read_only = true;
  SqliteStateDb db(path, options);
  db.AllowMoved();
  RETENTION_RETURN_IF_ERROR(db.Open());
  return db.MovedTo();
}

Result<std::unique_ptr<StateDb>> CreateSqliteStateDb(const fs::path& path) {
  SqliteStateDbOptions options;
  options.create = true;
  return OpenSqliteStateDb(path, options);
}

bool StateDbExists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

Status MissingStateDbStatus(const fs::path& path) {
  return Status::Unavailable("state database " + Quoted(path) + " does not exist. " + kRestoreOrInit);
}

}  // namespace retention
