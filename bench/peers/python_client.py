#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Python asyncio as a benchmarked Happy Eyeballs client (issue 7).

N concurrent `asyncio.open_connection(host, port, happy_eyeballs_delay=0.25)`
calls on one event loop (the default one: epoll selector), against a world
that eyeballs-bench-world runs.

Both addresses: open_connection resolves the host through the loop's
`getaddrinfo`; this script replaces that method *on its own loop object* with
one that answers [::1]:P then 127.0.0.1:P for the name "bench.test" — the
order getaddrinfo would give for a name that /etc/hosts maps to both — so no
system file is touched and no DNS is involved. asyncio then interleaves the
families (interleave=1 is implied by happy_eyeballs_delay) and runs its
staggered race: IPv6 first, IPv4 after the delay or at once when IPv6 fails.

Measured like eyeballs-bench: the start of a race is the moment its task
begins to run (just before open_connection), its end when open_connection
returns; CPU is getrusage(RUSAGE_SELF) around the burst (the winners are
closed after it); fds are counted in /proc/self/fd before the burst and after
the winners are closed. One warm-up race comes first (--no-warmup skips it).
Prints the same JSON keys as eyeballs-bench --json.

usage: python_client.py --port P --rtt-ns R --world blackhole6|refused6|both
                        --races N [--attempt-delay MS] [--json] [--samples FILE]
                        [--tls CAFILE]

--tls CAFILE races to the TLS handshake (issue 18 item 5, tls_bench.py):
open_connection(..., ssl=context) with a context that trusts CAFILE and checks
the name bench.test.
"""
import argparse
import asyncio
import json
import math
import os
import resource
import socket
import ssl
import sys
import time

HOST = "bench.test"


def nearest_rank(sorted_values, q):
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def peak_rss_kib():
    """VmHWM: ru_maxrss survives fork and execve, so it would include the
    harness that started this process."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def open_fds():
    return len(os.listdir("/proc/self/fd")) - 1  # listdir's own fd


async def run(args):
    loop = asyncio.get_running_loop()
    infos = [
        (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("::1", args.port, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", args.port)),
    ]

    async def getaddrinfo(host, port, *, family=0, type=0, proto=0, flags=0):
        if host != HOST:
            raise socket.gaierror(socket.EAI_NONAME, "unknown host")
        return list(infos)

    loop.getaddrinfo = getaddrinfo  # this loop object only
    delay = args.attempt_delay / 1000.0
    tls = None
    if args.tls:
        tls = ssl.create_default_context(cafile=args.tls)

    async def race():
        start = time.monotonic()
        try:
            _, writer = await asyncio.open_connection(HOST, args.port, happy_eyeballs_delay=delay,
                                                      ssl=tls)
        except (OSError, ssl.SSLError):
            return start, time.monotonic(), None
        return start, time.monotonic(), writer

    async def close_all(writers):
        for w in writers:
            w.close()
        await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
        await asyncio.sleep(0)

    if not args.no_warmup:
        _, _, w = await race()
        await close_all([w] if w else [])

    fds_before = open_fds()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    tasks = [asyncio.ensure_future(race()) for _ in range(args.races)]
    results = await asyncio.gather(*tasks)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    rss = peak_rss_kib()

    writers = [w for _, _, w in results if w is not None]
    won_v6 = sum(1 for w in writers if w.get_extra_info("socket").family == socket.AF_INET6)
    await close_all(writers)
    del writers, tasks
    fds_after = open_fds()
    return results, t0, ru0, ru1, rss, fds_before, fds_after, won_v6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rtt-ns", type=int, required=True)
    ap.add_argument("--world", choices=["blackhole6", "refused6", "both"], required=True)
    ap.add_argument("--races", type=int, required=True)
    ap.add_argument("--attempt-delay", type=int, default=250)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--samples")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--tls", metavar="CAFILE")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    need = 2 * args.races + 64
    requested = args.races
    if need > hard:
        args.races = max(0, (hard - 64) // 2)
        print(f"python_client: RLIMIT_NOFILE allows {hard} fds; running {args.races} races, "
              f"not {requested}", file=sys.stderr)

    results, t0, ru0, ru1, rss, fds_before, fds_after, won_v6 = asyncio.run(run(args))

    rtt_ms = args.rtt_ns / 1e6
    ideal = rtt_ms
    if args.world == "blackhole6":
        ideal += args.attempt_delay
    elif args.world == "refused6":
        ideal += rtt_ms  # no 10 ms floor: asyncio fails over at once
    conn = [(e - s) * 1e3 for s, e, w in results if w is not None]
    late = [c - ideal for c in conn]
    if args.samples:
        with open(args.samples, "w") as f:
            for l, c in zip(late, conn):
                f.write(f"{l:.4f} {c:.4f}\n")
    conn.sort()
    late.sort()
    n = args.races
    user = (ru1.ru_utime - ru0.ru_utime) * 1e6 / n
    sys_ = (ru1.ru_stime - ru0.ru_stime) * 1e6 / n
    last_end = max((e for _, e, _ in results), default=t0)
    last_start = max((s for s, _, _ in results), default=t0)
    out = {
        "client": "python-asyncio", "world": args.world, "races": n, "races_requested": requested,
        "connected": len(conn), "failed": n - len(conn),
        "cpu_us_per_race": round(user + sys_, 2), "user_us_per_race": round(user, 2),
        "sys_us_per_race": round(sys_, 2),
        "connect_ms_p50": nearest_rank(conn, 0.5), "connect_ms_p99": nearest_rank(conn, 0.99),
        "lateness_ms_p50": nearest_rank(late, 0.5), "lateness_ms_p99": nearest_rank(late, 0.99),
        "lateness_ms_max": late[-1] if late else None,
        "peak_rss_kib": rss, "fds_left_open": fds_after - fds_before,
        "ideal_ms": ideal, "rtt_ms": rtt_ms, "attempt_delay_ms": args.attempt_delay,
        "min_start_gap_ms": 0, "makespan_ms": (last_end - t0) * 1e3,
        "start_burst_ms": (last_start - t0) * 1e3,
        "won_v6": won_v6, "won_v4": len(conn) - won_v6, "nofile_limit": hard,
        "version": sys.version.split()[0],
    }
    for k, v in out.items():
        if isinstance(v, float):
            out[k] = round(v, 3)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
