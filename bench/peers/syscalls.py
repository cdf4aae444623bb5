#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""System calls per race, per client (an explanation of the CPU column, not a
benchmark): runs each client under `strace -c` with N = 1 and with N races
(no warm-up), and prints (calls(N) - calls(1)) / (N - 1) per system call and
in total, as a Markdown table. strace slows the clients down a lot; only the
counts mean anything.

usage: bench/peers/syscalls.py --build-dir DIR [--world blackhole6] [--races 1000]
"""
import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import World  # noqa: E402

CLIENTS = ["floor", "floor-uring", "poll", "asio", "libevent", "libuv", "uring", "python", "node"]


def strace_counts(cmd, follow):
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        st = ["strace", "-c", "-o", out.name] + (["-f"] if follow else []) + cmd
        subprocess.run(st, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=600)
        counts = collections.Counter()
        for line in out.read().splitlines():
            parts = line.split()
            # % time, seconds, usecs/call, calls, [errors], syscall
            if len(parts) >= 5 and parts[3].isdigit() and parts[-1] != "total":
                counts[parts[-1]] += int(parts[3])
        return counts


ADAPTERS = ("poll", "asio", "libevent", "libuv", "uring")


def client_cmd(client, build_dir, world, n, port=None, rtt=None, bench_bin=None):
    """The command of one client run; bench_bin: another eyeballs-bench (an
    older build, for counts.py --baseline)."""
    bench = os.path.join(build_dir, "bench", "peers")
    if client in ADAPTERS:
        return [bench_bin or os.path.join(bench, "eyeballs-bench"), "--adapter", client, "--world", world,
                "--races", str(n), "--no-warmup", "--json"], False
    common = ["--port", str(port), "--rtt-ns", str(rtt), "--world", world, "--races", str(n), "--json"]
    if client == "floor":
        return [os.path.join(bench, "eyeballs-bench-floor"), "--no-warmup"] + common, False
    if client == "floor-uring":
        return [os.path.join(bench, "eyeballs-bench-floor-uring"), "--no-warmup"] + common, False
    if client == "python":
        return [sys.executable, os.path.join(HERE, "python_client.py"), "--no-warmup"] + common, False
    return [shutil.which("node"), os.path.join(HERE, "node_client.js"), "--no-warmup"] + common, True


def measure(client, build_dir, world, n, counter=strace_counts, bench_bin=None):
    """counter(cmd, follow) -> Counter for N = 1 and N = n; returns
    (count(n) - count(1)) / (n - 1) per key."""
    world_bin = os.path.join(build_dir, "bench", "peers", "eyeballs-bench-world")
    result = []
    for races in (1, n):
        w = None if client in ADAPTERS else World(world_bin, world, races)
        try:
            cmd, follow = client_cmd(client, build_dir, world, races, w and w.port, w and w.rtt_ns, bench_bin)
            result.append(counter(cmd, follow))
        finally:
            if w:
                w.close()
    one, many = result
    return {k: (many[k] - one.get(k, 0)) / (n - 1) for k in many}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--world", default="blackhole6")
    ap.add_argument("--races", type=int, default=1000)
    ap.add_argument("--clients", default=",".join(CLIENTS))
    args = ap.parse_args()
    if not shutil.which("strace"):
        sys.exit("syscalls.py: strace is not installed")
    per = {c: measure(c, args.build_dir, args.world, args.races) for c in args.clients.split(",")}
    names = sorted({k for d in per.values() for k, v in d.items() if v >= 0.05},
                   key=lambda k: -max(d.get(k, 0) for d in per.values()))
    print(f"System calls per race ({args.world}, N = {args.races}; strace -c, N minus N = 1):\n")
    print("| system call | " + " | ".join(per) + " |")
    print("|---|" + "---|" * len(per))
    for k in names:
        print(f"| {k} | " + " | ".join(f"{per[c].get(k, 0):.1f}" for c in per) + " |")
    print("| **total** | " + " | ".join(f"**{sum(v for v in per[c].values() if v > 0):.1f}**" for c in per) + " |")


if __name__ == "__main__":
    main()
