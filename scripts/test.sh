#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test (CTest + Catch2).
# This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure -j2 --timeout 900
