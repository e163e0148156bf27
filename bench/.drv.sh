#!/usr/bin/env bash
# bench/run MODE [BUILD_DIR] — the SPEC section 7 benchmarks (see bench/README.md).
#
#   MODE       quick (small sizes, about a minute; what CI runs) or full (SPEC 7 sizes)
#   BUILD_DIR  the CMake build directory holding retention and bench/bench_gen,
#              bench/bench_writer (relative to the repository root unless
#              absolute; default build-bench). Missing binaries are built.
#
# Every figure runs the engine and the raw baseline on fresh copies of the
# same generated data, alternating, and prints medians, the ratio
# engine/baseline and peak RSS. Speed goals are reported, never enforced.
# Every purge figure runs twice: as the disk is, and as the "3 ms fsync"
# variant, with bench/fsync_pad.so (LD_PRELOAD) adding 3 ms to each fsync
# and fdatasync on both sides.
# Exit status: 0 when every comparison found the engine deleted (or counted)
# exactly what the baseline did; 1 on a mismatch or when a command failed.
#
# Environment overrides: BENCH_WORK (scratch directory, default a mktemp -d
# under /tmp, removed at exit unless BENCH_KEEP=1), BENCH_REPS, BENCH_ROWS,
# BENCH_MEM_LARGE, BENCH_FILES, BENCH_MEM_CAP (the --max-runtime of the purge
# at the large size: its peak RSS is measured over that much of the run),
# BENCH_BIG_ROWS (full: the SQLite purge figure once more at this size, 0 to
# skip), BENCH_PAD_MS (the padded variant's fsync pad, 3; 0 skips the variant),
# BENCH_PG_ROWS and BENCH_PG_REPS (the PostgreSQL figures, bench/postgres.sh;
# quick 20000 rows once, full 2000000 three times), BENCH_PG=0 (skip them).
set -euo pipefail

mode=${1:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${2:-build-bench}
[[ $build = /* ]] || build="$repo/$build"

case $mode in
  quick) reps=3; rows=100000;  mem_small=100000; mem_large=1000000;  files=2000;   mem_cap=10s; big_rows=0 ;;
  full)  reps=3; rows=2000000; mem_small=100000; mem_large=10000000; files=100000; mem_cap=10m; big_rows=10000000 ;;
  *) echo "usage: bench/run quick|full [BUILD_DIR]" >&2; exit 64 ;;
esac
reps=${BENCH_REPS:-$reps}
rows=${BENCH_ROWS:-$rows}
mem_large=${BENCH_MEM_LARGE:-$mem_large}
files=${BENCH_FILES:-$files}
mem_cap=${BENCH_MEM_CAP:-$mem_cap}
big_rows=${BENCH_BIG_ROWS:-$big_rows}
pad_ms=${BENCH_PAD_MS:-3}
dirs=100

# The fixed scenario (bench_gen writes data around it): now = 2025-01-01,
# delete_after = 1 year, so the cutoff is 2024-01-01 00:00:00 UTC and half
# of the generated rows and files are due. Subjects 100, 200, ..., 10000
# (1% of the 10000) are under legal hold.
as_of='2025-01-01 00:00:00'
cutoff='2024-01-01 00:00:00'
held=$(seq -s, 100 100 10000)
due_sql="created_at < '$cutoff' AND subject NOT IN ($held)"

retention="$build/retention"
gen="$build/bench/bench_gen"
writer="$build/bench/bench_writer"
pad_lib="$build/bench/fsync_pad.so"
if [[ ! -x $retention || ! -x $gen || ! -x $writer || ! -f $pad_lib || ! -x $build/bench/bench_pg_writer ]]; then
  [[ -f $build/CMakeCache.txt ]] ||
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRETENTION_BUILD_BENCH=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target retention bench_gen bench_writer bench_pg_writer fsync_pad >/dev/null
fi
# The variants of every purge figure: "" (the disk as it is) and, unless
# BENCH_PAD_MS=0, " 3ms-fsync": $pad (a command prefix) preloads fsync_pad
# into whatever it runs, engine and baseline alike.
variants=("")
((${pad_ms%.*} > 0)) && variants+=(" ${pad_ms}ms-fsync")
pad=()
set_variant() {
  if [[ -n $1 ]]; then pad=(env LD_PRELOAD="$pad_lib" RETENTION_FSYNC_PAD_MS="$pad_ms"); else pad=(); fi
}
if [[ ! -x /usr/bin/time ]]; then
  if [[ $(id -u) = 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
  else
    echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 69
  fi
fi
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 missing (apt-get install sqlite3)" >&2; exit 69; }

work=${BENCH_WORK:-$(mktemp -d /tmp/retention-bench.XXXXXX)}
mkdir -p "$work"
pgdir=  # the PostgreSQL figures' cluster (bench/postgres.sh), removed at exit
cleanup() {
  [[ -z $pgdir ]] || "$repo/scripts/pg-cluster.sh" remove "$pgdir" >/dev/null 2>&1 || true
  [[ ${BENCH_KEEP:-0} = 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
failures=0
started=$(date +%s)

say() { if [[ $1 = ==* ]]; then printf '%s [%ds]\n' "$*" $(($(date +%s) - started)); else printf '%s\n' "$*"; fi; }
fail() { say "MISMATCH: $*"; failures=$((failures + 1)); }
die() { say "bench: $*" >&2; exit 1; }

# timed OUT CMD...: runs CMD; OUT gets "seconds peak_rss_kb". Fails the
# script when CMD fails.
timed() {
  local out=$1; shift
  local t0 t1 rc=0 ok=${TIMED_OK:-0}
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/cmd.out" 2>"$work/cmd.err" || rc=$?
  t1=$(date +%s%N)
  echo "$rc" >"$work/rc"
  if ((rc != 0 && rc != ok)); then
    say "bench: command failed (exit $rc): $*"; cat "$work/cmd.out" "$work/cmd.err" | head -20
    exit 1
  fi
  printf '%s %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')" \
    "$(tail -1 "$work/rss")" >"$out"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# config DIR STORE_KIND: writes DIR/retention.toml and DIR/rules/ for the
# sqlite events table (app.db) or the file tree (tree/).
config() {
  local dir=$1 kind=$2
  mkdir -p "$dir/rules"
  cat >"$dir/retention.toml" <<EOF
rules = "rules"
state = "state.db"
time_zone = "UTC"

[limits]
max_delete = 1000000000
max_delete_fraction = 1.0
EOF
  if [[ $kind = sqlite ]]; then
    cat >>"$dir/retention.toml" <<EOF

[stores.app]
type = "sqlite"
path = "app.db"
EOF
    cat >"$dir/rules/events.toml" <<EOF
[bench_events]
description = "Benchmark events, deleted one year after they happened"
policy = "bench | 1 year"
policy_source = "bench/README.md"
delete_after = "1 year"

[[bench_events.target]]
store = "app"
table = "events"
key = "id"
clock = { column = "created_at", encoding = "text" }
subject = { kind = "customer", column = "subject" }
EOF
  else
    cat >>"$dir/retention.toml" <<EOF

[stores.tree]
type = "files"
root = "tree"
EOF
    cat >"$dir/rules/files.toml" <<EOF
[bench_files]
description = "Benchmark files, deleted one year after their last modification"
policy = "bench | 1 year"
policy_source = "bench/README.md"
delete_after = "1 year"

[[bench_files.target]]
name = "bench-files"
store = "tree"
paths = ["**/*.log"]
clock = { mtime = true }
EOF
  fi
}

# fresh_db MASTER DIR: DIR/app.db becomes a copy of MASTER, DIR/state.db a
# copy of the state holding the holds.
fresh_db() {
  rm -f "$2"/app.db* "$2"/state.db*
  cp "$1" "$2/app.db"
  cp "$work/holds-state.db" "$2/state.db"
}
remaining() { sqlite3 "$1" "SELECT count(*) || ' ' || total(id) FROM events WHERE id <= $2"; }

# ---------------------------------------------------------------------------
say "retention bench ($mode) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
say "engine: $retention ($("$retention" --version 2>/dev/null | head -1 || echo '?'))"
say "scratch: $work"

gen_db() {  # gen_db ROWS -> path of the master database
  local path="$work/master-$1.db"
  if [[ ! -f $path ]]; then
    local t0=$(date +%s%N)
    "$gen" sqlite "$path" "$1"
    say "generated $1 rows in $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s" >&2
  fi
  echo "$path"
}

# The holds, placed once with `retention hold add` and copied for each run.
mkdir -p "$work/holds"
config "$work/holds" sqlite
"$gen" sqlite "$work/holds/app.db" 2
"$retention" --config "$work/holds/retention.toml" state init >/dev/null
for s in $(seq 100 100 10000); do
  "$retention" --config "$work/holds/retention.toml" hold add --matter bench --reason bench \
    --subject "customer:$s" >/dev/null
done
sqlite3 "$work/holds/state.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$work/holds/state.db" "$work/holds-state.db"

results=()  # rows of the final table
row() { results+=("$(printf '%-28s %-12s %10s %10s %7s %-8s %s' "$@")"); }
batch_cycles() {
  sqlite3 "$1" "
    WITH b AS (SELECT at FROM ledger WHERE kind = 'batch'
               UNION ALL
               SELECT max(at) FROM ledger WHERE batch > 0 AND kind <> 'batch'
                 AND NOT EXISTS (SELECT 1 FROM ledger WHERE kind = 'batch') GROUP BY run_id, batch),
         d AS (SELECT at - lag(at) OVER (ORDER BY at) AS us FROM b)
    SELECT (SELECT count(*) FROM b) || ' ' || printf('%.1f', max(us) / 1000.0) || ' ' ||
           printf('%.2f', avg(us) / 1000.0) FROM d WHERE us IS NOT NULL"
}
source "${PGSH:-$repo/bench/postgres.sh}"
[[ ${PG_ENGINE:-1} = 1 ]] || { retention=/bin/true; }
pg_figures
printf "%s\n" "${results[@]}"; echo failures=$failures
