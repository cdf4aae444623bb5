#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""eyeballs-sim bounds its input (issue 14 item 4): a scenario larger than 1 MiB is
a whole-file error (exit 2, one stderr line `FILE:0: ...` naming the limit, nothing
on stdout), and reading stops at the bound, so /dev/zero, a FIFO fed without end
and standard input fed without end are refused quickly instead of read forever.
A valid scenario padded to exactly 1 MiB still runs (exit 0).

Usage: check_large.py SIM SCENARIO_DIR      Python 3 standard library only."""

import os
import subprocess
import sys
import tempfile
import threading

LIMIT = 1 << 20
TIMEOUT = 20  # seconds: a run that reads forever is killed and fails


def check_refused(failures, what, run, name):
    lines = run.stderr.splitlines()
    if run.returncode != 2:
        failures.append(f"{what}: exit {run.returncode}, expected 2")
    if run.stdout:
        failures.append(f"{what}: stdout should be empty: {run.stdout[:200]!r}")
    if len(lines) != 1 or not lines[0].startswith(name + ":0: ") or \
            str(LIMIT) not in lines[0] or "1 MiB" not in lines[0]:
        failures.append(f"{what}: stderr should be one line '{name}:0: ...' naming "
                        f"{LIMIT} bytes (1 MiB): {run.stderr[:300]!r}")


def run_sim(sim, args, **kwargs):
    try:
        return subprocess.run([sim, "--json", *args], capture_output=True, text=True,
                              errors="replace", timeout=TIMEOUT, check=False, **kwargs)
    except subprocess.TimeoutExpired:
        return None


def main(argv):
    sim, scenario_dir = argv
    failures = []
    base = open(os.path.join(scenario_dir, "summary_single_error.scn"),
                encoding="utf-8").read()
    if not base.endswith("\n"):
        base += "\n"
    with tempfile.TemporaryDirectory() as tmp:
        # Exactly the limit: padded with comment lines, still a scenario.
        exact = os.path.join(tmp, "exact.scn")
        pad = LIMIT - len(base.encode())
        body = base + ("#" + "x" * 1022 + "\n") * (pad // 1024)  # 1024-byte comments
        if pad % 1024:
            body += "#" * (pad % 1024 - 1) + "\n"
        with open(exact, "w", encoding="utf-8") as f:
            f.write(body)
        assert os.path.getsize(exact) == LIMIT, os.path.getsize(exact)
        run = run_sim(sim, [exact])
        if run is None or run.returncode != 0 or not run.stdout:
            failures.append(f"exactly 1 MiB: should run, got "
                            f"{'a hang' if run is None else (run.returncode, run.stderr[:300])}")

        # One byte more: a whole-file error.
        over = os.path.join(tmp, "over.scn")
        with open(over, "w", encoding="utf-8") as f:
            f.write(body + "#")
        run = run_sim(sim, [over])
        if run is None:
            failures.append("1 MiB + 1: hangs")
        else:
            check_refused(failures, "1 MiB + 1", run, over)

        # A device that never ends.
        run = run_sim(sim, ["/dev/zero"])
        if run is None:
            failures.append("/dev/zero: still reading after the timeout")
        else:
            check_refused(failures, "/dev/zero", run, "/dev/zero")

        # A FIFO whose writer never stops.
        fifo = os.path.join(tmp, "endless.fifo")
        os.mkfifo(fifo)
        stop = threading.Event()

        def feed():
            try:
                with open(fifo, "wb") as w:
                    line = b"# endless\n" * 6554
                    while not stop.is_set():
                        w.write(line)
            except (BrokenPipeError, OSError):
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        run = run_sim(sim, [fifo])
        stop.set()
        if run is None:
            failures.append("endless FIFO: still reading after the timeout")
        else:
            check_refused(failures, "endless FIFO", run, fifo)
        writer.join(timeout=5)

        # Standard input that never ends.
        with open("/dev/zero", "rb") as zero:
            run = run_sim(sim, ["-"], stdin=zero)
        if run is None:
            failures.append("endless stdin: still reading after the timeout")
        else:
            check_refused(failures, "endless stdin", run, "-")

    for f in failures:
        print("FAIL " + f)
    if not failures:
        print("ok: exactly 1 MiB runs; 1 MiB + 1, /dev/zero, an endless FIFO and an "
              "endless stdin are refused with FILE:0:")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
