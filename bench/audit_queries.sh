# shellcheck shell=bash
# bench/audit_queries.sh — sourced by bench/run: the audit query figures
# (issue 17, item 4). The auditor's questions on a ledger of millions of
# entries: each answered from the lookup indexes of state schema versions 6
# to 8 (ledger/entry_index.h, ledger_key_spans, run_tallies), not a scan of
# every entry. Goal: under 100 ms each (reported, never enforced).
#
# The ledger: bench/bench_ledger (the engine's own append path), runs of
# 1000 batch entries of 8 records each, on the bench_events target of the
# bench config (app/events), subjects customer:1..100000. BENCH_AUDIT_ENTRIES
# sets its size (quick 100000, full 1200000); BENCH_AUDIT=0 skips the
# figures. The app table holds 2 rows: `status` and `explain` then measure
# the ledger's part of their work, not the store's.
#
# Each command runs BENCH_REPS times against the same state database; the
# table gets the median. Each must exit 0 and print what it was asked
# (the key, the subject, the run): a query that answers nothing fast is a
# failure, not a figure.

audit_query_figures() {
  if [[ ${BENCH_AUDIT:-1} = 0 ]]; then say "audit query figures skipped (BENCH_AUDIT=0)"; return 0; fi
  local entries=${BENCH_AUDIT_ENTRIES:-$1}
  local dir="$work/audit"
  mkdir -p "$dir"
  config "$dir" sqlite
  "$gen" sqlite "$dir/app.db" 2
  say "== audit queries: building a ledger of $entries entries (bench_ledger)"
  local t0 made
  t0=$(date +%s%N)
  made=$("$build/bench/bench_ledger" "$dir/state.db" "$entries") || die "bench_ledger failed"
  sqlite3 "$dir/state.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
  local n_entries n_records n_runs
  read -r n_entries n_records n_runs <<<"$made"
  say "built $n_entries entries ($n_records records, $n_runs runs) in $(awk -v a="$t0" -v b="$(date +%s%N)" \
    'BEGIN { printf "%.1f", (b - a) / 1e9 }') s, $(($(stat -c %s "$dir/state.db") / 1048576)) MB"
  # What to ask: a key and a subject of the middle run's middle batch, and
  # that run (bench_ledger: keys from 1000000 up, 8 a batch, 1000 batches a
  # run, runs numbered from 1).
  local mid_run=$(((n_runs + 1) / 2))
  # The second record of batch 500 of the middle run: bench_ledger keeps the
  # first record of every 50th batch entry (a hold), and explain exits 1 for
  # a record the store lacks and the ledger never deleted.
  local key=$((1000000 + (mid_run - 1) * 8000 + 4001))
  local subject
  subject=$(sqlite3 "$dir/state.db" \
    "SELECT subject FROM ledger_subjects WHERE seq = (SELECT min(seq) FROM ledger WHERE run_id = $mid_run) + 500 LIMIT 1")
  [[ -n $subject ]] || die "audit queries: no subject in the generated ledger's subject index"
  local cfg=(--config "$dir/retention.toml")
  local -a names=("audit log --key" "audit log --subject" "audit log --run" "audit runs" "audit runs --last 10"
                  "audit show RUN" "status" "explain")
  local -a cmds=("audit log --key $key" "audit log --subject $subject" "audit log --run $mid_run --format json"
                 "audit runs" "audit runs --last 10" "audit show $mid_run" "status --format json"
                 "explain app/events/$key --format json")
  local -a expect=("/$key " "subject=$subject" "\"run\":$mid_run" "" "" "Run $mid_run" "\"last_success\"" "GONE")
  local i r
  for i in "${!names[@]}"; do
    : >"$work/aq.t"
    for ((r = 1; r <= reps; r++)); do
      # shellcheck disable=SC2086
      timed "$work/t" "$retention" "${cfg[@]}" ${cmds[$i]}
      cat "$work/t" >>"$work/aq.t"
    done
    if [[ -n ${expect[$i]} ]] && ! grep -qF -- "${expect[$i]}" "$work/cmd.out"; then
      fail "audit queries: \`retention ${cmds[$i]}\` did not print '${expect[$i]}'"
    fi
    local s ms
    s=$(awk '{print $1}' "$work/aq.t" | median)
    ms=$(awk -v s="$s" 'BEGIN { printf "%.0f", s * 1000 }')
    row "${names[$i]}" "$n_entries" "${ms}ms" "" "" "<100ms" \
      "$(wc -l <"$work/cmd.out") lines out; RSS $(mb "$(awk '{print $2}' "$work/aq.t" | median)") MB"
  done
}
