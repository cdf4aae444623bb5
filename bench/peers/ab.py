#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""A/B of an adapter change (issue 19 item 3 and 1): two eyeballs-bench
binaries, A (before) and B (after), and the two floors, run side by side in
one run: per round one run of each, interleaved, so that a change of load
hits all alike. Prints CPU per race (median of the rounds) and its ratio to
the raw-epoll floor of the same round (median of the per-round ratios), plus
lateness p99 and all done, with the load around the run.

usage: bench/peers/ab.py --build-dir DIR --before BIN [--adapters asio,uring]
                         [--world blackhole6] [--races 1000] [--rounds 5]
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import World, run_json  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--before", required=True, help="the eyeballs-bench binary built before the change")
    ap.add_argument("--adapters", default="asio,uring")
    ap.add_argument("--world", default="blackhole6")
    ap.add_argument("--races", default="1000")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    peers = os.path.join(args.build_dir, "bench", "peers")
    after = os.path.join(peers, "eyeballs-bench")
    floors = {"floor-epoll": os.path.join(peers, "eyeballs-bench-floor"),
              "floor-uring": os.path.join(peers, "eyeballs-bench-floor-uring")}
    floors = {k: v for k, v in floors.items() if os.path.exists(v)}
    load0, t0 = os.getloadavg()[0], time.time()
    print(f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(t0))} UTC, world {args.world}, "
          f"{args.rounds} rounds, 1-minute load {load0:.2f} at the start")
    for n in [int(x) for x in args.races.split(",")]:
        rows = {}
        for _ in range(args.rounds):
            got = {}
            for name, binary in floors.items():
                w = World(os.path.join(peers, "eyeballs-bench-world"), args.world, n)
                try:
                    got[name] = run_json([binary, "--port", str(w.port), "--rtt-ns", str(w.rtt_ns),
                                          "--world", args.world, "--races", str(n), "--json"], 300)
                finally:
                    w.close()
            for a in args.adapters.split(","):
                for tag, binary in (("before", args.before), ("after", after)):
                    got[f"{a} {tag}"] = run_json([binary, "--adapter", a, "--world", args.world,
                                                  "--races", str(n), "--json"], 300)
            for k, r in got.items():
                r["ratio"] = r["cpu_us_per_race"] / got["floor-epoll"]["cpu_us_per_race"]
                rows.setdefault(k, []).append(r)
        print(f"\nN = {n}\n\n| client | CPU µs/race | × epoll floor | lateness p99 ms | all done ms | failed |")
        print("|---|---|---|---|---|---|")
        for k, rs in rows.items():
            med = lambda f: statistics.median(r[f] for r in rs)  # noqa: E731
            print(f"| {k} | {med('cpu_us_per_race'):.1f} | {med('ratio'):.2f}× | {med('lateness_ms_p99'):.2f} | "
                  f"{med('makespan_ms'):.1f} | {max(r['failed'] for r in rs)} |")
    print(f"\n1-minute load {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
