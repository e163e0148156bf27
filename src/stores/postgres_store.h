// A store over the tables of one PostgreSQL database, reached with libpq
// (SPEC section 3; stores/store.h for what every store promises).
//
// The connection string never appears in a config or rule file: the store
// reads it from the environment variable its conninfo_env names, or names a
// pg_service.conf entry (service). It is never written to a log line, an
// error or the ledger either: a store that cannot be reached is named by
// the store's name, and libpq's message has any password masked.
// application_name is "retention", so a DBA sees who is deleting.
//
// Targets name "schema.table" (schema "public" when omitted). Every
// identifier is resolved in pg_catalog and quoted; every value is bound
// (stores/postgres_catalog.h, stores/postgres_selection_sql.h).
//
// Purge: the cursor pages oldest first by (clock, key) on a connection of
// its own. Each DeleteBatch is one short transaction (lock_timeout 50ms,
// statement_timeout 5s) whose DELETE re-checks the whole selection and the
// candidates' identities and takes its rows FOR UPDATE SKIP LOCKED: a row
// the application holds locked is skipped as kLocked, never waited on, and
// the cursor offers it once more at the end of its scan (after waiting, at
// most 2 s, for the batches it handed out to pass DeleteBatch).
//
// Sync: every session runs with synchronous_commit = on (whatever the
// database's or role's default), so a DELETE is durable once its COMMIT
// returned; Sync has nothing left to flush and returns Ok while the
// connection is up.
//
// Read-only opens (check, plan, explain) set default_transaction_read_only.
#pragma once

#include <memory>

#include "config/config.h"
#include "stores/store.h"
#include "util/status.h"

namespace retention {

// An unreachable server is Unavailable naming the store (exit 69), never
// the conninfo.
Result<std::unique_ptr<Store>> OpenPostgresStore(const StoreConfig& config, bool read_only);

}  // namespace retention
