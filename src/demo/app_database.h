// The demo's application database, app.db: an inventory/sales SaaS modelled
// on the seed privacy policy (seeds/001). Schema (every table carries
// account_id; ids ascend with the table's main clock):
//
//   accounts(id INTEGER PRIMARY KEY, name TEXT, email TEXT,
//            status TEXT 'active'|'closed',
//            created_at TEXT 'YYYY-MM-DD HH:MM:SS' (UTC),
//            closed_at TEXT same format, NULL while active)
//   customers(id INTEGER PRIMARY KEY, account_id INTEGER, name TEXT,
//             email TEXT, phone TEXT, created_at TEXT 'YYYY-MM-DD HH:MM:SS')
//   inventory_items(id INTEGER PRIMARY KEY, account_id INTEGER, sku TEXT,
//                   title TEXT, price_cents INTEGER, created_at TEXT)
//   sales(id INTEGER PRIMARY KEY, account_id INTEGER, customer_id INTEGER,
//         amount_cents INTEGER, sold_at TEXT '2025-01-02T03:04:05Z')
//   invoices(id INTEGER PRIMARY KEY, account_id INTEGER, customer_id INTEGER,
//            total_cents INTEGER, issued_at INTEGER unix seconds)
//   support_tickets(id INTEGER PRIMARY KEY, account_id INTEGER,
//                   customer_id INTEGER, subject TEXT, status TEXT,
//                   last_activity_at TEXT 'YYYY-MM-DD HH:MM:SS')
//   support_emails(id INTEGER PRIMARY KEY, ticket_id INTEGER,
//                  customer_id INTEGER, sender TEXT, body TEXT,
//                  sent_at TEXT 'YYYY-MM-DD HH:MM:SS')
//   audit_events(id INTEGER PRIMARY KEY, account_id INTEGER, actor TEXT,
//                action TEXT, occurred_at INTEGER unix milliseconds)
//   security_events(id INTEGER PRIMARY KEY, account_id INTEGER, kind TEXT,
//                   ip TEXT, occurred_at TEXT '2025-01-02T04:04:05+01:00'
//                   (a mix of offsets: text order is NOT time order))
//   request_logs(id INTEGER PRIMARY KEY, account_id INTEGER, method TEXT,
//                path TEXT, status INTEGER, latency_ms INTEGER, ip TEXT,
//                created_at TEXT 'YYYY-MM-DD HH:MM:SS')
//   sessions(id TEXT PRIMARY KEY (64 hex chars), account_id INTEGER,
//            created_at TEXT, expires_at TEXT 'YYYY-MM-DD HH:MM:SS'
//            (created_at + 14 days))
//   oauth_states(state TEXT PRIMARY KEY, account_id INTEGER,
//                created_at INTEGER unix seconds,
//                expires_at INTEGER unix seconds (created_at + 600))
//   usage_events(id INTEGER PRIMARY KEY, account_id INTEGER, name TEXT,
//                occurred_at TEXT '2025-01-02T03:04:05.123Z')
//
// customer_id is NULL where the account holder acted without a customer
// (a walk-in sale, a ticket the store owner opened).
//
// Indexes (idx_TABLE_COLUMN): every clock column the shipped rules use
// (accounts.closed_at, sales.sold_at, invoices.issued_at,
// support_tickets.last_activity_at, audit_events.occurred_at,
// security_events.occurred_at, request_logs.created_at, sessions.expires_at,
// oauth_states.expires_at, usage_events.occurred_at, plus
// support_emails.sent_at), and every join and subject column
// (account_id everywhere, customer_id where present, support_emails.ticket_id).
//
// Undated rows, so that plans show an `undated` count: in every table whose
// clock a rule reads, a handful of rows (6, or 3 in tables under 60 rows) at
// fixed, evenly spread positions have a NULL clock, or for text clocks
// 'unknown' or '' (cycling NULL, 'unknown', ''); integer clocks
// (audit_events, invoices, oauth_states) only get NULLs. A few closed
// accounts have closed_at NULL / 'unknown' / '', which also leaves their
// customers and inventory undated through the join. Support emails of an
// undated ticket are undated through theirs.
//
// Time: all clocks lie in [now - 3 calendar years, now), with activity
// growing linearly over the three years; only sessions.expires_at and
// oauth_states.expires_at may lie after now. 15% of accounts are closed,
// roughly 40% of them within the last 90 days (every account that signed up in the
// last four months and closed did so recently); a closed account has no
// activity after its closure. 20% of sessions were created in the last 14
// days (so are live) and 15% of oauth_states in the last day.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace retention::demo {

struct AppDatabaseSpec {
  int64_t rows = 300000;  // approximate total
  int64_t now = 0;        // unix seconds
  uint64_t seed = 42;
};

using RowCounts = std::vector<std::pair<std::string, int64_t>>;

// Creates `file` (which must not exist) and fills it in one transaction,
// without a journal; the caller renames it into place and then switches it
// to WAL with EnableWal. Returns the rows written per table.
Result<RowCounts> WriteAppDatabase(const std::filesystem::path& file, const AppDatabaseSpec& spec);

// Puts the database in WAL mode (persistent) and runs a quick ANALYZE.
Status EnableWal(const std::filesystem::path& file);

}  // namespace retention::demo
