// Categories and targets: the rules, as loaded from retention-rules/*.toml.
//
// A rule file holds one or more categories; each top-level table is one:
//
//   [request_logs]
//   description = "Server / request logs"
//   policy = "Server logs | 30-90 days"        # quoted policy text
//   policy_source = "Privacy Policy, section 4" # where the quote is from
//   keep_at_least = "30 days"                  # floor: nothing younger goes
//   delete_after = "90 days"                   # due when clock < now - 90 days
//   max_delete_fraction = 1.0                  # optional: safety valve override
//   erasable = false                           # optional (default true): see below
//   erasure_exception = "Privacy Policy 2.4: ..." # required with erasable = false
//
//   [[request_logs.target]]                    # one or more targets
//   name = "app-requests"                      # optional, default: the table
//   store = "app"                              # a [stores.NAME] of the config
//   table = "request_logs"                     # sql stores
//   key = "id"                                 # optional: primary key / rowid
//   clock = { column = "created_at", encoding = "text" }
//   where = { status = "closed", kind = ["a", "b"] }
//   subject = { kind = "customer", column = "customer_id" }
//
// Event clocks go through one join: a customer row is aged by its account's
// closed_at:
//   clock = { column = "closed_at", encoding = "text",
//             join = { table = "accounts", key = "id", on = "account_id" } }
// meaning JOIN accounts ON accounts.id = customers.account_id.
//
// Filters (`where`) are ANDed. A string, integer, float or boolean means
// equality; a non-empty array means IN; `{ null = true }` means IS NULL and
// `{ null = false }` IS NOT NULL:
//   where = { status = "closed", kind = ["a", "b"], deleted_at = { null = false } }
// No raw SQL: columns are checked against the live schema and quoted, values
// are bound parameters.
//
// Targets on a files store select files by glob patterns relative to the
// store's root, and take their clock from the mtime or the file name:
//   [[backups.target]]
//   store = "backups"
//   paths = ["db-*.sqlite.gz"]          # "**/" matches any depth
//   clock = { mtime = true }            # or { name = "db-%Y-%m-%d" }
//
// The built-in store "purge-log" is this engine's own ledger. A target on it
// takes no other key: its records are the ledger's entries, keyed by seq and
// aged by the time they were written; they are pruned oldest first behind
// an anchor entry (ledger/anchor.h). At most one target in all the rules.
//   [[audit_security.target]]
//   store = "purge-log"
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "calendar/clock_value.h"
#include "calendar/duration.h"
#include "util/source_location.h"

namespace retention {

// A bound filter value. std::monostate is never stored (nulls use FilterOp).
using FilterValue = std::variant<int64_t, double, std::string, bool>;

enum class FilterOp { kEquals, kIn, kIsNull, kIsNotNull };

struct Filter {
  std::string column;
  FilterOp op = FilterOp::kEquals;
  std::vector<FilterValue> values;  // one for kEquals, one or more for kIn
  SourceLocation where;
};

struct ClockJoin {
  std::string table;  // the related table holding the clock column
  std::string key;    // its column matched ...
  std::string on;     // ... against this column of the target table
};

// kLedgerTime: the time a purge log entry was written (targets on the
// built-in store "purge-log").
enum class ClockSource { kColumn, kFileMtime, kFileName, kLedgerTime };

struct ClockSpec {
  ClockSource source = ClockSource::kColumn;
  std::string column;          // kColumn
  std::string name_pattern;    // kFileName: strftime-like, %Y %m %d %H %M %S
  ClockEncoding encoding = ClockEncoding::kText;
  std::string time_zone;  // naive text clocks; empty: the store's zone
  std::optional<ClockJoin> join;
  SourceLocation where;
};

struct SubjectSpec {
  std::string kind;    // "customer", "account", ...
  std::string column;  // column of the target table holding the id
};

struct Target {
  std::string name;   // unique within the category
  std::string store;  // name of a [stores.NAME]
  std::string table;  // sql stores
  std::string key;    // sql stores; empty: primary key, else rowid
  std::vector<std::string> paths;  // files stores: globs under the root
  ClockSpec clock;
  std::vector<Filter> filters;
  std::optional<SubjectSpec> subject;
  SourceLocation where;
};

struct Category {
  std::string name;
  std::string description;
  std::string policy;
  std::string policy_source;
  std::optional<CalendarDuration> delete_after;
  std::optional<CalendarDuration> keep_at_least;
  // Overrides [limits] max_delete_fraction for this category's targets:
  // short-lived data (sessions) is mostly due at every run.
  std::optional<double> max_delete_fraction;
  // `erasable = false`: an erasure request (`retention erase`) deletes none
  // of this category's records; `erasure_exception` is the legal basis the
  // receipt quotes, required so that no exception goes unexplained. The
  // ordinary schedule still deletes them.
  bool erasable = true;
  std::string erasure_exception;
  std::vector<Target> targets;
  SourceLocation where;
};

struct RuleSet {
  std::vector<Category> categories;  // sorted by name
  std::vector<std::string> files;    // the rule files read, sorted by name
  std::string hash;                  // SHA-256 of the effective files' names + bytes (rule_overlay.h)
};

}  // namespace retention
