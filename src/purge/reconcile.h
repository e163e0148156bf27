// Settling what a crashed run left behind (SPEC 6.2), before a new run
// deletes anything.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "state/state_db.h"
#include "stores/store_set.h"
#include "rules/rule.h"

namespace retention {

// For every pending batch, each record is judged by its identity as the
// batch recorded it (key and clock, the subject, for files device, inode,
// size and mtime: stores/store.h Candidate), not by its key alone:
//
//   - absent: the crashed run's committed delete removed it; it gets its
//     `delete` entry now, detail {"reconciled":true};
//   - present with the same identity: the delete did not remove it; no
//     entry;
//   - present with another identity (rows inserted that reuse the deleted
//     rowids, a log re-created under the same name, a record changed in
//     place): the selected record is gone and another took its key. It gets
//     its `delete` entry, detail {"reconciled":true,"replaced":true}.
//
// Why "replaced" counts as deleted. The delete removes a record only while
// its identity still equals the candidate's (SQLite: key, clock and subject
// inside the DELETE; files: re-stat of the name just before unlinkat), so
// whatever happened, the selected record itself is not in the store any
// more: either this run deleted it and the key was taken afterwards, or the
// record changed under its key before a delete that then kept it. Nothing
// left after the crash tells these apart. Writing no entry would leave the
// first case, a deletion, unrecorded for good, which SPEC 6.2 forbids and no
// later run could repair; the entry, marked "replaced", records that the
// selected record (the key and clock it names) went, and tells an auditor it
// was inferred from a successor under its key rather than from an empty key.
// The record now under the key is a new record, judged by later runs on its
// own clock.
//
// Records recorded without an identity (by a schema version 2 run, or from a
// saved plan, which lists key and clock only) are judged on key and clock
// alone: a successor with the same clock under the same key reads as the
// record itself. A record the store cannot see (an I/O error, a path it may
// not follow) stops reconciliation, and so the run, with that error: never
// a guess.
//
// Then every open batch entry (ledger/batch_entry.h: an intent without a
// settlement) is settled by one `reconciled` entry, after the store's Sync
// (never judge a deletion a power cut could still undo), its candidates
// judged the same way: absent -> deleted; replaced -> listed "replaced"
// (deleted, as above); present -> kept, why "not_deleted". No batch of a
// running run is ever open here: the run lock excludes one.
//
// Before anything is settled, every open batch entry that recorded its
// store's identity (ledger/batch_entry.h, STORE IDENTITY) is checked
// against the identity the store of that name has here now: a store that
// reaches another cluster, database or table (its conninfo changed since)
// would judge the batch against other records, claiming deleted what is
// merely absent there. A mismatch refuses (Invalid), nothing settled, so
// a purge does not start. An entry without one (a store without an
// identity, an older version) is judged as before.
//
// Runs left "running" are marked crashed. Returns the number of records
// reconciled as deleted. A pending batch whose target is no longer in the
// rules stops the run (Invalid): its store cannot be asked without it.
//
// `only_host`: a state a fleet shares (issue 15) holds every host's runs,
// and another host's "running" run is in flight right now, or that host's
// to reconcile at its next start: its batches and runs are never touched
// here, only those of the runs of `only_host` (this host's name in the
// state; its run claim keeps its own runs still). nullopt: every run, as
// in a state one host owns.
Result<int64_t> Reconcile(StateDb& state, StoreSet& stores, const RuleSet& rules,
                          const std::optional<std::string>& only_host = std::nullopt);

// What ReconcileHost settled.
struct HostReconciliation {
  int64_t batches = 0;              // pending batches and open batch entries settled
  int64_t deleted = 0;              // records found deleted (replaced ones included)
  int64_t runs_marked_crashed = 0;  // its runs left "running"
};

// `retention state reconcile [--host NAME]`: the runs of `host` in a state
// a fleet shares, reconciled now. For this host (`host` == `this_host`)
// what its next purge would do first. For another, a host that will not
// start again (decommissioned, renamed) and whose open batches keep every
// other host off their tables: reconciled from this one, named in each
// `reconciled` entry as "reconciled_by_host". The caller holds `host`'s run
// claim: that host is not running, and does not start while this runs.
// Another host's batches are judged here only over a store this config
// defines as PostgreSQL; one over any other (files, a SQLite database: that
// host's own disk, where a key absent here says nothing of it there)
// refuses the whole command before anything is settled (Invalid), and so
// does one whose run ran under rules other than `rules` (its category and
// target names may stand for other tables under these), one whose store
// identity is not this store's (as Reconcile), and one over a PostgreSQL
// store that recorded no store identity (written by an older version:
// nothing says the two hosts' stores of that name reach the same table;
// that host's own config must settle it).
Result<HostReconciliation> ReconcileHost(StateDb& state, StoreSet& stores, const Config& config,
                                         const RuleSet& rules, const std::string& host,
                                         const std::string& this_host);

}  // namespace retention
