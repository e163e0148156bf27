#!/usr/bin/env bash
# Sets up everything and runs the main job on demo data: builds retention,
# creates a demo (SQLite app database) in ${DEMO_DIR:-/tmp/retention-demo},
# then check -> plan -> purge -> plan again -> audit verify.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
bin=$PWD/build/retention
dir=${DEMO_DIR:-/tmp/retention-demo}
conf=$dir/retention.toml

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$bin" demo "$dir" --force
step "$bin" --config "$conf" check
step "$bin" --config "$conf" plan
step "$bin" --config "$conf" purge
step "$bin" --config "$conf" plan
step "$bin" --config "$conf" audit verify
printf '\nThe demo is in %s; try: %s --config %s hold add --subject customer:42 --matter M-1 --reason "litigation" --dry-run\n' \
  "$dir" "$bin" "$conf"
