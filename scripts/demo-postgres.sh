#!/usr/bin/env bash
# The demo on PostgreSQL: builds retention, starts a throwaway PostgreSQL
# cluster (scripts/pg-cluster.sh: initdb + pg_ctl as the `postgres` user, a
# unix socket in a temp dir under /tmp, removed at exit), loads the demo
# database of demo/postgres/schema.sql (the SQLite demo's tables with
# timestamptz clocks, the request log partitioned by month), writes a
# config in ${DEMO_DIR:-/tmp/retention-demo-postgres} that reaches it
# through $APP_DATABASE_URL, places one legal hold, then runs
# check -> plan -> purge -> plan again -> audit verify.
#
# DEMO_ROWS (20000) sizes the database; DEMO_KEEP_CLUSTER=1 leaves the
# cluster running (its directory and the stop command are printed).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
./scripts/install-deps.sh  # the postgresql server package among them
./scripts/build.sh
bin=$repo/build/retention
dir=${DEMO_DIR:-/tmp/retention-demo-postgres}
rows=${DEMO_ROWS:-20000}
conf=$dir/retention.toml

# Only a directory this script made before is replaced.
if [ -e "$dir" ] && [ ! -f "$dir/.retention-demo-postgres" ]; then
  echo "demo-postgres: $dir exists and is not a PostgreSQL demo; set DEMO_DIR" >&2
  exit 64
fi
rm -rf "$dir"
mkdir -p "$dir"
touch "$dir/.retention-demo-postgres"

pgdir=$(mktemp -d /tmp/retention-demo-pg.XXXXXX)
if [ "${DEMO_KEEP_CLUSTER:-0}" = 1 ]; then
  trap 'printf "\nThe cluster is still running in %s; stop it with: %s remove %s\n" "$pgdir" "$repo/scripts/pg-cluster.sh" "$pgdir"' EXIT
else
  trap '"$repo/scripts/pg-cluster.sh" remove "$pgdir"' EXIT
fi
admin=$("$repo/scripts/pg-cluster.sh" start "$pgdir")
psql "$admin" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE app"
# What an operator exports: the config names the variable, never the URL.
export APP_DATABASE_URL="host=$pgdir port=5432 user=postgres dbname=app"
now=$(date -u '+%Y-%m-%d %H:%M:%S+00')
t0=$(date +%s%N)
psql "$APP_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -v rows="$rows" -v now="'$now'" -f demo/postgres/schema.sql
printf 'Loaded the demo database (%s rows, generated around %s) in %.1f s:\n' "$rows" "$now" \
  "$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { print (b - a) / 1e9 }')"
psql "$APP_DATABASE_URL" -X -q -P footer=off -c "
  SELECT c.relname AS request_logs_partition, pg_get_expr(c.relpartbound, c.oid) AS bounds,
         (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::int AS rows
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'request_logs'::regclass ORDER BY c.relname"

cat >"$conf" <<TOML
# written by scripts/demo-postgres.sh
rules = "$repo/demo/postgres/rules"
state = "state.db"
time_zone = "UTC"

# The demo database was never purged: its first purge removes most of
# request_logs and sessions, so the safety valve is opened wider than the
# defaults.
[limits]
batch_size = 1000
max_delete = 10000000
max_delete_fraction = 0.9

[stores.app]
type = "postgres"
conninfo_env = "APP_DATABASE_URL"
TOML

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$bin" --config "$conf" state init
# Account 7's request log lines from before the first of the month five
# months back are under a legal hold: a month holding a few of them is
# emptied as a unit with its held rows copied back, the later expired months
# are dropped whole.
hold_until=$(date -u -d "$(date -u +%Y-%m-01) -5 months" '+%Y-%m-01T00:00:00Z')
step "$bin" --config "$conf" hold add --subject account:7 --category request_logs --until "$hold_until" \
  --matter DEMO-1 --reason "demo: a litigation hold on account 7's early request logs" --by demo
step "$bin" --config "$conf" check
step "$bin" --config "$conf" plan
step "$bin" --config "$conf" purge
step "$bin" --config "$conf" plan
step "$bin" --config "$conf" audit verify
printf '\nrequest_logs after the purge (a month missing from the list above was dropped whole; one with held\nrows was emptied and its held rows copied back; the month straddling the cutoff and the default\npartition were purged row by row):\n'
psql "$APP_DATABASE_URL" -X -q -P footer=off -c "
  SELECT c.relname AS request_logs_partition,
         (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::int AS rows
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'request_logs'::regclass ORDER BY c.relname"
printf '\nThe demo is in %s (store "app" reads $APP_DATABASE_URL, exported by this script); try, with DEMO_KEEP_CLUSTER=1:\n  %s --config %s hold add --subject account:42 --matter M-1 --reason "litigation" --dry-run\n' \
  "$dir" "$bin" "$conf"
