#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""The peer comparison of issue 7: eyeballs against the Happy Eyeballs clients
people use today, side by side, in one run.

For every world (blackhole6, refused6, both) and burst size N (1, 1000, 9000)
it runs each client --runs times (default 5; 9 for N = 1, where each run is
one sample),
interleaved (run 1 of every client, then run 2, ...) so that a change of load
on the machine hits every client alike:

  eyeballs-poll / core+epoll, eyeballs-asio, eyeballs-libevent, eyeballs-libuv
                   eyeballs-bench --adapter poll|asio|libevent|libuv (its own world)
  floor-epoll-c    eyeballs-bench-floor (raw epoll, C)          } against
  python-asyncio   python_client.py                             } eyeballs-
  node             node_client.js                               } bench-world
  curl             curl --happy-eyeballs-timeout-ms 250 --resolve NAME:P:[::1],127.0.0.1
                   (N = 1 only; one process per race)

and writes to bench/results/:
  results.md    the table (client x world x N, medians over the runs of each
                figure), the targets of issue 7 (met or missed, by how much),
                and how the run was made (command, date, commit, load)
  lateness.png  the lateness distribution per client (gnuplot): blackhole6
                at N = 1, 1000 and 9000
  raw.jsonl     every run's JSON object, with the load average around it

usage: bench/peers/run.py --build-dir DIR [--quick] [--runs N] [--runs-n1 N]
                          [--worlds W,...] [--races N,...] [--clients C,...]
                          [--wait-load L] [--nice] [--out DIR]
"""
import argparse
import datetime
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORLDS = ["blackhole6", "refused6", "both"]
RACES = [1, 1000, 9000]
CLIENTS = ["floor", "poll", "asio", "libevent", "libuv", "python", "node", "curl"]
LABELS = {
    "floor": "floor: raw epoll, C",
    "poll": "eyeballs poll",  # N > 1: "eyeballs core+epoll (bench driver)"
    "asio": "eyeballs Asio",
    "libevent": "eyeballs libevent",
    "libuv": "eyeballs libuv",
    "python": "Python asyncio",
    "node": "Node",
    "curl": "curl",
}
ATTEMPT_DELAY = 250
# Issue 7's targets (benchmarks, never tests).
TARGET_CPU_US = 60.0
TARGET_P99_MS_N1000 = 5.0
TARGET_P50_MS_N1 = 0.3


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def label(client, n):
    if client == "poll" and n > 1:
        return "eyeballs core+epoll (bench driver)"
    return LABELS[client]


class World:
    """eyeballs-bench-world in its own process; .port and .rtt_ns once ready."""

    def __init__(self, binary, world, races, close_accepted=False, prefix=()):
        cmd = list(prefix) + [binary, "--world", world, "--races", str(races)]
        if close_accepted:
            cmd.append("--close-accepted")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2:
            self.close()
            raise RuntimeError("eyeballs-bench-world did not start")
        self.port, self.rtt_ns = int(line[0]), int(line[1])

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()


def run_json(cmd, timeout):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.stderr.strip():
        sys.stderr.write(p.stderr)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_curl(world_bin, rusage_bin, world, delay, prefix=()):
    """One curl process, one race. Time from curl's own -w %{time_connect}
    (counted from the start of the transfer, so process start-up is not in
    it); CPU and peak RSS from eyeballs-bench-rusage (wait4() of the whole
    process, start-up included: curl cannot race without starting)."""
    w = World(world_bin, world, 1, close_accepted=True, prefix=prefix)
    try:
        cmd = ["curl", "-s", "-o", "/dev/null", "--max-time", "5",
               "--happy-eyeballs-timeout-ms", str(delay),
               "--resolve", f"bench.test:{w.port}:[::1],127.0.0.1",
               "-w", "%{time_connect} %{remote_ip}", f"http://bench.test:{w.port}/"]
        p = subprocess.run(list(prefix) + [rusage_bin] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=30)
    finally:
        w.close()
    ru = [ln for ln in p.stderr.splitlines() if ln.startswith("rusage ")]
    if not ru:
        raise RuntimeError(f"eyeballs-bench-rusage: {p.stderr.strip()}")
    user_us, sys_us, maxrss, _ = (int(x) for x in ru[-1].split()[1:])
    parts = p.stdout.split()
    connected = len(parts) == 2 and float(parts[0]) > 0
    rtt_ms = w.rtt_ns / 1e6
    ideal = rtt_ms + (delay if world == "blackhole6" else rtt_ms if world == "refused6" else 0)
    c = float(parts[0]) * 1e3 if connected else None
    late = c - ideal if connected else None
    return {
        "client": "curl", "world": world, "races": 1, "connected": int(connected),
        "failed": int(not connected), "cpu_us_per_race": float(user_us + sys_us),
        "connect_ms_p50": c, "connect_ms_p99": c, "lateness_ms_p50": late, "lateness_ms_p99": late,
        "lateness_ms_max": late, "peak_rss_kib": maxrss, "fds_left_open": None,
        "ideal_ms": ideal, "rtt_ms": rtt_ms, "won_v6": int(connected and ":" in parts[1]),
        "won_v4": int(connected and ":" not in parts[1]), "samples": [[late, c]] if connected else [],
    }


def read_samples(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                a, b = line.split()
                out.append([float(a), float(b)])
    return out


def run_one(args, client, world, n, tmp):
    samples = os.path.join(tmp, "samples.txt")
    if os.path.exists(samples):
        os.remove(samples)
    bench_dir = os.path.join(args.build_dir, "bench", "peers")
    world_bin = os.path.join(bench_dir, "eyeballs-bench-world")
    timeout = 600
    if client == "curl":
        return run_curl(world_bin, os.path.join(bench_dir, "eyeballs-bench-rusage"), world,
                        ATTEMPT_DELAY, args.prefix)
    if client in ("poll", "asio", "libevent", "libuv"):
        r = run_json(args.prefix + [os.path.join(bench_dir, "eyeballs-bench"), "--adapter", client, "--world", world,
                      "--races", str(n), "--attempt-delay", str(ATTEMPT_DELAY), "--json",
                      "--samples", samples], timeout)
    else:
        w = World(world_bin, world, n, prefix=args.prefix)
        try:
            common = ["--port", str(w.port), "--rtt-ns", str(w.rtt_ns), "--world", world,
                      "--races", str(n), "--attempt-delay", str(ATTEMPT_DELAY), "--json",
                      "--samples", samples]
            if client == "floor":
                cmd = [os.path.join(bench_dir, "eyeballs-bench-floor")] + common
            elif client == "python":
                cmd = [sys.executable, os.path.join(HERE, "python_client.py")] + common
            else:
                cmd = [args.node, os.path.join(HERE, "node_client.js")] + common
            r = run_json(args.prefix + cmd, timeout)
        finally:
            w.close()
    r["samples"] = read_samples(samples)
    return r


def median(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return statistics.median(values) if values else None


def fmt(v, digits=1):
    if v is None:
        return "—"
    if isinstance(v, int):
        return str(v)
    return f"{v:.{digits}f}"


def fmt_ms(v):
    if v is None:
        return "—"
    a = abs(v)
    return f"{v:.3f}" if a < 1 else f"{v:.2f}" if a < 100 else f"{v:.0f}"


def summarize(runs):
    """Medians over the runs of one config (each figure on its own)."""
    keys = ["cpu_us_per_race", "connect_ms_p50", "connect_ms_p99", "lateness_ms_p50",
            "lateness_ms_p99", "peak_rss_kib", "makespan_ms"]
    s = {k: median([r.get(k) for r in runs]) for k in keys}
    s["failed"] = max(r["failed"] for r in runs)
    s["races"] = runs[0]["races"]
    fl = [r.get("fds_left_open") for r in runs]
    s["fds_left_open"] = None if any(v is None for v in fl) else max(fl)
    s["runs"] = len(runs)
    if len(runs) > 0 and runs[0]["races"] == 1:
        # N = 1: one sample per run, so the p50 over runs is the figure, and
        # the p99 column shows the worst run.
        s["lateness_ms_p99"] = max(r["lateness_ms_p50"] for r in runs if r["lateness_ms_p50"] is not None) \
            if any(r["lateness_ms_p50"] is not None for r in runs) else None
        s["connect_ms_p99"] = max(r["connect_ms_p50"] for r in runs if r["connect_ms_p50"] is not None) \
            if any(r["connect_ms_p50"] is not None for r in runs) else None
    return s


def median_run(runs):
    """The run whose lateness p50 is the median: its samples are charted."""
    ok = [r for r in runs if r.get("lateness_ms_p50") is not None]
    if not ok:
        return None
    ok.sort(key=lambda r: r["lateness_ms_p50"])
    return ok[(len(ok) - 1) // 2]


def write_chart(out_dir, data_dir, results, clients, gnuplot):
    os.makedirs(data_dir, exist_ok=True)
    panels = []
    for n in RACES:
        series = []
        for c in clients:
            runs = results.get(("blackhole6", n, c))
            if not runs:
                continue
            if n == 1:  # one sample per run: the distribution over the runs
                vals = sorted(r["lateness_ms_p50"] for r in runs if r["lateness_ms_p50"] is not None)
            else:
                mr = median_run(runs)
                vals = sorted(s[0] for s in mr["samples"]) if mr else []
            if not vals:
                continue
            path = os.path.join(data_dir, f"blackhole6-{n}-{c}.dat")
            with open(path, "w") as f:
                f.write(f"{max(vals[0], 0.01):.4f} 0\n")  # the step up starts from 0
                for i, v in enumerate(vals):
                    f.write(f"{max(v, 0.01):.4f} {(i + 1) / len(vals):.5f}\n")
            series.append((c, path))
        if series:
            panels.append((n, series))
    if not panels or not gnuplot:
        return None
    png = os.path.join(out_dir, "lateness.png")
    colors = {"floor": "#000000", "poll": "#1b9e77", "asio": "#d95f02", "libevent": "#7570b3",
              "libuv": "#a6761d", "python": "#e7298a", "node": "#66a61e", "curl": "#888888"}
    dashes = {"floor": "dt 2", "curl": "dt 3"}
    lines = [
        f"set terminal pngcairo size 1650,680 font 'DejaVu Sans,11'",
        f"set output '{png}'",
        "set multiplot layout 1,%d title 'Lateness past the ideal (attempt delay 250 ms + loopback RTT), "
        "IPv6 blackholed: cumulative share of races' font 'DejaVu Sans,13'" % len(panels),
        "set logscale x", "set xrange [0.01:20000]", "set yrange [0:1.02]",
        "set xlabel 'lateness, ms (log scale; 0.01 or less drawn at 0.01)' offset 0,0.3", "set ylabel 'share of races'",
        "set grid xtics ytics", "set key below maxrows 3 width -2 font 'DejaVu Sans,10'", "set bmargin 9",
        "set format x '%g'",
    ]
    for n, series in panels:
        title = "N = 1 (one race per run, all runs)" if n == 1 else f"N = {n} concurrent races (median run)"
        lines.append(f"set title '{title}'")
        plots = []
        for c, path in series:
            title = "eyeballs core+epoll (bench)" if (c == "poll" and n > 1) else label(c, n)
            plots.append(f"'{path}' using 1:2 with steps lw 2 lc rgb '{colors[c]}' {dashes.get(c, '')} "
                         f"title '{title}'")
        lines.append("plot " + ", ".join(plots))
    lines.append("unset multiplot")
    script = os.path.join(data_dir, "lateness.gp")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run([gnuplot, script], check=True)
    return png


def targets(results):
    """Issue 7's targets: (text, met, detail)."""
    out = []
    floor1000 = results.get(("blackhole6", 1000, "floor"))
    for n in (1000, 9000):
        for c in ("asio", "libevent"):
            runs = results.get(("blackhole6", n, c))
            if not runs:
                continue
            s = summarize(runs)
            cpu = s["cpu_us_per_race"]
            out.append((f"N = {n}, {LABELS[c]}: CPU ≤ {TARGET_CPU_US:.0f} µs per race",
                        cpu is not None and cpu <= TARGET_CPU_US,
                        f"{cpu:.1f} µs" + ("" if cpu <= TARGET_CPU_US else f" (over by {cpu - TARGET_CPU_US:.1f} µs)")))
            if n == 1000:
                p99 = s["lateness_ms_p99"]
                out.append((f"N = 1000, {LABELS[c]}: lateness p99 ≤ {TARGET_P99_MS_N1000:.0f} ms",
                            p99 is not None and p99 <= TARGET_P99_MS_N1000,
                            f"{p99:.2f} ms" + ("" if p99 <= TARGET_P99_MS_N1000
                                               else f" (over by {p99 - TARGET_P99_MS_N1000:.2f} ms)")))
            out.append((f"N = {n}, {LABELS[c]}: zero failures, zero fds left open",
                        s["failed"] == 0 and s["fds_left_open"] == 0,
                        f"{s['failed']} failed, {s['fds_left_open']} fds left open (worst run)"))
    for c in ("poll", "asio", "libevent"):
        runs = results.get(("blackhole6", 1, c))
        if not runs:
            continue
        p50 = summarize(runs)["lateness_ms_p50"]
        out.append((f"N = 1, {label(c, 1)}: lateness median ≤ {TARGET_P50_MS_N1} ms (blackhole6)",
                    p50 is not None and p50 <= TARGET_P50_MS_N1,
                    f"{p50:.3f} ms" + ("" if p50 <= TARGET_P50_MS_N1 else f" (over by {p50 - TARGET_P50_MS_N1:.3f} ms)")))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    ap.add_argument("--quick", action="store_true",
                    help="blackhole6 only, N = 1 and 1000, one run each (about 15 s)")
    ap.add_argument("--runs", type=int, default=5, help="runs per config for N > 1 (default 5)")
    ap.add_argument("--runs-n1", type=int, default=9, help="runs per config for N = 1 (default 9)")
    ap.add_argument("--worlds", default=",".join(WORLDS))
    ap.add_argument("--races", default=",".join(map(str, RACES)))
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--wait-load", type=float, default=None,
                    help="wait (up to 30 min) until the 1-minute load average is below this")
    ap.add_argument("--nice", action="store_true",
                    help="run every client and world under `nice -n -20` (root): on a shared machine, "
                         "other jobs then take little CPU from the benchmark")
    ap.add_argument("--command", default=None, help="the command line to quote in results.md")
    args = ap.parse_args()
    if args.quick:
        args.worlds, args.races, args.runs, args.runs_n1 = "blackhole6", "1,1000", 1, 1
    args.prefix = ["nice", "-n", "-20"] if args.nice else []
    worlds = args.worlds.split(",")
    races = [int(x) for x in args.races.split(",")]
    clients = args.clients.split(",")
    args.node = shutil.which("node") or shutil.which("nodejs")
    gnuplot = shutil.which("gnuplot")
    skipped = []
    if "node" in clients and not args.node:
        clients.remove("node")
        skipped.append("node (not installed)")
    if "curl" in clients and not shutil.which("curl"):
        clients.remove("curl")
        skipped.append("curl (not installed)")
    for b in ("eyeballs-bench", "eyeballs-bench-world", "eyeballs-bench-floor", "eyeballs-bench-rusage"):
        if not os.path.exists(os.path.join(args.build_dir, "bench", "peers", b)):
            sys.exit(f"run.py: {b} not found in {args.build_dir}/bench/peers (build it first)")

    if args.wait_load is not None:
        deadline = time.time() + 1800
        while load1() >= args.wait_load and time.time() < deadline:
            print(f"load {load1():.2f} >= {args.wait_load}: waiting", file=sys.stderr)
            time.sleep(30)

    os.makedirs(args.out, exist_ok=True)
    started = datetime.datetime.now()
    load_start = load1()
    results = {}  # (world, n, client) -> [run json]
    raw = []
    t_begin = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for world in worlds:
            for n in races:
                cs = [c for c in clients if not (c == "curl" and n != 1)]
                runs = args.runs_n1 if n == 1 else args.runs
                for i in range(runs):
                    for c in cs:
                        l0 = load1()
                        t = time.time()
                        r = run_one(args, c, world, n, tmp)
                        r["run"] = i + 1
                        r["load_before"] = l0
                        r["load_after"] = load1()
                        r["seconds"] = round(time.time() - t, 2)
                        r["key"] = [world, n, c]
                        results.setdefault((world, n, c), []).append(r)
                        raw.append(r)
                        print(f"{world:10} N={n:<5} {c:9} run {i + 1}: cpu {fmt(r['cpu_us_per_race'])} µs, "
                              f"lateness p50 {fmt_ms(r['lateness_ms_p50'])} p99 {fmt_ms(r['lateness_ms_p99'])} ms, "
                              f"failed {r['failed']}, fds {r['fds_left_open']}, load {l0:.2f}",
                              file=sys.stderr, flush=True)
    elapsed = time.time() - t_begin
    load_end = load1()

    with open(os.path.join(args.out, "raw.jsonl"), "w") as f:
        for r in raw:
            rr = dict(r)
            rr.pop("samples", None)
            f.write(json.dumps(rr) + "\n")
    # The plotted points and the gnuplot script stay in the build directory.
    png = write_chart(args.out, os.path.join(args.build_dir, "bench", "peers", "chart-data"), results,
                      clients, gnuplot)

    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.strip() or "unknown"
    header = ("| client | world | N | CPU µs/race | × floor | connect p50 ms | connect p99 ms "
              "| lateness p50 ms | lateness p99 ms | all done ms | peak RSS MiB | failed | fds left open |")
    table = [header, "|" + "---|" * 13]
    for world in worlds:
        for n in races:
            floor = results.get((world, n, "floor"))
            floor_cpu = summarize(floor)["cpu_us_per_race"] if floor else None
            for c in clients:
                runs = results.get((world, n, c))
                if not runs:
                    continue
                s = summarize(runs)
                ratio = s["cpu_us_per_race"] / floor_cpu if floor_cpu and s["cpu_us_per_race"] else None
                name = label(c, n)
                if c == "curl":
                    name += " ¹"
                table.append(
                    f"| {name} | {world} | {n} | {fmt(s['cpu_us_per_race'])} | "
                    f"{fmt(ratio, 2) + '×' if ratio else '—'} | {fmt_ms(s['connect_ms_p50'])} | "
                    f"{fmt_ms(s['connect_ms_p99'])} | {fmt_ms(s['lateness_ms_p50'])} | "
                    f"{fmt_ms(s['lateness_ms_p99'])} | {fmt_ms(s['makespan_ms']) if n > 1 else '—'} | "
                    f"{fmt(s['peak_rss_kib'] / 1024 if s['peak_rss_kib'] else None)} | {s['failed']} | "
                    f"{'—' if s['fds_left_open'] is None else s['fds_left_open']} |")
    command = args.command or "scripts/bench"
    md = [
        "# eyeballs-bench: peer comparison (issue 7)",
        "",
        f"Made by `{command}` on {started:%Y-%m-%d %H:%M} (commit {commit}), "
        f"{elapsed / 60:.1f} min; 1-minute load average {load_start:.2f} at the start, "
        f"{load_end:.2f} at the end (2 vCPUs"
        f"{'; every client and world ran under nice -n -20' if args.nice else ''}). {args.runs} runs per config for N > 1, "
        f"{args.runs_n1} for N = 1, interleaved across clients; every figure is the median over "
        "those runs (each figure on its own), except *failed* and *fds left open*, which are the "
        "worst run. Every run, with the load average around it: `raw.jsonl`.",
        "",
        "N races start as one burst in one thread; the world (listeners, accept loop) is another "
        "process. *connect*: from the start of a race (when it begins to run) to when the caller "
        "learns it connected. *lateness*: connect time minus the ideal — the loopback RTT, plus "
        "the 250 ms attempt delay in blackhole6; in refused6 plus the 10 ms floor for eyeballs "
        "(RFC 8305 §5) and one more RTT for the clients that fail over at once (the floor "
        "client, Python, Node, curl). *all done*: from the first race's start to the last "
        "race's end (the burst as a whole; N > 1 only). *CPU*: user + sys of the client process over the burst, "
        "per race (winners closed afterwards). N = 1: one sample per run, so p50 is the median "
        "run and p99 the worst run. For N > 1 the poll adapter (one blocking race per call) is "
        "replaced by `eyeballs core+epoll`, the bench's own driver of N RaceMachines over one "
        "epoll set.",
        "",
        *table,
        "",
        "¹ curl: one process per race; CPU and RSS are the whole process (start-up included), "
        "the time is curl's own `time_connect`; no warm-up race. Every other client runs one "
        "warm-up race first, not counted.",
        "",
    ]
    if skipped:
        md += [f"Skipped: {', '.join(skipped)}.", ""]
    tg = targets(results)
    if tg:
        md += ["## Targets (issue 7)", ""]
        for text, met, detail in tg:
            md.append(f"- {'met' if met else '**missed**'}: {text} — {detail}")
        md.append("")
    if png:
        md += ["![lateness distribution per client](lateness.png)", ""]
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
