#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Every option `eyeballs-connect --help` lists is documented: in the manual page
docs/eyeballs-connect.1, in README.md and in docs/behaviour.md.

Usage: connect_docs_test.py CONNECT SOURCE_DIR        Python 3 standard library only.
"""

import os
import re
import subprocess
import sys
import unittest

CONNECT = SOURCE = None


def help_options():
    r = subprocess.run([CONNECT, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    options = set()
    for line in r.stdout.splitlines():
        # An option line starts with two spaces and a dash: "  --json ...", "  -4, -6 ...".
        m = re.match(r"^  (-[-A-Za-z0-9]+(?:, -[-A-Za-z0-9]+)*)", line)
        if m:
            options.update(o.strip() for o in m.group(1).split(","))
    return options


def read(*parts):
    with open(os.path.join(SOURCE, *parts), encoding="utf-8") as f:
        return f.read()


def mentions(text, option):
    # The option as a word of its own: "--send" does not count for "--send-file".
    return re.search(r"(?<![-\w])" + re.escape(option) + r"(?![-\w])", text) is not None


class Documented(unittest.TestCase):
    def setUp(self):
        self.options = help_options()

    def test_help_lists_options(self):
        # The parser of this test itself: it must find the options it is to check.
        for o in ("--resolve", "--json", "-4", "-6", "-v", "-h", "--help", "--version",
                  "--duplicates"):
            self.assertIn(o, self.options)

    def check(self, name, text):
        missing = sorted(o for o in self.options if not mentions(text, o))
        self.assertEqual(missing, [], f"options of --help missing from {name}")

    def test_manual_page(self):
        page = read("docs", "eyeballs-connect.1").replace("\\-", "-")
        self.check("docs/eyeballs-connect.1", page)

    def test_readme(self):
        self.check("README.md", read("README.md"))

    def test_behaviour(self):
        self.check("docs/behaviour.md", read("docs", "behaviour.md"))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    CONNECT, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], *sys.argv[3:]])
