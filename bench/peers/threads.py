#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Many cores (issue 19 item 4): one burst of N races spread over T threads,
one event loop each (`eyeballs-bench --threads T`: one io_context per thread
for Asio, one event_base, uv_loop_t, ring or epoll set for the others), for
T = 1, 2 and nproc. Reports races per second (N / all done) and CPU per race
(the whole process), medians of --runs runs interleaved across adapters,
with the machine (nproc, CPU model) and the load around the run.

usage: bench/peers/threads.py --build-dir DIR [--races 1000] [--worlds both,blackhole6]
                              [--adapters poll,asio,libevent,libuv,uring] [--runs 3] [--out FILE.md]
"""
import argparse
import json
import os
import statistics
import subprocess
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--races", type=int, default=1000)
    ap.add_argument("--worlds", default="both,blackhole6")
    ap.add_argument("--adapters", default="poll,asio,libevent,libuv,uring")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out")
    ap.add_argument("--command", default="bench/peers/threads.py")
    args = ap.parse_args()
    bench = os.path.join(args.build_dir, "bench", "peers", "eyeballs-bench")
    nproc = os.cpu_count() or 1
    ts = sorted({1, 2, nproc})
    rows, machine = {}, {}
    load0, t_start = os.getloadavg()[0], time.time()
    for world in args.worlds.split(","):
        for _ in range(args.runs):
            for t in ts:
                for a in args.adapters.split(","):
                    p = subprocess.run([bench, "--adapter", a, "--world", world, "--races", str(args.races),
                                        "--threads", str(t), "--json"], capture_output=True, text=True,
                                       timeout=300)
                    if p.returncode == 77:  # io_uring refused here
                        continue
                    if p.returncode != 0:
                        raise SystemExit(f"threads.py: {a} failed: {p.stderr.strip()}")
                    r = json.loads(p.stdout.strip().splitlines()[-1])
                    machine = {"nproc": r["nproc"], "cpu_model": r["cpu_model"]}
                    r["load"] = os.getloadavg()[0]
                    rows.setdefault((world, a, t), []).append(r)
    lines = [f"Made by `{args.command}` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime(t_start))} UTC on "
             f"{machine.get('nproc')} × {machine.get('cpu_model')}; N = {args.races}, {args.runs} runs "
             f"(medians); 1-minute load {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.", "",
             "| world | adapter | threads | races/s | CPU µs/race | all done ms | failed |",
             "|---|---|---|---|---|---|---|"]
    for (world, a, t), rs in rows.items():
        med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
        lines.append(f"| {world} | {rs[0]['client']} | {t} | {med('races_per_s'):.0f} | "
                     f"{med('cpu_us_per_race'):.1f} | {med('makespan_ms'):.1f} | "
                     f"{max(r['failed'] for r in rs)} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
