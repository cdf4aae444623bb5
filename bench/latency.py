#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Latency benchmark: how close to the RFC 8305 timers does a real race land?

On loopback, with eyeballs-connect and eyeballs-loopback-world (a blackholed
or refused [::1] and an open 127.0.0.1 on one port), it measures the
time-to-connect reported in the JSON trace (the `t` of the `report` line,
microsecond precision, counted from the start of the race) over N runs of
each case, for each adapter that eyeballs-connect was built with:

  blackhole  IPv6 silently dropped, --attempt-delay 250: IPv4 should connect
             at 250 ms (RFC 8305 §5 Connection Attempt Delay).
  refused    IPv6 refused at once: IPv4 should connect at the 10 ms floor
             (RFC 8305 §5: "MUST NOT be started within 10 milliseconds").
  refused-0  the same with --min-start-gap 0: IPv4 at once.

It prints median and p99 (nearest rank) of the time-to-connect, and of the
overshoot past the ideal time, as a Markdown table, and compares the median
overshoot with the target (0.3 ms). It is a benchmark, not a test: numbers
depend on the machine and its load; run it on a quiet machine. --rt runs each
connect under SCHED_FIFO (chrt -f 50, root only) to take the scheduler's
wake-up latency out of the numbers.

usage: bench/latency.py [--build-dir DIR] [--runs N] [--adapters poll,asio,...]
                        [--cases blackhole,refused,refused-0] [--rt]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

CASES = {
    "blackhole": dict(v6="blackhole", args=["--attempt-delay", "250"], ideal=250.0,
                      label="IPv6 blackholed, attempt-delay 250 ms"),
    "refused": dict(v6="refused", args=[], ideal=10.0,
                    label="IPv6 refused (10 ms floor)"),
    "refused-0": dict(v6="refused", args=["--min-start-gap", "0"], ideal=0.0,
                      label="IPv6 refused, --min-start-gap 0"),
}
TARGET_MS = 0.3


def find_binary(build_dirs, name):
    for d in build_dirs:
        for sub in ("tools/connect", "."):
            p = os.path.join(d, sub, name)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                return p
    return None


def p99(values):
    s = sorted(values)
    rank = max(1, -(-99 * len(s) // 100))  # nearest rank: ceil(0.99 n)
    return s[rank - 1]


class World:
    """eyeballs-loopback-world running in the background; .port once ready."""

    def __init__(self, binary, v6):
        self.proc = subprocess.Popen([binary, "--v6", v6, "--v4", "open"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError("eyeballs-loopback-world did not start")
        self.port = int(line)

    def close(self):
        self.proc.stdin.close()  # end of file on its stdin: it exits
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()


def adapter_built(connect, adapter):
    r = subprocess.run([connect, "--adapter", adapter, "--resolve", "x:9:127.0.0.1",
                        "--timeout", "50", "x", "9"], capture_output=True, text=True)
    return "was not built" not in r.stderr


def one_run(connect, adapter, case, port, prefix):
    cmd = prefix + [connect, "--json", "--adapter", adapter, *case["args"],
                    "--resolve", f"x:{port}:[::1],127.0.0.1", "x", str(port)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    if r.returncode != 0 or not lines or lines[-1].get("outcome") != "connected":
        raise RuntimeError(f"run failed (exit {r.returncode}): {r.stderr.strip()}")
    if not lines[-1].get("remote", "").startswith("127.0.0.1:"):
        raise RuntimeError(f"unexpected winner {lines[-1].get('remote')}")
    return float(lines[-1]["t"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", action="append",
                    help="where eyeballs-connect was built (default: build/* under the repo)")
    ap.add_argument("--runs", type=int, default=30, help="runs per case and adapter (>= 20)")
    ap.add_argument("--adapters", default="poll,asio,libevent")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--rt", action="store_true", help="run each connect under chrt -f 50")
    opts = ap.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = opts.build_dir or sorted(
        (os.path.join(root, "build", d) for d in os.listdir(os.path.join(root, "build"))
         if os.path.isdir(os.path.join(root, "build", d))),
        key=lambda d: -os.path.getmtime(d)) if os.path.isdir(os.path.join(root, "build")) else []
    connect = find_binary(dirs, "eyeballs-connect")
    world_bin = find_binary(dirs, "eyeballs-loopback-world")
    if not connect or not world_bin:
        sys.exit("bench/latency.py: build eyeballs-connect and eyeballs-loopback-world first "
                 "(cmake --build BUILD --target eyeballs-connect eyeballs-loopback-world), "
                 "or pass --build-dir")
    if opts.runs < 20:
        sys.exit("bench/latency.py: --runs must be at least 20")
    prefix = []
    if opts.rt:
        if os.geteuid() != 0 or not shutil.which("chrt"):
            sys.exit("bench/latency.py: --rt needs root and chrt")
        prefix = ["chrt", "-f", "50"]

    adapters = [a for a in opts.adapters.split(",") if a and adapter_built(connect, a)]
    cases = [c for c in opts.cases.split(",") if c]
    for c in cases:
        if c not in CASES:
            sys.exit(f"bench/latency.py: unknown case {c!r} ({', '.join(CASES)})")

    load = os.getloadavg()[0]
    print(f"eyeballs latency on loopback: {opts.runs} runs each, {connect}")
    print(f"scheduling: {'SCHED_FIFO (chrt -f 50)' if opts.rt else 'normal'}; "
          f"load average {load:.2f} on {os.cpu_count()} CPUs"
          + ("  (busy machine: expect noisy numbers)" if load > 1.0 else ""))
    print()
    print("| case | adapter | median ms | p99 ms | overshoot median | overshoot p99 | target |")
    print("|---|---|---:|---:|---:|---:|---|")
    failed = False
    for c in cases:
        case = CASES[c]
        world = World(world_bin, case["v6"])
        try:
            for adapter in adapters:
                one_run(connect, adapter, case, world.port, prefix)  # warm-up, not counted
                times = [one_run(connect, adapter, case, world.port, prefix)
                         for _ in range(opts.runs)]
                over = [t - case["ideal"] for t in times]
                med_over = statistics.median(over)
                ok = med_over <= TARGET_MS
                failed |= not ok
                print(f"| {case['label']} | {adapter} | {statistics.median(times):.3f} | "
                      f"{p99(times):.3f} | {med_over:.3f} | {p99(over):.3f} | "
                      f"{'≤ 0.3 ms: ok' if ok else '≤ 0.3 ms: MISSED'} |", flush=True)
                if min(over) < -0.001:
                    print(f"  ! {adapter} connected {-min(over):.3f} ms BEFORE the ideal time",
                          file=sys.stderr)
                    failed = True
        finally:
            world.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
