// The interface every backend implements: SQLite tables, files under a
// root, and later PostgreSQL tables.
//
// The planner (plan/selection.h) states per target which records may go —
// filters, cutoff, floors of overlapping rules, holds — as a Selection, a
// plain value. A store renders that one value in its own terms (SQL pushed
// down to the clock index, a C++ evaluation over a directory walk) when it
// measures (plan), selects candidates (purge), deletes (the re-check inside
// the delete) and looks one record up (explain). The rule itself is
// written once, in plan/selection.h; the renderers are tested against its
// reference evaluation (tests/plan/selection_agreement_test.cc).
//
// Every call takes the selection it works under: holds re-read by the
// caller enter as a new Selection (WithHolds), never by changing one in
// place. A selection whose holds were never applied is refused (Internal).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "calendar/cutoff.h"
#include "config/config.h"
#include "holds/hold_set.h"
#include "plan/selection.h"
#include "rules/rule.h"
#include "stores/file_system.h"
#include "util/status.h"

namespace retention {

struct TargetStats {
  int64_t total = 0;            // records matching the target's filters
  int64_t due = 0;              // clock < cutoff, before holds and floors
  int64_t held = 0;             // due, but a hold covers them
  int64_t floor_protected = 0;  // due, not held, but another rule's floor keeps them
  int64_t deletable = 0;        // due - held - floor_protected
  int64_t undated = 0;          // clock NULL or unparseable: never due
  std::optional<Timestamp> oldest_due;  // among the deletable
  std::vector<std::string> sample_keys; // a few deletable keys, oldest first
};

// The safety valve's cheap bound (SPEC 6.6): at most how many records of a
// selection are deletable, and at least how many records its target has,
// read without judging every row (an index-only count of the due range,
// the table's row count). `exact` when both are exact counts.
struct DueBound {
  int64_t deletable_at_most = 0;
  int64_t total_at_least = 0;
  bool exact = false;
};

// One record selected for deletion, as the store saw it.
//
// Its identity (SPEC 6.2) is more than its key: a key can be reused by
// another record (a rowid taken again, a log re-created under the same
// name). The store deletes a candidate only while the record under its key
// still has the candidate's identity, and reconciliation after a crash
// judges by the same identity (see Store::Exist).
struct Candidate {
  std::string key;       // primary key / rowid as text, or path under the root
  std::string clock;     // the clock value as stored (text form)
  std::string subject;   // the subject id as stored ("" when the target maps none, or NULL)
  // The rest of the identity, in the store's own text form, compared whole:
  //   SQLite:    "" (its identity is the clock and subject above);
  //   files:     "DEV:INO:SIZE:MTIME_NS" of the walk's lstat;
  //   purge log: "" (an entry's identity is its seq and time).
  // nullopt when only key and clock are known (a candidate read from a saved
  // plan, a pending record written by schema version 2): then the subject is
  // not known either, and the store compares the key and the clock alone.
  std::optional<std::string> identity;
};

// Where a record selected earlier stands now, by identity.
enum class Presence {
  kAbsent,    // nothing under its key
  kSame,      // its key names a record with the selected identity
  kReplaced,  // its key names another record (another clock, subject, inode, ...)
};

// What the re-checking delete actually removed.
struct DeletedRecord {
  std::string key;
  std::string clock;
  std::string subject;
};

// Why a store's delete left a selected record in place, when the reason is
// the store's own and not the selection's (a hold, a floor, a clock that
// moved: those the caller judges from Lookup). A value, so that nobody
// parses the words back (STYLE "Reasons are values").
enum class SkipReason {
  kUndeletable,  // the system refused to remove it: permission, immutable,
                 // read-only file system, a mount point (SPEC 6.14)
  kLocked,       // another process holds a lock on it
  kChanged,      // no longer what was selected: not a regular file, or a
                 // symlink or another mount on its path
};

// "undeletable", "locked", "changed": the ledger's word for a SkipReason.
const char* SkipReasonName(SkipReason reason);

struct SkippedRecord {
  std::string key;
  std::string clock;
  std::string subject;
  SkipReason reason = SkipReason::kChanged;
  std::string detail;  // for people: "cannot be deleted: Operation not permitted (immutable)"
};

// What one DeleteBatch did. Every candidate is in at most one of the two
// lists; one in neither stayed for a reason of the selection (or is gone).
struct BatchResult {
  std::vector<DeletedRecord> deleted;
  std::vector<SkippedRecord> skipped;
};

// How much of a target CheckTarget looks at.
enum class CheckDepth {
  kFull,  // `retention check`: every check, including surveys (file walks)
  kGate,  // the start of a purge: every check that can fail, none that only informs
};

// Results of checking a target against the live store.
struct TargetCheck {
  CheckDepth depth = CheckDepth::kFull;  // in
  std::vector<std::string> errors;    // each "WHERE: message"
  std::vector<std::string> warnings;  // e.g. a missing index on the clock column
};

// Pages through the deletable records of one target, oldest first. Each
// call reads afresh (short read transactions), continuing after the last
// record returned; records kept by a hold or floor are skipped, never
// revisited.
//
// Threading: Next may run on another thread than the store's other calls
// (the executor reads the next batch while the current one is deleted and
// synced), never two calls of the same cursor at once. A store keeps what
// Next uses apart from what its other calls use (SQLite: a connection of
// the cursor's own).
class CandidateCursor {
 public:
  virtual ~CandidateCursor() = default;
  // Up to `limit` candidates deletable under `selection` (the one the
  // cursor was opened with, its holds as the caller read them last);
  // empty when there are no more.
  virtual Result<std::vector<Candidate>> Next(const Selection& selection, size_t limit) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual const StoreConfig& config() const = 0;

  // Schema/layout checks for `retention check`. Never changes anything.
  virtual Status CheckTarget(const Category& category, const Target& target, TargetCheck* out) = 0;

  // Counts for `retention plan`.
  virtual Result<TargetStats> Measure(const Selection& selection) = 0;

  // The safety valve's bound (DueBound); cheaper than Measure.
  virtual Result<DueBound> BoundDue(const Selection& selection) = 0;

  // The records of the selection's own target (its filters matching) that
  // one of its exclusions covers, whatever their age: what a hold would
  // keep (hold add --dry-run).
  virtual Result<int64_t> CountCovered(const Selection& selection) = 0;

  virtual Result<std::unique_ptr<CandidateCursor>> OpenCursor(const Selection& selection) = 0;

  // Deletes those of `batch` that are still deletable under `selection` (its
  // holds re-read by the caller just before), in one short transaction, and
  // returns exactly what went, and what the store itself could not or would
  // not remove, with the reason. A record the system refuses to remove is
  // skipped, not an error: one undeletable record never stops the rest
  // (SPEC 6.14); an error (I/O) stops the run. Read-only stores refuse.
  virtual Result<BatchResult> DeleteBatch(const Selection& selection, const std::vector<Candidate>& batch) = 0;

  // Makes every deletion this store committed so far durable: after it
  // returns, a power cut cannot bring a deleted record back (SQLite:
  // fdatasync of the database file and its WAL, whatever `synchronous` the
  // application chose; files: fsync of each directory it unlinked in). A
  // batch is settled in the ledger only after this (ledger/batch_entry.h);
  // reconciliation calls it before judging what a crashed run deleted.
  virtual Status Sync() = 0;

  // For crash reconciliation and the ledger's kept reasons: where each of
  // `records` (selected earlier from `target`) stands now, same order,
  // judged by identity as Candidate describes. A record the store cannot
  // see (an I/O error, a path it may not follow) is an error status, never
  // a guess.
  virtual Result<std::vector<Presence>> Exist(const Target& target, const std::vector<Candidate>& records) = 0;

  // How the record under `key` looks under each scope of `selection`, for
  // `explain` and the ledger's kept reasons (Evaluate judges the facts).
  virtual Result<RecordFacts> Lookup(const Selection& selection, const std::string& key) = 0;

  // What `target` names here, in a form another host's store can compare
  // with: the same text on two hosts means they see the same records, so
  // that one may judge what the other deleted (a fleet's reconciliation,
  // purge/reconcile.h). Recorded in each batch entry over the store
  // (ledger/batch_entry.h, STORE IDENTITY) and compared whole, never parsed.
  //   PostgreSQL: the cluster's system identifier (pg_control_system()),
  //     the database's name and oid, the table's qualified name and oid:
  //     postgres cluster 7714821381855405924, database "app" (oid 16384),
  //     table "public"."events" (oid 16390)
  //   SQLite, files, the purge log: nullopt. They are on one host's disk;
  //     nothing comparable across hosts names them.
  // What it is not: proof of the same data. A physical copy of a cluster
  // (a promoted replica, a restored base backup, a Neon branch, a cloned
  // volume) keeps the system identifier and every oid, so it reads as the
  // same store while its rows may differ. It tells apart another cluster,
  // another database, and a table dropped and created again.
  virtual Result<std::optional<std::string>> Identity(const Target& target) = 0;
};

// Opens the store a config names. read_only for check/plan/explain/status.
// An unreachable store is an Unavailable status naming it. A files store
// makes its file system calls through `fs` (stores/file_system.h).
Result<std::unique_ptr<Store>> OpenStore(const StoreConfig& config, bool read_only,
                                         std::shared_ptr<const files::FileSystem> fs);

}  // namespace retention
