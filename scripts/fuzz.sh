#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build/fuzz) and runs each for a while.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s, every target)
#
# Corpus: fuzz/work/<target>/ (persistent, gitignored; new inputs land there) plus the
# read-only seeds fuzz/seeds/<target>/. Crashes: fuzz/artifacts/<target>-crash-*.
# Runs one target at a time, one fuzzing process (the machine's cores are shared).
# Extra libFuzzer flags: FUZZ_FLAGS="-only_ascii=1 ..." scripts/fuzz.sh 60 check_request
# sod_check_differential takes the note's side at known divergences unless
# PREFLIGHT_FUZZ_ENGINE_CHOICES=1 (then it hunts for new mismatches only).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: paths under the checkout hash as relative ones, so a fresh clone anywhere reuses the
# cache that earlier builds on this machine filled (CI clones into a new folder).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
seconds="${1:-60}"
shift || true

build=build/fuzz
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPREFLIGHT_FUZZ=ON -DPREFLIGHT_PYTHON=OFF -DPREFLIGHT_TESTS=OFF "${launcher[@]}" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(awk '{print $1}' "$build/fuzz-targets.txt")
fi
cmake --build "$build" -j2 --target "${targets[@]}"

mkdir -p fuzz/work fuzz/artifacts
summary=()
status=0
for t in "${targets[@]}"; do
  line=$(awk -v t="$t" '$1 == t' "$build/fuzz-targets.txt")
  [ -n "$line" ] || { echo "unknown target: $t" >&2; exit 2; }
  read -r _ max_len dict seeds <<<"$line"
  args=(-max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="fuzz/artifacts/$t-")
  [ "$dict" != "-" ] && args+=(-dict="$dict")
  mkdir -p "fuzz/work/$t"
  dirs=("fuzz/work/$t")
  [ "$seeds" != "-" ] && dirs+=("$seeds")
  before=$(find "fuzz/work/$t" -type f | wc -l)
  crashes_before=$(find fuzz/artifacts -name "$t-*" -type f | wc -l)
  log="fuzz/work/$t.log"
  echo "== $t: ${seconds}s, max_len=$max_len"
  # One process, in the foreground (the same as -jobs=1 without libFuzzer's fuzz-0.log).
  # `time` measures the fuzzer's own CPU (user + system), which is what the budget counts.
  set +e
  TIMEFORMAT='%U %S'
  { time "$build/fuzz/$t" ${FUZZ_FLAGS:-} "${args[@]}" "${dirs[@]}" >"$log" 2>&1; } 2>"$log.cpu"
  rc=$?
  set -e
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$log.cpu")
  after=$(find "fuzz/work/$t" -type f | wc -l)
  crashes=$(( $(find fuzz/artifacts -name "$t-*" -type f | wc -l) - crashes_before ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  summary+=("$(printf '%-28s cpu_s=%-6s execs=%-10s cov=%-6s new_corpus=%-5s crashes=%s rc=%s' "$t" "$cpu" \
    "${execs:-?}" "${cov:-?}" "$((after - before))" "$crashes" "$rc")")
  [ "$rc" -eq 0 ] || { status=1; tail -40 "$log" >&2; }
done
echo
echo "== summary (${seconds}s per target; logs in fuzz/work/<target>.log)"
printf '%s\n' "${summary[@]}"
exit $status
