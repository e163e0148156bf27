#!/usr/bin/env bash
# Installs the Debian 12 packages retention builds and tests with.
# Run as root (or through sudo). Safe to run again: apt-get skips what is there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  # scripts/test.sh: the package build reuses the test build's objects
  ccache
  libboost-program-options-dev
  libsqlite3-dev sqlite3
  libhowardhinnant-date-dev tzdata
  libspdlog-dev libfmt-dev
  catch2
  libtomlplusplus-dev
  nlohmann-json3-dev
  libpq-dev
  # the PostgreSQL store's tests, its demo and benchmarks start throwaway
  # PostgreSQL 15 clusters of their own (scripts/pg-cluster.sh)
  postgresql postgresql-client
  libssl-dev
  # sd_journal_sendv: native journal entries with structured fields
  libsystemd-dev
  python3 time
  # bench/run: the files purge's system calls per file (optional)
  strace
  # the libFuzzer harnesses (scripts/fuzz.sh): clang 14, its sanitizer and
  # fuzzer runtimes, llvm-symbolizer for readable stacks
  clang libclang-rt-14-dev llvm
  # tests of the unattended setup: systemd-analyze, groff, cpack -G DEB;
  # mandoc -Tlint (check-man.sh) and lintian on the .deb (check-package.sh)
  systemd groff-base man-db dpkg-dev file mandoc lintian
  # the HTML report's browser test renders it in headless Chromium
  # (tests/report/html_report_browser_test.sh)
  chromium
  # the bash completion's test sources it with bash-completion's helpers
  # (tests/completion/check-completion.sh)
  bash-completion
)

if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
