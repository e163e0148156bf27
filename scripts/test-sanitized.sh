#!/usr/bin/env bash
# Builds engine, binary and tests with AddressSanitizer + UndefinedBehavior-
# Sanitizer in ./build-asan and runs the whole CTest suite there (the
# end-to-end tests then run the sanitized binary). Tests tagged [memory]
# measure RSS and are left out. Part of scripts/test.sh (CI).
#
# A compiler cache is used when the environment asks for one:
#   CMAKE_CXX_COMPILER_LAUNCHER=ccache ./scripts/test-sanitized.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${RETENTION_ASAN_BUILD_DIR:-build-asan}
# -O1 -g1: about half the compile time of -O2 -g on CI's two cores, and
# stacks that still name file and line.
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" -DRETENTION_SANITIZE=ON \
  -DRETENTION_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)"

# detect_leaks: LeakSanitizer runs at every exit of the binary and the test
# runner. halt_on_error: the first UBSan finding fails the test, with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd "$dir" && ctest --output-on-failure -j2 --timeout 900)
