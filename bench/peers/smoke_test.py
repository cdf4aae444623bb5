#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Smoke test of the benchmark harness (ctest eyeballs_bench_smoke_*): keeps
eyeballs-bench (and the floor client) working in CI. Nothing here is timed.

  smoke_test.py EYEBALLS_BENCH poll|asio|libevent
  smoke_test.py EYEBALLS_BENCH_FLOOR floor EYEBALLS_BENCH_WORLD

Runs N = 10 races against the `both` world (and, for the adapters, N = 3
against blackhole6 with a 10 ms attempt delay, so the IPv4 fallback path runs
too, and N = 10 over --threads 2) and asserts, from --json: every race connected, zero failures, zero fds
left open, and the family that should win did.
"""
import json
import subprocess
import sys


def check(obj, races, won_key):
    errors = []
    for key in ("races", "connected", "failed", "cpu_us_per_race", "connect_ms_p50", "connect_ms_p99",
                "lateness_ms_p50", "lateness_ms_p99", "peak_rss_kib", "fds_left_open"):
        if key not in obj:
            errors.append(f"key {key} missing")
    if obj.get("races") != races:
        errors.append(f"races {obj.get('races')} != {races}")
    if obj.get("connected") != races:
        errors.append(f"connected {obj.get('connected')} != {races}")
    if obj.get("failed") != 0:
        errors.append(f"failed {obj.get('failed')} != 0")
    if obj.get("fds_left_open") != 0:
        errors.append(f"fds_left_open {obj.get('fds_left_open')} != 0")
    if obj.get(won_key) != races:
        errors.append(f"{won_key} {obj.get(won_key)} != {races}")
    return errors


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=50)
    if p.returncode == 77:  # io_uring refused here (uring, floor-uring): a ctest skip
        print(p.stderr.strip(), file=sys.stderr)
        sys.exit(77)
    if p.returncode != 0:
        print(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}", file=sys.stderr)
        sys.exit(1)
    return json.loads(p.stdout)


def main():
    binary, adapter = sys.argv[1], sys.argv[2]
    failures = []
    if adapter == "floor":
        world_bin = sys.argv[3]
        w = subprocess.Popen([world_bin, "--world", "both", "--races", "10"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            port, rtt = w.stdout.readline().split()
            obj = run([binary, "--port", port, "--rtt-ns", rtt, "--world", "both", "--races", "10",
                       "--json"])
            failures += [f"floor both: {e}" for e in check(obj, 10, "won_v6")]
        finally:
            w.stdin.close()
            w.wait(timeout=20)
    else:
        obj = run([binary, "--adapter", adapter, "--world", "both", "--races", "10", "--json"])
        failures += [f"{adapter} both: {e}" for e in check(obj, 10, "won_v6")]
        obj = run([binary, "--adapter", adapter, "--world", "blackhole6", "--races", "3",
                   "--attempt-delay", "10", "--json"])
        failures += [f"{adapter} blackhole6: {e}" for e in check(obj, 3, "won_v4")]
        # --threads: 10 races over 2 threads, one loop each; all of them counted once.
        obj = run([binary, "--adapter", adapter, "--world", "both", "--races", "10", "--threads", "2",
                   "--json"])
        failures += [f"{adapter} both --threads 2: {e}" for e in check(obj, 10, "won_v6")]
        if obj.get("threads") != 2 or not obj.get("nproc") or "cpu_model" not in obj:
            failures.append(f"{adapter} --threads 2: threads/nproc/cpu_model missing or wrong: {obj}")
        p = subprocess.run([binary, "--adapter", adapter, "--world", "both", "--races", "2", "--threads", "3"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=50)
        if p.returncode != 2 or "--threads" not in p.stderr:
            failures.append(f"{adapter}: --threads 3 with --races 2 should be refused naming --threads, "
                            f"got exit {p.returncode}: {p.stderr.strip()}")
    for f in failures:
        print(f, file=sys.stderr)
    if not failures:
        print(f"{adapter}: ok")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
