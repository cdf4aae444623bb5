#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Self-test of compare_trace.py: it must accept what the matching rules of
shared/scenarios/README.md allow and reject every kind of wrong trace, so that a
scenario test can never pass silently. Python 3 standard library only."""

import json
import os
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_trace  # noqa: E402

CONNECTED = [
    {"t": 0, "action": "resolve", "family": "AAAA"},
    {"t": 0, "action": "connect", "attempt": 1, "remote": "[2001:db8::1]:443"},
    {"t": 250, "action": "connect", "attempt": 2, "remote": "192.0.2.1:443",
     "local": "192.0.2.9:0"},
    {"t": 500, "action": "connect", "attempt": 3, "remote": "[2001:db8::2]:443"},
    {"t": 520, "action": "close", "attempt": 1},
    {"t": 520, "action": "close", "attempt": 3},
    {"t": 520, "action": "report", "outcome": "connected", "attempt": 2,
     "remote": "192.0.2.1:443"},
]

FAILED = [
    {"t": 0, "action": "connect", "attempt": 1, "remote": "192.0.2.1:443"},
    {"t": 4, "action": "close", "attempt": 1},
    {"t": 10, "action": "connect", "attempt": 2, "remote": "[2001:db8::1]:443"},
    {"t": 12.5, "action": "close", "attempt": 2},
    {"t": 12.5, "action": "report", "outcome": "failed", "errno": None,
     "message": "multiple errors: a, b",
     "errors": [
         {"attempt": None, "remote": None, "stage": "resolve", "family": "AAAA",
          "errno": None, "message": "resolve AAAA: no data"},
         {"attempt": 1, "remote": "192.0.2.1:443", "stage": "connect",
          "errno": "ECONNREFUSED", "message": "x"},
         {"attempt": 2, "remote": "[2001:db8::1]:443", "stage": "timeout",
          "errno": "ETIMEDOUT", "message": "y"},
     ]},
]


def text(objs):
    return "".join(json.dumps(o) + "\n" for o in objs)


def copy(objs):
    return json.loads(json.dumps(objs))


def edit(objs, index, **changes):
    out = copy(objs)
    for k, v in changes.items():
        if v is KeyError:
            del out[index][k]
        else:
            out[index][k] = v
    return out


def edit_error(objs, index, **changes):
    out = copy(objs)
    rep = out[-1]
    for k, v in changes.items():
        rep["errors"][index][k] = v
    return out


failures = []


def expect(accept, golden, actual, why, expect_report=True, raw=None):
    actual_text = raw if raw is not None else text(actual)
    problems = compare_trace.compare_texts(text(golden), actual_text, expect_report)
    if accept and problems:
        failures.append(f"should ACCEPT ({why}) but: {problems}")
    if not accept and not problems:
        failures.append(f"should REJECT ({why}) but it matched")


# ---- accepted ---------------------------------------------------------------
expect(True, CONNECTED, CONNECTED, "identical")
expect(True, FAILED, FAILED, "identical failure")
swapped = copy(CONNECTED)
swapped[4], swapped[5] = swapped[5], swapped[4]
expect(True, CONNECTED, swapped, "close lines at one instant in another order")
moved = copy(CONNECTED)
moved.insert(3, moved.pop(4))  # a close before a connect of another instant
expect(True, CONNECTED, moved, "order between connect and close lines is free")
extra = copy(CONNECTED)
extra.insert(1, {"t": 0, "action": "open", "attempt": 1, "remote": "x"})
extra.insert(2, {"t": 0, "action": "timer", "what": "whatever"})
extra[2]["unknown_key"] = [1, 2]
expect(True, CONNECTED, extra, "unknown actions and keys are ignored")
expect(True, CONNECTED, [o for o in CONNECTED if o["action"] != "resolve"],
       "resolve lines are not compared")
expect(True, CONNECTED, edit(CONNECTED, 6, t=520.0), "520.0 equals 520")
expect(True, FAILED, edit(FAILED, 4, message="other words"), "summary text is free")
expect(True, FAILED, edit_error(FAILED, 1, message="other words"), "error text is free")
expect(True, CONNECTED, edit(CONNECTED, 1, local="[2001:db8::9]:0"),
       "local not compared when the golden line has none")
expect(True, CONNECTED, CONNECTED, "trailing blank line", raw=text(CONNECTED) + "\n")
expect(True, CONNECTED[:-1], CONNECTED[:-1], "no report when none expected",
       expect_report=False)

# ---- rejected: connect ------------------------------------------------------
expect(False, CONNECTED, edit(CONNECTED, 2, t=251), "connect t")
expect(False, CONNECTED, edit(CONNECTED, 2, t=250.000001), "connect t off by 1 ns")
expect(False, CONNECTED, edit(CONNECTED, 2, attempt=3), "connect attempt")
expect(False, CONNECTED, edit(CONNECTED, 2, remote="192.0.2.2:443"), "connect remote")
expect(False, CONNECTED, edit(CONNECTED, 2, remote="192.0.2.1:80"), "connect port")
expect(False, CONNECTED, edit(CONNECTED, 2, local="192.0.2.8:0"), "connect local differs")
expect(False, CONNECTED, edit(CONNECTED, 2, local=KeyError), "connect local missing")
expect(False, CONNECTED, edit(CONNECTED, 2, attempt=KeyError), "connect attempt missing")
expect(False, CONNECTED, edit(CONNECTED, 2, t="250"), "t as a string")
order = copy(CONNECTED)
order[2], order[3] = order[3], order[2]
expect(False, CONNECTED, order, "connect lines in another order")
expect(False, CONNECTED, CONNECTED[:3] + CONNECTED[4:], "a connect line missing")
expect(False, CONNECTED, CONNECTED[:4] + [dict(CONNECTED[3], attempt=4)] + CONNECTED[4:],
       "an extra connect line")

# ---- rejected: close --------------------------------------------------------
expect(False, CONNECTED, edit(CONNECTED, 4, t=519), "close t")
expect(False, CONNECTED, edit(CONNECTED, 4, attempt=2), "close attempt")
expect(False, CONNECTED, CONNECTED[:4] + CONNECTED[5:], "a close line missing")
expect(False, CONNECTED, CONNECTED[:6] + [dict(CONNECTED[5])] + CONNECTED[6:],
       "a close line twice")
expect(False, CONNECTED, CONNECTED[:6] + [{"t": 520, "action": "close", "attempt": 2}]
       + CONNECTED[6:], "an extra close line (the winner)")
expect(False, FAILED, edit(FAILED, 1, t=12.5), "close moved to another instant")

# ---- rejected: report -------------------------------------------------------
expect(False, CONNECTED, edit(CONNECTED, 6, t=521), "report t")
expect(False, CONNECTED, edit(CONNECTED, 6, outcome="failed"), "report outcome")
expect(False, CONNECTED, edit(CONNECTED, 6, attempt=1), "report winner")
expect(False, CONNECTED, edit(CONNECTED, 6, remote="[2001:db8::1]:443"), "report remote")
expect(False, CONNECTED, edit(CONNECTED, 6, remote=KeyError), "report remote missing")
expect(False, CONNECTED, CONNECTED[:-1], "no report")
expect(False, CONNECTED, CONNECTED + [dict(CONNECTED[-1])], "two reports")
late = copy(CONNECTED)
late.append({"t": 520, "action": "close", "attempt": 7})
expect(False, CONNECTED, late, "a line after the report")
not_last = copy(CONNECTED)
not_last.insert(5, not_last.pop(6))
expect(False, CONNECTED, not_last, "report is not the last line")
expect(False, CONNECTED, CONNECTED, "report when the race must never finish",
       expect_report=False)
expect(False, FAILED, edit(FAILED, 4, errno="ECONNREFUSED"), "summary errno")
expect(False, FAILED, edit(FAILED, 4, errno=KeyError), "summary errno missing")
expect(False, FAILED, edit_error(FAILED, 0, stage="connect"), "error stage")
expect(False, FAILED, edit_error(FAILED, 1, attempt=2), "error attempt")
expect(False, FAILED, edit_error(FAILED, 1, remote="192.0.2.2:443"), "error remote")
expect(False, FAILED, edit_error(FAILED, 1, errno="ECONNRESET"), "error errno")
expect(False, FAILED, edit_error(FAILED, 1, errno=None), "error errno null")
expect(False, FAILED, edit_error(FAILED, 0, attempt=0), "resolve error attempt 0, not null")
swapped_errors = copy(FAILED)
e = swapped_errors[-1]["errors"]
e[1], e[2] = e[2], e[1]
expect(False, FAILED, swapped_errors, "errors in another order")
short = copy(FAILED)
short[-1]["errors"].pop()
expect(False, FAILED, short, "an error missing")
expect(False, FAILED, edit(FAILED, 4, errors=KeyError), "errors list missing")

# ---- Happy Eyeballs v3 keys (HTTPS-driven endpoints) -----------------------
V3 = [
    {"t": 0, "action": "resolve", "family": "AAAA"},
    {"t": 0, "action": "resolve", "family": "HTTPS"},
    {"t": 10, "action": "resolve", "family": "AAAA", "name": "svc.example.net."},
    {"t": 10, "action": "resolve", "family": "A", "name": "svc.example.net."},
    {"t": 10, "action": "connect", "attempt": 1, "remote": "[2001:db8::1]:443",
     "protocol": "quic", "alpn": ["h3"], "ech": True},
    {"t": 10, "action": "close", "attempt": 1},
    {"t": 20, "action": "connect", "attempt": 2, "remote": "[2001:db8::1]:443",
     "protocol": "tcp", "alpn": ["h2", "http/1.1"]},
    {"t": 30, "action": "report", "outcome": "connected", "attempt": 2,
     "remote": "[2001:db8::1]:443", "protocol": "tcp", "alpn": ["h2", "http/1.1"]},
]
expect(True, V3, V3, "identical v3 trace")
v3_order = copy(V3)
v3_order[2], v3_order[3] = v3_order[3], v3_order[2]
expect(True, V3, v3_order, "questions at one instant in another order")
expect(False, V3, edit(V3, 4, protocol="tcp"), "connect protocol")
expect(False, V3, edit(V3, 4, protocol=KeyError), "connect protocol missing")
expect(False, V3, edit(V3, 6, alpn=["http/1.1", "h2"]), "connect alpn order")
expect(False, V3, edit(V3, 4, ech=KeyError), "connect ech missing")
expect(False, V3, edit(V3, 7, protocol="quic"), "report protocol")
# "from":"alt-svc" (an Alt-Svc alternative's endpoint): compared where the
# golden has it; absent from a golden line with alpn, it must be absent.
v3_alt = edit(edit(V3, 6, **{"from": "alt-svc"}), 7, **{"from": "alt-svc"})
expect(True, v3_alt, v3_alt, "the same Alt-Svc marks")
expect(False, v3_alt, V3, "connect and report without their Alt-Svc mark")
expect(False, v3_alt, edit(v3_alt, 7, **{"from": KeyError}), "report's Alt-Svc mark missing")
expect(False, V3, edit(V3, 4, **{"from": "alt-svc"}), "an HTTPS record's connect marked")
expect(False, V3, edit(V3, 7, **{"from": "alt-svc"}), "an HTTPS record's winner marked")
expect(False, V3, V3[:3] + V3[4:], "a target question missing")
expect(False, V3, edit(V3, 2, name="other.example.net."), "a target question's name")
expect(False, V3, edit(V3, 1, t=5), "the HTTPS question's time")
expect(False, V3, edit(V3, 1, prefix="_8443._https"), "a port prefix the golden lacks")
v3_prefixed = edit(V3, 1, prefix="_8443._https")
expect(True, v3_prefixed, v3_prefixed, "the same port-prefixed HTTPS question")
expect(False, v3_prefixed, V3, "the port prefix missing (RFC 9460 §9.1)")
expect(False, v3_prefixed, edit(V3, 1, prefix="_9443._https"), "another port prefix")
v3_fail = [dict(V3[0]), {"t": 5, "action": "report", "outcome": "failed", "errno": None,
                         "message": "m", "errors": [
                             {"attempt": None, "remote": None, "stage": "resolve",
                              "family": "AAAA", "name": "svc.example.net.", "errno": None,
                              "message": "x"}]}]
expect(True, v3_fail, v3_fail, "an error with a name")
expect(False, v3_fail, edit_error(v3_fail, 0, name="x.example."), "an error's name")

# crypto-ready lines (config ech, v3 §6.3): compared by t, attempt and ech, in order.
V3_CR = V3[:5] + [{"t": 12, "action": "crypto-ready", "attempt": 1, "ech": True}] + V3[5:]
expect(True, V3_CR, V3_CR, "the same crypto-ready line")
expect(False, V3_CR, V3, "a crypto-ready line missing")
expect(False, V3, V3_CR, "a crypto-ready line the golden lacks")
expect(False, V3_CR, edit(V3_CR, 5, t=13), "a crypto-ready line's time")
expect(False, V3_CR, edit(V3_CR, 5, ech=False), "a crypto-ready line's ech")
expect(False, V3_CR, edit(V3_CR, 5, attempt=2), "a crypto-ready line's attempt")

# ---- rejected: not a trace --------------------------------------------------
expect(False, CONNECTED, None, "not JSON", raw=text(CONNECTED).replace("}", "", 1))
expect(False, CONNECTED, None, "a JSON array line", raw="[]\n" + text(CONNECTED))
expect(False, CONNECTED, None, "a blank line inside",
       raw=text(CONNECTED[:2]) + "\n" + text(CONNECTED[2:]))
expect(False, CONNECTED, None, "empty trace", raw="")

# ---- the command line, both ways --------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    golden = os.path.join(tmp, "golden.json")
    wrong = os.path.join(tmp, "wrong.json")
    scn = os.path.join(tmp, "x.scn")
    with open(golden, "w") as f:
        f.write(text(CONNECTED))
    with open(wrong, "w") as f:
        f.write(text(edit(CONNECTED, 2, t=251)))
    with open(scn, "w") as f:
        f.write("addresses 192.0.2.1\n")
    tool = os.path.join(HERE, "compare_trace.py")

    def run(*args):
        return subprocess.run([sys.executable, tool, *args], capture_output=True,
                              text=True, check=False).returncode

    def fake_sim(name, output, status, stderr=""):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(f"#!{sys.executable}\nimport sys\n"
                    f"sys.stdout.write({output!r})\nsys.stderr.write({stderr!r})\n"
                    f"sys.exit({status})\n")
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path

    checks = [
        (run(golden, golden), 0, "CLI: same file"),
        (run(golden, wrong), 1, "CLI: wrong trace"),
        (run("--sim", fake_sim("good", text(CONNECTED), 0), scn, golden), 0,
         "--sim: right trace"),
        (run("--sim", fake_sim("bad", text(edit(CONNECTED, 6, attempt=1)), 0), scn, golden),
         1, "--sim: wrong trace"),
        (run("--sim", fake_sim("exit1", text(CONNECTED), 1), scn, golden), 1,
         "--sim: wrong exit status"),
        (run("--sim", fake_sim("noisy", text(CONNECTED), 0, "oops\n"), scn, golden), 1,
         "--sim: stderr on a finished run"),
        (run("--sim", fake_sim("stuck", text(CONNECTED[:-1]), 3, "can never finish\n"),
             "--expect-exit", "3", scn, wrong), 1, "--sim exit 3: wrong partial trace"),
        (run("--sim", fake_sim("stuck2", text(CONNECTED[:-1]), 3, "can never finish\n"),
             "--expect-exit", "3", scn, golden), 1, "--sim exit 3: golden with a report"),
        (run("--sim", fake_sim("stuck3", text(CONNECTED), 3, "can never finish\n"),
             "--expect-exit", "3", scn, golden), 1, "--sim exit 3: trace with a report"),
        (run("--sim", fake_sim("stuck4", text(CONNECTED[:-1]), 3, "stopped\n"),
             "--expect-exit", "3", scn, golden), 1, "--sim exit 3: stderr says nothing"),
    ]
    partial = os.path.join(tmp, "partial.json")
    with open(partial, "w") as f:
        f.write(text(CONNECTED[:-1]))
    checks.append((run("--sim", fake_sim("stuck5", text(CONNECTED[:-1]), 3,
                                         "the race can never finish\n"),
                       "--expect-exit", "3", scn, partial), 0, "--sim exit 3: right"))
    for got, want, why in checks:
        if got != want:
            failures.append(f"{why}: exit {got}, expected {want}")

if failures:
    for f in failures:
        print("FAIL " + f)
    sys.exit(1)
print("compare_trace.py self-test: all checks passed")
