// Settling what a crashed run left behind (SPEC 6.2), before a new run
// deletes anything.
#pragma once

#include "config/config.h"
#include "state/state_db.h"
#include "stores/store_set.h"
#include "rules/rule.h"

namespace retention {

// For every pending batch: records that no longer exist in their store were
// deleted by the crashed run's committed transaction and get their ledger
// entries now (detail {"reconciled":true}); records that still exist were
// not deleted. Runs left "running" are marked crashed. Returns the number
// of records reconciled as deleted. A pending batch whose target is no
// longer in the rules is still settled against its store by key.
Result<int64_t> Reconcile(StateDb& state, StoreSet& stores, const RuleSet& rules);

}  // namespace retention
