#!/usr/bin/env bash
# Installs what is missing (including the real mail clients the interop tests
# use), builds, and runs every test with ctest. Benchmarks and fuzzers are not
# part of it: see tests/bench/ and README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
MAILSIM_TEST_PEERS=1 scripts/setup.sh
ctest --test-dir build --output-on-failure --parallel "$(nproc)" "$@"
