"""Compiled snapshot images (engine/image): compile time and peak RSS, image bytes, open time
(in-process, and a whole `snapshot stats` process), the first check's latency, and the answers
checked against the exports'.

    PYTHONPATH=build/release/python python3 benchmarks/image_bench.py \\
        --cli build/release/preflight --sources /work/benchdata/w100k/xml \\
        --requests /work/benchdata/w100k/requests.jsonl --image /tmp/w100k.pfimg

Says how much of the image was in the page cache before and after the opens (nothing is dropped).
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
    proc, seconds, rss, _ = timed(command)
    return proc, seconds, rss


def timed(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float, int, float]:
    """run(), the peak RSS in bytes and the process's CPU seconds (user + system), as GNU time reports them."""
    proc, seconds = run(["/usr/bin/time", "-f", "%M %U %S", *command])
    lines = proc.stderr.strip().splitlines()
    rss, user, system = lines[-1].split()
    proc.stderr = "\n".join(lines[:-1])
    return proc, seconds, int(rss) * 1024, float(user) + float(system)


def resident(path: str) -> float:
    """The fraction of the file's pages in the page cache (mincore of a mapping; nothing is read)."""
    import ctypes
    import mmap
    import os

    size = os.path.getsize(path)
    if size == 0:
        return 1.0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    with open(path, "rb") as f:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, f.fileno(), 0)
        if address in (None, ctypes.c_void_p(-1).value):
            sys.exit(f"cannot map {path}: {os.strerror(ctypes.get_errno())}")
        pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
        vector = (ctypes.c_ubyte * pages)()
        if libc.mincore(ctypes.c_void_p(address), size, vector) != 0:
            sys.exit(f"mincore {path}: {os.strerror(ctypes.get_errno())}")
        libc.munmap(ctypes.c_void_p(address), size)
    return round(sum(v & 1 for v in vector) / pages, 4)


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def open_once(cli: str, image: str, image_bytes: int, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """One `snapshot stats` process on the image: the open as the image reports it, and the process."""
    proc, seconds, rss, cpu = timed([cli, "snapshot", "stats", image, *extra])
    stats = json.loads(proc.stdout)
    assert stats["image"]["fileBytes"] == image_bytes
    return {"open_ms": stats["image"]["openMs"], "open_cpu_ms": stats["image"]["openCpuMs"],
            "process_ms": round(seconds * 1000, 1), "process_cpu_ms": round(cpu * 1000), "peak_rss_mb": round(rss / 2**20),
            "stats": stats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", required=True)
    parser.add_argument("--sources", required=True, nargs="+")
    parser.add_argument("--image", required=True)
    parser.add_argument("--requests", help="a JSONL file of CheckedPolicyViolations bodies")
    parser.add_argument("--compare", type=int, default=200, help="requests answered from both (0: none)")
    parser.add_argument("--opens", type=int, default=5)
    parser.add_argument("--skip-compile", action="store_true", help="reuse --image")
    parser.add_argument("--before-cli", help="another build's CLI whose opens alternate with --cli's (a before/after run)")
    parser.add_argument("--before-image", help="the image --before-cli opens (its own format; default --image)")
    parser.add_argument("--verify", default="full", choices=["full", "lazy"],
                        help="how --cli and Python open the image (--image-verify; --before-cli opens it its way)")
    args = parser.parse_args()
    result: dict[str, Any] = {"sources": args.sources, "verify": args.verify}

    if not args.skip_compile:
        proc, seconds, rss = peak_rss([args.cli, "snapshot", "compile", *args.sources, "-o", args.image])
        compiled = json.loads(proc.stdout)
        result["compile"] = {"seconds": round(seconds, 2), "peak_rss_mb": round(rss / 2**20)}
        result["compiled"] = compiled
    image_bytes = Path(args.image).stat().st_size
    result["image_mb"] = round(image_bytes / 2**20, 1)

    before_image = args.before_image or args.image
    before_bytes = Path(before_image).stat().st_size
    # Nothing is dropped from the page cache: how much of each image was cached says what the opens read.
    result["cached_before_opens"] = {"image": resident(args.image)}
    if args.before_cli:
        result["cached_before_opens"]["before_image"] = resident(before_image)
    opens, before = [], []
    for _ in range(args.opens):
        if args.before_cli:  # alternated, so that both see the same machine
            before.append(open_once(args.before_cli, before_image, before_bytes))
        opened = open_once(args.cli, args.image, image_bytes, ("--image-verify", args.verify))
        stats = opened.pop("stats")
        opens.append(opened)
        if "compiled" in result:  # the image says what the compile's load said
            assert stats["load"]["sourceHash"] == result["compiled"]["sourceHash"]
            assert stats["counts"]["identities"] == result["compiled"]["identities"]
            assert stats["counts"]["policies"] == result["compiled"]["policies"]
        if before:  # the same snapshot
            assert stats["counts"] == before[-1]["stats"]["counts"]
            assert stats["load"]["sourceHash"] == before[-1]["stats"]["load"]["sourceHash"]
    result["cached_after_opens"] = {"image": resident(args.image)}
    result["counts"] = stats["counts"]
    result["opens"] = opens
    keys = ["open_ms", "open_cpu_ms", "process_ms", "process_cpu_ms"]
    result["medians"] = {k: median([o[k] for o in opens]) for k in keys}
    if before:
        for o in before:
            o.pop("stats")
        result["before"] = {"cli": args.before_cli, "image": before_image, "opens": before,
                            "medians": {k: median([o[k] for o in before]) for k in keys}}
        result["after_over_before"] = {k: round(result["medians"][k] / max(result["before"]["medians"][k], 1e-9), 3)
                                       for k in keys}

    if args.requests:
        import preflight

        bodies = [line for line in Path(args.requests).read_text().splitlines() if line.strip()]
        start = time.perf_counter()
        engine = preflight.Engine.load(args.image, verify=args.verify)
        opened = time.perf_counter()
        first = engine.check(bodies[0])
        done = time.perf_counter()
        result["python_image_verification_after_first_check"] = engine.image_verification()
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
