#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Counts per race, per client (where the CPU column goes; not timed):
system calls (strace -c, as syscalls.py), minor page faults (the bench
JSON's minflt_per_race, i.e. getrusage around the burst) and heap allocations
(the LD_PRELOAD shim libeyeballs-malloc-count.so, built from malloc_count.c).
Each figure is (count(N) - count(1)) / (N - 1) from two runs with --no-warmup,
so start-up costs cancel out; the median over --runs repetitions is printed as
a Markdown table.

  --baseline BENCH  also measures the adapter clients with another
                    eyeballs-bench (e.g. built from an older commit), as rows
                    "<client> (baseline)", in the same run.

usage: bench/peers/counts.py --build-dir DIR [--world blackhole6] [--races 1000]
                             [--runs 3] [--clients floor,poll,asio,libevent]
                             [--baseline BENCH] [--no-strace]
"""
import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from syscalls import ADAPTERS, client_cmd, measure, strace_counts  # noqa: E402

# The compiled clients (the shim counts C's malloc; Python's and Node's own
# allocators would make their figures mean something else).
CLIENTS = ["floor", "floor-uring", "poll", "asio", "libevent", "libuv", "uring"]


def shim_counts(shim):
    """A counter for syscalls.measure: one run under the shim; returns the
    allocations of the client process and its burst's minor page faults."""

    def count(cmd, follow):
        del follow  # the compiled clients do not fork a client process
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "allocations")
            env = dict(os.environ, LD_PRELOAD=shim, EYEBALLS_MALLOC_COUNT_OUT=out)
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
            lines = open(out).read().split() if os.path.exists(out) else []
            if len(lines) != 2 or lines[0] != "allocations":
                raise RuntimeError(f"{shim} wrote no count for {' '.join(cmd)} (not preloaded?)")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        if r.get("failed"):
            raise RuntimeError(f"{' '.join(cmd)}: {r['failed']} of {r['races']} races failed")
        if "minflt_per_race" not in r:
            raise RuntimeError(f"{cmd[0]} prints no minflt_per_race (an older build?)")
        return collections.Counter({
            "allocations": int(lines[1]),
            "minflt": r["minflt_per_race"] * r["races"],
            "cpu_us": r["cpu_us_per_race"] * r["races"],
        })

    return count


def one_client(client, args, shim, bench_bin=None):
    """Medians over args.runs of every figure, for one client."""
    figures = collections.defaultdict(list)
    for _ in range(args.runs):
        if not args.no_strace:
            sc = measure(client, args.build_dir, args.world, args.races, strace_counts, bench_bin)
            figures["syscalls"].append(sum(v for v in sc.values() if v > 0))
        c = measure(client, args.build_dir, args.world, args.races, shim_counts(shim), bench_bin)
        for k in ("allocations", "minflt", "cpu_us"):
            figures[k].append(c.get(k, 0.0))
    return {k: statistics.median(v) for k, v in figures.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--world", default="blackhole6", choices=["blackhole6", "refused6", "both"])
    ap.add_argument("--races", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", default="floor,poll,asio,libevent")
    ap.add_argument("--baseline", help="another eyeballs-bench binary, measured beside this build's")
    ap.add_argument("--no-strace", action="store_true", help="skip the system call counts")
    args = ap.parse_args()
    if args.races < 2:
        sys.exit(f"counts.py: --races must be at least 2 (got {args.races}): figures are N minus N = 1")
    if args.runs < 1:
        sys.exit(f"counts.py: --runs must be at least 1 (got {args.runs})")
    clients = args.clients.split(",")
    unknown = [c for c in clients if c not in CLIENTS]
    if unknown:
        sys.exit(f"counts.py: unknown client(s) {', '.join(unknown)}; known: {', '.join(CLIENTS)}")
    if not args.no_strace and not shutil.which("strace"):
        sys.exit("counts.py: strace is not installed (or pass --no-strace)")
    shim = os.path.abspath(os.path.join(args.build_dir, "bench", "peers", "libeyeballs-malloc-count.so"))
    if not os.path.exists(shim):
        sys.exit(f"counts.py: {shim} is missing; build the target eyeballs-malloc-count")
    if args.baseline and not os.access(args.baseline, os.X_OK):
        sys.exit(f"counts.py: --baseline {args.baseline} is not an executable")

    for client in clients:
        binary = client_cmd(client, args.build_dir, args.world, 2, 0, 0)[0][0]
        if not os.access(binary, os.X_OK):
            sys.exit(f"counts.py: client {client}: {binary} is not built")
    world = os.path.join(args.build_dir, "bench", "peers", "eyeballs-bench-world")
    if any(c not in ADAPTERS for c in clients) and not os.access(world, os.X_OK):
        sys.exit(f"counts.py: {world} is not built (the floor clients need it); build the target "
                 "eyeballs-bench-world")
    rows = []
    for client in clients:
        if args.baseline and client in ADAPTERS:
            rows.append((f"{client} (baseline)", one_client(client, args, shim, args.baseline)))
        rows.append((client, one_client(client, args, shim)))

    print(f"Per race ({args.world}, N = {args.races}; N minus N = 1, median of {args.runs} runs):\n")
    cols = ([] if args.no_strace else [("syscalls", "system calls", 1)]) + [
        ("minflt", "minor page faults", 2), ("allocations", "heap allocations", 1),
        ("cpu_us", "CPU µs (under the shim)", 1)]
    print("| client | " + " | ".join(c[1] for c in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, fig in rows:
        print(f"| {name} | " + " | ".join(f"{fig[k]:.{d}f}" for k, _, d in cols) + " |")


if __name__ == "__main__":
    main()
