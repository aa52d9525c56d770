#!/usr/bin/env python3
"""Draws the scaling curves from scripts/bench.sh's results (Google Benchmark JSON in
build/bench-results/) into PNGs, and prints the summary table RESULTS.md is written from.

    python3 benchmarks/plot.py build/bench-results benchmarks
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return json.loads(path.read_text()).get("benchmarks", [])


def first(rows: list[dict], prefix: str) -> dict | None:
    for r in rows:
        if r["name"].startswith(prefix) and r.get("run_type", "iteration") == "iteration" and not r.get("error_occurred"):
            return r
    return None


def series(out: Path, kind: str, bench: str) -> list[tuple[int, dict]]:
    points = []
    for f in sorted(out.glob(f"scale_{kind}_*.json")):
        m = re.search(r"_([ci])(\d+)\.json$", f.name)
        if not m:
            continue
        row = first(load(f), bench)
        if row:
            points.append((m.group(1), int(m.group(2)), row))
    return points


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench-results")
    dest = Path(sys.argv[2] if len(sys.argv) > 2 else "benchmarks")
    checks = series(out, "check", "BM_Check/indexed:1")
    loads = series(out, "load", "BM_LoadSnapshot/xml")

    # Check latency against the number of constraints (10,000 identities).
    c = sorted((n, r) for k, n, r in checks if k == "c")
    if c:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([n for n, _ in c], [r["median_us"] for _, r in c], "o-", label="median")
        ax.plot([n for n, _ in c], [r["p99_us"] for _, r in c], "s--", label="p99")
        ax.axhline(8.55, color="grey", linestyle=":", label="JS with rule index, median (1,000 rules)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("constraints")
        ax.set_ylabel("µs per check (one thread)")
        ax.set_title("Check latency vs constraints (10,000 identities)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(dest / "scaling_constraints.png", dpi=110)

    # Check latency and load against identities (1,000 constraints).
    ids = sorted([(10000, r) for k, n, r in checks if k == "c" and n == 1000] +
                 [(n, r) for k, n, r in checks if k == "i"])
    lds = sorted([(10000, r) for k, n, r in loads if k == "c" and n == 1000] +
                 [(n, r) for k, n, r in loads if k == "i"])
    if ids or lds:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        if ids:
            a1.plot([n for n, _ in ids], [r["median_us"] for _, r in ids], "o-", label="median")
            a1.plot([n for n, _ in ids], [r["p99_us"] for _, r in ids], "s--", label="p99")
            a1.set_xscale("log")
            a1.set_xlabel("identities")
            a1.set_ylabel("µs per check (one thread)")
            a1.set_title("Check latency vs identities (1,000 constraints)")
            a1.legend()
        if lds:
            a2.plot([n for n, _ in lds], [r["real_time"] / 1000 for _, r in lds], "o-", label="load time (s)")
            a2.set_xscale("log")
            a2.set_xlabel("identities")
            a2.set_ylabel("seconds")
            a3 = a2.twinx()
            a3.plot([n for n, _ in lds], [r["peak_rss_MB"] for _, r in lds], "s--", color="tab:red", label="peak RSS (MB)")
            a3.set_ylabel("MB")
            a2.set_title("Snapshot load (IIQ XML) vs identities")
            a2.legend(loc="upper left")
            a3.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(dest / "scaling_identities.png", dpi=110)

    print("| workload | median µs | p99 µs | checks/s |")
    print("|---|---|---|---|")
    for k, n, r in checks:
        label = f"{n:,} constraints, 10,000 identities" if k == "c" else f"{n:,} identities, 1,000 constraints"
        print(f"| {label} | {r['median_us']:.2f} | {r['p99_us']:.1f} | {r['items_per_second']:,.0f} |")
    print()
    print("| workload | load s | MB/s | model MB | bytes/assignment | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for k, n, r in loads:
        label = f"{n:,} constraints, 10,000 identities" if k == "c" else f"{n:,} identities"
        print(f"| {label} | {r['real_time'] / 1000:.2f} | {r['bytes_per_second'] / 1e6:.0f} | {r['model_MB']:.0f} | "
              f"{r['bytes_per_assignment']:.1f} | {r['peak_rss_MB']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
