#!/usr/bin/env bash
# Checks the systemd units: `systemd-analyze verify` must be clean and
# `systemd-analyze security --offline=true` must score the service at or
# below the exposure threshold (default 2.0).
#   tests/unattended/check-units.sh [RETENTION_BINARY]
# The binary named in ExecStart (/usr/bin/retention) is resolved inside a
# scratch root, where the given built binary (or a stub) stands in for it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
units="$here/../../systemd"
threshold="${RETENTION_MAX_EXPOSURE:-2.0}"
binary="${1:-}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze not found (Debian package: systemd)"
  exit 0
fi

root="$(mktemp -d /tmp/retention-units-XXXXXX)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/bin" "$root/etc/systemd/system" "$root/etc/retention"
if [ -n "$binary" ] && [ -x "$binary" ]; then
  cp "$binary" "$root/usr/bin/retention"
else
  printf '#!/bin/sh\nexit 0\n' >"$root/usr/bin/retention"
  chmod 0755 "$root/usr/bin/retention"
fi
cp "$units/retention-purge.service" "$units/retention-purge.timer" "$root/etc/systemd/system/"
# The documented drop-in example (packaging/, installed under
# /usr/share/doc/retention/examples) is verified with the timer it changes.
mkdir -p "$root/etc/systemd/system/retention-purge.timer.d"
cp "$here/../../packaging/retention-purge.timer.d/schedule.conf" "$root/etc/systemd/system/retention-purge.timer.d/"
# The distribution's units (sysinit.target, time-sync.target, ...) the
# dependencies resolve against.
if [ -d /usr/lib/systemd/system ]; then
  mkdir -p "$root/usr/lib/systemd"
  cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
fi

status=0

# verify: any output is a finding (it exits 0 on some warnings).
# --man=no: the man page is checked by check-man.sh, not installed here.
verify_out="$(cd "$root" && systemd-analyze verify --man=no --root="$root" \
  "$root/etc/systemd/system/retention-purge.service" \
  "$root/etc/systemd/system/retention-purge.timer" 2>&1)" || status=1
if [ -n "$verify_out" ]; then
  echo "$verify_out"
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "FAIL: systemd-analyze verify"
else
  echo "ok: systemd-analyze verify"
fi

sec_out="$(systemd-analyze security --offline=true --root="$root" \
  "$root/etc/systemd/system/retention-purge.service" 2>&1)" || true
exposure="$(printf '%s\n' "$sec_out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' | tail -1)"
if [ -z "$exposure" ]; then
  printf '%s\n' "$sec_out" | tail -20
  echo "FAIL: could not read the exposure level"
  status=1
elif awk -v e="$exposure" -v t="$threshold" 'BEGIN { exit !(e <= t) }'; then
  echo "ok: exposure $exposure <= $threshold"
else
  printf '%s\n' "$sec_out" | grep '✗' || true
  echo "FAIL: exposure $exposure > $threshold"
  status=1
fi

# The drop-in example must replace the schedule, not add a second one:
# an empty OnCalendar= first.
dropin="$here/../../packaging/retention-purge.timer.d/schedule.conf"
if [ "$(grep -m1 '^OnCalendar=' "$dropin")" != "OnCalendar=" ]; then
  echo "FAIL: $dropin does not reset OnCalendar= before setting it"
  status=1
fi

# The timer must keep its promises (daily, spread, catches up after downtime).
timer="$units/retention-purge.timer"
for key in 'OnCalendar=' 'RandomizedDelaySec=' 'Persistent=true'; do
  if ! grep -q "^$key" "$timer"; then
    echo "FAIL: $timer lacks $key"
    status=1
  fi
done
service="$units/retention-purge.service"
for key in 'Type=oneshot' 'User=retention' 'StateDirectory=retention' 'After=time-set.target time-sync.target' \
           'TimeoutStopSec=' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'CapabilityBoundingSet=$' \
           'SuccessExitStatus=75$' 'UMask=0077$'; do
  if ! grep -q "^$key" "$service"; then
    echo "FAIL: $service lacks $key"
    status=1
  fi
done
exit "$status"
