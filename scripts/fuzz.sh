#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) with clang in ./build-fuzz and runs
# each for RETENTION_FUZZ_TIME seconds (default 30) from its checked-in
# corpus, fuzz/corpus/NAME/. New inputs go to a scratch copy, not into the
# repository. A crash, a sanitizer finding or a broken invariant stops that
# fuzzer with its input saved as fuzz/crashes/NAME-crash-<sha1>, and this
# script exits 1 after trying the others. Part of scripts/test.sh (CI).
#
#   ./scripts/fuzz.sh                  # every harness, 30 s each
#   RETENTION_FUZZ_TIME=600 ./scripts/fuzz.sh ledger_verify
#
# To reproduce or minimize a crash:
#   ./build-fuzz/fuzz/NAME_fuzz fuzz/crashes/NAME-crash-...
#   ./build-fuzz/fuzz/NAME_fuzz -minimize_crash=1 -runs=10000 fuzz/crashes/NAME-crash-...
# A compiler cache is used when CMAKE_CXX_COMPILER_LAUNCHER=ccache is set.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${RETENTION_FUZZ_BUILD_DIR:-build-fuzz}
seconds=${RETENTION_FUZZ_TIME:-30}
all=(config rules hold_spec moment saved_plan ledger_verify batch_payload)
if [ $# -gt 0 ]; then names=("$@"); else names=("${all[@]}"); fi

# -O1 -g1 (libFuzzer's own examples build with -O1): the whole engine is
# compiled here, and -O2 -g costs more time than 15 s of fuzzing gains.
CXX=${RETENTION_FUZZ_CXX:-clang++} cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DRETENTION_FUZZ=ON \
  -DRETENTION_BUILD_TESTS=OFF -DRETENTION_BUILD_BENCH=OFF >/dev/null
targets=()
for n in "${names[@]}"; do targets+=("${n}_fuzz"); done
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p fuzz/crashes
work=$(mktemp -d "${TMPDIR:-/tmp}/retention-fuzz-corpus-XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=()
for n in "${names[@]}"; do
  mkdir -p "$work/$n"
  log=$work/$n.log
  # -timeout: one input taking this long is a hang, reported as a crash.
  if "$dir/fuzz/${n}_fuzz" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="fuzz/crashes/$n-" "$work/$n" "fuzz/corpus/$n" >"$log" 2>&1; then
    printf 'fuzz %-14s ok: %s runs, %s corpus inputs\n' "$n" \
      "$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")" "$(find "$work/$n" "fuzz/corpus/$n" -type f | wc -l)"
  else
    echo "fuzz $n FAILED:"
    grep -v '^#[0-9]' "$log" | tail -60
    failed+=("$n")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzers that failed: ${failed[*]} (inputs in fuzz/crashes/)" >&2
  exit 1
fi
