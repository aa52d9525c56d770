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


def plot_load_sweep(out: Path, dest: Path) -> None:
    """scaling_load.png from load_sweep.json (benchmarks/load_sweep.py): load MB/s, peak RSS
    and model MB against identities, per format and build, and the image's open time."""
    path = out / "load_sweep.json"
    if not path.exists():
        return
    rows = json.loads(path.read_text())["load_sweep"]
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4))
    styles = {"after": "o-", "before": "s--"}
    for (build, fmt) in sorted({(r["build"], r["format"]) for r in rows}):
        pts = sorted((r["identities"], r) for r in rows if r["build"] == build and r["format"] == fmt)
        xs = [n for n, _ in pts]
        a1.plot(xs, [r["mb_per_s"] for _, r in pts], styles.get(build, "o-"), label=f"{fmt} {build}")
        a2.plot(xs, [r["peak_rss_mb"] for _, r in pts], styles.get(build, "o-"), label=f"peak RSS, {fmt} {build}")
        a2.plot(xs, [r["model_mb"] for _, r in pts], "x:", label=f"model, {fmt} {build}")
        img = [(n, r["image_open_stats_ms"]) for n, r in pts if "image_open_stats_ms" in r]
        if img:
            a3.plot([n for n, _ in img], [ms for _, ms in img], "o-", label=f"{fmt} image")
    for ax, title, ylabel in ((a1, "Load from exports", "MB/s (wall)"), (a2, "Memory", "MB"),
                              (a3, "Image: process start, open, stats", "ms")):
        ax.set_xscale("log")
        ax.set_xlabel("identities")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize="small")
    a2.set_yscale("log")
    fig.tight_layout()
    fig.savefig(dest / "scaling_load.png", dpi=110)
    print("| build | format | identities | MB | load s | CPU s | MB/s | peak RSS MB | model MB | peak/model | image open ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["format"], r["identities"], r["build"])):
        print(f"| {r['build']} | {r['format']} | {r['identities']:,} | {r['bytes'] / 1e6:.0f} | {r['seconds']:.2f} | "
              f"{r.get('cpu_seconds', float('nan')):.2f} | {r['mb_per_s']:.0f} | {r['peak_rss_mb']:.0f} | {r['model_mb']:.0f} | {r['peak_over_model']} | "
              f"{r.get('image_open_stats_ms', '')} |")
    print()


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

    plot_load_sweep(out, dest)

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
