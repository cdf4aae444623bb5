#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Usage errors of eyeballs-sim (docs/behaviour.md §4): no file, an unreadable file, an
unknown option, two files -> exit 2 with a message on stderr and nothing on
stdout; --help -> exit 0.

Usage: check_usage.py SIM SCENARIO_DIR      Python 3 standard library only."""

import os
import subprocess
import sys


def main(argv):
    sim, scenario_dir = argv
    good = os.path.join(scenario_dir, "comparator", "golden.json")  # any readable file
    missing = os.path.join(scenario_dir, "no-such-file.scn")
    cases = [
        ([], 2, "no scenario FILE"),
        ([missing], 2, "cannot read"),
        (["--jsn", missing], 2, "unknown option"),
        (["-x", missing], 2, "unknown option"),
        ([missing, missing], 2, "only one FILE"),
        (["--json", scenario_dir], 2, ""),  # a directory is not a readable scenario
    ]
    failures = []
    for args, status, words in cases:
        run = subprocess.run([sim, *args], capture_output=True, text=True, timeout=60,
                             check=False)
        if run.returncode != status:
            failures.append(f"{args}: exit {run.returncode}, expected {status}")
        if not run.stderr.strip() or words not in run.stderr:
            failures.append(f"{args}: stderr {run.stderr!r} should contain {words!r}")
        if run.stdout:
            failures.append(f"{args}: stdout should be empty: {run.stdout!r}")
    run = subprocess.run([sim, "--help"], capture_output=True, text=True, timeout=60,
                         check=False)
    if run.returncode != 0 or "usage" not in run.stdout:
        failures.append(f"--help: exit {run.returncode}, stdout {run.stdout!r}")
    # A JSON file is not a scenario: exit 2 with FILE:LINE:.
    run = subprocess.run([sim, "--json", good], capture_output=True, text=True, timeout=60,
                         check=False)
    if run.returncode != 2 or not run.stderr.startswith(good + ":1: "):
        failures.append(f"not a scenario: exit {run.returncode}, stderr {run.stderr!r}")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
