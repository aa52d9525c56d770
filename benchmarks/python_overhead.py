#!/usr/bin/env python3
"""What the Python binding adds to a check: the same requests checked in a C++ loop
(engine._bench_check: Engine::CheckJson, GIL released, no Python per check) and through each
Python entry point; the overhead is the difference.

One request, many times (the demo snapshot by default):

    PYTHONPATH=build/release/python python3 benchmarks/python_overhead.py [-n 20000]
        [--snapshot examples/demo-snapshot] [--request examples/request.json]
        [--expected examples/expected-response.json]

A generated workload (benchmarks/gen_workload.py), --requests of its requests.jsonl: each
request timed warm through the C++ loop and through check_json(str), check(dict),
check_json(dict) and check_batch (the dict --batch times in one call, per request), best of
--repeats calls per round, best over --rounds rounds; per request, its entry-point time minus
its C++ time:

    PYTHONPATH=build/release/python python3 benchmarks/python_overhead.py \\
        --workload /work/benchdata/w100k [--requests 2000] [--rounds 5]

Before and after in one run: --compare NAME=PYTHONPATH ... runs one worker process per build
and alternates their rounds, so that both see the same machine:

    python3 benchmarks/python_overhead.py --workload /work/benchdata/w100k \\
        --compare before=/work/wt/base17/build/release/python after=build/release/python

Before timing counts, every entry point's answer to every request is compared with
check_json's text for that request (the C++ JSON path, which bench_check_json compares with
the structured check), and with --compare every build's answers with the first build's.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

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


def one_request(args: argparse.Namespace) -> int:
    import preflight

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


# --------------------------------------------------------------------------- workload mode

ENTRY_POINTS = ["check_json(str)", "check(dict)", "check_json(dict)", "check_batch(dicts)"]


class Worker:
    """One build's engine over the workload: verifies, then times rounds on request."""

    def __init__(self, args: argparse.Namespace) -> None:
        import preflight

        self.engine = preflight.Engine.load(str(Path(args.workload) / "xml"))
        lines = (Path(args.workload) / "requests.jsonl").read_text().splitlines()[: args.requests]
        self.texts = lines
        self.dicts = [json.loads(line) for line in lines]
        self.batch = args.batch
        self.repeats = args.repeats
        self.answers = self.verify()

    def verify(self) -> list[str]:
        """Every entry point answers every request as check_json does; its texts back."""
        e = self.engine
        texts = [e.check_json(t) for t in self.texts]
        for i, (text, body) in enumerate(zip(texts, self.dicts)):
            want = json.loads(text)
            assert e.check(body) == want, f"request {i}: check(dict) differs from check_json(str)"
            assert e.check(self.texts[i]) == want, f"request {i}: check(str) differs"
            assert e.check_json(body) == text, f"request {i}: check_json(dict) differs"
        for start in range(0, len(self.dicts), self.batch):
            got = e.check_batch(self.dicts[start:start + self.batch])
            assert got == [json.loads(t) for t in texts[start:start + self.batch]], f"check_batch at {start} differs"
        return texts

    def round(self) -> dict[str, list[float]]:
        """Seconds per request, warm, best of `repeats`, for the C++ loop and each entry point."""
        e, clock, reps = self.engine, time.perf_counter, self.repeats
        timer = min(-(clock() - clock()) for _ in range(1000))  # what a pair of clock() calls adds
        n = len(self.texts)
        out: dict[str, list[float]] = {name: [0.0] * n for name in ["C++", "C++ batch", *ENTRY_POINTS]}
        calls: list[tuple[str, Callable[[Any], Any], list[Any]]] = [
            ("check_json(str)", e.check_json, self.texts),
            ("check(dict)", e.check, self.dicts),
            ("check_json(dict)", e.check_json, self.dicts),
        ]
        for i in range(n):
            # The C++ loop: one check (after an untimed one), and the mean of `batch` in a row.
            out["C++"][i] = min(e._bench_check(self.texts[i], 1) for _ in range(reps + 1))
            out["C++ batch"][i] = min(e._bench_check(self.texts[i], self.batch) for _ in range(reps + 1)) / self.batch
            for name, fn, args in calls:
                arg = args[i]
                best = 1.0
                for _ in range(reps + 1):  # the first call warms
                    t0 = clock()
                    fn(arg)
                    best = min(best, clock() - t0 - timer)
                out[name][i] = best
            chunk = [self.dicts[i]] * self.batch  # warm, as the C++ loop is: the request repeated
            best = 1.0
            for _ in range(reps + 1):
                t0 = clock()
                e.check_batch(chunk)
                best = min(best, clock() - t0 - timer)
            out["check_batch(dicts)"][i] = best / self.batch
        return out


def worker_main(args: argparse.Namespace) -> int:
    """--worker: verify, print the answers' digest, then one round per 'round' line on stdin."""
    w = Worker(args)
    digest = hashlib.sha256("\n".join(w.answers).encode()).hexdigest()
    violating = sum('"violations"' in a for a in w.answers)
    print(json.dumps({"digest": digest, "requests": len(w.answers), "violating": violating}), flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        print(json.dumps(w.round()), flush=True)
    return 0


def summarize(name: str, best: dict[str, list[float]]) -> list[str]:
    cpp = best["C++"]
    rows = [f"{name}: C++ loop (Engine::CheckJson) mean {statistics.fmean(cpp) * 1e6:.2f} us, "
            f"median {statistics.median(cpp) * 1e6:.2f} us per request"]
    rows.append(f"  {'entry point':20} {'mean us':>8} {'overhead: mean':>15} {'median':>7} {'p90':>7}")
    for entry in ENTRY_POINTS:
        t = best[entry]
        base = best["C++ batch"] if entry.startswith("check_batch") else cpp  # a mean of as many checks
        over = sorted(a - b for a, b in zip(t, base))
        rows.append(f"  {entry:20} {statistics.fmean(t) * 1e6:8.2f} {statistics.fmean(over) * 1e6:15.2f} "
                    f"{over[len(over) // 2] * 1e6:7.2f} {over[len(over) * 9 // 10] * 1e6:7.2f}")
    return rows


def workload_main(args: argparse.Namespace) -> int:
    builds: list[tuple[str, Optional[str]]] = []
    for spec in args.compare or ["this=" + os.environ.get("PYTHONPATH", "")]:
        label, _, path = spec.partition("=")
        builds.append((label, path or None))
    procs = []
    for label, path in builds:
        env = dict(os.environ)
        if path:
            env["PYTHONPATH"] = str(Path(path).resolve())
        cmd = [sys.executable, __file__, "--worker", "--workload", args.workload, "--requests", str(args.requests),
               "--repeats", str(args.repeats), "--batch", str(args.batch)]
        procs.append(subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        # One at a time: loading is the heavy part, and the next one should not disturb it.
        head = json.loads(procs[-1].stdout.readline())  # type: ignore[union-attr]
        print(f"{label}: {head['requests']} requests ({head['violating']} with violations) verified; "
              f"answers {head['digest'][:16]}", file=sys.stderr)
        if len(procs) > 1:
            assert head["digest"] == first_digest, f"{label} answers differently from {builds[0][0]}"
        else:
            first_digest = head["digest"]
    best: list[dict[str, list[float]]] = [{} for _ in builds]
    for r in range(args.rounds):
        for k, p in enumerate(procs):
            p.stdin.write("round\n")  # type: ignore[union-attr]
            p.stdin.flush()  # type: ignore[union-attr]
            got = json.loads(p.stdout.readline())  # type: ignore[union-attr]
            for name, times in got.items():
                best[k][name] = [min(a, b) for a, b in zip(best[k].get(name, times), times)]
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    for p in procs:
        p.stdin.close()  # type: ignore[union-attr]
        p.wait()
    print(f"workload: {args.workload}; {args.requests} requests; best of {args.repeats} warm calls x "
          f"{args.rounds} rounds per request; check_batch of the request {args.batch} times; microseconds")
    for (label, _), b in zip(builds, best):
        print("\n".join(summarize(label, b)))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20000, help="checks per timed run (default 20000)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs (workload: calls per request) per round")
    ap.add_argument("--snapshot", default=str(ROOT / "examples" / "demo-snapshot"))
    ap.add_argument("--request", default=str(ROOT / "examples" / "request.json"))
    ap.add_argument("--expected", default=str(ROOT / "examples" / "expected-response.json"),
                    help="the expected response ('' to skip the check)")
    ap.add_argument("--workload", help="a gen_workload.py directory: time its requests instead")
    ap.add_argument("--requests", type=int, default=2000, help="workload requests to time (default 2000)")
    ap.add_argument("--rounds", type=int, default=5, help="workload rounds; the best per request counts")
    ap.add_argument("--batch", type=int, default=20, help="requests per check_batch call (default 20)")
    ap.add_argument("--compare", nargs="+", metavar="NAME=PYTHONPATH", help="builds to time side by side")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_main(args)
    if args.workload:
        return workload_main(args)
    return one_request(args)


if __name__ == "__main__":
    raise SystemExit(main())
