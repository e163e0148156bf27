// The PostgreSQL state database (issue 15).
//
// SCHEMA "<schema>" (default retention), version 1 (meta.schema_version).
// The tables of the SQLite state at its version 6 (sqlite_state_db.cc), with
// the same meaning; only the types differ. Every timestamp is bigint unix
// microseconds UTC, every id an identity column (never reused), every text
// column NOT NULL unless said.
//
//   meta(key text PRIMARY KEY, value text)
//        -- schema_version, created_at, created_by. The schema_version row
//        -- is the head lock: every append transaction locks it (FOR
//        -- UPDATE) before it reads the ledger's head, so appenders on all
//        -- hosts take turns and their entries form one chain.
//   runs(id, started_at, ended_at NULL, as_of, "user", host, version,
//        rules_hash, command, outcome, exit_code integer)
//   holds(id, matter, reason, author, placed_at, expires_at NULL,
//        scope_category, scope_target, scope_subject_kind, scope_subject_id,
//        scope_key NULL,                     -- NULL: not part of the scope
//        scope_clock_from, scope_clock_until NULL,
//        released_at NULL,                   -- NULL while in force
//        released_by, release_reason DEFAULT '')
//        -- triggers abort DELETE and TRUNCATE: holds are only released
//   pending(id, run_id, batch, category, store, target, rule, cutoff)
//   pending_records(pending_id, ord, key, clock, subject, identity NULL,
//        PRIMARY KEY(pending_id, ord))
//   ledger(seq bigint PRIMARY KEY, at, kind, run_id, category, store, target,
//        record_key, clock, cutoff, rule, subject, batch, detail, prev_hash,
//        hash, payload bytea DEFAULT '')
//        -- fields and chain: ledger/ledger.cc. Triggers abort UPDATE,
//        -- TRUNCATE, and DELETE of an entry no anchor has pruned
//   ledger_anchors(seq PRIMARY KEY, through)   -- append-only
//   ledger_batches(seq PRIMARY KEY, store, target,
//        integer_keys boolean,               -- every key of the batch an integer
//        key_lo, key_hi text COLLATE "C",    -- its smallest and largest key
//                                            --   (decimal text when integer_keys)
//        key_lo_int, key_hi_int bigint NULL, -- the same as integers, or NULL
//        open boolean, settled_by bigint NULL)
//        -- SQLite keeps one column typed per row; here the two forms are
//        -- separate columns. COLLATE "C": bytes compare as in SQLite.
//   erasure_requests(reference PRIMARY KEY, subject, received, deadline,
//        executed NULL, outcome, erased, kept, last_run_id, first_seq)
//   ledger_subjects(subject, seq, PRIMARY KEY(subject, seq)); index on seq
//   indexes on ledger: run_id; record_key and subject where not ''
//
// Text is the database's text: a record key that is not valid in the
// database encoding (a file name that is not UTF-8) is refused by the
// server when its pending batch is written, before anything is deleted.
//
// MIGRATION: the first read-write open creates the schema, or brings an
// older version up to this one, in one transaction under an advisory
// transaction lock on the schema's name, so two hosts starting at once do
// it once. A schema whose version is newer than this binary is refused.
#include "state/postgres_state_db.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <vector>

#include "ledger/batch_entry.h"
#include "ledger/entry_index.h"
#include "state/chained_entries.h"
#include "stores/postgres_connection.h"
#include "util/identity.h"

#ifndef RETENTION_VERSION
#define RETENTION_VERSION "dev"
#endif

namespace retention {
namespace {

// Version 1: everything. The trigger functions keep the search_path they
// were created with, so they find their tables from any session.
constexpr const char* kSchemaV1Sql = R"sql(
CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE runs(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at bigint NOT NULL,
  ended_at bigint,
  as_of bigint NOT NULL,
  "user" text NOT NULL,
  host text NOT NULL,
  version text NOT NULL,
  rules_hash text NOT NULL,
  command text NOT NULL,
  outcome text NOT NULL,
  exit_code integer NOT NULL DEFAULT 0);
CREATE TABLE holds(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  matter text NOT NULL,
  reason text NOT NULL,
  author text NOT NULL,
  placed_at bigint NOT NULL,
  expires_at bigint,
  scope_category text,
  scope_target text,
  scope_subject_kind text,
  scope_subject_id text,
  scope_key text,
  scope_clock_from bigint,
  scope_clock_until bigint,
  released_at bigint,
  released_by text NOT NULL DEFAULT '',
  release_reason text NOT NULL DEFAULT '');
CREATE FUNCTION holds_never_deleted() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'holds are never deleted, only released'; END$$;
CREATE TRIGGER holds_never_deleted BEFORE DELETE ON holds
  FOR EACH ROW EXECUTE FUNCTION holds_never_deleted();
CREATE TRIGGER holds_never_truncated BEFORE TRUNCATE ON holds
  FOR EACH STATEMENT EXECUTE FUNCTION holds_never_deleted();
CREATE TABLE pending(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id bigint NOT NULL,
  batch bigint NOT NULL,
  category text NOT NULL,
  store text NOT NULL,
  target text NOT NULL,
  rule text NOT NULL,
  cutoff text NOT NULL);
CREATE TABLE pending_records(
  pending_id bigint NOT NULL,
  ord bigint NOT NULL,
  key text NOT NULL,
  clock text NOT NULL,
  subject text NOT NULL,
  identity text,
  PRIMARY KEY(pending_id, ord));
CREATE TABLE ledger(
  seq bigint PRIMARY KEY,
  at bigint NOT NULL,
  kind text NOT NULL,
  run_id bigint NOT NULL,
  category text NOT NULL,
  store text NOT NULL,
  target text NOT NULL,
  record_key text NOT NULL,
  clock text NOT NULL,
  cutoff text NOT NULL,
  rule text NOT NULL,
  subject text NOT NULL,
  batch bigint NOT NULL,
  detail text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  payload bytea NOT NULL DEFAULT ''::bytea);
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'the ledger is append-only'; END$$;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TABLE ledger_anchors(
  seq bigint PRIMARY KEY,
  through bigint NOT NULL);
CREATE FUNCTION ledger_anchors_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'ledger anchors are append-only'; END$$;
CREATE TRIGGER ledger_anchors_no_change BEFORE UPDATE OR DELETE ON ledger_anchors
  FOR EACH ROW EXECUTE FUNCTION ledger_anchors_append_only();
CREATE TRIGGER ledger_anchors_no_truncate BEFORE TRUNCATE ON ledger_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_anchors_append_only();
CREATE FUNCTION ledger_only_pruned_deleted() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF OLD.seq > coalesce((SELECT through FROM ledger_anchors ORDER BY seq DESC LIMIT 1), 0) THEN
    RAISE EXCEPTION 'the ledger is append-only: only entries an anchor has pruned may be deleted';
  END IF;
  RETURN OLD;
END$$;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
  FOR EACH ROW EXECUTE FUNCTION ledger_only_pruned_deleted();
CREATE TABLE ledger_batches(
  seq bigint PRIMARY KEY,
  store text NOT NULL,
  target text NOT NULL,
  integer_keys boolean NOT NULL,
  key_lo text COLLATE "C" NOT NULL,
  key_hi text COLLATE "C" NOT NULL,
  key_lo_int bigint,
  key_hi_int bigint,
  open boolean NOT NULL,
  settled_by bigint);
CREATE INDEX ledger_batches_key ON ledger_batches(store, target, key_lo);
CREATE INDEX ledger_batches_int_key ON ledger_batches(store, target, key_lo_int) WHERE integer_keys;
CREATE INDEX ledger_batches_open ON ledger_batches(seq) WHERE open;
CREATE TABLE erasure_requests(
  reference text PRIMARY KEY,
  subject text NOT NULL,
  received bigint NOT NULL,
  deadline bigint NOT NULL,
  executed bigint,
  outcome text NOT NULL,
  erased bigint NOT NULL,
  kept bigint NOT NULL,
  last_run_id bigint NOT NULL,
  first_seq bigint NOT NULL);
CREATE TABLE ledger_subjects(
  subject text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY(subject, seq));
CREATE INDEX ledger_subjects_seq ON ledger_subjects(seq);
CREATE INDEX ledger_run ON ledger(run_id);
CREATE INDEX ledger_key ON ledger(record_key) WHERE record_key <> '';
CREATE INDEX ledger_subject ON ledger(subject) WHERE subject <> '';
)sql";

// The steps up from each version: kMigrations[v] brings version v to v + 1
// (version 0: an empty schema).
constexpr const char* kMigrations[] = {kSchemaV1Sql};
static_assert(sizeof kMigrations / sizeof kMigrations[0] == kPgStateSchemaVersion);

constexpr const char* kRequiredTables[] = {"meta",           "runs",          "holds",
                                           "pending",        "pending_records", "ledger",
                                           "ledger_anchors", "ledger_batches", "erasure_requests",
                                           "ledger_subjects"};

constexpr const char* kLedgerColumns =
    "seq, at, kind, run_id, category, store, target, record_key, clock, cutoff, rule, "
    "subject, batch, detail, prev_hash, hash, payload";

constexpr const char* kHoldColumns =
    "id, matter, reason, author, placed_at, expires_at, scope_category, scope_target, "
    "scope_subject_kind, scope_subject_id, scope_key, scope_clock_from, scope_clock_until, "
    "released_at, released_by, release_reason";

constexpr const char* kRunColumns =
    "id, started_at, ended_at, as_of, \"user\", host, version, rules_hash, command, outcome, "
    "exit_code";

// Rows a ledger scan fetches at a time: the scan pages by seq, so `visit`
// may use the connection between pages.
constexpr int kScanPage = 2000;

PgParam P(int64_t v) { return std::to_string(v); }
PgParam P(Timestamp t) { return std::to_string(ToUnixMicros(t)); }
PgParam P(const std::optional<Timestamp>& t) { return t ? P(*t) : PgParam(); }
PgParam P(std::string s) { return PgParam(std::move(s)); }

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

int64_t Int(const PgResult& r, int row, int col) { return ParseInt(r.Text(row, col)).value_or(0); }
std::string Text(const PgResult& r, int row, int col) { return std::string(r.Text(row, col)); }
Timestamp Time(const PgResult& r, int row, int col) { return FromUnixMicros(Int(r, row, col)); }
std::optional<Timestamp> OptTime(const PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return Time(r, row, col);
}
std::optional<std::string> OptText(const PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return Text(r, row, col);
}
bool Bool(const PgResult& r, int row, int col) { return r.Text(row, col) == "t"; }

constexpr char kHexDigits[] = "0123456789abcdef";

// bytea in its text form, "\x" and two hex digits a byte (bytea_output is
// set to hex on the connection).
std::string ByteaText(std::string_view bytes) {
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHexDigits[c >> 4];
    out += kHexDigits[c & 15];
  }
  return out;
}

std::optional<std::string> BytesOfBytea(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve((text.size() - 2) / 2);
  for (size_t i = 2; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

// One row of "SELECT kLedgerColumns" into `e`; AuditFailed when a field
// cannot be what the chain hashed.
Status DecodeLedgerRow(const PgResult& r, int row, LedgerEntry& e) {
  const std::string seq_text = Text(r, row, 0);
  auto malformed = [&](const std::string& what) {
    return Status::AuditFailed("ledger entry " + seq_text + " is malformed: " + what);
  };
  static constexpr int kIntColumns[] = {0, 1, 3, 12};
  static constexpr const char* kIntNames[] = {"seq", "at", "run_id", "batch"};
  int64_t ints[4] = {};
  for (int i = 0; i < 4; ++i) {
    const auto v = r.IsNull(row, kIntColumns[i]) ? std::nullopt : ParseInt(r.Text(row, kIntColumns[i]));
    if (!v) return malformed(std::string(kIntNames[i]) + " is not an integer");
    ints[i] = *v;
  }
  const std::optional<LedgerKind> kind = LedgerKindFromName(r.Text(row, 2));
  if (!kind) return malformed("unknown kind '" + Text(r, row, 2) + "'");
  auto payload = BytesOfBytea(r.Text(row, 16));
  if (!payload) return malformed("payload is not bytea");
  e.seq = ints[0];
  e.at = FromUnixMicros(ints[1]);
  e.kind = *kind;
  e.run_id = ints[2];
  e.batch = ints[3];
  e.category = Text(r, row, 4);
  e.store = Text(r, row, 5);
  e.target = Text(r, row, 6);
  e.record_key = Text(r, row, 7);
  e.clock = Text(r, row, 8);
  e.cutoff = Text(r, row, 9);
  e.rule = Text(r, row, 10);
  e.subject = Text(r, row, 11);
  e.detail = Text(r, row, 13);
  e.prev_hash = Text(r, row, 14);
  e.hash = Text(r, row, 15);
  e.payload = std::move(*payload);
  return Status::Ok();
}

Hold ReadHold(const PgResult& r, int row) {
  Hold h;
  h.id = Int(r, row, 0);
  h.matter = Text(r, row, 1);
  h.reason = Text(r, row, 2);
  h.author = Text(r, row, 3);
  h.placed_at = Time(r, row, 4);
  h.expires_at = OptTime(r, row, 5);
  h.scope.category = OptText(r, row, 6);
  h.scope.target = OptText(r, row, 7);
  h.scope.subject_kind = OptText(r, row, 8);
  h.scope.subject_id = OptText(r, row, 9);
  h.scope.key = OptText(r, row, 10);
  h.scope.clock_from = OptTime(r, row, 11);
  h.scope.clock_until = OptTime(r, row, 12);
  h.released_at = OptTime(r, row, 13);
  h.released_by = Text(r, row, 14);
  h.release_reason = Text(r, row, 15);
  return h;
}

RunInfo ReadRun(const PgResult& r, int row) {
  RunInfo run;
  run.id = Int(r, row, 0);
  run.started_at = Time(r, row, 1);
  run.ended_at = OptTime(r, row, 2);
  run.as_of = Time(r, row, 3);
  run.user = Text(r, row, 4);
  run.host = Text(r, row, 5);
  run.version = Text(r, row, 6);
  run.rules_hash = Text(r, row, 7);
  run.command = Text(r, row, 8);
  run.outcome = Text(r, row, 9);
  run.exit_code = static_cast<int>(Int(r, row, 10));
  return run;
}

class PostgresStateDb final : public StateDb {
 public:
  explicit PostgresStateDb(PostgresStateDbOptions options)
      : StateDb(options.clock), options_(std::move(options)) {
    if (options_.host.empty()) options_.host = HostName();
  }

  Status Open();

  Status CheckStillInPlace() override;
  Status ClaimForRun() override;
  Result<std::unique_ptr<StateAppend>> BeginAppend() override;
  Result<int64_t> AddPending(const PendingBatch& batch) override;
  Result<int64_t> DeletePrunedEntries(int64_t last) override;

  Result<std::vector<Hold>> ListHolds(bool include_released) override;
  Result<std::optional<Hold>> GetHold(int64_t id) override;
  Result<std::optional<RunInfo>> LastRun() override;
  Result<std::optional<ErasureRequest>> GetErasureRequest(const std::string& reference) override;
  Result<std::vector<ErasureRequest>> ListErasureRequests() override;
  Result<std::vector<RunInfo>> UnfinishedRuns() override;
  Result<std::vector<RunInfo>> ListRuns() override;
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
  Status ScanLedger(int64_t from_seq, const std::function<bool(LedgerEntry&)>& visit) override;
  Result<LedgerHead> Head() override;
  Result<int64_t> PrunedThrough() override;
  Result<std::optional<int64_t>> OldestAnchorReaching(int64_t seq) override;
  Result<std::vector<std::pair<int64_t, int64_t>>> ListAnchorRows() override;

 private:
  // An open transaction; rolled back unless committed.
  class Txn {
   public:
    explicit Txn(PostgresStateDb* db) : db_(db) {}
    ~Txn() {
      if (active_) (void)db_->conn_->Exec("ROLLBACK");
    }
    Status Begin() {
      auto r = db_->conn_->Exec("BEGIN");
      if (!r.ok()) return r.status();
      active_ = true;
      return Status::Ok();
    }
    // A transaction a failed statement aborted answers COMMIT with
    // ROLLBACK, and no error: that is one.
    Status Commit() {
      active_ = false;  // a failed COMMIT ends the transaction too
      auto r = db_->conn_->Exec("COMMIT");
      if (!r.ok()) return r.status();
      if (std::string_view(PQcmdStatus(r->get())) != "COMMIT")
        return Status::Internal(db_->Named() + ": the transaction was rolled back, not committed");
      return Status::Ok();
    }

   private:
    PostgresStateDb* db_;
    bool active_ = false;
  };
  class AppendTxn;
  friend class AppendTxn;

  Result<PgResult> Q(std::string_view sql, const std::vector<PgParam>& params = {}) {
    return conn_->ExecParams(sql, params);
  }
  Status Do(std::string_view sql, const std::vector<PgParam>& params = {}) {
    auto r = Q(sql, params);
    return r.ok() ? Status::Ok() : r.status();
  }
  // "the PostgreSQL state (schema "retention")": how messages name it.
  std::string Named() const { return options_.who + ", schema " + options_.schema; }
  Status RequireWritable() const {
    if (options_.read_only)
      return Status::Internal(Named() + " was opened read-only; this command cannot change it");
    return Status::Ok();
  }
  // The schema version present: 0 when the schema has no tables (or does
  // not exist).
  Result<int> VersionPresent();
  Status Validate();
  Status Migrate();
  // Locks the head row until the transaction ends (see the schema).
  Status LockHead() { return Do("SELECT value FROM meta WHERE key = 'schema_version' FOR UPDATE"); }

  Status InsertEntries(const std::vector<LedgerEntry>& entries);
  Status IndexEntry(const LedgerEntry& e);
  Status RecordAnchor(int64_t seq, int64_t through);
  Status IndexBatch(int64_t seq, const BatchIndexRow& row);
  Status CloseBatch(int64_t seq);
  Result<int64_t> InsertHold(const Hold& h);
  Result<Hold> MarkHoldReleased(int64_t id, const std::string& by, const std::string& reason, Timestamp at);
  Result<int64_t> InsertRun(const RunInfo& run);
  Status FinishRun(int64_t run_id, const std::string& outcome, int exit_code, Timestamp ended_at);
  Status MarkRunCrashed(int64_t run_id);
  Status PutErasureRequest(const ErasureRequest& r);
  Result<std::vector<ErasureRequest>> ReadErasureRequests(const std::string* reference);
  Status RemovePending(int64_t pending_id);
  Result<std::vector<RunInfo>> ReadRuns(std::string_view where);

  PostgresStateDbOptions options_;
  std::unique_ptr<PgConnection> conn_;
};

class PostgresStateDb::AppendTxn final : public StateAppend {
 public:
  explicit AppendTxn(PostgresStateDb* db) : db_(db), txn_(db) {}
  Status Begin() {
    RETENTION_RETURN_IF_ERROR(txn_.Begin());
    return db_->LockHead();
  }

  Result<LedgerHead> Head() override { return db_->Head(); }
  Status Insert(const std::vector<LedgerEntry>& entries) override { return db_->InsertEntries(entries); }
  Status RecordAnchor(int64_t seq, int64_t through) override { return db_->RecordAnchor(seq, through); }
  Status IndexBatch(int64_t seq, const BatchIndexRow& row) override { return db_->IndexBatch(seq, row); }
  Status CloseBatch(int64_t seq) override { return db_->CloseBatch(seq); }
  Result<int64_t> InsertHold(const Hold& hold) override { return db_->InsertHold(hold); }
  Result<Hold> MarkHoldReleased(int64_t id, const std::string& by, const std::string& reason,
                                Timestamp at) override {
    return db_->MarkHoldReleased(id, by, reason, at);
  }
  Result<int64_t> InsertRun(const RunInfo& run) override { return db_->InsertRun(run); }
  Status PutErasureRequest(const ErasureRequest& r) override { return db_->PutErasureRequest(r); }
  Status FinishRun(int64_t run_id, const std::string& outcome, int exit_code, Timestamp ended_at) override {
    return db_->FinishRun(run_id, outcome, exit_code, ended_at);
  }
  Status MarkRunCrashed(int64_t run_id) override { return db_->MarkRunCrashed(run_id); }
  Status RemovePending(int64_t pending_id) override { return db_->RemovePending(pending_id); }
  Status Commit() override { return txn_.Commit(); }

 private:
  PostgresStateDb* db_;
  Txn txn_;
};

// ---- open, schema ---------------------------------------------------------

Status PostgresStateDb::Open() {
  auto conn = PgConnection::OpenConninfo(options_.conninfo, options_.who);
  if (!conn.ok()) return conn.status();
  conn_ = std::move(conn.value());
  RETENTION_RETURN_IF_ERROR(Do("SELECT set_config('search_path', $1, false), set_config('lock_timeout', $2, false), "
                               "set_config('bytea_output', 'hex', false)",
                               {QuotePgIdent(options_.schema), std::to_string(options_.lock_timeout_ms) + "ms"}));
  if (options_.read_only) RETENTION_RETURN_IF_ERROR(Do("SET default_transaction_read_only = on"));
  auto present = VersionPresent();
  if (!present.ok()) return present.status();
  if (*present != 0 && options_.refuse_existing)
    return Status::Invalid(Named() + " already holds a state; it is never created twice");
  if (*present == kPgStateSchemaVersion) return Validate();
  if (*present == 0 && (options_.read_only || !options_.create_if_missing)) {
    return Status::Unavailable(Named() +
                               " does not exist: create it with `retention state init` (never again after it has "
                               "held legal holds: restore it from a backup instead), or copy a SQLite state into it "
                               "with `retention state migrate`");
  }
  if (options_.read_only) {
    return Status::Unavailable(Named() + " has an older schema version (" + std::to_string(*present) +
                               "): a command that writes to the state upgrades it");
  }
  RETENTION_RETURN_IF_ERROR(Migrate());
  return Validate();
}

Result<int> PostgresStateDb::VersionPresent() {
  auto tables = Q("SELECT count(*), count(*) FILTER (WHERE tablename = 'meta') FROM pg_tables WHERE schemaname = $1",
                  {options_.schema});
  if (!tables.ok()) return tables.status();
  if (Int(*tables, 0, 0) == 0) return 0;
  if (Int(*tables, 0, 1) == 0) {
    return Status::Invalid(Named() + " holds tables but no meta table: it is not a retention state (name another "
                                     "schema, or restore it from a backup)");
  }
  auto v = Q("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!v.ok()) return v.status();
  if (v->rows() == 0) return Status::Unavailable(Named() + " is damaged: its meta table has no schema_version");
  const std::string text = Text(*v, 0, 0);
  const std::optional<int64_t> version = ParseInt(text);
  if (version && *version > kPgStateSchemaVersion) {
    return Status::Invalid(Named() + " has schema version " + text + ", newer than this retention understands (" +
                           std::to_string(kPgStateSchemaVersion) + "): upgrade retention");
  }
  if (!version || *version < 1) return Status::Invalid(Named() + " has an unknown schema version '" + text + "'");
  return static_cast<int>(*version);
}

Status PostgresStateDb::Validate() {
  auto r = Q("SELECT tablename FROM pg_tables WHERE schemaname = $1", {options_.schema});
  if (!r.ok()) return r.status();
  std::set<std::string> present;
  for (int i = 0; i < r->rows(); ++i) present.insert(Text(*r, i, 0));
  for (const char* table : kRequiredTables) {
    if (!present.count(table))
      return Status::Unavailable(Named() + " is damaged: table " + table + " is missing; restore it from a backup");
  }
  return Status::Ok();
}

// One transaction under a lock on the schema's name: a second host opening
// at the same moment waits, then finds the version this one wrote.
Status PostgresStateDb::Migrate() {
  Txn txn(this);
  RETENTION_RETURN_IF_ERROR(txn.Begin());
  RETENTION_RETURN_IF_ERROR(
      Do("SELECT pg_advisory_xact_lock(hashtextextended('retention state schema ' || $1::text, 0))", {options_.schema}));
  RETENTION_RETURN_IF_ERROR(Do("CREATE SCHEMA IF NOT EXISTS " + QuotePgIdent(options_.schema)));
  auto present = VersionPresent();
  if (!present.ok()) return present.status();
  // Another host created it between our look and the lock.
  if (*present != 0 && options_.refuse_existing)
    return Status::Invalid(Named() + " already holds a state; it is never created twice");
  if (*present == kPgStateSchemaVersion) return Status::Ok();
  const std::string what = "create or upgrade " + Named() + " to version " + std::to_string(kPgStateSchemaVersion);
  for (int v = *present; v < kPgStateSchemaVersion; ++v) {
    auto r = conn_->Exec(kMigrations[v]);
    if (!r.ok()) return r.status().WithContext(what);
  }
  const std::string version = std::to_string(kPgStateSchemaVersion);
  if (*present == 0) {
    RETENTION_RETURN_IF_ERROR(Do("INSERT INTO meta(key, value) VALUES('schema_version', $1), ('created_at', $2), "
                                 "('created_by', $3)",
                                 {version, FormatTimestamp(Now()), std::string("retention " RETENTION_VERSION)}));
  } else {
    RETENTION_RETURN_IF_ERROR(Do("UPDATE meta SET value = $1 WHERE key = 'schema_version'", {version}));
  }
  return txn.Commit();
}

// A round trip: the server and the schema are still there. A purge asks
// before each deletion, so a lost state stops it before the next delete.
Status PostgresStateDb::CheckStillInPlace() {
  auto r = Q("SELECT count(*) FROM meta WHERE key = 'schema_version'");
  if (!r.ok() || Int(*r, 0, 0) != 1) {
    const std::string why = r.ok() ? "its schema version is gone" : r.status().message();
    return Status::Unavailable(Named() + " cannot be reached during the run (" + why +
                               "): what this run would record could be lost, so it stops here");
  }
  return Status::Ok();
}

// A session advisory lock on (schema, host): the server drops it when this
// connection ends, the process killed included.
Status PostgresStateDb::ClaimForRun() {
  auto r = Q("SELECT pg_try_advisory_lock(hashtextextended('retention run ' || $1::text || ' ' || $2::text, 0))",
             {options_.schema, options_.host});
  if (!r.ok()) return r.status();
  if (!Bool(*r, 0, 0)) {
    return Status::Busy("another run on host '" + options_.host + "' is using " + Named() +
                        "; not starting a second one");
  }
  return Status::Ok();
}

Result<std::unique_ptr<StateAppend>> PostgresStateDb::BeginAppend() {
  RETENTION_RETURN_IF_ERROR(RequireWritable());
  auto append = std::make_unique<AppendTxn>(this);
  RETENTION_RETURN_IF_ERROR(append->Begin());
  return std::unique_ptr<StateAppend>(std::move(append));
}

// ---- ledger ----------------------------------------------------------------

Status PostgresStateDb::InsertEntries(const std::vector<LedgerEntry>& entries) {
  if (entries.empty()) return Status::Ok();
  auto head = Head();
  if (!head.ok()) return head.status();
  RETENTION_RETURN_IF_ERROR(CheckChainedOnto(*head, entries));
  for (const LedgerEntry& e : entries) {
    RETENTION_RETURN_IF_ERROR(
        Do("INSERT INTO ledger(seq, at, kind, run_id, category, store, target, record_key, clock, cutoff, rule, "
           "subject, batch, detail, prev_hash, hash, payload) "
           "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::bytea)",
           {P(e.seq), P(e.at), P(std::string(LedgerKindName(e.kind))), P(e.run_id), e.category, e.store, e.target,
            e.record_key, e.clock, e.cutoff, e.rule, e.subject, P(e.batch), e.detail, e.prev_hash, e.hash,
            ByteaText(e.payload)}));
  }
  for (const LedgerEntry& e : entries) RETENTION_RETURN_IF_ERROR(IndexEntry(e));
  return Status::Ok();
}

// As in the SQLite state: an entry whose payload or settlement does not
// decode gets no index rows (the chain covers it; verify names it).
Status PostgresStateDb::IndexEntry(const LedgerEntry& e) {
  if (e.kind != LedgerKind::kBatch && e.detail.find("\"settles\"") == std::string::npos) return Status::Ok();
  auto rows = IndexRowsOf(e);
  if (!rows.ok()) return rows.status().code() == StatusCode::kAuditFailed ? Status::Ok() : rows.status();
  for (const std::string& subject : rows->subjects) {
    RETENTION_RETURN_IF_ERROR(
        Do("INSERT INTO ledger_subjects(subject, seq) VALUES($1, $2) ON CONFLICT DO NOTHING", {subject, P(e.seq)}));
  }
  for (int64_t batch : rows->settles)
    RETENTION_RETURN_IF_ERROR(Do("UPDATE ledger_batches SET settled_by = $2 WHERE seq = $1", {P(batch), P(e.seq)}));
  return Status::Ok();
}

Status PostgresStateDb::RecordAnchor(int64_t seq, int64_t through) {
  return Do("INSERT INTO ledger_anchors(seq, through) VALUES($1, $2)", {P(seq), P(through)});
}

Result<int64_t> PostgresStateDb::PrunedThrough() {
  auto r = Q("SELECT coalesce((SELECT through FROM ledger_anchors ORDER BY seq DESC LIMIT 1), 0)");
  if (!r.ok()) return r.status();
  return Int(*r, 0, 0);
}

Result<std::optional<int64_t>> PostgresStateDb::OldestAnchorReaching(int64_t seq) {
  auto r = Q("SELECT a.seq FROM ledger_anchors a JOIN ledger l ON l.seq = a.seq WHERE a.through >= $1 "
             "ORDER BY a.seq LIMIT 1",
             {P(seq)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(Int(*r, 0, 0));
}

Result<std::vector<std::pair<int64_t, int64_t>>> PostgresStateDb::ListAnchorRows() {
  auto r = Q("SELECT seq, through FROM ledger_anchors ORDER BY seq");
  if (!r.ok()) return r.status();
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(Int(*r, i, 0), Int(*r, i, 1));
  return out;
}

Result<int64_t> PostgresStateDb::DeletePrunedEntries(int64_t last) {
  RETENTION_RETURN_IF_ERROR(RequireWritable());
  Txn txn(this);
  RETENTION_RETURN_IF_ERROR(txn.Begin());
  RETENTION_RETURN_IF_ERROR(LockHead());  // no batch entry appears below `last` meanwhile
  // An open batch entry is the only record of what its batch may have
  // deleted: reconciliation needs it, so no anchor may take it.
  auto open = Q("SELECT min(seq) FROM ledger_batches WHERE open AND seq <= $1", {P(last)});
  if (!open.ok()) return open.status();
  if (!open->IsNull(0, 0)) {
    return Status::Internal("refusing to prune the ledger through entry " + std::to_string(last) + ": batch entry " +
                            Text(*open, 0, 0) + " is still open (not settled)");
  }
  // The trigger refuses any entry past the newest anchor's range.
  auto del = Q("DELETE FROM ledger WHERE seq <= $1", {P(last)});
  if (!del.ok()) return del.status();
  RETENTION_RETURN_IF_ERROR(Do("DELETE FROM ledger_batches WHERE seq <= $1", {P(last)}));
  RETENTION_RETURN_IF_ERROR(Do("DELETE FROM ledger_subjects WHERE seq <= $1", {P(last)}));
  RETENTION_RETURN_IF_ERROR(txn.Commit());
  return del->AffectedRows();
}

Status PostgresStateDb::ScanLedger(int64_t from_seq, const std::function<bool(LedgerEntry&)>& visit) {
  const std::string sql =
      std::string("SELECT ") + kLedgerColumns + " FROM ledger WHERE seq >= $1 ORDER BY seq LIMIT " +
      std::to_string(kScanPage);
  LedgerEntry e;
  int64_t next = from_seq;
  for (;;) {
    auto r = Q(sql, {P(next)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      RETENTION_RETURN_IF_ERROR(DecodeLedgerRow(*r, i, e));
      next = e.seq + 1;
      if (!visit(e)) return Status::Ok();
    }
    if (r->rows() < kScanPage) return Status::Ok();
  }
}

Result<LedgerHead> PostgresStateDb::Head() {
  auto r = Q("SELECT seq, hash, at FROM ledger ORDER BY seq DESC LIMIT 1");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return LedgerHead{0, std::string(kGenesisHash), std::nullopt};
  return LedgerHead{Int(*r, 0, 0), Text(*r, 0, 1), Time(*r, 0, 2)};
}

Result<std::optional<LedgerEntry>> PostgresStateDb::ReadEntry(int64_t seq) {
  std::optional<LedgerEntry> found;
  RETENTION_RETURN_IF_ERROR(ReadEntries({seq}, [&](LedgerEntry& e) {
    found = std::move(e);
    return false;
  }));
  return found;
}

Status PostgresStateDb::ReadEntries(const std::vector<int64_t>& seqs,
                                    const std::function<bool(LedgerEntry&)>& visit) {
  const std::string sql = std::string("SELECT ") + kLedgerColumns +
                          " FROM ledger WHERE seq = ANY($1::bigint[]) ORDER BY seq";
  LedgerEntry e;
  for (size_t from = 0; from < seqs.size(); from += kScanPage) {
    std::string array = "{";
    for (size_t i = from; i < std::min(seqs.size(), from + kScanPage); ++i) {
      if (i > from) array += ',';
      array += std::to_string(seqs[i]);
    }
    array += '}';
    auto r = Q(sql, {array});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      RETENTION_RETURN_IF_ERROR(DecodeLedgerRow(*r, i, e));
      if (!visit(e)) return Status::Ok();
    }
  }
  return Status::Ok();
}

// ---- batch index -----------------------------------------------------------

Status PostgresStateDb::IndexBatch(int64_t seq, const BatchIndexRow& row) {
  std::string lo = row.key_lo, hi = row.key_hi;
  PgParam lo_int, hi_int;
  if (row.integer_keys) {
    const auto l = CanonicalInt(row.key_lo), h = CanonicalInt(row.key_hi);
    if (!l || !h)
      return Status::Internal("batch entry " + std::to_string(seq) + " indexed with integer keys that are not integers");
    lo = std::to_string(*l);
    hi = std::to_string(*h);
    lo_int = lo;
    hi_int = hi;
  }
  return Do("INSERT INTO ledger_batches(seq, store, target, integer_keys, key_lo, key_hi, key_lo_int, key_hi_int, "
            "open) VALUES($1, $2, $3, $4, $5, $6, $7, $8, true)",
            {P(seq), row.store, row.target, std::string(row.integer_keys ? "true" : "false"), lo, hi, lo_int, hi_int});
}

Status PostgresStateDb::CloseBatch(int64_t seq) {
  auto r = Q("UPDATE ledger_batches SET open = false WHERE seq = $1 AND open", {P(seq)});
  if (!r.ok()) return r.status();
  if (r->AffectedRows() != 1)
    return Status::Internal("refusing to settle batch entry " + std::to_string(seq) +
                            ": it is not an open batch (settled already, or never indexed)");
  return Status::Ok();
}

Result<std::vector<int64_t>> PostgresStateDb::OpenBatches() {
  auto r = Q("SELECT seq FROM ledger_batches WHERE open ORDER BY seq");
  if (!r.ok()) return r.status();
  std::vector<int64_t> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(Int(*r, i, 0));
  return out;
}

Result<std::vector<BatchIndexListing>> PostgresStateDb::ListBatchIndex() {
  auto r = Q("SELECT seq, store, target, key_lo, key_hi, integer_keys, open FROM ledger_batches ORDER BY seq");
  if (!r.ok()) return r.status();
  std::vector<BatchIndexListing> out;
  for (int i = 0; i < r->rows(); ++i) {
    BatchIndexListing l;
    l.seq = Int(*r, i, 0);
    l.row.store = Text(*r, i, 1);
    l.row.target = Text(*r, i, 2);
    l.row.key_lo = Text(*r, i, 3);
    l.row.key_hi = Text(*r, i, 4);
    l.row.integer_keys = Bool(*r, i, 5);
    l.open = Bool(*r, i, 6);
    out.push_back(std::move(l));
  }
  return out;
}

Status PostgresStateDb::ScanBatchesAndSettlements(
    const std::function<bool(int64_t seq, LedgerKind kind, const std::string& detail)>& visit) {
  auto r = Q("SELECT seq, kind, detail FROM ledger WHERE kind = 'batch' OR strpos(detail, '\"settles\"') > 0 "
             "ORDER BY seq");
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) {
    const std::optional<LedgerKind> kind = LedgerKindFromName(r->Text(i, 1));
    if (!kind) return Status::AuditFailed("ledger entry " + Text(*r, i, 0) + " has an unknown kind");
    if (!visit(Int(*r, i, 0), *kind, Text(*r, i, 2))) return Status::Ok();
  }
  return Status::Ok();
}

// A key that reads as an integer may be in an integer-keyed batch's range
// or, as text, in a text-keyed one's: both are asked.
Result<std::vector<int64_t>> PostgresStateDb::BatchesReaching(const std::string& store, const std::string& target,
                                                              const std::string& key) {
  const std::optional<int64_t> as_int = CanonicalInt(key);
  auto r = Q("SELECT seq FROM ledger_batches WHERE store = $1 AND target = $2 AND ("
             "(NOT integer_keys AND key_lo <= $3 AND key_hi >= $3) OR "
             "($4::bigint IS NOT NULL AND integer_keys AND key_lo_int <= $4::bigint AND key_hi_int >= $4::bigint)) "
             "ORDER BY seq",
             {store, target, key, as_int ? P(*as_int) : PgParam()});
  if (!r.ok()) return r.status();
  std::vector<int64_t> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(Int(*r, i, 0));
  return out;
}

Result<std::optional<std::vector<int64_t>>> PostgresStateDb::LookupEntries(const LedgerLookup& lookup) {
  using Found = std::optional<std::vector<int64_t>>;
  std::vector<int64_t> seqs;
  auto collect = [&](std::string_view sql, const std::vector<PgParam>& params) -> Status {
    auto r = Q(sql, params);
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) seqs.push_back(Int(*r, i, 0));
    return Status::Ok();
  };
  if (lookup.key) {
    RETENTION_RETURN_IF_ERROR(collect("SELECT seq FROM ledger WHERE record_key = $1 AND record_key <> ''", {*lookup.key}));
    auto targets = Q("SELECT DISTINCT store, target FROM ledger_batches WHERE ($1::text IS NULL OR store = $1) AND "
                     "($2::text IS NULL OR target = $2)",
                     {lookup.store, lookup.target});
    if (!targets.ok()) return targets.status();
    for (int i = 0; i < targets->rows(); ++i) {
      auto reaching = BatchesReaching(Text(*targets, i, 0), Text(*targets, i, 1), *lookup.key);
      if (!reaching.ok()) return reaching.status();
      seqs.insert(seqs.end(), reaching->begin(), reaching->end());
    }
  } else if (lookup.subject) {
    RETENTION_RETURN_IF_ERROR(collect("SELECT seq FROM ledger WHERE subject = $1 AND subject <> '' "
                                      "UNION ALL SELECT seq FROM ledger_subjects WHERE subject = $1",
                                      {*lookup.subject}));
  } else if (lookup.run_id) {
    RETENTION_RETURN_IF_ERROR(collect("SELECT seq FROM ledger WHERE run_id = $1", {P(*lookup.run_id)}));
  } else {
    return Status::Internal("LookupEntries: no key, subject or run to look up");
  }
  // The entries that settle the batches found, as the index says.
  std::map<int64_t, std::vector<int64_t>> settlers;  // settling seq -> the batches it settles
  if (!seqs.empty()) {
    std::string array = "{";
    for (size_t i = 0; i < seqs.size(); ++i) array += (i ? "," : "") + std::to_string(seqs[i]);
    array += '}';
    auto r = Q("SELECT seq, settled_by, open FROM ledger_batches WHERE seq = ANY($1::bigint[])", {array});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      if (!r->IsNull(i, 1)) {
        settlers[Int(*r, i, 1)].push_back(Int(*r, i, 0));
      } else if (!Bool(*r, i, 2)) {
        return Found();  // closed, yet settled by no entry: the index is not to be trusted
      }
    }
  }
  // Each settling entry named must settle those batches.
  std::vector<int64_t> by;
  for (const auto& [seq, batches] : settlers) by.push_back(seq);
  bool agrees = true;
  Status bad;
  RETENTION_RETURN_IF_ERROR(ReadEntries(by, [&](const LedgerEntry& e) {
    auto rows = IndexRowsOf(e);
    if (!rows.ok()) {
      bad = rows.status();
      return false;
    }
    for (int64_t batch : settlers[e.seq])
      if (std::find(rows->settles.begin(), rows->settles.end(), batch) == rows->settles.end()) agrees = false;
    settlers.erase(e.seq);
    return agrees;
  }));
  RETENTION_RETURN_IF_ERROR(bad);
  if (!agrees || !settlers.empty()) return Found();
  seqs.insert(seqs.end(), by.begin(), by.end());
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  return Found(std::move(seqs));
}

Result<std::vector<std::pair<int64_t, std::string>>> PostgresStateDb::ListSubjectIndex() {
  auto r = Q("SELECT seq, subject FROM ledger_subjects ORDER BY seq, subject COLLATE \"C\"");
  if (!r.ok()) return r.status();
  std::vector<std::pair<int64_t, std::string>> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(Int(*r, i, 0), Text(*r, i, 1));
  return out;
}

Result<std::vector<std::pair<int64_t, int64_t>>> PostgresStateDb::ListSettledBy() {
  auto r = Q("SELECT seq, settled_by FROM ledger_batches WHERE settled_by IS NOT NULL ORDER BY seq");
  if (!r.ok()) return r.status();
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(Int(*r, i, 0), Int(*r, i, 1));
  return out;
}

// ---- holds -----------------------------------------------------------------

Result<int64_t> PostgresStateDb::InsertHold(const Hold& h) {
  auto r = Q("INSERT INTO holds(matter, reason, author, placed_at, expires_at, scope_category, scope_target, "
             "scope_subject_kind, scope_subject_id, scope_key, scope_clock_from, scope_clock_until) "
             "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
             {h.matter, h.reason, h.author, P(h.placed_at), P(h.expires_at), h.scope.category, h.scope.target,
              h.scope.subject_kind, h.scope.subject_id, h.scope.key, P(h.scope.clock_from), P(h.scope.clock_until)});
  if (!r.ok()) return r.status();
  return Int(*r, 0, 0);
}

Result<Hold> PostgresStateDb::MarkHoldReleased(int64_t id, const std::string& by, const std::string& reason,
                                               Timestamp at) {
  auto hold = GetHold(id);
  if (!hold.ok()) return hold.status();
  if (!*hold) return Status::Invalid("hold " + std::to_string(id) + " does not exist");
  if ((*hold)->released_at) {
    return Status::Invalid("hold " + std::to_string(id) + " was already released at " +
                           FormatTimestamp(*(*hold)->released_at) + " by " + (*hold)->released_by);
  }
  auto r = Q("UPDATE holds SET released_at = $2, released_by = $3, release_reason = $4 "
             "WHERE id = $1 AND released_at IS NULL",
             {P(id), P(at), by, reason});
  if (!r.ok()) return r.status();
  if (r->AffectedRows() != 1) return Status::Invalid("hold " + std::to_string(id) + " was released meanwhile");
  return std::move(**hold);
}

Result<std::vector<Hold>> PostgresStateDb::ListHolds(bool include_released) {
  auto r = Q(std::string("SELECT ") + kHoldColumns + " FROM holds WHERE $1 OR released_at IS NULL ORDER BY id",
             {std::string(include_released ? "true" : "false")});
  if (!r.ok()) return r.status();
  std::vector<Hold> holds;
  for (int i = 0; i < r->rows(); ++i) holds.push_back(ReadHold(*r, i));
  return holds;
}

Result<std::optional<Hold>> PostgresStateDb::GetHold(int64_t id) {
  auto r = Q(std::string("SELECT ") + kHoldColumns + " FROM holds WHERE id = $1", {P(id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<Hold>();
  return std::optional<Hold>(ReadHold(*r, 0));
}

// ---- runs ------------------------------------------------------------------

Result<int64_t> PostgresStateDb::InsertRun(const RunInfo& run) {
  auto r = Q("INSERT INTO runs(started_at, ended_at, as_of, \"user\", host, version, rules_hash, command, outcome, "
             "exit_code) VALUES($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
             {P(run.started_at), P(run.as_of), run.user, run.host, run.version, run.rules_hash, run.command,
              run.outcome, P(int64_t{run.exit_code})});
  if (!r.ok()) return r.status();
  return Int(*r, 0, 0);
}

Status PostgresStateDb::FinishRun(int64_t run_id, const std::string& outcome, int exit_code, Timestamp ended_at) {
  auto r = Q("UPDATE runs SET ended_at = $2, outcome = $3, exit_code = $4 WHERE id = $1 AND outcome = 'running'",
             {P(run_id), P(ended_at), outcome, P(int64_t{exit_code})});
  if (!r.ok()) return r.status();
  if (r->AffectedRows() != 1) return Status::Invalid("run " + std::to_string(run_id) + " does not exist or has ended");
  return Status::Ok();
}

Status PostgresStateDb::MarkRunCrashed(int64_t run_id) {
  // ended_at stays NULL: when the process died is unknown.
  auto r = Q("UPDATE runs SET outcome = 'crashed' WHERE id = $1 AND outcome = 'running'", {P(run_id)});
  if (!r.ok()) return r.status();
  if (r->AffectedRows() != 1) return Status::Invalid("run " + std::to_string(run_id) + " does not exist or has ended");
  return Status::Ok();
}

Result<std::vector<RunInfo>> PostgresStateDb::ReadRuns(std::string_view tail) {
  auto r = Q(std::string("SELECT ") + kRunColumns + " FROM runs " + std::string(tail));
  if (!r.ok()) return r.status();
  std::vector<RunInfo> runs;
  for (int i = 0; i < r->rows(); ++i) runs.push_back(ReadRun(*r, i));
  return runs;
}

Result<std::optional<RunInfo>> PostgresStateDb::LastRun() {
  auto runs = ReadRuns("ORDER BY id DESC LIMIT 1");
  if (!runs.ok()) return runs.status();
  if (runs->empty()) return std::optional<RunInfo>();
  return std::optional<RunInfo>(std::move(runs->front()));
}

Result<std::vector<RunInfo>> PostgresStateDb::UnfinishedRuns() { return ReadRuns("WHERE outcome = 'running' ORDER BY id"); }

Result<std::vector<RunInfo>> PostgresStateDb::ListRuns() { return ReadRuns("ORDER BY id"); }

// ---- erasure requests ------------------------------------------------------

Status PostgresStateDb::PutErasureRequest(const ErasureRequest& r) {
  return Do("INSERT INTO erasure_requests(reference, subject, received, deadline, executed, outcome, erased, kept, "
            "last_run_id, first_seq) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            "ON CONFLICT(reference) DO UPDATE SET subject = $2, received = $3, deadline = $4, executed = $5, "
            "outcome = $6, erased = $7, kept = $8, last_run_id = $9",  // first_seq: kept as first written
            {r.reference, r.subject, P(r.received), P(r.deadline), P(r.executed), r.outcome, P(r.erased), P(r.kept),
             P(r.last_run_id), P(r.first_seq)});
}

Result<std::vector<ErasureRequest>> PostgresStateDb::ReadErasureRequests(const std::string* reference) {
  constexpr const char* kColumns =
      "SELECT reference, subject, received, deadline, executed, outcome, erased, kept, last_run_id, first_seq "
      "FROM erasure_requests ";
  auto r = reference ? Q(std::string(kColumns) + "WHERE reference = $1", {*reference})
                     : Q(std::string(kColumns) + "ORDER BY received, reference COLLATE \"C\"");
  if (!r.ok()) return r.status();
  std::vector<ErasureRequest> out;
  for (int i = 0; i < r->rows(); ++i) {
    ErasureRequest e;
    e.reference = Text(*r, i, 0);
    e.subject = Text(*r, i, 1);
    e.received = Time(*r, i, 2);
    e.deadline = Time(*r, i, 3);
    e.executed = OptTime(*r, i, 4);
    e.outcome = Text(*r, i, 5);
    e.erased = Int(*r, i, 6);
    e.kept = Int(*r, i, 7);
    e.last_run_id = Int(*r, i, 8);
    e.first_seq = Int(*r, i, 9);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::optional<ErasureRequest>> PostgresStateDb::GetErasureRequest(const std::string& reference) {
  auto rows = ReadErasureRequests(&reference);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<ErasureRequest>();
  return std::optional<ErasureRequest>(std::move(rows->front()));
}

Result<std::vector<ErasureRequest>> PostgresStateDb::ListErasureRequests() { return ReadErasureRequests(nullptr); }

// ---- pending batches -------------------------------------------------------

Result<int64_t> PostgresStateDb::AddPending(const PendingBatch& batch) {
  RETENTION_RETURN_IF_ERROR(RequireWritable());
  Txn txn(this);
  RETENTION_RETURN_IF_ERROR(txn.Begin());
  auto r = Q("INSERT INTO pending(run_id, batch, category, store, target, rule, cutoff) "
             "VALUES($1, $2, $3, $4, $5, $6, $7) RETURNING id",
             {P(batch.run_id), P(batch.batch), batch.category, batch.store, batch.target, batch.rule, batch.cutoff});
  if (!r.ok()) return r.status();
  const int64_t id = Int(*r, 0, 0);
  int64_t ord = 0;
  for (const PendingBatch::Record& rec : batch.records) {
    RETENTION_RETURN_IF_ERROR(Do("INSERT INTO pending_records(pending_id, ord, key, clock, subject, identity) "
                                 "VALUES($1, $2, $3, $4, $5, $6)",
                                 {P(id), P(ord++), rec.key, rec.clock, rec.subject, rec.identity}));
  }
  RETENTION_RETURN_IF_ERROR(txn.Commit());
  return id;
}

Status PostgresStateDb::RemovePending(int64_t pending_id) {
  auto r = Q("DELETE FROM pending WHERE id = $1", {P(pending_id)});
  if (!r.ok()) return r.status();
  if (r->AffectedRows() != 1)
    return Status::Internal("pending batch " + std::to_string(pending_id) + " does not exist (settled twice?)");
  return Do("DELETE FROM pending_records WHERE pending_id = $1", {P(pending_id)});
}

// One statement, so one snapshot: a batch and its records as they were
// committed together.
Result<std::vector<PendingBatch>> PostgresStateDb::ListPending() {
  auto r = Q("SELECT p.id, p.run_id, p.batch, p.category, p.store, p.target, p.rule, p.cutoff, "
             "r.ord IS NOT NULL, r.key, r.clock, r.subject, r.identity "
             "FROM pending p LEFT JOIN pending_records r ON r.pending_id = p.id ORDER BY p.id, r.ord");
  if (!r.ok()) return r.status();
  std::vector<PendingBatch> out;
  for (int i = 0; i < r->rows(); ++i) {
    if (out.empty() || out.back().id != Int(*r, i, 0)) {
      PendingBatch b;
      b.id = Int(*r, i, 0);
      b.run_id = Int(*r, i, 1);
      b.batch = Int(*r, i, 2);
      b.category = Text(*r, i, 3);
      b.store = Text(*r, i, 4);
      b.target = Text(*r, i, 5);
      b.rule = Text(*r, i, 6);
      b.cutoff = Text(*r, i, 7);
      out.push_back(std::move(b));
    }
    if (Bool(*r, i, 8))
      out.back().records.push_back({Text(*r, i, 9), Text(*r, i, 10), Text(*r, i, 11), OptText(*r, i, 12)});
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<StateDb>> OpenPostgresStateDb(const PostgresStateDbOptions& options) {
  auto db = std::make_unique<PostgresStateDb>(options);
  RETENTION_RETURN_IF_ERROR(db->Open());
  return std::unique_ptr<StateDb>(std::move(db));
}

}  // namespace retention
