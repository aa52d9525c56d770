#!/usr/bin/env python3
"""Pull throughput: `preflight snapshot pull` from a `preflight serve` of a generated SCIM snapshot,
a full pull and a refresh after 1% of the users and accounts changed (issue 20).

    python3 benchmarks/pull_bench.py --identities 20000 [--cli build/release/preflight] [--page-size 1000]

Prints one JSON line per run (resources/s and MB/s of the SCIM bodies as received) and a Markdown
table for benchmarks/RESULTS.md. Standard library only; the workload comes from gen_workload.py with a
meta.version added to every SCIM resource (IdentityIQ gives one; the generator does not).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = "/identityiq/scim/v2"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--identities", type=int, default=20000)
    ap.add_argument("--cli", default=str(HERE.parent / "build" / "release" / "preflight"))
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--changed", type=float, default=0.01, help="fraction of users and accounts changed")
    ap.add_argument("--threads", type=int, default=1, help="the server's threads")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (printed on stderr)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pull-bench-"))
    try:
        t0 = time.monotonic()
        subprocess.run([sys.executable, str(HERE / "gen_workload.py"), "--out", str(work / "gen"), "--identities",
                        str(args.identities), "--requests", "10", "--format", "scim", "--allow-small"],
                       check=True, capture_output=True)
        snap = work / "gen" / "scim"
        pages = sorted(snap.glob("*.json"))
        for page in pages:
            doc = json.loads(page.read_text())
            for r in doc["Resources"]:
                r.setdefault("meta", {})["version"] = 'W/"1"'
            page.write_text(json.dumps(doc))
        print(f"generated {args.identities} identities in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        server = subprocess.Popen([args.cli, "serve", "--snapshot", str(snap), "--listen", "127.0.0.1:0", "--threads",
                                   str(args.threads)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert server.stdout is not None
        port = json.loads(server.stdout.readline())["port"]
        url = f"http://127.0.0.1:{port}{BASE}"
        out = work / "pulled"
        rows = []

        def server_cpu() -> float:  # utime + stime of the server process, seconds
            fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def pull(*extra: str) -> dict:
            started = time.monotonic()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            server_before = server_cpu()
            done = subprocess.run([args.cli, "snapshot", "pull", "--url", url, "--out", str(out), "--page-size",
                                   str(args.page_size), *extra], capture_output=True, text=True, check=True)
            s = json.loads(done.stdout)
            s["wall"] = time.monotonic() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            s["client_cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            s["server_cpu"] = server_cpu() - server_before
            return s

        full = pull("--with", str(snap / "policies.xml"), "--with", str(snap / "roles.xml"))
        rows.append(("full", full))
        rng = random.Random(7)
        changed = 0
        for page in pages:
            doc = json.loads(page.read_text())
            for r in doc["Resources"]:
                if rng.random() < args.changed:
                    r["meta"]["version"] = 'W/"2"'
                    r["displayName"] = str(r.get("displayName", "")) + " (changed)"
                    changed += 1
            page.write_text(json.dumps(doc))
        server.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the reload is done when the snapshot hash moves
            ready = subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/readyz"], capture_output=True, text=True)
            if '"generation":2' in ready.stdout:
                break
            time.sleep(0.2)
        refresh = pull("--refresh")
        rows.append(("refresh", refresh))
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        print("| run | resources | fetched | requests | MB received | seconds | resources/s | MB/s "
              "| client CPU s | server CPU s |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, s in rows:
            line = {"run": name, "identities": args.identities, "changed": changed if name == "refresh" else None,
                    **{k: s[k] for k in ("resources", "fetched", "reused", "dropped", "requests", "bytes", "seconds", "phases", "client_cpu", "server_cpu")}}
            print(json.dumps(line), file=sys.stderr)
            mb = s["bytes"] / 1e6
            print(f"| {name} | {s['resources']:,} | {s['fetched']:,} | {s['requests']:,} | {mb:.1f} | "
                  f"{s['seconds']:.2f} | {s['resources'] / s['seconds']:,.0f} | {mb / s['seconds']:.1f} | "
                  f"{s['client_cpu']:.2f} | {s['server_cpu']:.2f} |")
        return 0
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
