#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test (CTest + Catch2).
# This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
(cd build && ctest --output-on-failure -j2 --timeout 900)

# The benchmarks in quick mode: they must run, and the engine must delete
# exactly what the raw tools delete. No speed threshold (see bench/README.md).
./bench/run quick build

# The unattended setup: unit files verified and security-scored, the man
# page free of warnings and complete, the .deb installed and exercised
# (this changes the machine: CI and test hosts only).
./tests/unattended/check-units.sh build/retention
./tests/unattended/check-man.sh build/retention
if [ "${CI:-}" = "true" ] || [ "${RETENTION_TEST_PACKAGE:-}" = "1" ]; then
  ./tests/unattended/check-package.sh build-package
fi
