#!/usr/bin/env bash
# Checks completions/retention.bash in bash, with bash-completion, against
# the binary it completes:
#  - its commands, subcommands and options are exactly those the binary's
#    --help prints (its option parser): nothing missing, nothing stale;
#  - on a demo, --category completes the categories of the rules, and hold
#    and run ids complete from the state, without writing anything.
#   check-completion.sh RETENTION_BINARY COMPLETION_SCRIPT SHIPPED_RULES_DIR
# Exit 0 when all hold, 1 naming each difference, 77 (CTest: skipped)
# without bash-completion.
set -uo pipefail

bin="$1" script="$2" rules="$3"
bash_completion=/usr/share/bash-completion/bash_completion
if [ ! -r "$bash_completion" ]; then
  echo "SKIP: $bash_completion not found (Debian package: bash-completion)"
  exit 77
fi
# shellcheck source=/dev/null
source "$bash_completion"
# shellcheck source=/dev/null
source "$script"

status=0
fail() { echo "FAIL: $*"; status=1; }

# COMPREPLY for a command line whose last word is being completed, one a
# line, sorted; words[0] is the binary under test.
complete_line() {
  COMP_WORDS=("$bin" "$@")
  COMP_CWORD=$(($# ))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _retention "$bin" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  [ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

# The options a --help output lists: the words starting with '-' in its
# option column ("  -c [ --config ] PATH   ..." or "  -c, --config PATH  ...").
help_options() {
  awk -F'  +' '/^  -/ { n = split($2, w, " "); for (i = 1; i <= n; i++) if (w[i] ~ /^-/) print w[i] }' |
    tr -d ',' | sort -u
}

# The subcommands a group's --help lists ("  add   place a legal hold").
help_subcommands() {
  awk '/^  [a-z]/ { print $1 }' | sort -u
}

# compare WHAT EXPECTED ACTUAL: the two sorted lists are equal.
compare() {
  local diff
  if ! diff="$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3"))"; then
    fail "$1: the completion differs from --help ('<' only in --help, '>' only in the completion):"
    printf '%s\n' "$diff" | grep '^[<>]'
  fi
}

# --- The commands and global options.
top_help="$("$bin" --help)"
commands="$(awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' <<<"$top_help" | sort -u)"
[ -n "$commands" ] || fail "no commands in retention --help"
globals="$(sed -n '/^Global options/,/^$/p' <<<"$top_help" | help_options)"
compare "commands" "$commands" "$(complete_line "" | grep -v '^-')"
compare "global options" "$globals" "$(complete_line "-")"

# --- Every command's and subcommand's options.
# `erase list` is a subcommand that erase's --help does not list.
extra_subcommands="erase:list"
checked=0
for cmd in $commands; do
  cmd_help="$("$bin" "$cmd" --help)" || fail "retention $cmd --help exited $?"
  subs="$(help_subcommands <<<"$cmd_help")"
  for extra in $extra_subcommands; do
    [ "${extra%%:*}" = "$cmd" ] && subs="$(printf '%s\n%s\n' "$subs" "${extra#*:}" | sed '/^$/d' | sort -u)"
  done
  if [ -n "$subs" ]; then
    compare "retention $cmd: subcommands" "$subs" "$(complete_line "$cmd" "" | grep -v '^-' | grep -xF "$subs")"
    [ "$(complete_line "$cmd" "" | grep -cvxF "$subs")" -eq 0 ] || [ "$cmd" = erase ] ||
      fail "retention $cmd: completes words that are no subcommands: $(complete_line "$cmd" "" | grep -vxF "$subs")"
    for sub in $subs; do
      sub_help="$("$bin" "$cmd" "$sub" --help)" || fail "retention $cmd $sub --help exited $?"
      compare "retention $cmd $sub: options" "$(help_options <<<"$sub_help")" "$(complete_line "$cmd" "$sub" "-")"
      checked=$((checked + 1))
    done
  fi
  # A group's own options (erase has both), or a plain command's.
  if [ -z "$subs" ] || [ -n "$(help_options <<<"$cmd_help")" ]; then
    compare "retention $cmd: options" "$(help_options <<<"$cmd_help")" "$(complete_line "$cmd" "-")"
    checked=$((checked + 1))
  fi
done
[ "$checked" -ge 20 ] || fail "only $checked commands and subcommands checked"
complete_line purge "--allow-m" | grep -qx -- --allow-mass-delete || fail "purge --allow-m does not complete"

# --- Names from the live config, on a demo; nothing written.
scratch="$(mktemp -d /tmp/retention-completion-XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
"$bin" demo "$scratch/demo" --rows 1000 --rules "$rules" >/dev/null || fail "retention demo"
config="$scratch/demo/retention.toml"
categories="$(grep -hoE '^\[[a-z_-]+\]$' "$rules"/*.toml | tr -d '[]' | sort -u)"
compare "plan --category (the shipped rules' categories)" "$categories" \
  "$(complete_line --config "$config" plan --category "")"
complete_line -c "$config" hold add --target "sess" | grep -qx sessions || fail "hold add --target sess"
"$bin" --config "$config" hold add --matter M-1 --reason "completion test" --category sessions >/dev/null 2>&1 ||
  fail "hold add"
"$bin" --config "$config" purge >/dev/null 2>&1 || fail "purge"
# SQLite's shared-memory index (*-shm) is rewritten by any reader of a WAL
# database; the data (the databases and their WAL) must not change.
snapshot() { (cd "$scratch/demo" && find . -type f ! -name '*-shm' -exec sha256sum {} + | sort); }
before="$(snapshot)"
compare "hold release ID" "1" "$(complete_line --config "$config" hold release "")"
compare "audit show RUN" "1" "$(complete_line --config "$config" audit show "")"
compare "audit log --run" "1" "$(complete_line --config="$config" audit log --run "")"
after="$(snapshot)"
[ "$before" = "$after" ] || fail "completing wrote to the demo: $(diff <(echo "$before") <(echo "$after"))"
# Without a config that loads, names complete to nothing, silently.
[ -z "$(complete_line --config "$scratch/none.toml" plan --category "")" ] || fail "names without a config"

[ "$status" -eq 0 ] && echo "ok: the completion matches --help ($checked commands and subcommands) and the demo"
exit "$status"
