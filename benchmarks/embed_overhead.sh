#!/usr/bin/env bash
# The per-call overhead of the C ABI and of the Java binding over the C++ facade, on the demo
# snapshot and examples/request.json (benchmarks/RESULTS.md, "Embedding overhead").
# Usage: bash benchmarks/embed_overhead.sh [N] [RUNS]   (about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}; runs=${2:-7}
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPREFLIGHT_BENCHMARKS=ON \
  -DPREFLIGHT_TESTS=OFF -DPREFLIGHT_PYTHON=OFF >/dev/null
cmake --build build/bench -j2 --target bench_c_abi_overhead preflight_c >/dev/null
build/bench/bindings/c/bench_c_abi_overhead "$n" "$runs"
bash bindings/java/build.sh build/bench
jna=${JNA_JAR:-/usr/share/java/jna.jar}
mkdir -p build/bench/java/bench-classes
javac -d build/bench/java/bench-classes -cp "$jna:build/bench/java/preflight.jar" bindings/java/bench/preflight/Overhead.java
java -Djna.library.path=build/bench/bindings/c -cp "$jna:build/bench/java/preflight.jar:build/bench/java/bench-classes" \
  preflight.Overhead "$n" "$runs"
