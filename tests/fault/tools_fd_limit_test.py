#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Fault suite (issue 14 item 3): every tool at `ulimit -n` 5, 6, 7 and 8.

eyeballs-connect, with each adapter it was built with, in addresses mode
(a refused 127.0.0.1 port) and in DNS mode (a DNS server that never answers):
exit 1, nothing on stdout, and exactly one stderr line of its own
("eyeballs-connect: ..."), never an abort (exit 134), an uncaught exception or
a library's own "[warn]"/"[err]" line. In addresses mode the line names the
errno: EMFILE when fds ran out, else the refused connect's ECONNREFUSED; at
`ulimit -n` 5 every adapter runs out, so the line must name EMFILE.

eyeballs-sim needs only its input file: at 5-8 it plays a scenario exactly as
without a limit (exit 0, the same trace, nothing on stderr). (Below 4 the
dynamic loader itself cannot open libstdc++; an unreadable file's exit 2 is
scenario.usage's.)

The limit is set in the child before exec (what `ulimit -n N` in a subshell
does). Usage: tools_fd_limit_test.py CONNECT SIM SCENARIO_DIR "poll;asio;libevent"
Python 3 standard library only."""

import os
import resource
import socket
import subprocess
import sys

LIMITS = (5, 6, 7, 8)
FOREIGN = ("[warn]", "[err]", "[debug]", "terminate called", "what():", "Aborted",
           "AddressSanitizer", "LeakSanitizer", "runtime error")


def run_limited(argv, limit, timeout=30):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]

    def lower():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))

    return subprocess.run(argv, capture_output=True, text=True, errors="replace",
                          timeout=timeout, check=False, preexec_fn=lower)


def check_connect(failures, what, run, limit, expect_errno):
    lines = run.stderr.splitlines()
    problems = []
    if run.returncode != 1:
        problems.append(f"exit {run.returncode}, expected 1")
    if run.stdout:
        problems.append(f"stdout not empty: {run.stdout!r}")
    if len(lines) != 1 or not lines[0].startswith("eyeballs-connect: "):
        problems.append("stderr is not one 'eyeballs-connect: ' line")
    for word in FOREIGN:
        if word in run.stderr:
            problems.append(f"stderr has {word!r}")
    if expect_errno and not any(e in run.stderr for e in expect_errno):
        problems.append(f"stderr names none of {expect_errno}")
    for p in problems:
        failures.append(f"{what} at ulimit -n {limit}: {p}: {run.stderr!r}")
    return not problems


def main(argv):
    connect, sim, scenario_dir, adapters = argv
    adapters = [a for a in adapters.split(";") if a]
    if not adapters:
        print("FAIL no adapter was built")
        return 1
    failures = []
    cases = 0

    # A refused port (bound, never listening) and a DNS server that never answers.
    refused = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    refused.bind(("127.0.0.1", 0))
    port = refused.getsockname()[1]
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    dns_port = silent.getsockname()[1]

    for adapter in adapters:
        for limit in LIMITS:
            cases += 1
            run = run_limited([connect, "--adapter", adapter, "--timeout", "2000",
                               "--resolve", f"x.test:{port}:127.0.0.1", "x.test", str(port)],
                              limit)
            expect = ["EMFILE"] if limit == 5 else ["EMFILE", "ECONNREFUSED"]
            if check_connect(failures, f"--adapter {adapter} (addresses)", run, limit, expect):
                print(f"ok {adapter} addresses ulimit {limit}: {run.stderr.strip()}")
            cases += 1
            run = run_limited([connect, "--adapter", adapter, "--timeout", "300",
                               "--dns-server", f"127.0.0.1:{dns_port}", "x.test", str(port)],
                              limit)
            if check_connect(failures, f"--adapter {adapter} (DNS)", run, limit, None):
                print(f"ok {adapter} dns ulimit {limit}: {run.stderr.strip()}")

    scenario = os.path.join(scenario_dir, "summary_single_error.scn")
    free = subprocess.run([sim, "--json", scenario], capture_output=True, text=True,
                          timeout=30, check=False)
    if free.returncode != 0 or not free.stdout:
        failures.append(f"eyeballs-sim without a limit: exit {free.returncode} {free.stderr!r}")
    for limit in LIMITS:
        cases += 1
        run = run_limited([sim, "--json", scenario], limit)
        if run.returncode != 0 or run.stdout != free.stdout or run.stderr:
            failures.append(f"eyeballs-sim at ulimit -n {limit}: exit {run.returncode}, "
                            f"stderr {run.stderr!r}, same trace: {run.stdout == free.stdout}")
        else:
            print(f"ok eyeballs-sim ulimit {limit}")
    refused.close()
    silent.close()
    for f in failures:
        print("FAIL " + f)
    print(f"{cases} cases, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
