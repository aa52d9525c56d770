#!/usr/bin/env bash
# The HTTP service under load: wrk POSTs the generated CheckedPolicyViolations requests over
# keep-alive connections at 1, 16 and 64 connections, against `preflight serve` and, in the
# same run, against a FastAPI + uvicorn wrapper of the Python module's check_json
# (benchmarks/http_fastapi_app.py). Prints a Markdown table (checks/s, p50, p99, errors).
#
#   bash benchmarks/http_bench.sh [WORKLOAD_DIR]      (default build/bench-data/base: 100,000 identities,
#                                                      generated when absent)
# Environment: DURATION (s, default 10), CONNECTIONS ("1 16 64"), THREADS (server I/O threads, 2),
# WRK_THREADS (1), PREFLIGHT_CLI, PYTHONPATH (the module, default build/release/python), SKIP_FASTAPI=1.
set -euo pipefail
cd "$(dirname "$0")/.."
workload=${1:-build/bench-data/base}
duration=${DURATION:-10}
connections=${CONNECTIONS:-1 16 64}
threads=${THREADS:-2}
wrk_threads=${WRK_THREADS:-1}
cli=${PREFLIGHT_CLI:-build/release/preflight}
export PYTHONPATH=${PYTHONPATH:-$PWD/build/release/python}
export PREFLIGHT_REQUESTS=$workload/requests.jsonl
command -v wrk >/dev/null || { echo "http_bench: wrk is not installed (scripts/setup.sh)" >&2; exit 1; }
if [ ! -f "$workload/manifest.json" ]; then
  python3 benchmarks/gen_workload.py --out "$workload" --identities 100000 --jobs 2 >&2
fi
out=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$out"' EXIT
route=/identityiq/scim/v2/CheckedPolicyViolations

wait_ready() {  # url
  for _ in $(seq 1 1200); do
    curl -sf "$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "http_bench: $1 never became ready" >&2
  exit 1
}

cpu_ticks() {  # pid: user+system clock ticks of the process and its children (uvicorn's worker)
  python3 - "$1" <<'PY'
import os, sys
def ticks(pid):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    total = int(fields[11]) + int(fields[12])
    for child in open(f"/proc/{pid}/task/{pid}/children").read().split():
        total += ticks(child)
    return total
print(ticks(int(sys.argv[1])))
PY
}

run_wrk() {  # name url
  for c in $connections; do
    t=$wrk_threads; [ "$c" -lt "$t" ] && t=$c
    before=$(cpu_ticks "$server")
    wrk -t"$t" -c"$c" -d"${duration}s" --latency -s benchmarks/http_bench.lua "$2$route" >"$out/$1-$c.txt"
    echo "server_cpu_seconds: $(python3 -c "import os; print(($(cpu_ticks "$server") - $before) / os.sysconf('SC_CLK_TCK'))")" >>"$out/$1-$c.txt"
    echo "http_bench: $1 at $c connections done" >&2
  done
}

# --- preflight serve
"$cli" serve --snapshot "$workload/xml" --listen 127.0.0.1:0 --threads "$threads" >"$out/serve.out" 2>"$out/serve.err" &
server=$!
for _ in $(seq 1 1200); do [ -s "$out/serve.out" ] && break; sleep 0.1; done
port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$out/serve.out")
wait_ready "http://127.0.0.1:$port"
run_wrk preflight "http://127.0.0.1:$port"
# The batch form: SCIM Bulk requests of $BULK checks each, at 4 connections.
bulk=${BULK:-100}
before=$(cpu_ticks "$server")
PREFLIGHT_BULK=$bulk wrk -t1 -c4 -d"${duration}s" --latency -s benchmarks/http_bench.lua \
  "http://127.0.0.1:$port/identityiq/scim/v2/Bulk" >"$out/bulk-4.txt"
echo "server_cpu_seconds: $(python3 -c "import os; print(($(cpu_ticks "$server") - $before) / os.sysconf('SC_CLK_TCK'))")" >>"$out/bulk-4.txt"
echo "bulk_size: $bulk" >>"$out/bulk-4.txt"
echo "http_bench: preflight Bulk done" >&2
kill -TERM $server; wait $server || true

# --- FastAPI + uvicorn around the Python module
if [ -z "${SKIP_FASTAPI:-}" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  PREFLIGHT_SNAPSHOT=$workload/xml python3 -m uvicorn --app-dir benchmarks http_fastapi_app:app \
    --host 127.0.0.1 --port "$port" --no-access-log --log-level warning >"$out/fastapi.out" 2>&1 &
  server=$!
  wait_ready "http://127.0.0.1:$port"
  run_wrk fastapi "http://127.0.0.1:$port"
  kill -TERM $server; wait $server || true
fi

# --- the same requests in-process (the Python module's check_json, one thread): what the check
# itself costs, to set against the servers' CPU per check.
python3 - "$workload" >"$out/inprocess.txt" <<'PY'
import sys, time, preflight
engine = preflight.Engine.load(sys.argv[1] + "/xml")
bodies = open(sys.argv[1] + "/requests.jsonl").read().splitlines()[:2000]
for b in bodies:
    engine.check_json(b)
start, n = time.process_time(), 0
while time.process_time() - start < 3:
    for b in bodies:
        engine.check_json(b)
    n += len(bodies)
print(f"inprocess_us: {(time.process_time() - start) * 1e6 / n:.1f}")
PY

python3 - "$out" "$connections" <<'PY'
import re, sys, pathlib
out, conns = pathlib.Path(sys.argv[1]), sys.argv[2].split()
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
print("| server | connections | checks/s | p50 ms | p99 ms | server CPU µs/check | non-2xx | socket errors |")
print("|---|---|---|---|---|---|---|---|")
for name in ("preflight", "fastapi"):
    for c in conns:
        f = out / f"{name}-{c}.txt"
        if not f.exists():
            continue
        t = f.read_text()
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
        p50 = ms(re.search(r"\s50%\s+(\S+)", t).group(1))
        p99 = ms(re.search(r"\s99%\s+(\S+)", t).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
        errors = re.search(r"Socket errors: (.*)", t)
        total = int(re.search(r"(\d+) requests in", t).group(1))
        cpu = float(re.search(r"server_cpu_seconds: ([\d.]+)", t).group(1)) * 1e6 / max(total, 1)
        print(f"| {name} | {c} | {rps:,.0f} | {p50:.3f} | {p99:.3f} | {cpu:.1f} | {non2xx.group(1) if non2xx else 0} | "
              f"{errors.group(1).strip() if errors else 'none'} |")
f = out / "bulk-4.txt"
if f.exists():
    t = f.read_text()
    n = int(re.search(r"bulk_size: (\d+)", t).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    total = int(re.search(r"(\d+) requests in", t).group(1))
    cpu = float(re.search(r"server_cpu_seconds: ([\d.]+)", t).group(1)) * 1e6 / max(total * n, 1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    p50 = ms(re.search(r"\s50%\s+(\S+)", t).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", t).group(1))
    print(f"| preflight, Bulk of {n} | 4 | {rps * n:,.0f} | {p50:.3f} (a Bulk) | {p99:.3f} (a Bulk) | {cpu:.1f} | "
          f"{non2xx.group(1) if non2xx else 0} | none |")
inprocess = (out / "inprocess.txt").read_text().split(":")[1].strip()
print(f"\nThe same requests in-process (Python module check_json, one thread): {inprocess} µs CPU per check.")
PY
