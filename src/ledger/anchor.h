// Anchors: how the purge log keeps its own retention (SPEC 1, audit logs)
// without losing its proof.
//
// When the rules give the purge log a schedule (a target on the built-in
// store "purge-log"), a purge removes its oldest entries: always a prefix,
// entries 1..N or, after an earlier pruning, F..N. Before the first of them
// goes, it appends an anchor entry (kind "anchor") that records:
//
//   from, through   the range it prunes (from = the oldest entry present)
//   through_hash    the hash of entry `through`: the prev_hash that the
//                   first entry left after it carries
//   clock           the time of entry `through` (entry field `clock`)
//   cutoff          the cutoff it applied (entry field `cutoff`): every
//                   pruned entry is older
//   delete_after,   the schedule and calendar that cutoff came from, so
//   time_zone       that `audit verify` can recompute the latest cutoff the
//                   anchor's own time allows
//
// The anchor is an ordinary entry of the chain, so it cannot be changed
// without breaking it. `audit verify` accepts a ledger that starts after
// entry 1 only when an anchor accounts for the missing entries and its
// through_hash is the link the first remaining entry carries. The entries
// are deleted after the anchor commits, in batches; until they all are,
// entries from..through still present are checked against through_hash.
//
// In the entry: category, store ("purge-log"), target and rule are those of
// the rule that pruned; record_key is empty; detail is
//   {"delete_after":"12 months","from":1,"through":5000,
//    "through_hash":"<64 hex>","time_zone":"UTC"}
#pragma once

#include <cstdint>
#include <string>

#include "calendar/duration.h"
#include "calendar/timestamp.h"
#include "config/config.h"
#include "ledger/ledger_entry.h"
#include "util/status.h"

namespace retention {

struct LedgerAnchor {
  int64_t from = 0;
  int64_t through = 0;
  std::string through_hash;
  Timestamp through_at{};
  Timestamp cutoff{};
  CalendarDuration delete_after;
  std::string time_zone = "UTC";
};

// Fills the anchor's fields of `entry` (kind, clock, cutoff, detail); the
// caller sets category, target, rule and run_id.
void WriteAnchor(const LedgerAnchor& anchor, LedgerEntry* entry);

// Reads an anchor entry back. Anything missing or malformed is an
// AuditFailed status naming the entry: an anchor is evidence, and a damaged
// one proves nothing.
Result<LedgerAnchor> ReadAnchor(const LedgerEntry& entry);

// The checks an anchor must pass on its own, whatever else the ledger
// holds: a sane range before the anchor itself, a pruned range older than
// its cutoff, and a cutoff no later than its schedule allowed at the
// anchor's own time (an anchor cannot claim entries younger than its
// retention). Empty when it passes; else what is wrong, in plain words.
std::string CheckAnchor(const LedgerEntry& entry, const LedgerAnchor& anchor);

}  // namespace retention
