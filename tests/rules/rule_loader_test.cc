// Rule files (format in rules/rule.h): a table of malformed files with the
// exact "FILE:LINE:COL: message" each must produce, a table of the ways to
// write a valid file and the model they load to, the leftovers the rules
// directory ignores, and the shipped retention-rules/ against SPEC section 1.
#include "cli/exit_codes.h"
#include "rules/rule_loader.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/loader_test_support.h"

namespace retention {
namespace {

using loader_test::LoadConfigText;
using loader_test::LoadRuleFiles;
using loader_test::ScratchDir;
using loader_test::WithDir;
using loader_test::WriteFile;

// Stores `app` (sqlite) and `logs` (files); rules in DIR/rules.
constexpr const char* kConfig = R"toml(rules = "rules"
state = "state.db"

[stores.app]
type = "sqlite"
path = "app.db"

[stores.logs]
type = "files"
root = "logs"
)toml";

Config LoadTestConfig(const ScratchDir& dir) { return LoadConfigText(dir, kConfig); }

Result<RuleSet> LoadFiles(const ScratchDir& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  return LoadRuleFiles(LoadTestConfig(dir), files);
}

// ---------------------------------------------------------------------------
// Bad rule files. "$D" in a message is the rules directory.

struct BadCase {
  const char* what;
  std::vector<std::pair<std::string, std::string>> files;
  std::string message;
};

std::vector<BadCase> BadCases() {
  return {
      // --- TOML syntax -------------------------------------------------------
      {"syntax: key without value",
       {{"r.toml", R"toml([c]
delete_after =
)toml"}},
       "$D/r.toml:2:15: Error while parsing key-value pair: expected value, saw '\\n'"},
      {"syntax: unterminated table header",
       {{"r.toml", R"toml([c
delete_after = "90 days"
)toml"}},
       "$D/r.toml:1:3: Error while parsing table header: expected ']', saw '\\n'"},
      {"syntax: key defined twice",
       {{"r.toml", R"toml([c]
delete_after = "90 days"
delete_after = "30 days"
)toml"}},
       "$D/r.toml:3:16: Error while parsing key-value pair: cannot redefine existing string 'delete_after'"},
      {"empty file", {{"r.toml", ""}},
       "$D/r.toml:1:1: the file defines no category (expected one or more [CATEGORY] tables)"},
      {"file with only comments", {{"r.toml", "# nothing here yet\n"}},
       "$D/r.toml:1:1: the file defines no category (expected one or more [CATEGORY] tables)"},

      // --- unknown keys ----------------------------------------------------
      {"unknown key at category level",
       {{"r.toml", R"toml([c]
delete_after = "90 days"
retain = "forever"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:3:1: unknown key 'retain' in category 'c'"},
      {"typo delete_afer, nothing else: the typo is reported, not a missing schedule",
       {{"r.toml", R"toml([c]
delete_afer = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:2:1: unknown key 'delete_afer' in category 'c' (did you mean 'delete_after'?)"},
      {"typo keep_at_lest next to a valid delete_after",
       {{"r.toml", R"toml([c]
delete_after = "90 days"
keep_at_lest = "30 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:3:1: unknown key 'keep_at_lest' in category 'c' (did you mean 'keep_at_least'?)"},
      {"[[c.targets]]: the target key misspelled",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.targets]]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:4:5: unknown key 'targets' in category 'c' (did you mean 'target'?)"},
      {"unknown key at target level (typo of a required key)",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
tabel = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:6:1: unknown key 'tabel' in a target of 'c' (did you mean 'table'?)"},
      {"unknown key at target level",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
batch_size = 10
)toml"}},
       "$D/r.toml:8:1: unknown key 'batch_size' in a target of 'c'"},
      {"unknown key in clock",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at", encodng = "text" }
)toml"}},
       "$D/r.toml:7:34: unknown key 'encodng' in the clock (did you mean 'encoding'?)"},
      {"unknown key in a files clock",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log"]
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:8:11: unknown key 'column' in the clock"},
      {"unknown key in join",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "customers"
clock = { column = "closed_at", join = { table = "accounts", key = "id", on = "account_id", type = "left" } }
)toml"}},
       "$D/r.toml:7:93: unknown key 'type' in the clock's join"},
      {"unknown key in subject",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
subject = { kind = "customer", column = "customer_id", table = "customers" }
)toml"}},
       "$D/r.toml:8:56: unknown key 'table' in the subject"},
      {"unknown key in a filter table",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
where = { deleted_at = { null = false, since = "2020-01-01" } }
)toml"}},
       "$D/r.toml:8:40: unknown key 'since' in filter 'deleted_at'"},
      {"a filter table without null (typo)",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
where = { deleted_at = { nul = true } }
)toml"}},
       "$D/r.toml:8:26: unknown key 'nul' in filter 'deleted_at' (did you mean 'null'?)"},

      // --- schedule --------------------------------------------------------
      {"neither delete_after nor keep_at_least",
       {{"r.toml", R"toml([c]
description = "no schedule"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:1:1: category 'c' needs delete_after, keep_at_least or both"},
      {"delete_after 30 days shorter than a floor of 1 month",
       {{"r.toml", R"toml([c]
keep_at_least = "1 month"
delete_after = "30 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:3:16: delete_after (30 days) can be shorter than keep_at_least (1 month)"},
      {"delete_after 365 days shorter than a floor of 12 months",
       {{"r.toml", R"toml([c]
keep_at_least = "12 months"
delete_after = "365 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:3:16: delete_after (365 days) can be shorter than keep_at_least (12 months)"},
      {"delete_after 1 week shorter than a floor of 8 days",
       {{"r.toml", R"toml([c]
keep_at_least = "8 days"
delete_after = "1 week"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:3:16: delete_after (1 week) can be shorter than keep_at_least (8 days)"},

      // --- durations -------------------------------------------------------
      {"duration without unit",
       {{"r.toml", "[c]\ndelete_after = \"90\"\n"}},
       "$D/r.toml:2:16: delete_after: invalid duration \"90\": missing unit after the amount "
       "(expected seconds, minutes, hours, days, weeks, months or years, e.g. \"90 days\", \"30m\", \"1y\")"},
      {"duration in words",
       {{"r.toml", "[c]\ndelete_after = \"ninety days\"\n"}},
       "$D/r.toml:2:16: delete_after: invalid duration \"ninety days\": expected a whole number first, "
       "as in \"90 days\" or \"30m\""},
      {"zero duration",
       {{"r.toml", "[c]\ndelete_after = \"0 days\"\n"}},
       "$D/r.toml:2:16: delete_after: invalid duration \"0 days\": the amount must be positive"},
      {"negative duration",
       {{"r.toml", "[c]\ndelete_after = \"-1 days\"\n"}},
       "$D/r.toml:2:16: delete_after: invalid duration \"-1 days\": the amount must be a positive whole "
       "number, without a sign"},
      {"fractional duration",
       {{"r.toml", "[c]\ndelete_after = \"1.5 days\"\n"}},
       "$D/r.toml:2:16: delete_after: invalid duration \"1.5 days\": the amount must be a whole number; "
       "use a smaller unit instead of a fraction"},
      {"misspelled unit",
       {{"r.toml", "[c]\ndelete_after = \"90 dayz\"\n"}},
       "$D/r.toml:2:16: delete_after: invalid duration \"90 dayz\": unknown unit \"dayz\" "
       "(expected seconds, minutes, hours, days, weeks, months or years, e.g. \"90 days\", \"30m\", \"1y\")"},
      {"huge amount",
       {{"r.toml", "[c]\ndelete_after = \"99999999999999999999999 days\"\n"}},
       "$D/r.toml:2:16: delete_after: invalid duration \"99999999999999999999999 days\": the amount "
       "must be at most 100000"},
      {"empty duration",
       {{"r.toml", "[c]\nkeep_at_least = \"\"\n"}},
       "$D/r.toml:2:17: keep_at_least: empty duration (expected e.g. \"90 days\")"},
      {"bad keep_at_least",
       {{"r.toml", "[c]\ndelete_after = \"90 days\"\nkeep_at_least = \"30 days please\"\n"}},
       "$D/r.toml:3:17: keep_at_least: invalid duration \"30 days please\": unexpected text after the "
       "unit: \"please\""},

      // --- types -----------------------------------------------------------
      {"delete_after as a bare number",
       {{"r.toml", "[c]\ndelete_after = 90\n"}},
       "$D/r.toml:2:16: 'delete_after' must be a duration string such as \"90 days\", not an integer"},
      {"policy as a number",
       {{"r.toml", "[c]\npolicy = 1\ndelete_after = \"90 days\"\n"}},
       "$D/r.toml:2:10: 'policy' must be a string, not an integer"},
      {"max_delete_fraction as a string",
       {{"r.toml", "[c]\ndelete_after = \"90 days\"\nmax_delete_fraction = \"50%\"\n"}},
       "$D/r.toml:3:23: 'max_delete_fraction' must be a number, not a string"},
      {"category not a table (top-level scalar)",
       {{"r.toml", "c = \"90 days\"\n"}},
       "$D/r.toml:1:5: top-level key 'c' must be a category table ([c])"},
      {"category name with a space",
       {{"r.toml", "[\"request logs\"]\ndelete_after = \"90 days\"\n"}},
       "$D/r.toml:1:1: category name 'request logs' may contain only letters, digits, '_', '-' and '.'"},
      {"target not an array of tables",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[c.target]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:4:1: 'target' must be an array of tables ([[c.target]])"},
      {"target an array of strings",
       {{"r.toml", "[c]\ndelete_after = \"90 days\"\ntarget = [\"t\"]\n"}},
       "$D/r.toml:3:11: each target of 'c' must be a table ([[c.target]])"},
      {"no target",
       {{"r.toml", "[c]\ndelete_after = \"90 days\"\n"}},
       "$D/r.toml:1:1: category 'c' has no [[c.target]]"},
      {"clock as a string",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = "created_at"
)toml"}},
       "$D/r.toml:7:9: 'clock' must be { column = ..., encoding = ... }"},

      // --- stores and target fields ---------------------------------------
      {"unknown store",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "appdb"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:5:9: unknown store 'appdb' (the config defines: app, logs, purge-log)"},
      {"missing store",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:4:1: missing key 'store' in a target of 'c'"},
      {"missing table",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:4:1: missing key 'table' in a target of 'c'"},
      {"empty table",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = ""
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:6:9: 'table' must not be empty"},
      {"missing clock",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
)toml"}},
       "$D/r.toml:4:1: missing key 'clock' in a target of 'c'"},
      {"clock without column",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { encoding = "text" }
)toml"}},
       "$D/r.toml:7:9: missing key 'column' in the clock"},
      {"bad clock encoding",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at", encoding = "iso8601" }
)toml"}},
       "$D/r.toml:7:45: unknown clock encoding 'iso8601' (expected text, unix_seconds, unix_millis or native)"},
      {"invalid clock zone",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at", time_zone = "Mars/Olympus_Mons" }
)toml"}},
       "$D/r.toml:7:46: unknown time zone \"Mars/Olympus_Mons\" (expected an IANA name such as \"UTC\" or "
       "\"Europe/Berlin\")"},
      {"join without on",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "customers"
clock = { column = "closed_at", join = { table = "accounts", key = "id" } }
)toml"}},
       "$D/r.toml:7:40: missing key 'on' in the clock's join"},
      {"sql-only key 'table' on a files target",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
table = "request_logs"
paths = ["*.log"]
clock = { mtime = true }
)toml"}},
       "$D/r.toml:7:9: 'table' applies to sql stores; store 'logs' is files"},
      {"sql-only key 'where' on a files target",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log"]
clock = { mtime = true }
where = { level = "debug" }
)toml"}},
       "$D/r.toml:9:9: 'where' applies to sql stores; store 'logs' is files"},
      {"sql-only key 'subject' on a files target",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log"]
clock = { mtime = true }
subject = { kind = "customer", column = "id" }
)toml"}},
       "$D/r.toml:9:11: 'subject' applies to sql stores; store 'logs' is files"},
      {"paths on a sql target",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
paths = ["*.log"]
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:7:9: 'paths' applies to files stores; store 'app' is sqlite"},
      {"files target without paths",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
clock = { mtime = true }
)toml"}},
       "$D/r.toml:4:1: missing key 'paths' in a target of 'c'"},
      {"files target with empty paths",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = []
clock = { mtime = true }
)toml"}},
       "$D/r.toml:7:9: 'paths' must be a non-empty array of glob patterns"},
      {"files target without a name",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "logs"
paths = ["*.log"]
clock = { mtime = true }
)toml"}},
       "$D/r.toml:4:1: a files target needs a 'name'"},
      {"files path pattern absolute",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log", "/var/log/app/*.log"]
clock = { mtime = true }
)toml"}},
       "$D/r.toml:7:19: path pattern '/var/log/app/*.log' must be relative to the store root, without '..'"},
      {"files path pattern with ..",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["app/../../etc/*"]
clock = { mtime = true }
)toml"}},
       "$D/r.toml:7:10: path pattern 'app/../../etc/*' must be relative to the store root, without '..'"},
      {"files path pattern that is ..",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["**/.."]
clock = { mtime = true }
)toml"}},
       "$D/r.toml:7:10: path pattern '**/..' must be relative to the store root, without '..'"},
      {"files clock with both mtime and name",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log"]
clock = { mtime = true, name = "app-%Y-%m-%d.log" }
)toml"}},
       "$D/r.toml:8:9: a files clock is { mtime = true } or { name = \"PATTERN\" }"},
      {"files clock { mtime = false }",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log"]
clock = { mtime = false }
)toml"}},
       "$D/r.toml:8:9: a files clock is { mtime = true } or { name = \"PATTERN\" }"},
      {"name pattern without %Y",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log"]
clock = { name = "app-%m-%d.log" }
)toml"}},
       "$D/r.toml:8:18: name pattern must contain %Y, %m and %d"},
      {"name pattern whose %Y is an escaped %%Y",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log"]
clock = { name = "app-%%Y-%m-%d.log" }
)toml"}},
       "$D/r.toml:8:18: name pattern must contain %Y, %m and %d"},
      {"name pattern with an unsupported directive",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log"]
clock = { name = "app-%Y-%m-%d-%j.log" }
)toml"}},
       "$D/r.toml:8:18: name pattern supports only %Y %m %d %H %M %S and %%"},
      {"name pattern ending in a lone %",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "l"
store = "logs"
paths = ["*.log"]
clock = { name = "app-%Y-%m-%d%" }
)toml"}},
       "$D/r.toml:8:18: name pattern supports only %Y %m %d %H %M %S and %%"},
      {"target name with a slash",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
name = "app/requests"
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"}},
       "$D/r.toml:5:8: target name 'app/requests' may contain only letters, digits, '_', '-' and '.'"},
      {"duplicate target names (same table, no name)",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }

[[c.target]]
store = "app"
table = "t"
clock = { column = "updated_at" }
)toml"}},
       "$D/r.toml:9:1: target name 't' appears twice in 'c' (give each a distinct 'name')"},
      {"duplicate category across two files",
       {{"a.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
)toml"},
        {"b.toml", R"toml(# the same category again
[c]
delete_after = "30 days"

[[c.target]]
store = "app"
table = "u"
clock = { column = "created_at" }
)toml"}},
       "$D/b.toml:2:1: category 'c' is already defined at $D/a.toml:1:1"},

      // --- filters -----------------------------------------------------------
      {"empty where",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
where = {}
)toml"}},
       "$D/r.toml:8:9: 'where' is empty: leave it out instead"},
      {"where as a string (raw SQL)",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
where = "status = 'closed'"
)toml"}},
       "$D/r.toml:8:9: 'where' must be a table of column = value"},
      {"empty IN list",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
where = { status = [] }
)toml"}},
       "$D/r.toml:8:20: filter 'status' has an empty list"},
      {"nested arrays in a filter",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
where = { status = ["a", ["b", "c"]] }
)toml"}},
       "$D/r.toml:8:26: filter 'status' list items must be plain values"},
      {"table inside a filter list",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
where = { status = [{ null = true }] }
)toml"}},
       "$D/r.toml:8:21: filter 'status' list items must be plain values"},
      {"null filter with a string",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
where = { deleted_at = { null = "yes" } }
)toml"}},
       "$D/r.toml:8:33: 'null' must be true or false, not a string"},
      {"filter value a date",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
where = { created_on = 2024-01-01 }
)toml"}},
       "$D/r.toml:8:24: filter 'created_on' must be a string, number, boolean, a non-empty array of them, "
       "or { null = true|false }"},

      // --- subjects ----------------------------------------------------------
      {"subject without kind",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
subject = { column = "customer_id" }
)toml"}},
       "$D/r.toml:8:11: missing key 'kind' in the subject"},
      {"subject without column",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
subject = { kind = "customer" }
)toml"}},
       "$D/r.toml:8:11: missing key 'column' in the subject"},
      {"subject kind with ':'",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
subject = { kind = "customer:id", column = "customer_id" }
)toml"}},
       "$D/r.toml:8:20: subject kind 'customer:id' must not contain ':' (subjects are named KIND:ID)"},
      {"subject kind with a space",
       {{"r.toml", R"toml([c]
delete_after = "90 days"

[[c.target]]
store = "app"
table = "t"
clock = { column = "created_at" }
subject = { kind = "end user", column = "user_id" }
)toml"}},
       "$D/r.toml:8:20: subject kind 'end user' may contain only letters, digits, '_', '-' and '.'"},

      // --- safety valve ------------------------------------------------------
      {"max_delete_fraction above 1",
       {{"r.toml", "[c]\ndelete_after = \"90 days\"\nmax_delete_fraction = 1.5\n"}},
       "$D/r.toml:3:23: max_delete_fraction must be in (0, 1]"},
      {"max_delete_fraction 0",
       {{"r.toml", "[c]\ndelete_after = \"90 days\"\nmax_delete_fraction = 0\n"}},
       "$D/r.toml:3:23: max_delete_fraction must be in (0, 1]"},
      {"max_delete_fraction negative",
       {{"r.toml", "[c]\ndelete_after = \"90 days\"\nmax_delete_fraction = -0.1\n"}},
       "$D/r.toml:3:23: max_delete_fraction must be in (0, 1]"},
      {"max_delete_fraction nan",
       {{"r.toml", "[c]\ndelete_after = \"90 days\"\nmax_delete_fraction = nan\n"}},
       "$D/r.toml:3:23: max_delete_fraction must be in (0, 1]"},
  };
}

TEST_CASE("Malformed rule files are refused with FILE:LINE:COL and a clear message", "[rules]") {
  const std::vector<BadCase> cases = BadCases();
  CHECK(cases.size() >= 30);
  for (const BadCase& c : cases) {
    ScratchDir dir;
    Result<RuleSet> rules = LoadFiles(dir, c.files);
    INFO("case: " << c.what);
    REQUIRE_FALSE(rules.ok());
    CHECK(rules.status().code() == StatusCode::kInvalid);
    CHECK(ExitStatusOf(rules.status()) == 65);
    CHECK(rules.status().message() == WithDir(c.message, dir / "rules"));
  }
}

TEST_CASE("LoadRuleFile reports errors of the one file it reads", "[rules]") {
  ScratchDir dir;
  Config config = LoadTestConfig(dir);
  WriteFile(config.rules_dir / "r.toml", "[c]\ndelete_after = \"90\"\n");
  RuleSet out;
  Status s = LoadRuleFile(config, config.rules_dir / "r.toml", &out);
  CHECK(s.message() == WithDir("$D/r.toml:2:16: delete_after: invalid duration \"90\": missing unit after "
                               "the amount (expected seconds, minutes, hours, days, weeks, months or years, e.g. \"90 days\", \"30m\", \"1y\")",
                               config.rules_dir));
  CHECK(out.categories.empty());

  Status missing = LoadRuleFile(config, config.rules_dir / "gone.toml", &out);
  CHECK(missing.code() == StatusCode::kInvalid);
  CHECK(missing.message() == (config.rules_dir / "gone.toml").string() + ": cannot read: No such file or directory");
}

TEST_CASE("LoadRules refuses a missing or empty rules directory", "[rules]") {
  ScratchDir dir;
  Config config = LoadTestConfig(dir);
  Result<RuleSet> missing = LoadRules(config);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kInvalid);
  CHECK(missing.status().message() == (dir / "retention.toml").string() + ": rules directory " +
                                          (dir / "rules").string() + " does not exist");

  WriteFile(dir / "rules" / "README.md", "# rules\n");
  Result<RuleSet> empty = LoadRules(config);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().message() == (dir / "rules").string() + ": no rule files (*.toml) found");
}

// ---------------------------------------------------------------------------
// Good rule files.

const Category& Find(const RuleSet& rules, const std::string& name) {
  auto it = std::find_if(rules.categories.begin(), rules.categories.end(),
                         [&](const Category& c) { return c.name == name; });
  INFO("category " << name);
  REQUIRE(it != rules.categories.end());
  return *it;
}

RuleSet LoadGood(const ScratchDir& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  Result<RuleSet> rules = LoadFiles(dir, files);
  INFO(rules.status().message());
  REQUIRE(rules.ok());
  return *rules;
}

TEST_CASE("Durations load in every unit, singular or plural", "[rules]") {
  struct Case {
    const char* delete_after;
    const char* keep_at_least;  // "" when absent
    std::optional<CalendarDuration> want_delete;
    std::optional<CalendarDuration> want_keep;
  };
  using U = DurationUnit;
  const Case cases[] = {
      {"1 hour", "", CalendarDuration{1, U::kHours}, std::nullopt},
      {"36 hours", "", CalendarDuration{36, U::kHours}, std::nullopt},
      {"1 day", "", CalendarDuration{1, U::kDays}, std::nullopt},
      {"90 days", "30 days", CalendarDuration{90, U::kDays}, CalendarDuration{30, U::kDays}},
      {"90 Days", "", CalendarDuration{90, U::kDays}, std::nullopt},
      {"1 week", "7 days", CalendarDuration{1, U::kWeeks}, CalendarDuration{7, U::kDays}},
      {"2 weeks", "", CalendarDuration{2, U::kWeeks}, std::nullopt},
      {"1 month", "28 days", CalendarDuration{1, U::kMonths}, CalendarDuration{28, U::kDays}},
      {"12 months", "365 days", CalendarDuration{12, U::kMonths}, CalendarDuration{365, U::kDays}},
      {"1 year", "12 months", CalendarDuration{1, U::kYears}, CalendarDuration{12, U::kMonths}},
      {"7 years", "7 years", CalendarDuration{7, U::kYears}, CalendarDuration{7, U::kYears}},
      {"", "7 years", std::nullopt, CalendarDuration{7, U::kYears}},
      {"", "1 hour", std::nullopt, CalendarDuration{1, U::kHours}},
      {"3 days", "48 hours", CalendarDuration{3, U::kDays}, CalendarDuration{48, U::kHours}},
  };
  for (const Case& c : cases) {
    INFO("delete_after = \"" << c.delete_after << "\", keep_at_least = \"" << c.keep_at_least << "\"");
    std::string text = "[c]\n";
    if (*c.delete_after) text += "delete_after = \"" + std::string(c.delete_after) + "\"\n";
    if (*c.keep_at_least) text += "keep_at_least = \"" + std::string(c.keep_at_least) + "\"\n";
    text += "[[c.target]]\nstore = \"app\"\ntable = \"t\"\nclock = { column = \"created_at\" }\n";
    ScratchDir dir;
    Result<RuleSet> rules = LoadFiles(dir, {{"r.toml", text}});
    INFO(rules.status().message());
    REQUIRE(rules.ok());
    const Category& cat = Find(*rules, "c");
    CHECK(cat.delete_after == c.want_delete);
    CHECK(cat.keep_at_least == c.want_keep);
  }
}

TEST_CASE("Every syntax variant loads to the expected model", "[rules]") {
  ScratchDir dir;
  const RuleSet rules = LoadGood(dir, {{"sql.toml", R"toml(# SQL targets
[closed]
description = "Customer data of closed accounts"
policy = "Customer Data after account closure | 90 days"
policy_source = "Privacy Policy, section 4"
delete_after = "90 days"

[[closed.target]]
store = "app"
table = "customers"
key = "id"
clock = { column = "closed_at", encoding = "unix_millis", time_zone = "Europe/Berlin", join = { table = "accounts", key = "id", on = "account_id" } }
where = { status = "closed", kind = ["a", "b"], tier = 3, score = 1.5, vip = false, deleted_at = { null = true }, owner_id = { null = false }, region = [1, 2] }
subject = { kind = "customer", column = "id" }

[[closed.target]]
name = "customers-by-creation"
store = "app"
table = "customers"
clock = { column = "created_at", encoding = "native" }
)toml"},
                                      {"files.toml", R"toml(# files targets
[logs]
keep_at_least = "1 week"
delete_after = "3 months"
max_delete_fraction = 0.25

[[logs.target]]
name = "access"
store = "logs"
paths = ["**/access-*.log", "archive/*.gz", "app..log"]
clock = { mtime = true }

[[logs.target]]
name = "dated"
store = "logs"
paths = ["app-*.log"]
clock = { name = "app-%Y-%m-%dT%H%M%S-100%%.log", time_zone = "UTC" }

[sessions]
delete_after = "1 day"
max_delete_fraction = 1

[[sessions.target]]
store = "app"
table = "sessions"
clock = { column = "expires_at", encoding = "unix_seconds" }
)toml"}});

  // Categories sorted by name; files sorted.
  REQUIRE(rules.categories.size() == 3);
  CHECK(rules.categories[0].name == "closed");
  CHECK(rules.categories[1].name == "logs");
  CHECK(rules.categories[2].name == "sessions");
  REQUIRE(rules.files.size() == 2);
  CHECK(rules.files[0] == (dir / "rules" / "files.toml").string());
  CHECK(rules.files[1] == (dir / "rules" / "sql.toml").string());
  CHECK(rules.hash.size() == 64);

  const Category& closed = Find(rules, "closed");
  CHECK(closed.description == "Customer data of closed accounts");
  CHECK(closed.policy == "Customer Data after account closure | 90 days");
  CHECK(closed.policy_source == "Privacy Policy, section 4");
  CHECK(closed.delete_after == CalendarDuration{90, DurationUnit::kDays});
  CHECK_FALSE(closed.keep_at_least);
  CHECK_FALSE(closed.max_delete_fraction);
  CHECK(closed.where.file == (dir / "rules" / "sql.toml").string());
  CHECK(closed.where.line == 2);
  REQUIRE(closed.targets.size() == 2);

  const Target& customers = closed.targets[0];
  CHECK(customers.name == "customers");  // default: the table
  CHECK(customers.store == "app");
  CHECK(customers.table == "customers");
  CHECK(customers.key == "id");
  CHECK(customers.paths.empty());
  CHECK(customers.where.line == 8);
  CHECK(customers.clock.source == ClockSource::kColumn);
  CHECK(customers.clock.column == "closed_at");
  CHECK(customers.clock.encoding == ClockEncoding::kUnixMillis);
  CHECK(customers.clock.time_zone == "Europe/Berlin");
  REQUIRE(customers.clock.join);
  CHECK(customers.clock.join->table == "accounts");
  CHECK(customers.clock.join->key == "id");
  CHECK(customers.clock.join->on == "account_id");
  REQUIRE(customers.subject);
  CHECK(customers.subject->kind == "customer");
  CHECK(customers.subject->column == "id");

  // Filters in file order, with their operators and bound values.
  REQUIRE(customers.filters.size() == 8);
  struct WantFilter {
    const char* column;
    FilterOp op;
    std::vector<FilterValue> values;
  };
  const WantFilter want[] = {
      {"status", FilterOp::kEquals, {std::string("closed")}},
      {"kind", FilterOp::kIn, {std::string("a"), std::string("b")}},
      {"tier", FilterOp::kEquals, {int64_t{3}}},
      {"score", FilterOp::kEquals, {1.5}},
      {"vip", FilterOp::kEquals, {false}},
      {"deleted_at", FilterOp::kIsNull, {}},
      {"owner_id", FilterOp::kIsNotNull, {}},
      {"region", FilterOp::kIn, {int64_t{1}, int64_t{2}}},
  };
  for (size_t i = 0; i < std::size(want); ++i) {
    INFO("filter " << i << ": " << want[i].column);
    CHECK(customers.filters[i].column == want[i].column);
    CHECK(customers.filters[i].op == want[i].op);
    CHECK(customers.filters[i].values == want[i].values);
    CHECK(customers.filters[i].where.line == 13);
  }

  const Target& by_creation = closed.targets[1];
  CHECK(by_creation.name == "customers-by-creation");
  CHECK(by_creation.key.empty());
  CHECK(by_creation.clock.column == "created_at");
  CHECK(by_creation.clock.encoding == ClockEncoding::kNative);
  CHECK(by_creation.clock.time_zone.empty());
  CHECK_FALSE(by_creation.clock.join);
  CHECK(by_creation.filters.empty());
  CHECK_FALSE(by_creation.subject);

  const Category& logs = Find(rules, "logs");
  CHECK(logs.keep_at_least == CalendarDuration{1, DurationUnit::kWeeks});
  CHECK(logs.delete_after == CalendarDuration{3, DurationUnit::kMonths});
  CHECK(logs.max_delete_fraction == 0.25);
  REQUIRE(logs.targets.size() == 2);
  const Target& access = logs.targets[0];
  CHECK(access.name == "access");
  CHECK(access.store == "logs");
  CHECK(access.table.empty());
  CHECK(access.paths == std::vector<std::string>{"**/access-*.log", "archive/*.gz", "app..log"});
  CHECK(access.clock.source == ClockSource::kFileMtime);
  const Target& dated = logs.targets[1];
  CHECK(dated.name == "dated");
  CHECK(dated.paths == std::vector<std::string>{"app-*.log"});
  CHECK(dated.clock.source == ClockSource::kFileName);
  CHECK(dated.clock.name_pattern == "app-%Y-%m-%dT%H%M%S-100%%.log");
  CHECK(dated.clock.time_zone == "UTC");

  const Category& sessions = Find(rules, "sessions");
  CHECK(sessions.delete_after == CalendarDuration{1, DurationUnit::kDays});
  CHECK(sessions.max_delete_fraction == 1.0);
  REQUIRE(sessions.targets.size() == 1);
  CHECK(sessions.targets[0].name == "sessions");
  CHECK(sessions.targets[0].clock.encoding == ClockEncoding::kUnixSeconds);
  CHECK(sessions.targets[0].clock.time_zone.empty());
}

TEST_CASE("The default clock encoding is text", "[rules]") {
  ScratchDir dir;
  const RuleSet rules = LoadGood(
      dir, {{"r.toml", "[c]\ndelete_after = \"90 days\"\n[[c.target]]\nstore = \"app\"\ntable = \"t\"\n"
                       "clock = { column = \"created_at\" }\n"}});
  CHECK(Find(rules, "c").targets[0].clock.encoding == ClockEncoding::kText);
}

// ---------------------------------------------------------------------------
// Leftovers in the rules directory.

TEST_CASE("IsIgnoredRuleFile skips backup and editor leftovers", "[rules]") {
  struct Case {
    const char* name;
    bool ignored;
  };
  const Case cases[] = {
      {"x.toml", false},
      {"request_logs.toml", false},
      {"x.toml~", true},
      {"x.toml.bak", true},
      {"x.toml.dpkg-old", true},
      {"x.toml.dpkg-dist", true},
      {"x.toml.dpkg-new", true},
      {"x.toml.rpmnew", true},
      {"x.toml.rpmsave", true},
      {".hidden.toml", true},
      {".x.toml.swp", true},
      {"x.swp", true},
      {"#x.toml#", true},
      {"README.md", true},
      {"x.toml.disabled", true},
      {"", true},
  };
  for (const Case& c : cases) {
    INFO("file name: \"" << c.name << "\"");
    CHECK(IsIgnoredRuleFile(c.name) == c.ignored);
  }
}

TEST_CASE("LoadRules ignores leftovers, even broken ones", "[rules]") {
  ScratchDir dir;
  const std::string good =
      "[c]\ndelete_after = \"90 days\"\n[[c.target]]\nstore = \"app\"\ntable = \"t\"\n"
      "clock = { column = \"created_at\" }\n";
  const std::string broken = "[c\nthis is not toml = = =\n";
  const RuleSet rules = LoadGood(dir, {{"x.toml", good}});
  const std::string hash = rules.hash;
  REQUIRE(rules.categories.size() == 1);

  // Leftovers: broken TOML, or a second definition of the same category,
  // which would be an error if they were read.
  for (const char* leftover : {"x.toml~", "x.toml.bak", "x.toml.dpkg-old", "x.toml.dpkg-dist", ".x.toml",
                               ".hidden.toml", "x.swp", "README.md"}) {
    WriteFile(dir / "rules" / leftover, broken);
  }
  WriteFile(dir / "rules" / "y.toml.bak", good);
  std::filesystem::create_directories(dir / "rules" / "sub.toml");  // a directory named *.toml

  Result<Config> config = LoadConfig(dir / "retention.toml");
  REQUIRE(config.ok());
  Result<RuleSet> again = LoadRules(*config);
  INFO(again.status().message());
  REQUIRE(again.ok());
  CHECK(again->files == std::vector<std::string>{(dir / "rules" / "x.toml").string()});
  REQUIRE(again->categories.size() == 1);
  CHECK(again->categories[0].name == "c");
  // The hash covers only what was read.
  CHECK(again->hash == hash);

  // A change to a rule file changes the hash.
  WriteFile(dir / "rules" / "x.toml", good + "# edited\n");
  Result<RuleSet> edited = LoadRules(*config);
  REQUIRE(edited.ok());
  CHECK(edited->hash != hash);
}

// ---------------------------------------------------------------------------
// The shipped retention-rules/ against SPEC section 1.

TEST_CASE("The shipped rules load and express every row of SPEC section 1", "[rules]") {
  ScratchDir dir;
  WriteFile(dir / "retention.toml", std::string("rules = \"") + RETENTION_SHIPPED_RULES + R"toml("
state = "state.db"

[stores.app]
type = "sqlite"
path = "app.db"

[stores.logs]
type = "files"
root = "logs"

[stores.backups]
type = "files"
root = "backups"
)toml");
  Result<Config> config = LoadConfig(dir / "retention.toml");
  INFO(config.status().message());
  REQUIRE(config.ok());
  Result<RuleSet> loaded = LoadRules(*config);
  INFO(loaded.status().message());
  REQUIRE(loaded.ok());
  const RuleSet& rules = *loaded;
  REQUIRE_FALSE(rules.categories.empty());

  for (const Category& c : rules.categories) {
    INFO("category " << c.name);
    CHECK_FALSE(c.policy.empty());
    CHECK_FALSE(c.policy_source.empty());
    CHECK_FALSE(c.description.empty());
    CHECK_FALSE(c.targets.empty());
  }

  using U = DurationUnit;
  // Server / request logs: kept at least 30 days, deleted after 90.
  const Category& request_logs = Find(rules, "request_logs");
  CHECK(request_logs.keep_at_least == CalendarDuration{30, U::kDays});
  CHECK(request_logs.delete_after == CalendarDuration{90, U::kDays});

  // Audit / security event logs: 12 months, by event time.
  const Category& audit = Find(rules, "audit_security");
  REQUIRE(audit.delete_after);
  CHECK(AlwaysAtLeast(*audit.delete_after, {12, U::kMonths}));
  CHECK(AlwaysAtLeast({12, U::kMonths}, *audit.delete_after));

  // Support tickets + email: 24 months from last activity.
  const Category& support = Find(rules, "support");
  REQUIRE(support.delete_after);
  CHECK(AlwaysAtLeast(*support.delete_after, {24, U::kMonths}));
  CHECK(AlwaysAtLeast({24, U::kMonths}, *support.delete_after));
  for (const Target& t : support.targets) CHECK(t.clock.column == "last_activity_at");

  // Customer data of a closed account: 90 days after the account's closed_at,
  // a column of another table.
  const Category& closed = Find(rules, "closed_accounts");
  CHECK(closed.delete_after == CalendarDuration{90, U::kDays});
  bool joined_to_accounts = false;
  for (const Target& t : closed.targets) {
    CHECK(t.clock.column == "closed_at");
    if (t.clock.join && t.clock.join->table == "accounts") joined_to_accounts = true;
  }
  CHECK(joined_to_accounts);

  // Transaction records: a floor of at least 7 years, never shortened.
  const Category& transactions = Find(rules, "transactions");
  REQUIRE(transactions.keep_at_least);
  CHECK(AlwaysAtLeast(*transactions.keep_at_least, {7, U::kYears}));
  if (transactions.delete_after)
    CHECK(AlwaysAtLeast(*transactions.delete_after, *transactions.keep_at_least));

  // Sessions / OAuth state: deleted once expired, aged by expires_at.
  const Category& sessions = Find(rules, "sessions");
  REQUIRE(sessions.delete_after);
  CHECK(AlwaysAtLeast({7, U::kDays}, *sessions.delete_after));  // short-lived
  for (const Target& t : sessions.targets) CHECK(t.clock.column == "expires_at");

  // Product usage events: a chosen, documented period.
  const Category& usage = Find(rules, "usage_events");
  CHECK(usage.delete_after);

  // Server log files on disk: the request-log schedule, by mtime or by the
  // date in the file name.
  const Category& log_files = Find(rules, "server_log_files");
  CHECK(log_files.keep_at_least == CalendarDuration{30, U::kDays});
  CHECK(log_files.delete_after == CalendarDuration{90, U::kDays});
  for (const Target& t : log_files.targets) {
    CHECK(t.store == "logs");
    CHECK(t.clock.source != ClockSource::kColumn);
  }

  // Backups: a ~90-day rolling window, by the date in the file name.
  const Category& backups = Find(rules, "backups");
  REQUIRE(backups.delete_after);
  CHECK(AlwaysAtLeast(*backups.delete_after, {80, U::kDays}));
  CHECK(AlwaysAtLeast({100, U::kDays}, *backups.delete_after));
  for (const Target& t : backups.targets) {
    CHECK(t.store == "backups");
    CHECK(t.clock.source == ClockSource::kFileName);
  }

  // No category targets a store the config above does not define (the
  // loader refuses those); and every files store is used.
  for (const char* store : {"app", "logs", "backups"}) {
    bool used = false;
    for (const Category& c : rules.categories)
      for (const Target& t : c.targets) used = used || t.store == store;
    INFO("store " << store);
    CHECK(used);
  }
}

}  // namespace
}  // namespace retention
