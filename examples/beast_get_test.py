#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""beast_get through a blackholed IPv6: one port P, [::1]:P dropping SYNs
(listen(0) with its accept queue filled by our own clients) and an HTTP/1.1
server on 127.0.0.1:P. `beast_get ::1,127.0.0.1 P /eyeballs` must win over
IPv4 as attempt 2 of 2, at least 250 ms (the attempt delay) after the start,
and print the server's 200 response and body; the server must have seen one
GET /eyeballs over HTTP/1.1.

Then Alt-Svc (RFC 7838, eyeballs/beast.hpp): `beast_get localhost P1 /a /b /c`
against two HTTP servers on 127.0.0.1, P1 answering
`Alt-Svc: http%2F1.1=":P2"` and P2 answering `Alt-Svc: clear`: /a must go to
P1, /b to P2 (the alternative, marked alt-svc), /c to P1 again (cleared).

usage: beast_get_test.py BEAST_GET
"""
import errno
import http.server
import re
import select
import socket
import subprocess
import sys
import threading

BODY = b"hello from the dual-stack test server\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Handler.seen.append((self.command, self.path, self.request_version,
                             self.headers.get("Host"), self.client_address[0]))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def blackhole_and_server():
    """[::1]:P listening with listen(0) and a full accept queue, and an HTTP
    server on 127.0.0.1:P."""
    for _ in range(20):
        v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        v6.bind(("::1", 0))
        port = v6.getsockname()[1]
        try:
            server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        except OSError as e:
            v6.close()
            if e.errno == errno.EADDRINUSE:
                continue
            raise
        v6.listen(0)
        fillers = []
        for _ in range(16):
            c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex(("::1", port))
            _, writable, _ = select.select([], [c], [], 0.2)
            if not writable:
                c.close()  # this SYN was dropped: the queue is full
                return v6, fillers, server, port
            if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                fail("a connect to the [::1] listener failed instead of queueing")
            fillers.append(c)
        fail("[::1]:%d never started dropping SYNs" % port)
    fail("no port free on both [::1] and 127.0.0.1")


class AltSvcHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's name)
        port = self.server.server_address[1]
        self.server.seen.append(self.path)
        body = ("port %d %s\n" % (port, self.path)).encode()
        self.send_response(200)
        self.send_header("Alt-Svc", self.server.alt_svc)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def alt_svc_case(beast_get):
    alternative = http.server.HTTPServer(("127.0.0.1", 0), AltSvcHandler)
    origin = http.server.HTTPServer(("127.0.0.1", 0), AltSvcHandler)
    p1, p2 = origin.server_address[1], alternative.server_address[1]
    origin.alt_svc = 'http%%2F1.1=":%d"; ma=600' % p2
    alternative.alt_svc = "clear"
    origin.seen, alternative.seen = [], []
    for server in (origin, alternative):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = subprocess.run([beast_get, "localhost", str(p1), "/a", "/b", "/c"],
                             capture_output=True, text=True, timeout=45)
    finally:
        for server in (origin, alternative):
            server.shutdown()
            server.server_close()
    print(run.stdout, end="")
    print(run.stderr, end="", file=sys.stderr)
    if run.returncode != 0:
        fail("beast_get localhost exited with %d" % run.returncode)
    winners = [line for line in run.stdout.splitlines() if line.startswith("connected to ")]
    expected = [(p1, False), (p2, True), (p1, False)]
    if len(winners) != 3:
        fail("%d races, not 3" % len(winners))
    for line, (port, alt) in zip(winners, expected):
        if not line.startswith("connected to 127.0.0.1:%d " % port):
            fail("%r: not to port %d" % (line, port))
        if line.endswith(", alt-svc") != alt:
            fail("%r: the alt-svc mark is %s" % (line, "missing" if alt else "unexpected"))
    for port, path in ((p1, "/a"), (p2, "/b"), (p1, "/c")):
        if "port %d %s" % (port, path) not in run.stdout:
            fail("no body for %s from port %d" % (path, port))
    if origin.seen != ["/a", "/c"] or alternative.seen != ["/b"]:
        fail("the servers saw %r and %r" % (origin.seen, alternative.seen))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    v6, fillers, server, port = blackhole_and_server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run = subprocess.run([sys.argv[1], "::1,127.0.0.1", str(port), "/eyeballs"],
                             capture_output=True, text=True, timeout=45)
    finally:
        server.shutdown()
        server.server_close()
        for c in fillers:
            c.close()
        v6.close()
    print(run.stdout, end="")
    print(run.stderr, end="", file=sys.stderr)
    if run.returncode != 0:
        fail("beast_get exited with %d" % run.returncode)
    lines = run.stdout.splitlines()
    m = re.fullmatch(r"connected to 127\.0\.0\.1:%d \(IPv4\) after ([0-9.]+) ms, attempt 2 of 2"
                     % port, lines[0] if lines else "")
    if not m:
        fail("IPv4 did not win as attempt 2 of 2")
    if float(m.group(1)) < 250:
        fail("won after %s ms, before the 250 ms attempt delay" % m.group(1))
    if lines[1:2] != ["HTTP/1.1 200 OK"]:
        fail("no 'HTTP/1.1 200 OK' status line after the winner")
    if "\n".join(lines[2:]) + "\n" != BODY.decode():
        fail("the body is not the server's")
    if len(Handler.seen) != 1:
        fail("the server saw %d requests, not 1" % len(Handler.seen))
    method, path, version, host, client = Handler.seen[0]
    if (method, path, version, client) != ("GET", "/eyeballs", "HTTP/1.1", "127.0.0.1"):
        fail("the server saw %r" % (Handler.seen[0],))
    if not host:
        fail("the request has no Host header")
    alt_svc_case(sys.argv[1])
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
