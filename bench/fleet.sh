#!/usr/bin/env bash
# bench/fleet.sh [BUILD_DIR] — a fleet sharing one PostgreSQL state (issue
# 15, bench/README.md "A fleet's state"). Run by hand; not part of
# `bench/run quick`.
#
# A private cluster (scripts/pg-cluster.sh) holds the targets and the
# state. Every table has BENCH_FLEET_ROWS rows (default 20000)
#   events(id bigint primary key, subject bigint, created_at timestamptz)
# created in 2023, so that all are due under "1 year" (no holds: the figure
# is the ledger's cost, not the selection's). One host, same data, fresh
# copies each time:
#   raw            one `DELETE FROM events` in psql
#   sqlite state   `retention purge` with the default SQLite state
#   pg state       `retention purge` with `state = { conninfo_env = ... }`
# Then four hosts at once (four processes, host names h1..h4, each purging
# its own table) appending to one PostgreSQL state: wall time, ledger
# records per second over the four, and `audit verify` of the one chain.
# Each purge is checked: its table is empty afterwards.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$repo/$build"
retention="$build/retention"
rows=${BENCH_FLEET_ROWS:-20000}
[[ -x $retention ]] || { echo "bench/fleet.sh: build $retention first (scripts/build.sh)" >&2; exit 69; }

work=$(mktemp -d /tmp/retention-bench-fleet.XXXXXX)
pgdir=$(mktemp -d /tmp/retention-bench-fleet-pg.XXXXXX)
cleanup() { "$repo/scripts/pg-cluster.sh" remove "$pgdir" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
"$repo/scripts/pg-cluster.sh" start "$pgdir" >/dev/null
base="host=$pgdir port=5432 user=postgres"
pq() { PGOPTIONS='-c client_min_messages=warning' psql "$base dbname=$1" -X -q -A -t -v ON_ERROR_STOP=1 "${@:2}"; }
export RETENTION_STATE_URL="$base dbname=state"
pq postgres -c "CREATE DATABASE master" -c "CREATE DATABASE state"
pq master <<SQL
CREATE TABLE events (id bigint PRIMARY KEY, subject bigint NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO events SELECT i, 1 + i % 10000, '2023-01-01 00:00:00+00'::timestamptz + (i % 100000) * interval '1 minute'
FROM generate_series(1, $rows) i;
CREATE INDEX events_created_at ON events (created_at);
VACUUM ANALYZE events;
SQL

# host DIR NAME DB STATE: a config for host NAME over database DB; STATE is
# "sqlite" or "pg". The store is named after the host: in a fleet a store
# name is one set of data for every host (its target lock and its ledger
# keys are by name), and each host here purges a database of its own.
host() {
  local dir=$1 name=$2 db=$3 state=$4
  mkdir -p "$dir/rules"
  local state_line='state = "state.db"'
  [[ $state = pg ]] && state_line="state = { conninfo_env = \"RETENTION_STATE_URL\", host = \"$name\" }"
  cat >"$dir/retention.toml" <<EOF
rules = "rules"
$state_line
[limits]
max_delete = 100000000
max_delete_fraction = 1.0
[stores.app_$name]
type = "postgres"
conninfo_env = "APP_DATABASE_URL_$name"
EOF
  cat >"$dir/rules/events.toml" <<EOF
[events]
delete_after = "1 year"
[[events.target]]
store = "app_$name"
table = "events"
key = "id"
clock = { column = "created_at", encoding = "native" }
subject = { kind = "customer", column = "subject" }
EOF
  export "APP_DATABASE_URL_$name=$base dbname=$db"
  [[ $state = sqlite ]] && "$retention" --config "$dir/retention.toml" state init >/dev/null
  return 0
}
copy() { pq postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE master STRATEGY FILE_COPY"; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
check_empty() { [[ $(pq "$1" -c "SELECT count(*) FROM events") = 0 ]] || { echo "bench/fleet.sh: $1 not emptied" >&2; exit 1; }; }

copy raw
t0=$(date +%s%N); pq raw -c "DELETE FROM events"; t1=$(date +%s%N)
raw=$(seconds "$t0" "$t1")

copy solo_sqlite
host "$work/solo_sqlite" solo_sqlite solo_sqlite sqlite
t0=$(date +%s%N); "$retention" --config "$work/solo_sqlite/retention.toml" purge --quiet; t1=$(date +%s%N)
sqlite=$(seconds "$t0" "$t1"); check_empty solo_sqlite

copy solo_pg
host "$work/solo_pg" solo_pg solo_pg pg
"$retention" --config "$work/solo_pg/retention.toml" state init >/dev/null
t0=$(date +%s%N); "$retention" --config "$work/solo_pg/retention.toml" purge --quiet; t1=$(date +%s%N)
pg=$(seconds "$t0" "$t1"); check_empty solo_pg

# Four hosts, one state: a fresh schema for them.
pq state -c "DROP SCHEMA retention CASCADE"
for h in 1 2 3 4; do copy "h$h"; host "$work/h$h" "h$h" "h$h" pg; done
"$retention" --config "$work/h1/retention.toml" state init >/dev/null
t0=$(date +%s%N)
pids=()
for h in 1 2 3 4; do "$retention" --config "$work/h$h/retention.toml" purge --quiet & pids+=($!); done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
((failed == 0)) || { echo "bench/fleet.sh: a host's purge failed" >&2; exit 1; }
t1=$(date +%s%N)
fleet=$(seconds "$t0" "$t1")
for h in 1 2 3 4; do check_empty "h$h"; done
"$retention" --config "$work/h2/retention.toml" audit verify >/dev/null

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }
printf '%-44s %10s %8s %14s\n' "fleet figures, $rows rows a table" seconds ratio "records/s"
printf '%-44s %10s %8s %14s\n' "raw DELETE (psql)" "$raw" 1.00 "$(rate "$rows" "$raw")"
printf '%-44s %10s %8s %14s\n' "purge, SQLite state" "$sqlite" "$(ratio "$sqlite" "$raw")" "$(rate "$rows" "$sqlite")"
printf '%-44s %10s %8s %14s\n' "purge, PostgreSQL state" "$pg" "$(ratio "$pg" "$raw")" "$(rate "$rows" "$pg")"
printf '%-44s %10s %8s %14s\n' "4 hosts at once, one PostgreSQL state (wall)" "$fleet" "$(ratio "$fleet" "$raw")" \
  "$(rate $((rows * 4)) "$fleet")"
echo "The four hosts' chain verified (audit verify); every table emptied."
