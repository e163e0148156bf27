// The built-in store "purge-log": the ledger's own entries as records, so
// that the rules can give the purge log a schedule like any other audit log
// (SPEC 1: audit logs, 12 months).
//
// A record is one ledger entry: key = its seq, clock = the time it was
// written, subject = the subject it names (a deletion of customer:42's
// record is held by a hold on customer:42). Holds, floors and cutoffs apply
// as in plan/selection.h (judged by Evaluate), with one rule more: the log is pruned only as a prefix,
// from its oldest entry on, so that what is left is still one chain. An
// entry that may go on its own stays while an older one stays; plan counts
// it as held. Pruning itself (behind an anchor entry) is purge's, see
// purge/purge_log_prune.h; this store measures, explains and walks.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ledger/ledger_entry.h"
#include "state/state_db.h"
#include "stores/store.h"

namespace retention {

// Entry `e` as a record under every scope of `s`: key its seq, clock the
// time it was written, subject the one it names (its own kind).
RecordFacts PurgeLogEntryFacts(const Selection& s, const LedgerEntry& e);

// Why entry `e` may not be pruned under `s` now, or nullopt when it may:
// not due, held, or under a floor (Evaluate's answer, in words). An entry
// an anchor has already pruned is judged the same way (the rules may have
// changed since: keep when unsure).
std::optional<std::string> PurgeLogEntryKept(const Selection& s, const LedgerEntry& e);

// Walks the purge log from its oldest entry while entries are anchored
// (seq <= `pruned_through`) or due under `s`, calling `visit` with each and
// PurgeLogEntryKept's answer; stops at the first entry neither anchored nor
// due, or when `visit` returns false. Internal error for a selection whose
// holds were not applied.
Status WalkPrunablePrefix(StateDb& state, const Selection& s, int64_t pruned_through,
                          const std::function<bool(const LedgerEntry&, const std::optional<std::string>&)>& visit);

// Opens the purge log of the state database at `config.path`, read-only. A
// state database that does not exist yet is an empty log.
Result<std::unique_ptr<Store>> OpenPurgeLogStore(const StoreConfig& config);

}  // namespace retention
