#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test (CTest + Catch2).
# This is the README's test command and what CI runs. In order: the tests;
# the same tests again built with AddressSanitizer + UBSan (build-asan);
# each libFuzzer harness for 30 s (build-fuzz); the benchmarks in quick
# mode; the checks of the unattended setup. Three builds (build,
# build-asan, build-fuzz) make most of its time on a fresh clone;
# CMAKE_CXX_COMPILER_LAUNCHER=ccache in the environment makes them use ccache.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
(cd build && ctest --output-on-failure -j2 --timeout 900)

# Memory errors and undefined behaviour, in the engine and the binary.
./scripts/test-sanitized.sh

# The parsers and the verifier against generated inputs; a crash fails.
./scripts/fuzz.sh

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
