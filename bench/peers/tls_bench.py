#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""The TLS race through a blackholed IPv6 path (issue 18 item 5).

The world, made here (no middlebox): [::1]:P is a listen(0) socket whose
accept queue is filled by our own connects, so further SYNs are dropped;
127.0.0.1:P is a TLS server (Python ssl, two processes on SO_REUSEPORT) with a
P-256 certificate for bench.test made at run time by `openssl req` in a
temporary directory. Accepted connections stay open; a client that sends a
request (curl) gets an empty HTTP/1.1 200 and the connection is closed.

Clients, attempt delay 250 ms, [::1] first:
  eyeballs   eyeballs-bench-tls: N threads of eyeballs::poll::connect with TLS
  curl       curl --happy-eyeballs-timeout-ms 250 --cacert CA --resolve
             bench.test:P:[::1],127.0.0.1 https://bench.test:P/  (N = 1; its
             time_appconnect, CPU from eyeballs-bench-rusage)
  python     python_client.py --tls CA: asyncio.open_connection(ssl=...,
             happy_eyeballs_delay=0.25), N on one loop

The ideal: 250 ms plus the TCP+TLS handshake measured alone on the winning
path (eyeballs-bench-tls --only-v4, N = 1, the median of the runs). "past
ideal" = connect time minus that. CPU per race: the client process's user +
sys over the burst, divided by N.

usage: tls_bench.py --build-dir DIR [--runs 5] [--races 1,1000] [--out FILE.md]
       tls_bench.py --build-dir DIR --smoke

--smoke (ctest eyeballs_bench_smoke_tls, nothing timed): eyeballs alone, N = 3,
every race must win over TLS on IPv4 with no failure; exit 1 otherwise.
"""
import argparse
import json
import multiprocessing
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def make_cert(d):
    key, crt = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=bench.test", "-addext",
                    "subjectAltName=DNS:bench.test", "-keyout", key, "-out", crt],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, crt


def serve_tls(port, key, crt, ready):
    import asyncio

    async def main():
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        ctx.set_alpn_protocols(["http/1.1"])  # curl then speaks HTTP/1.1 to our one answer
        kept = []

        async def on_client(reader, writer):
            kept.append(writer)
            try:
                data = await reader.read(4096)
                if data:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    await writer.drain()
                    writer.close()
            except (OSError, ssl.SSLError):
                pass

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(4096)
        server = await asyncio.start_server(on_client, sock=sock, ssl=ctx, backlog=4096)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class TlsWorld:
    def __init__(self, key, crt, servers=2):
        self.hole = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.hole.bind(("::1", 0))
        self.port = self.hole.getsockname()[1]
        self.hole.listen(0)
        self.fillers = []
        for _ in range(4):  # fill the accept queue: later SYNs are dropped
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("::1", self.port))
            self.fillers.append(s)
        time.sleep(0.05)
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.settimeout(0.2)
        try:
            probe.connect(("::1", self.port))
            raise SystemExit("tls_bench: [::1] is not blackholed (the probe connected)")
        except socket.timeout:
            pass
        finally:
            probe.close()
        self.procs = []
        for _ in range(servers):
            ready = multiprocessing.Event()
            p = multiprocessing.Process(target=serve_tls, args=(self.port, key, crt, ready), daemon=True)
            p.start()
            if not ready.wait(10):
                raise SystemExit("tls_bench: the TLS server did not start")
            self.procs.append(p)

    def close(self):
        for p in self.procs:
            p.terminate()
            p.join()
        for s in self.fillers:
            s.close()
        self.hole.close()


def run_eyeballs(build, port, crt, n, only_v4=False):
    cmd = [os.path.join(build, "bench", "peers", "eyeballs-bench-tls"), "--port", str(port),
           "--cacert", crt, "--races", str(n)] + (["--only-v4"] if only_v4 else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_python(port, crt, n):
    cmd = [sys.executable, os.path.join(HERE, "python_client.py"), "--port", str(port), "--rtt-ns", "0",
           "--world", "blackhole6", "--races", str(n), "--json", "--tls", crt]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_curl(build, port, crt):
    rus = os.path.join(build, "bench", "peers", "eyeballs-bench-rusage")
    cmd = [rus, "curl", "-s", "-o", "/dev/null", "-w", "%{time_appconnect}", "--happy-eyeballs-timeout-ms",
           "250", "--cacert", crt, "--resolve", f"bench.test:{port}:[::1],127.0.0.1",
           f"https://bench.test:{port}/"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    user, sys_, rss, rc = p.stderr.strip().splitlines()[-1].split()[1:5]
    ok = rc == "0"
    return {"races": 1, "connected": int(ok), "failed": int(not ok),
            "cpu_us_per_race": float(user) + float(sys_),
            "connect_ms_p50": float(p.stdout) * 1e3, "connect_ms_p99": float(p.stdout) * 1e3}


def load():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--races", default="1,1000")
    ap.add_argument("--out", help="write the Markdown table here too")
    ap.add_argument("--command", default="bench/peers/tls_bench.py")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        with tempfile.TemporaryDirectory() as d:
            key, crt = make_cert(d)
            world = TlsWorld(key, crt, servers=1)
            try:
                r = run_eyeballs(args.build_dir, world.port, crt, 3)
            finally:
                world.close()
        ok = r["connected"] == 3 and r["failed"] == 0 and r["won_v4"] == 3 and r["tls_version"].startswith("TLS")
        print(("ok: " if ok else "FAILED: ") + json.dumps(r))
        sys.exit(0 if ok else 1)
    sizes = [int(x) for x in args.races.split(",")]
    have_curl = shutil.which("curl") is not None
    load0 = load()
    t_start = time.time()
    with tempfile.TemporaryDirectory() as d:
        key, crt = make_cert(d)
        world = TlsWorld(key, crt)
        try:
            alone = [run_eyeballs(args.build_dir, world.port, crt, 1, only_v4=True)["connect_ms_p50"]
                     for _ in range(max(args.runs, 5))]
            handshake = statistics.median(alone)
            ideal = 250.0 + handshake
            rows = {}
            for n in sizes:
                clients = ["eyeballs", "python"] + (["curl"] if n == 1 and have_curl else [])
                for _ in range(args.runs):  # interleaved: a change of load hits every client alike
                    for c in clients:
                        if c == "eyeballs":
                            r = run_eyeballs(args.build_dir, world.port, crt, n)
                        elif c == "python":
                            r = run_python(world.port, crt, n)
                        else:
                            r = run_curl(args.build_dir, world.port, crt)
                        r["load"] = load()
                        rows.setdefault((c, n), []).append(r)
        finally:
            world.close()
    names = {"eyeballs": "eyeballs poll (TLS)", "python": "Python asyncio (ssl)", "curl": "curl ¹"}
    lines = [f"TLS race, IPv6 blackholed, 127.0.0.1 a TLS server (TLS 1.3, P-256); made by "
             f"`{args.command}` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime(t_start))} UTC, "
             f"{args.runs} runs per row (medians), 1-minute load {load0:.2f} at the start and "
             f"{load():.2f} at the end ({os.cpu_count()} CPUs). Handshake alone on 127.0.0.1: "
             f"{handshake:.3f} ms (eyeballs, median of {len(alone)}); ideal = 250 ms + that.", "",
             "| client | N | CPU µs/race | connect p50 ms | connect p99 ms | past ideal p50 ms | "
             "past ideal p99 ms | failed |", "|---|---|---|---|---|---|---|---|"]
    for (c, n), rs in rows.items():
        med = lambda k: statistics.median(r[k] for r in rs if r.get(k) is not None)  # noqa: E731
        failed = max(r["failed"] for r in rs)
        p50, p99 = med("connect_ms_p50"), med("connect_ms_p99")
        lines.append(f"| {names[c]} | {n} | {med('cpu_us_per_race'):.0f} | {p50:.2f} | {p99:.2f} | "
                     f"{p50 - ideal:.2f} | {p99 - ideal:.2f} | {failed} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(args.out)[0] + ".jsonl", "w") as f:
            for (c, n), rs in rows.items():
                for r in rs:
                    f.write(json.dumps({"tls_client": c, "n": n, **r}) + "\n")


if __name__ == "__main__":
    main()
