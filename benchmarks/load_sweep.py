#!/usr/bin/env python3
"""The load sweep of scripts/bench.sh: for each generated workload (benchmarks/gen_workload.py)
and each export format it holds (xml/, scim/), loads the exports with `preflight snapshot stats`
(this build, and an earlier build with --before) and measures the wall time, the load MB/s and
the process's peak RSS; then, when the build has `snapshot compile`, compiles the exports to an
image and measures how long a process takes to open it and answer `snapshot stats`.

Every run is checked: the identities and constraints loaded must be the manifest's, and both
builds must report the same source hash and counts for the same exports. One JSON row per
(workload, format, build), into --out.

    python3 benchmarks/load_sweep.py --cli build/bench/preflight [--before-cli OLD/preflight] \\
        --out build/bench-results/load_sweep.json build/bench-data/i10k build/bench-data/base
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(argv: list[str]) -> tuple[float, float, bytes, float]:
    """Runs argv; wall seconds, peak RSS in MB (of this process alone), stdout, CPU seconds."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {err.strip()[:2000]}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read(), usage.ru_utime + usage.ru_stime


def stats(cli: str, path: Path) -> dict:
    wall, rss, out, cpu = run([cli, "snapshot", "stats", str(path)])
    s = json.loads(out)
    return {"seconds": wall, "cpu_seconds": cpu, "peak_rss_mb": rss, "stats": s}


def has_compile(cli: str) -> bool:
    return subprocess.run([cli, "snapshot", "compile", "--help"], capture_output=True).returncode == 0


def sweep_one(cli: str, label: str, workload: Path, fmt: str, manifest: dict, image_dir: Path | None,
              repeats: int) -> dict:
    path = workload / fmt
    best = None
    for _ in range(repeats):  # the fastest of the runs: the machine is shared
        r = stats(cli, path)
        best = r if best is None or r["seconds"] < best["seconds"] else best
    s = best["stats"]
    counts = manifest["counts"]
    if s["counts"]["identities"] != counts["identities"] or s["counts"]["constraints"] != counts["constraints"]:
        raise SystemExit(f"{label} {path}: loaded {s['counts']['identities']} identities and "
                         f"{s['counts']['constraints']} constraints; the manifest says {counts['identities']} "
                         f"and {counts['constraints']}")
    load = s["load"]
    row = {
        "build": label, "workload": workload.name, "format": fmt, "identities": counts["identities"],
        "files": load["files"], "bytes": load["bytes"], "seconds": round(best["seconds"], 3),
        "cpu_seconds": round(best["cpu_seconds"], 3),
        "mb_per_s": round(load["bytes"] / 1e6 / best["seconds"], 1),
        "read_parse_ms": round(load["readMs"] + load["parseMs"], 1), "build_ms": round(load["buildMs"], 1),
        "peak_rss_mb": round(best["peak_rss_mb"], 1), "model_mb": round(s["memory"]["approxBytes"] / 1e6, 1),
        "source_hash": load["sourceHash"], "counts": s["counts"],
    }
    row["peak_over_model"] = round(row["peak_rss_mb"] / row["model_mb"], 2) if row["model_mb"] else None
    if image_dir is not None:
        image = image_dir / f"{workload.name}-{fmt}.pfimg"
        wall, rss, _, _ = run([cli, "snapshot", "compile", str(path), "-o", str(image)])
        row["compile_seconds"] = round(wall, 3)
        row["compile_peak_rss_mb"] = round(rss, 1)
        row["image_mb"] = round(image.stat().st_size / 1e6, 1)
        opens = [stats(cli, image) for _ in range(5)]
        fastest = min(opens, key=lambda r: r["seconds"])
        if fastest["stats"]["counts"] != s["counts"] or fastest["stats"]["load"].get("sourceHash") != load["sourceHash"]:
            raise SystemExit(f"{image}: the image's counts or source hash differ from the exports'")
        row["image_open_stats_ms"] = round(fastest["seconds"] * 1000, 1)  # a whole process: start, open, stats
        row["image_open_peak_rss_mb"] = round(fastest["peak_rss_mb"], 1)
        image.unlink()
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True, help="this build's preflight")
    ap.add_argument("--before-cli", help="an earlier build's preflight, for before/after")
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=1, help="loads per point (the fastest is kept)")
    ap.add_argument("workloads", nargs="+", type=Path)
    args = ap.parse_args()
    builds = [("after", args.cli)] + ([("before", args.before_cli)] if args.before_cli else [])
    compile_ok = has_compile(args.cli)
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workloads[0].parent) as tmp:
        for workload in args.workloads:
            manifest = json.loads((workload / "manifest.json").read_text())
            for fmt in ("xml", "scim"):
                if not (workload / fmt).is_dir():
                    continue
                got = {}
                for label, cli in builds:
                    image_dir = Path(tmp) if label == "after" and compile_ok else None
                    row = sweep_one(cli, label, workload, fmt, manifest, image_dir, args.repeats)
                    got[label] = row
                    rows.append(row)
                    print(json.dumps({k: v for k, v in row.items() if k != "counts"}), file=sys.stderr)
                if "before" in got:
                    a, b = got["after"], got["before"]
                    if a["source_hash"] != b["source_hash"] or a["counts"]["identities"] != b["counts"]["identities"] \
                            or a["counts"]["constraints"] != b["counts"]["constraints"]:
                        raise SystemExit(f"{workload}/{fmt}: before and after loaded different snapshots")
    Path(args.out).write_text(json.dumps({"load_sweep": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
