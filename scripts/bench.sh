#!/usr/bin/env bash
# Runs the whole benchmark set: generates the workloads (benchmarks/gen_workload.py,
# seeded), runs every Google Benchmark suite, the scaling sweeps and the Python binding
# overhead, and draws the plots. Under ten minutes on 2 cores; --full adds the
# 1,000,000-identity point (about 5 GB of XML and several more minutes). --before REV
# also builds REV's command line (a git worktree under build/before-src) so that the
# load sweep reports before and after in one run.
# Results: build/bench-results/*.json and benchmarks/*.png.
set -euo pipefail
cd "$(dirname "$0")/.."
FULL=0
BEFORE=
while [ $# -gt 0 ]; do
  case "$1" in
    --full) FULL=1 ;;
    --before) BEFORE=$2; shift ;;
    *) echo "usage: scripts/bench.sh [--full] [--before REV]" >&2; exit 2 ;;
  esac
  shift
done
bash scripts/setup.sh --bench
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPREFLIGHT_BENCHMARKS=ON \
  -DPREFLIGHT_TESTS=OFF -DPREFLIGHT_PYTHON=OFF >/dev/null
cmake --build build/bench -j"$(nproc)"
DATA=build/bench-data
OUT=build/bench-results
mkdir -p "$DATA" "$OUT"

gen() {  # gen NAME ARGS...: generate once, reuse while the parameters are the same
  local dir=$DATA/$1; shift
  if [ ! -f "$dir/manifest.json" ] || [ "$(cat "$dir/.args" 2>/dev/null)" != "$*" ]; then
    python3 benchmarks/gen_workload.py --out "$dir" --force "$@" >&2
    echo "$*" >"$dir/.args"
  fi
}
run() {  # run SUITE WORKLOAD OUTPUT [ARGS...]
  local suite=$1 workload=$2 out=$3; shift 3
  echo "== $suite on $workload" >&2
  PREFLIGHT_WORKLOAD=$DATA/$workload build/bench/benchmarks/bench_$suite \
    --benchmark_out="$OUT/$out.json" --benchmark_out_format=json "$@"
}

gen base --identities 100000 --constraints 1000 --requests 10000 --format both
gen i10k --identities 10000 --constraints 1000 --requests 2000 --format both
for c in 100 1000 10000 100000; do gen "c$c" --identities 10000 --constraints "$c" --requests 2000; done
[ "$FULL" = 1 ] && gen i1m --identities 1000000 --constraints 1000 --requests 10000

# The suites, on the 100,000-identity workload.
run check base check --benchmark_min_time=2
run compile base compile --benchmark_min_time=1
run snapshot_load base snapshot_load
run plan_codec base plan_codec --benchmark_min_time=0.5
run scim_filter base scim_filter --benchmark_min_time=0.5

# Scaling: constraints at 10,000 identities, identities at 1,000 constraints.
for c in 100 1000 10000 100000; do
  run check "c$c" "scale_check_c$c" --benchmark_filter='BM_Check/indexed:1' --benchmark_min_time=1
  run snapshot_load "c$c" "scale_load_c$c" --benchmark_filter='BM_LoadSnapshot/xml'
done
run check base scale_check_i100000 --benchmark_filter='BM_Check/indexed:1' --benchmark_min_time=1
run snapshot_load base scale_load_i100000 --benchmark_filter='BM_LoadSnapshot/xml'
if [ "$FULL" = 1 ]; then
  run check i1m scale_check_i1000000 --benchmark_filter='BM_Check/indexed:1' --benchmark_min_time=1
  run snapshot_load i1m scale_load_i1000000 --benchmark_filter='BM_LoadSnapshot/xml'
fi

# The load sweep: exports to a snapshot (XML and SCIM) at 10,000 and 100,000 identities
# (and 1,000,000 with --full): load MB/s, peak RSS and model bytes, for this build and
# the --before one; then the image (`snapshot compile`) of each, and its open time.
BEFORE_CLI=
if [ -n "$BEFORE" ]; then
  [ -d build/before-src ] || git worktree add --detach build/before-src "$BEFORE" >/dev/null
  git -C build/before-src checkout -q --detach "$BEFORE"
  cmake -S build/before-src -B build/before -G Ninja -DCMAKE_BUILD_TYPE=Release -DPREFLIGHT_TESTS=OFF \
    -DPREFLIGHT_PYTHON=OFF >/dev/null
  cmake --build build/before -j"$(nproc)" --target preflight
  BEFORE_CLI=build/before/preflight
fi
SWEEP=("$DATA/i10k" "$DATA/base")
[ "$FULL" = 1 ] && SWEEP+=("$DATA/i1m")
python3 benchmarks/load_sweep.py --cli build/bench/preflight ${BEFORE_CLI:+--before-cli "$BEFORE_CLI"} \
  --out "$OUT/load_sweep.json" "${SWEEP[@]}"

# The Python binding's overhead against the same check in C++.
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPREFLIGHT_PYTHON=ON >/dev/null
cmake --build build/release -j"$(nproc)" --target _preflight >/dev/null
PYTHONPATH=build/release/python python3 benchmarks/python_overhead.py | tee "$OUT/python_overhead.txt"

# Preflight against Cedar, OPA's Rego, casbin and a Python rule index in one Python process,
# each verified against Preflight's answers on every request it is timed on (about 3 minutes).
PYTHONPATH=build/release/python python3 benchmarks/peers/run.py --workload "$DATA/base" --requests 2000 \
  --json "$OUT/peers.json" | tee "$OUT/peers.md"

python3 benchmarks/plot.py "$OUT" benchmarks
