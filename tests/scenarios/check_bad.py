#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Runs eyeballs-sim on a bad scenario and checks that it is rejected the way
docs/behaviour.md §4 says: exit 2, nothing on stdout, and on stderr `FILE:LINE: message`.

The bad file says what to expect in its own comments:
    # expect-line: N            (required) the line the error is reported at
    # expect-message: TEXT      (optional, repeatable) words the message must contain

Usage: check_bad.py SIM FILE        Python 3 standard library only.
"""

import re
import subprocess
import sys


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    sim, path = argv
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = re.findall(r"^# expect-line: (\d+)\s*$", text, re.M)
    if len(lines) != 1:
        print(f"{path}: needs exactly one '# expect-line: N' comment")
        return 1
    line = int(lines[0])
    messages = re.findall(r"^# expect-message: (.+?)\s*$", text, re.M)

    run = subprocess.run([sim, "--json", path], capture_output=True, text=True,
                         timeout=60, check=False)
    problems = []
    if run.returncode != 2:
        problems.append(f"exit status {run.returncode}, expected 2")
    if run.stdout:
        problems.append(f"stdout is not empty: {run.stdout!r}")
    err_lines = run.stderr.splitlines()
    prefix = f"{path}:{line}: "
    if len(err_lines) != 1:
        problems.append(f"stderr has {len(err_lines)} lines, expected one: {run.stderr!r}")
    if not err_lines or not err_lines[0].startswith(prefix) or \
            len(err_lines[0]) <= len(prefix):
        problems.append(f"stderr does not start with {prefix!r} and a message: "
                        f"{run.stderr!r}")
    for m in messages:
        if m not in run.stderr:
            problems.append(f"stderr does not contain {m!r}: {run.stderr!r}")
    if problems:
        for p in problems:
            print("FAIL " + p)
        return 1
    print("ok: " + run.stderr.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
