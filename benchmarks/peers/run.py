#!/usr/bin/env python3
"""Preflight against what a Python user would pick instead: the same requests, timed in one process.

    PYTHONPATH=build/release/python python3 benchmarks/peers/run.py --workload DIR [--requests 2000]
        [--peers pyindex,cedar,rego,casbin,pywhole] [--budget 30] [--json OUT]

DIR is benchmarks/gen_workload.py's output (xml/, requests.jsonl). Preflight answers each request
whole (`Engine.check_json`, `Engine.check`): plan application, role detection, policies, the response.
The peers (peers.py) are given each request's projection for free (the held roles and entitlements
before and after the plan and what the plan changed, from Preflight's compile report, model.py) and
evaluate the same SoD constraints, translated once into their own language. pywhole (whole.py) is the
whole answer written in Python, from the identity as stored and the request body.

Before a peer's time counts, its answer (the constraints newly violated) must equal Preflight's on
every request it was timed on; a mismatch stops the run with the request and both answers. Slow
peers are timed on the first requests that fit in --budget seconds (at least --min-sample; Rego at
most 150, see peers.py); the table says how many. Prints a Markdown table: median and p99 per call,
and the ratio to Preflight's `check_json` median. Preflight is timed before any peer is imported.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Check, Policies, load_policies, project  # noqa: E402
from peers import PEERS  # noqa: E402
import whole  # noqa: E402

import preflight  # noqa: E402


class Mismatch(Exception):
    pass


@dataclass
class Row:
    what: str
    timed: int
    median_us: float
    p99_us: float
    note: str = ""


def percentile(sorted_us: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_us[max(0, math.ceil(q * len(sorted_us)) - 1)]


def row(what: str, samples_ns: list[int], note: str = "") -> Row:
    us = sorted(x / 1000 for x in samples_ns)
    return Row(what, len(us), percentile(us, 0.5), percentile(us, 0.99), note)


def time_each(fn: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[int], list[Any]]:
    """Calls fn on every item, timing each call on its own; returns the times (ns) and the results.
    The garbage collector is off while it runs, as timeit has it: a full collection walks every object
    of the process (the projections, the identities) and would land in some call's time."""
    clock = time.perf_counter_ns
    times, results = [], []
    gc.collect()
    gc.disable()
    try:
        for it in items:
            t0 = clock()
            r = fn(it)
            t1 = clock()
            times.append(t1 - t0)
            results.append(r)
    finally:
        gc.enable()
    return times, results


def violation_names(response: dict[str, Any]) -> frozenset[str]:
    return frozenset(v["constraintName"] for v in response.get("violations", []))


@dataclass
class Workload:
    bodies: list[str]
    identities: list[str]
    expected: list[frozenset[str]]  # Preflight's answer: the names of the new violations
    checks: list[Check]  # the projection given to the peers
    policies: Policies


def load_workload(engine: preflight.Engine, workload: str, n: int) -> Workload:
    """Reads the first n requests, Preflight's answers and the projections (all untimed)."""
    with open(os.path.join(workload, "requests.jsonl"), encoding="utf-8") as f:
        bodies = [line.rstrip("\n") for _, line in zip(range(n), f)]
    pol = load_policies(os.path.join(workload, "xml"))
    identities, expected, checks = [], [], []
    for body in bodies:
        req = json.loads(body)
        identities.append(req["identity"])
        expected.append(violation_names(json.loads(engine.check_json(body))))
        report = engine.compile(req["identity"], req["plan"]["value"], req["plan"]["type"])
        checks.append(project(pol, report))
    return Workload(bodies, identities, expected, checks, pol)


def verify(what: str, w: Workload, answers: Sequence[frozenset[str] | set[str]]) -> None:
    for i, got in enumerate(answers):
        if set(got) != set(w.expected[i]):
            raise Mismatch(f"{what} differs from Preflight on request {i + 1} (identity {w.identities[i]}):\n"
                           f"  Preflight: {sorted(w.expected[i])}\n  {what}: {sorted(got)}\n  request: {w.bodies[i]}")


def bench_preflight(engine: preflight.Engine, w: Workload) -> list[Row]:
    bodies = w.bodies
    dicts = [json.loads(b) for b in bodies]
    for b in bodies:  # warm-up
        engine.check_json(b)
    t_json, out_json = time_each(engine.check_json, bodies)
    verify("Preflight check_json (timed pass)", w, [violation_names(json.loads(o)) for o in out_json])
    t_dict, out_dict = time_each(engine.check, dicts)
    verify("Preflight check(dict)", w, [violation_names(o) for o in out_dict])
    return [row("Preflight `check_json(body)`, the whole answer", t_json),
            row("Preflight `check(dict)`, the whole answer", t_dict)]


def bench_peer(key: str, w: Workload, budget_s: float, min_sample: int) -> tuple[Row, float]:
    """Builds the peer (timed once, as setup), then times new_violations on a prefix of the requests."""
    t0 = time.perf_counter()
    peer = PEERS[key](w.policies)
    setup_s = time.perf_counter() - t0
    fn = peer.new_violations
    n = len(w.checks)
    warm = min(n, 10)
    t_warm, out_warm = time_each(fn, w.checks[:warm])
    verify(peer.name, w, out_warm)
    per_call_s = max(1e-9, sum(t_warm) / warm / 1e9)
    sample = n if per_call_s * n <= budget_s else min(n, max(min_sample, int(budget_s / per_call_s)))
    sample = min(sample, getattr(peer, "max_sample", n))
    times, answers = time_each(fn, w.checks[:sample])
    verify(peer.name, w, answers)
    note = "" if sample == n else f"the first {sample}"
    return row(f"{peer.name}: rule evaluation, given the projection", times, note), setup_s


def bench_whole(w: Workload, workload: str) -> tuple[Row, float]:
    """The whole answer written in Python (whole.py), on the identities read untimed from the workload."""
    t0 = time.perf_counter()
    model = whole.Model(os.path.join(workload, "xml"), w.policies)
    store = whole.read_identities(os.path.join(workload, "xml"), w.identities)
    setup_s = time.perf_counter() - t0
    items = [(store[name], body) for name, body in zip(w.identities, w.bodies)]
    fn = lambda it: model.check(*it)  # noqa: E731
    time_each(fn, items)  # warm-up
    times, out = time_each(fn, items)
    verify("The whole answer in Python", w, [violation_names(json.loads(o)) for o in out])
    return row("Python: the whole answer (plan, role detection, rule index, response JSON)", times), setup_s


def markdown(rows: list[Row], base_us: float) -> str:
    out = ["| what | requests timed | median | p99 | median vs Preflight `check_json` |",
           "|---|---|---|---|---|"]
    for r in rows:
        ratio = r.median_us / base_us
        ratio_s = "1x" if r.median_us == base_us else (f"{times(ratio)} slower" if ratio > 1 else
                                                       f"{times(1 / ratio)} faster")
        timed = f"{r.timed}" + (f" ({r.note})" if r.note else "")
        out.append(f"| {r.what} | {timed} | {fmt_us(r.median_us)} | {fmt_us(r.p99_us)} | {ratio_s} |")
    return "\n".join(out)


def times(x: float) -> str:
    return f"{x:,.0f}x" if x >= 100 else f"{x:.3g}x"


def fmt_us(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"


def peak_rss_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", required=True, help="a gen_workload.py output directory")
    ap.add_argument("--requests", type=int, default=2000, help="requests to read (the first N; default 2000)")
    choices = [*PEERS, "pywhole"]
    ap.add_argument("--peers", default=",".join(choices), help=f"comma-separated, of {', '.join(choices)} "
                    "(pywhole: the whole answer written in Python)")
    ap.add_argument("--budget", type=float, default=30.0, help="seconds of timed calls per peer (default 30)")
    ap.add_argument("--min-sample", type=int, default=100, help="requests timed at least per peer (default 100)")
    ap.add_argument("--json", help="also write the rows as JSON to this file")
    args = ap.parse_args(argv)
    keys = [k for k in args.peers.split(",") if k]
    unknown = [k for k in keys if k not in choices]
    if unknown:
        ap.error(f"unknown peers: {', '.join(unknown)}")

    t0 = time.perf_counter()
    engine = preflight.Engine.load(os.path.join(args.workload, "xml"))
    t_load = time.perf_counter() - t0
    w = load_workload(engine, args.workload, args.requests)
    print(f"workload {args.workload}: {engine.info['identities']} identities, {len(w.policies.constraints)} "
          f"constraints, {len(w.bodies)} requests ({sum(1 for e in w.expected if e)} with a new violation); "
          f"Preflight load {t_load:.1f} s; peak RSS {peak_rss_mib()} MiB", file=sys.stderr)

    rows = bench_preflight(engine, w)
    base = rows[0].median_us
    for k in keys:
        r, setup_s = (bench_whole(w, args.workload) if k == "pywhole" else
                      bench_peer(k, w, args.budget, args.min_sample))
        print(f"{r.what}: verified on {r.timed} requests; setup {setup_s:.2f} s; peak RSS {peak_rss_mib()} MiB",
              file=sys.stderr)
        rows.append(r)
    print(markdown(rows, base))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([r.__dict__ for r in rows], f, indent=2)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except Mismatch as e:
        print(f"peers: {e}", file=sys.stderr)
        raise SystemExit(1)
