#!/usr/bin/env bash
# The HTML report in a real browser (issue 17): on the demo after a purge
# and a hold, `retention report --format html` is rendered by headless
# Chromium; the DOM it built must hold the summary table, an SVG chart with
# its cutoff line and every policy line's section, and its screenshot must
# be a real picture. The report and the screenshot stay in OUT_DIR (the
# build directory: CI keeps them as artifacts).
#   tests/report/html_report_browser_test.sh RETENTION_BINARY OUT_DIR
# Exit 0: passed; 1: failed; 77: no Chromium (CTest: skipped).
set -euo pipefail

binary="$1"
out_dir="$(cd "$2" && pwd)"  # absolute: it goes into a file:// URL
chromium="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$chromium" ]; then
  echo "SKIP: no chromium (Debian package: chromium; scripts/install-deps.sh)"
  exit 77
fi

work="$(mktemp -d /tmp/retention-report-browser-XXXXXX)"
trap 'rm -rf -- "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$binary" demo "$work/demo" --rows 2000 >/dev/null
config="$work/demo/retention.toml"
# The hold first: the purge then leaves the support line's old records held.
"$binary" --config "$config" hold add --category support --matter "LIT-<2026>" \
  --reason "litigation & discovery" >/dev/null
"$binary" --config "$config" purge --quiet >/dev/null
report="$out_dir/report.html"
screenshot="$out_dir/report-screenshot.png"
rm -f -- "$report" "$screenshot"
"$binary" --config "$config" report --format html --out "$report" 2>/dev/null
[ -s "$report" ] || fail "no report written to $report"
grep -q 'src=\|<link\|<script' "$report" && fail "the report fetches or runs something"

# Chromium's profile in the scratch directory: nothing left in $HOME.
browser=("$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
         --user-data-dir="$work/profile" --window-size=1200,2000)
timeout 120 "${browser[@]}" --screenshot="$screenshot" "file://$report" >"$work/shot.log" 2>&1 ||
  { cat "$work/shot.log"; fail "chromium could not take a screenshot"; }
timeout 120 "${browser[@]}" --dump-dom "file://$report" >"$work/dom.html" 2>"$work/dom.log" ||
  { cat "$work/dom.log"; fail "chromium could not dump the DOM"; }

dom="$work/dom.html"
grep -q '<table id="summary"' "$dom" || fail "no summary table in the rendered DOM"
grep -q '<svg class="ages"' "$dom" || fail "no SVG chart in the rendered DOM"
grep -q 'class="cutoff"' "$dom" || fail "no cutoff line in the charts"
sections=$(grep -o '<section class="line"' "$dom" | wc -l)
rows=$(grep -o '<tr><td><a href="#line-' "$dom" | wc -l)
[ "$sections" -ge 2 ] || fail "only $sections policy line sections"
[ "$sections" -eq "$rows" ] || fail "$rows summary rows for $sections sections"
grep -q 'LIT-&lt;2026&gt;' "$dom" || fail "the hold's matter is missing or not escaped"
grep -q '<span class="verdict held">held</span>' "$dom" || fail "no line held by the hold"
grep -q 'Ledger verified' "$dom" || fail "the ledger's verification is not stated"

# A PNG of the window's size with more than a blank page's bytes.
[ -f "$screenshot" ] || fail "no screenshot at $screenshot"
signature=$(head -c 8 "$screenshot" | od -An -tx1 | tr -d ' \n')
[ "$signature" = "89504e470d0a1a0a" ] || fail "$screenshot is not a PNG"
width=$(od -An -tu1 -j16 -N4 "$screenshot" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
height=$(od -An -tu1 -j20 -N4 "$screenshot" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
size=$(stat -c %s "$screenshot")
[ "$width" -ge 1000 ] && [ "$height" -ge 1000 ] || fail "screenshot is ${width}x${height}"
[ "$size" -gt 50000 ] || fail "screenshot is only $size bytes: a blank page?"
echo "ok: $sections policy lines rendered; screenshot ${width}x${height}, $size bytes: $screenshot"
