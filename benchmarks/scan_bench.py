#!/usr/bin/env python3
"""Scan and impact throughput (issue 21): Engine.scan and Engine.impact (a changed role) over a
workload from gen_workload.py, on 1 and 2 threads, and preflight.dask.scan on a LocalCluster.

    python3 benchmarks/gen_workload.py --out /tmp/w100k --identities 100000 --constraints 1000
    PYTHONPATH=build/release/python python3 benchmarks/scan_bench.py --workload /tmp/w100k [--dask-workers 2]

The snapshot is loaded once. Engine ms is the run's own summary `ms` (every row read by Python
as a dict; for impact, the changed snapshot's load is excluded; "call s" includes it); CPU is the process's user +
system time over the run, all threads, so CPU / engine time is the parallelism obtained. The changed role for impact is
the left IT role of the first role SoD constraint, given its right role's profiles (the
identities detecting the right role then detect both, and gain the violation).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import re
import sys
import tempfile
import time
from pathlib import Path


def changed_role(xml_dir: Path, out: Path) -> str:
    """The left role of the first role SoD constraint whose sides are IT roles with
    profiles, given the right role's profiles: identities that detect the right role now
    detect the left one too, and gain that constraint's violation."""
    policies = (xml_dir / "policies.xml").read_text()
    roles = (xml_dir / "roles.xml").read_text()

    def bundle(name: str) -> str | None:
        m = re.search(r'<Bundle [^>]*name="%s" type="it">.*?</Bundle>' % re.escape(name), roles, re.S)
        return m.group(0) if m and "<Profiles>" in m.group(0) else None

    ref = r'<Reference class="sailpoint.object.Bundle" name="([^"]+)"/>'
    for c in re.findall(r"<SODConstraint .*?</SODConstraint>", policies, re.S):
        left = re.findall(ref, c.split("<RightBundles>")[0])
        right = re.findall(ref, c.split("<RightBundles>")[-1])
        if not left or not right:
            continue
        a, b = bundle(left[0]), bundle(right[0])
        if not a or not b:
            continue
        profiles = re.search(r"<Profiles>.*?</Profiles>", b, re.S).group(0)  # type: ignore[union-attr]
        body = re.sub(r"<Profiles>.*?</Profiles>", lambda _: profiles, a, flags=re.S)
        out.write_text("<?xml version='1.0' encoding='UTF-8'?>\n<sailpoint>\n" + body + "\n</sailpoint>\n")
        return left[0]
    raise SystemExit("no role SoD constraint between two IT roles with profiles")


def timed(rows: "preflight.Rows") -> tuple[int, dict, float, float]:
    """Reads every row; (rows, summary, wall s, CPU s of the whole process: every thread)."""
    r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    n = sum(1 for _ in rows)
    wall = time.perf_counter() - w0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    assert rows.summary is not None
    return n, rows.summary, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", required=True, type=Path)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3, help="runs per point; the fastest is kept")
    ap.add_argument("--dask-workers", type=int, default=0, help="0: no Dask run")
    ap.add_argument("--dask-partitions", type=int, default=8)
    args = ap.parse_args()
    import preflight

    snap = args.workload / "xml"
    manifest = json.loads((args.workload / "manifest.json").read_text())
    start = time.perf_counter()
    engine = preflight.Engine.load(snap)
    load = time.perf_counter() - start
    print(f"workload: {args.workload} identities={manifest['parameters']['identities']} "
          f"constraints={manifest['parameters']['constraints']}; load {load:.1f} s; "
          f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| run | threads | identities | rows | engine ms | identities/s | CPU ms (all threads) | CPU µs / identity "
          "| call s (impact: with the changed snapshot's load) |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        change = Path(tmp) / "role.xml"
        role = changed_role(snap, change)
        for what, make in (("scan", lambda t: engine.scan(threads=t)),
                           (f"impact: {role} changed", lambda t: engine.impact(change, threads=t))):
            for t in args.threads:
                runs = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    n, summary, wall, cpu = timed(make(t))
                    runs.append((n, summary, cpu, time.perf_counter() - start))
                n, summary, cpu, total = min(runs, key=lambda r: r[1]["ms"])
                ids, ms = summary["identities"], summary["ms"]
                print(f"| {what} | {t} | {ids} | {n} | {ms:.0f} | {ids / (ms / 1000):,.0f} | {cpu * 1000:.0f} | "
                      f"{cpu * 1e6 / ids:.1f} | {total:.1f} |")
    if args.dask_workers:
        import distributed

        import preflight.dask

        with distributed.LocalCluster(n_workers=args.dask_workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=40) as cluster, \
                distributed.Client(cluster):
            for label in ("cold: each worker loads the snapshot", "warm: engines cached"):
                start = time.perf_counter()
                frame = preflight.dask.scan(str(snap), partitions=args.dask_partitions, threads=1)
                count = len(frame.compute())
                print(f"| dask scan, LocalCluster {args.dask_workers} processes x 1 thread, "
                      f"{args.dask_partitions} partitions, {label} | {count} rows | "
                      f"{time.perf_counter() - start:.1f} s |")


if __name__ == "__main__":
    sys.exit(main())
