# bench/postgres.sh — the PostgreSQL figures of bench/run (SPEC 7, issue
# 14). Sourced by bench/run after its own figures: uses its timed, median,
# ratio, row, say, fail, die, batch_cycles, $work, $build, $repo,
# $retention, $as_of, $cutoff, $held and $mode, and sets $pgdir, which
# bench/run's exit trap removes.
#
# A private cluster (scripts/pg-cluster.sh) in a directory of its own under
# /tmp. The data: BENCH_PG_ROWS rows (quick 20000, full 2000000) of
#   events(id bigint, subject bigint, created_at timestamptz, hits int, payload text)
# made by generate_series with a seeded random(): created_at uniform over
# 2023-07-01 .. 2024-07-01, so with as-of 2025-01-01 and "1 year" the
# cutoff 2024-01-01 makes half the rows due; subjects 1..10000, of which
# 100, 200, ..., 10000 (1%) are held. Two master databases hold the same
# rows: `flat` (primary key id, an index on created_at) and `part`
# (partitioned by month on created_at: 2023-07 .. 2024-06 and a default
# partition; primary key (id, created_at)). Every run starts from a copy of
# a master (CREATE DATABASE ... TEMPLATE, STRATEGY FILE_COPY).
#
# Figures (medians of BENCH_PG_REPS runs, quick 1, full 3, in rotating order;
# the first of each series is the baseline the others are divided by):
#   unpartitioned: one raw `DELETE ... WHERE due` in psql; `retention purge`
#     (ledger and all); the bare keyset-batching idiom (a DO block deleting
#     5000 ids at a time in id order, committing each batch, no ledger).
#   during each, once more: bench_pg_writer updating random rows (its
#     p50/p99/max latency) and watching the purger's longest transaction.
#   partitioned: the raw DELETE; a raw DROP of the six expired partitions
#     (held rows ignored, as a raw tool does); the same keeping the held
#     rows (copied out, dropped, copied back: they land in the default
#     partition); `retention purge` with the holds (every expired month
#     holds about 1% held rows, so every month is emptied with its held
#     rows copied back, src/stores/postgres_partitions.h); then, without
#     holds, the raw DELETE, the raw DROP and `retention purge` (every
#     expired month dropped whole).
# Every run is checked: it left exactly the rows (count and sum of ids) the
# raw DELETE of the same predicate leaves, and the engine's ledger records
# as many deletions.

pg_figures() {
  local pg_rows=${BENCH_PG_ROWS:-} pg_reps=${BENCH_PG_REPS:-}
  case $mode in
    quick) pg_rows=${pg_rows:-20000}; pg_reps=${pg_reps:-1} ;;
    *) pg_rows=${pg_rows:-2000000}; pg_reps=${pg_reps:-3} ;;
  esac
  if [[ ${BENCH_PG:-1} = 0 ]]; then say "PostgreSQL figures skipped (BENCH_PG=0)"; return 0; fi
  if ! compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || ! command -v psql >/dev/null; then
    fail "PostgreSQL figures: no server or psql (apt-get install postgresql; BENCH_PG=0 skips them)"
    return 0
  fi
  local pgw="$build/bench/bench_pg_writer"
  [[ -x $pgw ]] || cmake --build "$build" -j"$(nproc)" --target bench_pg_writer >/dev/null

  pgdir=$(mktemp -d /tmp/retention-bench-pg.XXXXXX)
  "$repo/scripts/pg-cluster.sh" start "$pgdir" >/dev/null
  local base="host=$pgdir port=5432 user=postgres"
  export BENCH_PG_URL="$base dbname=run"
  pq() { PGOPTIONS='-c client_min_messages=warning' psql "$base dbname=$1" -X -q -A -t -v ON_ERROR_STOP=1 "${@:2}"; }
  local pg_held="subject IN ($held)"
  local pg_due="created_at < '$cutoff+00' AND NOT ($pg_held)"
  local pg_due_all="created_at < '$cutoff+00'"

  say "== PostgreSQL: generating $pg_rows rows twice (flat and partitioned by month)"
  local t0; t0=$(date +%s%N)
  local gen_rows="SELECT setseed(0.5) \\g /dev/null
INSERT INTO events (id, subject, created_at, payload)
SELECT i, 1 + floor(random() * 10000)::bigint,
       '2023-07-01 00:00:00+00'::timestamptz + random() * interval '366 days',
       md5(i::text) || md5((i + 1)::text)
FROM generate_series(1, $pg_rows) i;"
  pq postgres -c "CREATE DATABASE flat" -c "CREATE DATABASE part"
  pq flat <<SQL
SET max_parallel_workers_per_gather = 0;
CREATE TABLE events (id bigint PRIMARY KEY, subject bigint NOT NULL, created_at timestamptz NOT NULL,
                     hits integer NOT NULL DEFAULT 0, payload text);
$gen_rows
CREATE INDEX events_created_at ON events (created_at);
VACUUM ANALYZE events;
SQL
  pq part <<SQL
SET max_parallel_workers_per_gather = 0;
CREATE TABLE events (id bigint NOT NULL, subject bigint NOT NULL, created_at timestamptz NOT NULL,
                     hits integer NOT NULL DEFAULT 0, payload text, PRIMARY KEY (id, created_at))
  PARTITION BY RANGE (created_at);
CREATE TABLE events_default PARTITION OF events DEFAULT;
DO \$\$ BEGIN
  FOR i IN 0..11 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
      to_char(date '2023-07-01' + make_interval(months => i), '"events_"YYYY_MM'),
      (date '2023-07-01' + make_interval(months => i))::date || ' 00:00:00+00',
      (date '2023-07-01' + make_interval(months => i + 1))::date || ' 00:00:00+00');
  END LOOP;
END \$\$;
$gen_rows
CREATE INDEX events_created_at ON events (created_at);
VACUUM ANALYZE events;
SQL
  say "generated in $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"
  local expired
  expired=$(pq part -c "SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_inherits i
                        JOIN pg_class c ON c.oid = i.inhrelid
                        WHERE i.inhparent = 'events'::regclass AND c.relname < 'events_2024_01'
                          AND c.relname <> 'events_default'")
  left_q="SELECT count(*) || ' ' || coalesce(sum(id), 0) FROM events"
  local expect_held expect_all
  expect_held=$(pq flat -c "$left_q WHERE NOT ($pg_due)")
  expect_all=$(pq flat -c "$left_q WHERE NOT ($pg_due_all)")
  [[ $(pq part -c "$left_q WHERE NOT ($pg_due)") = "$expect_held" ]] || fail "the partitioned master differs from the flat one"

  # Configs: the flat table keyed by id, the partitioned one by its primary
  # key (id, created_at).
  local kind
  for kind in flat part; do
    mkdir -p "$work/pg$kind/rules"
    cat >"$work/pg$kind/retention.toml" <<EOF
rules = "rules"
state = "state.db"
time_zone = "UTC"

[limits]
max_delete = 1000000000
max_delete_fraction = 1.0

[stores.app]
type = "postgres"
conninfo_env = "BENCH_PG_URL"
EOF
    cat >"$work/pg$kind/rules/events.toml" <<EOF
[bench_events]
description = "Benchmark events, deleted one year after they happened"
policy = "bench | 1 year"
policy_source = "bench/README.md"
delete_after = "1 year"

[[bench_events.target]]
store = "app"
table = "public.events"
$([[ $kind = flat ]] && echo 'key = "id"')
clock = { column = "created_at", encoding = "native" }
subject = { kind = "customer", column = "subject" }
EOF
  done

  # fresh_pg MASTER CONFIG_DIR HOLDS(yes|no): database `run` a copy of
  # MASTER, the config's state the holds (or a state without any).
  fresh_pg() {
    pq postgres -c "DROP DATABASE IF EXISTS run WITH (FORCE)" \
      -c "CREATE DATABASE run TEMPLATE $1 STRATEGY FILE_COPY"
    rm -f "$2"/state.db*
    if [[ $3 = yes ]]; then cp "$work/holds-state.db" "$2/state.db"
    else "$retention" --config "$2/retention.toml" state init >/dev/null; fi
  }
  check_left() {  # check_left WHAT EXPECTED
    local left; left=$(pq run -c "$left_q")
    [[ $left = "$2" ]] || fail "$1 left '$left', the raw DELETE's predicate leaves '$2'"
  }
  # check_ledger CONFIG_DIR DELETED: the ledger is intact and records DELETED
  # deletions. Counted from the exported records whose outcome is
  # `deleted`: verify's `records` also counts the candidates a batch named
  # and settled as kept (a row the writer held locked, retried later).
  check_ledger() {
    local recorded
    "$retention" --config "$1/retention.toml" audit verify >/dev/null ||
      fail "audit verify failed after the engine's purge"
    recorded=$("$retention" --config "$1/retention.toml" audit export --kind delete --format jsonl |
      python3 -c 'import json, sys; print(sum(json.loads(l)["outcome"] == "deleted" for l in sys.stdin))')
    [[ $recorded = "$2" ]] || fail "the engine deleted $2 rows, its ledger records $recorded deletions"
  }
  keyset="DO \$\$
DECLARE last_id bigint := 0; n bigint;
BEGIN
  LOOP
    WITH batch AS (SELECT id FROM events WHERE id > last_id AND $pg_due ORDER BY id LIMIT 5000),
         gone AS (DELETE FROM events e USING batch b WHERE e.id = b.id RETURNING e.id)
    SELECT max(id), count(*) INTO last_id, n FROM gone;
    EXIT WHEN n = 0;
    COMMIT;
  END LOOP;
END \$\$"
  local copy_out="BEGIN;
CREATE TEMP TABLE kept AS SELECT * FROM events WHERE $pg_held AND created_at < '$cutoff+00';
DROP TABLE $expired;
INSERT INTO events SELECT * FROM kept;
COMMIT;"

  # One line each: the series below pass them through `read`.
  keyset=${keyset//$'\n'/ }
  copy_out=${copy_out//$'\n'/ }

  # pg_run MASTER DIR HOLDS KIND SQL: one timed run into $work/t (KIND
  # engine: retention purge; sql: psql -c SQL).
  pg_run() {
    fresh_pg "$1" "$2" "$3"
    if [[ $4 = engine ]]; then
      timed "$work/t" "$retention" --config "$2/retention.toml" purge --as-of "$as_of" --allow-mass-delete
    else
      timed "$work/t" psql "$BENCH_PG_URL" -X -q -v ON_ERROR_STOP=1 -c "$5"
    fi
  }
  # pg_check NAME DIR EXPECTED KIND MASTER HOLDS: what the run left.
  pg_check() {
    check_left "$1" "$3"
    [[ $4 = engine ]] || return 0
    check_ledger "$2" "$((pg_rows - ${3%% *}))"
    if [[ $5 = part && $6 = no ]]; then
      local parts; parts=$(pq run -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")
      say "  $1: $parts of 13 partitions left (all expired months dropped whole: 7)"
    fi
  }
  # pg_series TITLE GOAL CASE...: each CASE "name|master|dir|holds|expected|kind|sql",
  # run pg_reps times in rotating order; the first is the baseline.
  pg_series() {
    local title=$1 goal=$2; shift 2
    local cases=("$@") i j n=$# c name master dir holds expected kind sql
    for c in "${cases[@]}"; do : >"$work/pg.${c%%|*}"; done
    for ((i = 0; i < pg_reps; i++)); do
      for ((j = 0; j < n; j++)); do
        IFS='|' read -r name master dir holds expected kind sql <<<"${cases[$(((i + j) % n))]}"
        pg_run "$master" "$dir" "$holds" "$kind" "$sql"
        cat "$work/t" >>"$work/pg.$name"
        pg_check "$name" "$dir" "$expected" "$kind" "$master" "$holds"
      done
    done
    local bname=${cases[0]%%|*} bt ct g
    bt=$(awk '{print $1}' "$work/pg.$bname" | median)
    for c in "${cases[@]}"; do
      name=${c%%|*}
      ct=$(awk '{print $1}' "$work/pg.$name" | median)
      say "$(printf '%-24s' "$name") $(awk '{printf "%ss ", $1}' "$work/pg.$name")"
      [[ $name = "$bname" ]] && continue
      g=""; [[ $name = engine* ]] && g=$goal
      row "pg $title: $name" "$pg_rows" "$ct" "$bt" "$(ratio "$ct" "$bt")" "$g" "/ $bname"
    done
  }

  say "== PostgreSQL unpartitioned: $pg_rows rows, $pg_reps repetitions rotating"
  pg_series flat "<=2" \
    "raw-DELETE|flat|$work/pgflat|yes|$expect_held|sql|DELETE FROM events WHERE $pg_due" \
    "engine|flat|$work/pgflat|yes|$expect_held|engine|" \
    "keyset-5000|flat|$work/pgflat|yes|$expect_held|sql|$keyset"

  say "== PostgreSQL unpartitioned, the application's view: random updates during each purge"
  # pg_with_writer NAME KIND SQL
  pg_with_writer() {
    local name=$1 upid wpid
    rm -f "$work/ready.u" "$work/ready.w"
    fresh_pg flat "$work/pgflat" yes
    "$pgw" update "$BENCH_PG_URL" events "$pg_rows" "$work/ready.u" >"$work/pgw.$name" &
    upid=$!
    "$pgw" watch "$BENCH_PG_URL" "$work/ready.w" >"$work/pgwatch.$name" &
    wpid=$!
    for _ in $(seq 1 500); do [[ -f $work/ready.u && -f $work/ready.w ]] && break; sleep 0.01; done
    [[ -f $work/ready.u && -f $work/ready.w ]] || die "bench_pg_writer did not start"
    sleep 0.2
    if [[ $2 = engine ]]; then
      timed "$work/t" "$retention" --config "$work/pgflat/retention.toml" purge --as-of "$as_of" --allow-mass-delete
    else
      timed "$work/t" psql "$BENCH_PG_URL" -X -q -v ON_ERROR_STOP=1 -c "$3"
    fi
    sleep 0.2
    kill -TERM "$upid" "$wpid"; wait "$upid"; wait "$wpid"
    # Every row the predicate keeps is still there. The engine skips a row
    # the writer holds locked and retries it once later in the run; a row
    # locked at both tries stays for the next run (counted, not a
    # mismatch), and its ledger records exactly the rows gone. The raw
    # DELETE and the keyset loop wait for locks: they leave no due row.
    local kept due_left total
    kept=$(pq run -c "$left_q WHERE NOT ($pg_due)")
    [[ $kept = "$expect_held" ]] || fail "$name (with the writer) kept '$kept', the predicate keeps '$expect_held'"
    due_left=$(pq run -c "SELECT count(*) FROM events WHERE $pg_due")
    total=$(pq run -c "SELECT count(*) FROM events")
    if [[ $2 = engine ]]; then
      check_ledger "$work/pgflat" "$((pg_rows - total))"
    elif ((due_left != 0)); then
      fail "$name (with the writer) left $due_left due rows"
    fi
    echo "$due_left" >"$work/pgleft.$name"
    say "  $(printf '%-12s' "$name") $(cut -d' ' -f1 "$work/t")s  $(cat "$work/pgw.$name")  $(cat "$work/pgwatch.$name")  due rows left (locked twice): $due_left"
  }
  wfield() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" "$work/$1"; }
  pg_with_writer raw-DELETE sql "DELETE FROM events WHERE $pg_due"
  pg_with_writer engine engine ""
  local cycles nb bmax bavg w
  cycles=$(batch_cycles "$work/pgflat/state.db" 2>/dev/null || true)
  read -r nb bmax bavg <<<"${cycles:-0 0 0}"
  pg_with_writer keyset-5000 sql "$keyset"
  for w in engine keyset-5000; do
    row "pg update p50/p99/max ms" "$pg_rows" \
      "$(wfield pgw.$w p50_ms)/$(wfield pgw.$w p99_ms)/$(wfield pgw.$w max_ms)" \
      "$(wfield pgw.raw-DELETE p50_ms)/$(wfield pgw.raw-DELETE p99_ms)/$(wfield pgw.raw-DELETE max_ms)" "" "" \
      "$w / raw-DELETE; updates $(wfield pgw.$w updates) vs $(wfield pgw.raw-DELETE updates); due rows left $(cat "$work/pgleft.$w")"
  done
  row "pg longest target txn" "$pg_rows" "$(wfield pgwatch.engine longest_txn_ms)ms" \
    "$(wfield pgwatch.raw-DELETE longest_txn_ms)ms" "" "<=100ms" \
    "engine / raw-DELETE (pg_stat_activity, 1 ms samples); keyset $(wfield pgwatch.keyset-5000 longest_txn_ms)ms; engine batch cycle max ${bmax} ms, mean ${bavg} ms over $nb batches"

  say "== PostgreSQL partitioned by month: $pg_rows rows; expired: $expired"
  pg_series part "<=0.5" \
    "raw-DELETE-part|part|$work/pgpart|yes|$expect_held|sql|DELETE FROM events WHERE $pg_due" \
    "raw-DROP-ignoring-holds|part|$work/pgpart|yes|$expect_all|sql|DROP TABLE $expired" \
    "raw-DROP-copying-held|part|$work/pgpart|yes|$expect_held|sql|$copy_out" \
    "engine-holds|part|$work/pgpart|yes|$expect_held|engine|"
  say "== PostgreSQL partitioned by month, no holds"
  pg_series part-noholds "<=0.5" \
    "raw-DELETE-noholds|part|$work/pgpart|no|$expect_all|sql|DELETE FROM events WHERE $pg_due_all" \
    "raw-DROP|part|$work/pgpart|no|$expect_all|sql|DROP TABLE $expired" \
    "engine-noholds|part|$work/pgpart|no|$expect_all|engine|"
}
