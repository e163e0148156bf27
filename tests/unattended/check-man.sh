#!/usr/bin/env bash
# Checks man/retention.8: no warnings from groff (or man), no message at
# all from `mandoc -Tlint` (style included: an unterminated quote is one),
# and every command and option the binary's --help lists is documented.
#   tests/unattended/check-man.sh [RETENTION_BINARY]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
page="$here/../../man/retention.8"
binary="${1:-}"
status=0

if command -v groff >/dev/null 2>&1; then
  warnings="$(groff -man -Tutf8 -ww -z "$page" 2>&1)"
elif command -v man >/dev/null 2>&1; then
  warnings="$(man --warnings -l "$page" 2>&1 >/dev/null)"
else
  echo "SKIP: neither groff nor man found (Debian package: groff-base)"
  exit 0
fi
if [ -n "$warnings" ]; then
  echo "$warnings"
  echo "FAIL: warnings in $page"
  status=1
else
  echo "ok: no warnings in $page"
fi

# mandoc's lint, the checker of the BSDs and of Debian's manpages.debian.org.
# Every level counts, STYLE too: that is where mandoc puts unterminated
# quotes and over-long lines, which groff renders without a word.
if command -v mandoc >/dev/null 2>&1; then
  if lint="$(mandoc -Tlint -W style "$page" 2>&1)" && [ -z "$lint" ]; then
    echo "ok: mandoc -Tlint is clean"
  else
    echo "$lint"
    echo "FAIL: mandoc -Tlint found problems in $page"
    status=1
  fi
else
  echo "SKIP: mandoc -Tlint (mandoc not found; Debian package: mandoc)"
fi

if [ -n "$binary" ]; then
  # The man source writes '-' as '\-'.
  text="$(sed 's/\\-/-/g' "$page")"
  commands="$("$binary" --help | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {if (n++) exit}')"
  helps=("$("$binary" --help)")
  for c in $commands; do
    grep -q "^\.SS retention $c" <<<"$text" || { echo "FAIL: command '$c' has no section"; status=1; }
    sub="$("$binary" "$c" --help 2>/dev/null || true)"
    helps+=("$sub")
    # Subcommand groups (hold, audit) list their subcommands.
    for s in $(printf '%s\n' "$sub" | awk '/^Usage: retention [a-z]+ (SUBCOMMAND|[a-z]+[|])/ {on=1; next} on && /^  [a-z]/ {print $1}'); do
      helps+=("$("$binary" "$c" "$s" --help 2>/dev/null || true)")
      grep -q "^\.SS retention $c $s" <<<"$text" || { echo "FAIL: command '$c $s' has no section"; status=1; }
    done
  done
  for c in add list show release; do helps+=("$("$binary" hold "$c" --help 2>/dev/null || true)"); done
  options="$(printf '%s\n' "${helps[@]}" | grep -oE -- '--[a-z][a-z-]+' | sort -u)"
  for o in $options; do
    if ! grep -qF -- "$o" <<<"$text"; then
      echo "FAIL: option $o is not in the man page"
      status=1
    fi
  done
  [ "$status" -eq 0 ] && echo "ok: every command and option is documented"
fi
exit "$status"
