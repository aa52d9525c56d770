#!/usr/bin/env python3
"""What the Python binding adds to a check: the same request checked N times in a C++ loop
(engine._bench_check, GIL released, no Python per check) and through each Python entry point.

    PYTHONPATH=build/h-py/python python3 benchmarks/python_overhead.py [-n 20000]
        [--snapshot examples/demo-snapshot] [--request examples/request.json]
        [--expected examples/expected-response.json]

Before timing, every entry point's answer is compared with the expected response (when given).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import preflight

ROOT = Path(__file__).resolve().parents[1]


def per_call_us(fn: Callable[[], Any], n: int, repeats: int) -> float:
    """Median over `repeats` runs of the mean time per call, in microseconds."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20000, help="checks per timed run (default 20000)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per entry point; the median is shown")
    ap.add_argument("--snapshot", default=str(ROOT / "examples" / "demo-snapshot"))
    ap.add_argument("--request", default=str(ROOT / "examples" / "request.json"))
    ap.add_argument("--expected", default=str(ROOT / "examples" / "expected-response.json"),
                    help="the expected response ('' to skip the check)")
    args = ap.parse_args()

    engine = preflight.Engine.load(args.snapshot)
    body_text = Path(args.request).read_text()
    body: dict[str, Any] = json.loads(body_text)
    plan = body["plan"]
    keyword = dict(identity=body["identity"], plan=plan["value"], plan_type=plan["type"],
                   policies=body.get("policies"))
    batch_size = 100

    entry_points: list[tuple[str, Callable[[], Any], int]] = [
        ("check_json(str) -> str", lambda: engine.check_json(body_text), 1),
        ("check(dict) -> dict", lambda: engine.check(body), 1),
        ("check(identity=, plan=) -> dict", lambda: engine.check(**keyword), 1),
        (f"check_batch([dict] * {batch_size}) / request", lambda: engine.check_batch([body] * batch_size), batch_size),
    ]

    # Correctness first: every entry point gives the expected response.
    if args.expected:
        expected = json.loads(Path(args.expected).read_text())
        assert engine.check(body) == expected, "check(dict) differs from the expected response"
        assert json.loads(engine.check_json(body_text)) == expected
        assert engine.check(**keyword) == expected
        assert engine.check_batch([body] * 3) == [expected] * 3
        print(f"answers equal {Path(args.expected).name}", file=sys.stderr)

    n = args.n
    engine._bench_check(body_text, n // 10)  # warm-up
    cpp = statistics.median(engine._bench_check(body_text, n) / n * 1e6 for _ in range(args.repeats))

    rows = [("C++ loop (engine._bench_check)", cpp)]
    for name, fn, per in entry_points:
        fn()
        rows.append((name, per_call_us(fn, max(1, n // per), args.repeats) / per))

    counts = engine.stats()["counts"]
    print(f"snapshot: {args.snapshot} ({counts['identities']} identities, {counts['policies']} policies); "
          f"request: {args.request}; n={n}, median of {args.repeats}")
    print(f"{'entry point':44} {'us/check':>9} {'overhead us':>12} {'x C++':>7}")
    for name, us in rows:
        print(f"{name:44} {us:9.2f} {us - cpp:12.2f} {us / cpp:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
