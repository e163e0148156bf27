#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test (CTest + Catch2).
# This is the README's test command and what CI runs. In order: the tests;
# the same tests again built with AddressSanitizer + UBSan (build-asan);
# each libFuzzer harness for 15 s (build-fuzz); the benchmarks in quick
# mode; the checks of the unattended setup. Three builds (build,
# build-asan, build-fuzz) make most of its time on a fresh clone; they use
# ccache when it is installed (install-deps.sh installs it), or the
# launcher CMAKE_CXX_COMPILER_LAUNCHER names. Each stage prints its start
# time in seconds, for CI's log.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { echo "== test.sh: $* [${SECONDS}s]"; }
stage "dependencies"
./scripts/install-deps.sh

# One compiler cache for every build below, unless the caller chose one:
# build-package then compiles nothing that build did not. NOHASHDIR: the
# build directories differ, the sources and flags do not.
if [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ] && command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
fi

stage "build and tests"
./scripts/build.sh
(cd build && ctest --output-on-failure -j2 --timeout 900)

# Memory errors and undefined behaviour, in the engine and the binary.
stage "sanitizer build and tests"
./scripts/test-sanitized.sh

# The parsers and the verifier against generated inputs; a crash fails.
# 15 s a harness here; scripts/fuzz.sh alone runs 30 s.
stage "fuzzing"
RETENTION_FUZZ_TIME=${RETENTION_FUZZ_TIME:-15} ./scripts/fuzz.sh

# The benchmarks in quick mode: they must run, and the engine must delete
# exactly what the raw tools delete. No speed threshold (see bench/README.md).
stage "benchmarks (quick)"
./bench/run quick build

# The unattended setup: unit files verified and security-scored, the man
# page free of warnings and complete, the .deb installed and exercised
# (this changes the machine: CI and test hosts only).
stage "unattended setup"
./tests/unattended/check-units.sh build/retention
./tests/unattended/check-man.sh build/retention
if [ "${CI:-}" = "true" ] || [ "${RETENTION_TEST_PACKAGE:-}" = "1" ]; then
  ./tests/unattended/check-package.sh build-package
fi
stage "done"
