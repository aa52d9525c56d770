#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (build/asan),
# then the concurrency tests under ThreadSanitizer (build/tsan). g++ by default; set
# CXX=clang++ to use clang. Fuzz smoke tests are excluded (scripts/fuzz.sh runs them).
#
#   scripts/sanitize.sh            both
#   scripts/sanitize.sh asan|tsan  one of them
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: paths under the checkout hash as relative ones, so a fresh clone anywhere reuses the
# cache that earlier builds on this machine filled (CI clones into a new folder).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
what="${1:-all}"
jobs="${JOBS:-2}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
common=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPREFLIGHT_PYTHON=OFF -DPREFLIGHT_TESTS=ON "${launcher[@]}")
[ -n "${CXX:-}" ] && common+=(-DCMAKE_CXX_COMPILER="$CXX")

if [ "$what" = all ] || [ "$what" = asan ]; then
  echo "== ASan + UBSan: build/asan"
  cmake -S . -B build/asan "${common[@]}" -DPREFLIGHT_SANITIZE=address,undefined >/dev/null
  # What the sanitized tests run: the Catch2 suite and the C ABI's test program (the CLI, the
  # service and the Python module are exercised by scripts/test.sh).
  cmake --build build/asan -j"$jobs" --target preflight_tests preflight_c_abi_test
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -j"$jobs" -LE fuzz
fi

if [ "$what" = all ] || [ "$what" = tsan ]; then
  echo "== TSan: build/tsan, tests tagged [concurrency]"
  cmake -S . -B build/tsan "${common[@]}" -DPREFLIGHT_SANITIZE=thread >/dev/null
  cmake --build build/tsan -j"$jobs" --target preflight_tests
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build/tsan/tests/preflight_tests "[concurrency]"
fi
