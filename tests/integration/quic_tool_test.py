#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
# eyeballs-connect --http3 (issue 18 items 2-4): QUIC (ngtcp2's gtlsserver)
# raced against TCP+TLS (a Python ssl server) on 127.0.0.1, in worlds this test
# makes itself, certificates included (openssl, at test time):
#   (d) QUIC and TCP+TLS both up        -> QUIC wins at once, no TCP attempt;
#   (e) UDP blackholed (--rx-loss=1.0)  -> TCP+TLS starts after the attempt
#                                          delay (250 ms) and wins;
#   (f) nothing on UDP (port unreachable) -> the QUIC attempt fails at once
#                                          (ECONNREFUSED) and TCP+TLS wins;
#   (g) a QUIC certificate from another CA -> the QUIC attempt fails at stage
#                                          tls ("certificate verify failed"),
#                                          TCP+TLS wins;
#   (h) --https --alt-svc 'h3=":PORT"' with the origin's TCP port closed -> the
#                                          Alt-Svc alternative races over QUIC
#                                          and wins (issue 17 item 9).
# Usage: quic_tool_test.py EYEBALLS_CONNECT GTLSSERVER ADAPTER
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

TOOL, GTLSSERVER, ADAPTER = sys.argv[1], sys.argv[2], sys.argv[3]
del sys.argv[1:4]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from connect_tool_test import DnsServer  # noqa: E402  (the same test DNS server)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + "-ca.key", "-out", name + "-ca.pem", "-days", "1",
            "-subj", "/CN=" + name + " test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            cwd=d)


def make_leaf(d, ca, name):
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=localhost", cwd=d)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + "-ca.pem", "-CAkey", ca + "-ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "1", "-extfile", "san.ext", cwd=d)


def udp_bound(port):
    """True once a socket is bound to UDP port `port` (/proc/net/udp)."""
    suffix = ":%04X" % port
    with open("/proc/net/udp") as f:
        return any(len(row) > 1 and row[1].endswith(suffix) for row in (l.split() for l in f))


class QuicServer:
    """gtlsserver as a child process; start() returns once its port is bound."""

    def __init__(self, d, port, key, cert, *extra):
        self.args = [GTLSSERVER, "-q", *extra, "127.0.0.1", str(port), key, cert]
        self.d, self.port, self.proc = d, port, None

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, cwd=self.d, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not udp_bound(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("gtlsserver did not start: " + " ".join(self.args))
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


class TlsServer:
    """TLS over TCP on 127.0.0.1:port (ALPN h2, http/1.1), one thread."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.set_alpn_protocols(["h2", "http/1.1"])
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                self.conns.append(self.ctx.wrap_socket(c, server_side=True))
            except (OSError, ssl.SSLError):
                c.close()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def race(port, cacert):
    p = subprocess.run([TOOL, "--adapter", ADAPTER, "--http3", "--cacert", cacert, "--json",
                        "127.0.0.1", str(port)], capture_output=True, text=True, timeout=30)
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
    return p, lines


def of(lines, action):
    return [x for x in lines if x.get("action") == action]


class Http3(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        d = cls.d = cls.dir.name
        make_ca(d, "good")
        make_ca(d, "other")
        make_leaf(d, "good", "srv")
        make_leaf(d, "other", "bad")
        cls.cacert = os.path.join(d, "good-ca.pem")
        cls.tls = TlsServer(os.path.join(d, "srv.pem"), os.path.join(d, "srv.key"))
        cls.port = cls.tls.port  # QUIC on the same number, over UDP

    @classmethod
    def tearDownClass(cls):
        cls.tls.close()
        cls.dir.cleanup()

    def quic(self, *extra, cert="srv"):
        return QuicServer(self.d, self.port, cert + ".key", cert + ".pem", *extra)

    def check_report(self, lines, protocol):
        report = of(lines, "report")
        self.assertEqual(len(report), 1, lines)
        self.assertEqual(report[0]["outcome"], "connected", report[0])
        self.assertEqual(report[0]["protocol"], protocol, report[0])
        return report[0]

    def test_d_quic_and_tls_up_quic_wins_at_once(self):
        with self.quic():
            p, lines = race(self.port, self.cacert)
            plain = subprocess.run([TOOL, "--adapter", ADAPTER, "--http3", "--cacert", self.cacert,
                                    "127.0.0.1", str(self.port)],
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_report(lines, "quic")
        connects = of(lines, "connect")
        self.assertEqual([c["protocol"] for c in connects], ["quic"], lines)
        done = of(lines, "tls-done")
        self.assertEqual(len(done), 1, lines)
        self.assertEqual(done[0]["protocol"], "quic")
        self.assertEqual(done[0]["alpn"], ["h3"])
        self.assertEqual(done[0]["version"], "TLSv1.3")
        self.assertLess(done[0]["t"], 250, "the QUIC handshake beat the attempt delay")
        self.assertIn("quic tls TLSv1.3 alpn h3", plain.stdout)

    def test_e_udp_blackholed_tls_after_the_attempt_delay(self):
        with self.quic("--rx-loss=1.0"):
            p, lines = race(self.port, self.cacert)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_report(lines, "tcp")
        connects = of(lines, "connect")
        self.assertEqual([c["protocol"] for c in connects], ["quic", "tcp"], lines)
        self.assertEqual(connects[0]["t"], 0)
        self.assertGreaterEqual(connects[1]["t"], 250, connects)
        self.assertLess(connects[1]["t"], 400, connects)
        self.assertEqual(of(lines, "tls-failed"), [], "silence is no handshake error")

    def test_f_nothing_on_udp_tls_at_once(self):
        p, lines = race(self.port, self.cacert)
        self.assertEqual(p.returncode, 0, p.stderr)
        report = self.check_report(lines, "tcp")
        connects = of(lines, "connect")
        self.assertEqual([c["protocol"] for c in connects], ["quic", "tcp"], lines)
        self.assertLess(connects[1]["t"], 200, "port unreachable fails QUIC at once")
        errors = [e for e in report["errors"] if e["attempt"] == 1]
        self.assertEqual(len(errors), 1, report)
        self.assertEqual(errors[0]["stage"], "connect")
        self.assertEqual(errors[0]["errno"], "ECONNREFUSED")

    def test_g_bad_quic_certificate_is_stage_tls(self):
        with self.quic(cert="bad"):
            p, lines = race(self.port, self.cacert)
        self.assertEqual(p.returncode, 0, p.stderr)
        report = self.check_report(lines, "tcp")
        failed = of(lines, "tls-failed")
        self.assertEqual(len(failed), 1, lines)
        self.assertEqual(failed[0]["protocol"], "quic")
        self.assertIn("certificate verify failed", failed[0]["message"])
        errors = [e for e in report["errors"] if e["attempt"] == 1]
        self.assertEqual(len(errors), 1, report)
        self.assertEqual(errors[0]["stage"], "tls")
        self.assertIn("certificate verify failed", errors[0]["message"])

    def test_h_alt_svc_h3_alternative_races_over_quic(self):
        # The origin's port has nothing on TCP or UDP; the Alt-Svc header
        # names an h3 alternative on the QUIC server's port: it is raced first,
        # over QUIC, and wins.
        closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        closed.bind(("127.0.0.1", 0))
        origin = closed.getsockname()[1]
        closed.close()
        dns = DnsServer({28: (0.0, []), 1: (0.0, ["127.0.0.1"]), 65: (0.0, [])})
        try:
            with self.quic():
                p = subprocess.run([TOOL, "--adapter", ADAPTER, "--https", "--http3", "--cacert",
                                    self.cacert, "--dns-server", f"127.0.0.1:{dns.port}",
                                    "--alt-svc", f'h3=":{self.port}"; ma=60', "--json",
                                    "localhost", str(origin)],
                                   capture_output=True, text=True, timeout=30)
        finally:
            dns.close()
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [json.loads(x) for x in p.stdout.splitlines()]
        report = self.check_report(lines, "quic")
        self.assertEqual(report["remote"], f"127.0.0.1:{self.port}")
        first = of(lines, "connect")[0]
        self.assertEqual((first["remote"], first["protocol"], first["alpn"]),
                         (f"127.0.0.1:{self.port}", "quic", ["h3"]))
        done = of(lines, "tls-done")
        self.assertEqual([(d["protocol"], d["alpn"]) for d in done], [("quic", ["h3"])])

    def test_http3_on_another_adapter_is_a_usage_error(self):
        p = subprocess.run([TOOL, "--adapter", "asio", "--http3", "127.0.0.1", "443"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--http3", p.stderr)

    def test_help_lists_http3(self):
        p = subprocess.run([TOOL, "--help"], capture_output=True, text=True, timeout=30)
        self.assertIn("--http3", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
