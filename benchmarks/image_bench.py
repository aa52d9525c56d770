"""Compiled snapshot images (engine/image): compile time and peak RSS, image bytes, open time
(in-process, and a whole `snapshot stats` process), the first check's latency, and the answers
checked against the exports'.

    PYTHONPATH=build/release/python python3 benchmarks/image_bench.py \\
        --cli build/release/preflight --sources /work/benchdata/w100k/xml \\
        --requests /work/benchdata/w100k/requests.jsonl --image /tmp/w100k.pfimg

Checks its results: the image's counts and source hash are the exports' (from the compile's own
load), and --compare N requests answer byte for byte alike from the image and from the exports
(0 skips loading the exports in this process: at 1,000,000 identities that is a minute and 11 GB).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def run(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """The finished process and its wall seconds; a failure ends the benchmark."""
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}): {proc.stderr}")
    return proc, seconds


def peak_rss(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """run() and the peak RSS in bytes, as GNU time reports it."""
    proc, seconds = run(["/usr/bin/time", "-f", "%M", *command])
    lines = proc.stderr.strip().splitlines()
    rss = int(lines[-1]) * 1024
    proc.stderr = "\n".join(lines[:-1])
    return proc, seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", required=True)
    parser.add_argument("--sources", required=True, nargs="+")
    parser.add_argument("--image", required=True)
    parser.add_argument("--requests", help="a JSONL file of CheckedPolicyViolations bodies")
    parser.add_argument("--compare", type=int, default=200, help="requests answered from both (0: none)")
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--skip-compile", action="store_true", help="reuse --image")
    args = parser.parse_args()
    result: dict[str, Any] = {"sources": args.sources}

    if not args.skip_compile:
        proc, seconds, rss = peak_rss([args.cli, "snapshot", "compile", *args.sources, "-o", args.image])
        compiled = json.loads(proc.stdout)
        result["compile"] = {"seconds": round(seconds, 2), "peak_rss_mb": round(rss / 2**20)}
        result["compiled"] = compiled
    image_bytes = Path(args.image).stat().st_size
    result["image_mb"] = round(image_bytes / 2**20, 1)

    opens = []
    for _ in range(args.opens):
        proc, seconds, rss = peak_rss([args.cli, "snapshot", "stats", args.image])
        stats = json.loads(proc.stdout)
        opens.append({"open_ms": stats["image"]["openMs"], "open_cpu_ms": stats["image"]["openCpuMs"],
                      "process_ms": round(seconds * 1000, 1), "peak_rss_mb": round(rss / 2**20)})
        assert stats["image"]["fileBytes"] == image_bytes
        if "compiled" in result:  # the image says what the compile's load said
            assert stats["load"]["sourceHash"] == result["compiled"]["sourceHash"]
            assert stats["counts"]["identities"] == result["compiled"]["identities"]
            assert stats["counts"]["policies"] == result["compiled"]["policies"]
    result["counts"] = stats["counts"]
    result["opens"] = opens
    result["open_ms_median"] = sorted(o["open_ms"] for o in opens)[len(opens) // 2]
    result["open_cpu_ms_median"] = sorted(o["open_cpu_ms"] for o in opens)[len(opens) // 2]
    result["stats_process_ms_median"] = sorted(o["process_ms"] for o in opens)[len(opens) // 2]

    if args.requests:
        import preflight

        bodies = [line for line in Path(args.requests).read_text().splitlines() if line.strip()]
        start = time.perf_counter()
        engine = preflight.Engine.load(args.image)
        opened = time.perf_counter()
        first = engine.check(bodies[0])
        done = time.perf_counter()
        result["python_open_ms"] = round((opened - start) * 1000, 2)
        result["python_first_check_ms"] = round((done - opened) * 1000, 3)
        if args.compare > 0:
            sample = bodies[: args.compare]
            from_image = [engine.check(b) for b in sample]
            exports = preflight.Engine.load(args.sources if len(args.sources) > 1 else args.sources[0])
            from_exports = [exports.check(b) for b in sample]
            assert from_image == from_exports, "the image answers differently from the exports"
            assert from_image[0] == first
            result["compared_requests"] = len(sample)
            result["compared_with_violations"] = sum(1 for a in from_image if a.get("violations"))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
