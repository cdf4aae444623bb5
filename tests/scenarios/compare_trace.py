#!/usr/bin/env python3
# SPDX-License-Identifier: BSL-1.0
"""Compare a JSON trace (docs/behaviour.md §5) with a golden one, by the matching rules of
shared/scenarios/README.md:

- connect: the same lines in the same order, with equal t, attempt, remote and,
  where the golden line has them, local, protocol, alpn, from and ech
  (HTTPS-driven endpoints, Happy Eyeballs v3); a line whose golden has alpn
  but no from must have no from either (not an Alt-Svc alternative's);
- resolve: only when the golden asks for a target name or for HTTPS records
  (v3): the same questions (t, family, name, and the RFC 9460 §9.1 port
  prefix of the origin's HTTPS question) at each instant, in any order;
- crypto-ready (config ech, v3 §6.3): the same lines in the same order, with
  equal t, attempt and ech;
- close: equal t and attempt; close lines at one instant may come in any order;
- report (exactly one, the last line): equal t and outcome; for connected also
  attempt and remote (and protocol, alpn and from as on connect lines); for
  failed also errno and the errors list, in order, compared by attempt,
  remote, stage and errno (and name where the golden has one); on any outcome
  "dropped" (endpoints over max-endpoints, issue 14) where the golden has it.
Unknown keys are ignored, and so are other actions (resolve, open, bind, ...).
Every line must be one JSON object. Times compare exactly (as decimals).

Usage:
  compare_trace.py GOLDEN ACTUAL
      exit 0 when ACTUAL matches GOLDEN, 1 (with the differences) otherwise.
  compare_trace.py --sim SIM [--expect-exit N] SCENARIO GOLDEN
      runs `SIM --json SCENARIO` and compares its stdout with GOLDEN. The exit
      status must be N (default 0). With N = 3 (a race that can never finish)
      neither trace may have a report line, and stderr must say so.

Python 3 standard library only.
"""

import argparse
import decimal
import json
import subprocess
import sys


class TraceError(Exception):
    """A trace that is not a sequence of JSON objects."""


def parse_trace(text, name):
    """Returns the list of objects of a trace, one per line (blank lines at the
    end are allowed, none elsewhere)."""
    objects = []
    for number, line in enumerate(text.rstrip().splitlines(), start=1):
        try:
            obj = json.loads(line, parse_float=decimal.Decimal, parse_int=decimal.Decimal)
        except ValueError as e:
            raise TraceError(f"{name}:{number}: not JSON: {e}") from None
        if not isinstance(obj, dict):
            raise TraceError(f"{name}:{number}: not a JSON object")
        obj["_line"] = number
        objects.append(obj)
    return objects


def _same(a, b):
    """Equality where numbers compare by value (1 == 1.0) and bools stay bools."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, decimal.Decimal) and isinstance(b, decimal.Decimal):
        return a == b
    return type(a) is type(b) and a == b


def _show(v):
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    return json.dumps(v)


def _compare_keys(golden, actual, keys, what, problems):
    for key in keys:
        if key not in golden:
            problems.append(f"{what}: golden line {golden['_line']} has no '{key}'")
            continue
        if key not in actual:
            problems.append(f"{what}: line {actual['_line']} has no '{key}' "
                            f"(golden: {_show(golden[key])})")
            continue
        if not _same(golden[key], actual[key]):
            problems.append(f"{what}: '{key}' is {_show(actual[key])} at line "
                            f"{actual['_line']}, golden {_show(golden[key])} "
                            f"(golden line {golden['_line']})")


def _no_from(golden, actual, what, problems):
    """"from":"alt-svc" marks only an Alt-Svc alternative's endpoint: a golden
    line that names its ALPN ids and no "from" came from an HTTPS record."""
    if "alpn" in golden and "from" not in golden and "from" in actual:
        problems.append(f"{what}: line {actual['_line']} has 'from' "
                        f"{_show(actual['from'])}, golden line {golden['_line']} has none")


def _close_groups(closes):
    """Consecutive close lines grouped by instant: [(t, sorted attempts)]."""
    groups = []
    for c in closes:
        if groups and groups[-1][0] == c["t"]:
            groups[-1][1].append(c["attempt"])
        else:
            groups.append((c["t"], [c["attempt"]]))
    return [(t, sorted(attempts)) for t, attempts in groups]


def compare(golden_objs, actual_objs, expect_report=True):
    """Returns a list of problems; empty when the traces match."""
    problems = []

    def of(objs, action):
        return [o for o in objs if o.get("action") == action]

    # connect: same lines, same order.
    g_conn, a_conn = of(golden_objs, "connect"), of(actual_objs, "connect")
    if len(g_conn) != len(a_conn):
        problems.append(f"connect: {len(a_conn)} lines, golden has {len(g_conn)}")
    for i, (g, a) in enumerate(zip(g_conn, a_conn), start=1):
        keys = ["t", "attempt", "remote"] + [k for k in ("local", "protocol", "alpn", "from",
                                                         "ech") if k in g]
        _compare_keys(g, a, keys, f"connect #{i}", problems)
        _no_from(g, a, f"connect #{i}", problems)

    # crypto-ready (v3 §6.3): same lines, same order.
    g_cr, a_cr = of(golden_objs, "crypto-ready"), of(actual_objs, "crypto-ready")
    if len(g_cr) != len(a_cr):
        problems.append(f"crypto-ready: {len(a_cr)} lines, golden has {len(g_cr)}")
    for i, (g, a) in enumerate(zip(g_cr, a_cr), start=1):
        _compare_keys(g, a, ["t", "attempt", "ech"], f"crypto-ready #{i}", problems)

    # resolve (v3 goldens only): the same questions at each instant.
    g_res, a_res = of(golden_objs, "resolve"), of(actual_objs, "resolve")
    if any("name" in r or r.get("family") == "HTTPS" for r in g_res):
        def questions(objs):
            return sorted((str(r.get("t")), str(r.get("family")), str(r.get("name", "")),
                           str(r.get("prefix", ""))) for r in objs)
        if questions(g_res) != questions(a_res):
            problems.append(f"resolve: got {questions(a_res)}, golden {questions(g_res)}")

    # close: equal t and attempt, free order at one instant.
    g_close, a_close = of(golden_objs, "close"), of(actual_objs, "close")
    well_formed = True
    for c in g_close + a_close:
        for key in ("t", "attempt"):
            if not isinstance(c.get(key), decimal.Decimal):
                problems.append(f"close: line {c['_line']} has no numeric '{key}'")
                well_formed = False
    if len(g_close) != len(a_close):
        problems.append(f"close: {len(a_close)} lines, golden has {len(g_close)}")
    if well_formed:
        g_groups, a_groups = _close_groups(g_close), _close_groups(a_close)
        if g_groups != a_groups:
            def fmt(groups):
                return ", ".join(f"t={_show(t)}: {[int(x) for x in a]}" for t, a in groups)
            problems.append(f"close: got [{fmt(a_groups)}], golden [{fmt(g_groups)}]")

    # report: exactly one, the last line.
    for name, objs in (("golden", golden_objs), ("trace", actual_objs)):
        reports = of(objs, "report")
        if not expect_report:
            if reports:
                problems.append(f"{name}: has a report line (line {reports[0]['_line']}) "
                                "but the race must never finish")
            continue
        if len(reports) != 1:
            problems.append(f"{name}: {len(reports)} report lines, exactly one expected")
        elif objs[-1] is not reports[0]:
            problems.append(f"{name}: the report (line {reports[0]['_line']}) is not the "
                            "last line")
    if not expect_report:
        return problems
    g_rep, a_rep = of(golden_objs, "report"), of(actual_objs, "report")
    if len(g_rep) != 1 or len(a_rep) != 1:
        return problems
    g, a = g_rep[0], a_rep[0]
    _compare_keys(g, a, ["t", "outcome"] + (["dropped"] if "dropped" in g else []),
                  "report", problems)
    outcome = g.get("outcome")
    if outcome == "connected":
        _compare_keys(g, a, ["attempt", "remote"] + [k for k in ("protocol", "alpn", "from")
                                                     if k in g], "report", problems)
        _no_from(g, a, "report", problems)
    elif outcome == "failed":
        _compare_keys(g, a, ["errno"], "report", problems)
        g_err, a_err = g.get("errors"), a.get("errors")
        if not isinstance(g_err, list):
            problems.append("report: golden has no 'errors' list")
        elif not isinstance(a_err, list):
            problems.append(f"report: line {a['_line']} has no 'errors' list")
        else:
            if len(g_err) != len(a_err):
                problems.append(f"report: {len(a_err)} errors, golden has {len(g_err)}")
            for i, (ge, ae) in enumerate(zip(g_err, a_err), start=1):
                if not isinstance(ge, dict) or not isinstance(ae, dict):
                    problems.append(f"report: error {i} is not an object")
                    continue
                ge = dict(ge, _line=g["_line"])
                ae = dict(ae, _line=a["_line"])
                _compare_keys(ge, ae, ["attempt", "remote", "stage", "errno"] +
                              (["name"] if "name" in ge else []),
                              f"report error {i}", problems)
    return problems


def compare_texts(golden_text, actual_text, expect_report=True,
                  golden_name="golden", actual_name="trace"):
    try:
        golden = parse_trace(golden_text, golden_name)
        actual = parse_trace(actual_text, actual_name)
    except TraceError as e:
        return [str(e)]
    return compare(golden, actual, expect_report)


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sim", help="the eyeballs-sim to run on SCENARIO")
    parser.add_argument("--expect-exit", type=int, default=0)
    parser.add_argument("first", help="GOLDEN, or SCENARIO with --sim")
    parser.add_argument("second", help="ACTUAL, or GOLDEN with --sim")
    args = parser.parse_args(argv)

    expect_report = args.expect_exit != 3
    if args.sim is None:
        golden_path, actual_path = args.first, args.second
        problems = compare_texts(_read(golden_path), _read(actual_path), expect_report,
                                 golden_path, actual_path)
    else:
        scenario, golden_path = args.first, args.second
        run = subprocess.run([args.sim, "--json", scenario], capture_output=True,
                             text=True, timeout=60, check=False)
        problems = []
        if run.returncode != args.expect_exit:
            problems.append(f"exit status {run.returncode}, expected {args.expect_exit}"
                            f" (stderr: {run.stderr.strip()!r})")
        if args.expect_exit == 3 and "never" not in run.stderr:
            problems.append(f"stderr does not say the race can never finish: "
                            f"{run.stderr.strip()!r}")
        if args.expect_exit == 0 and run.stderr.strip():
            problems.append(f"unexpected stderr: {run.stderr.strip()!r}")
        problems += compare_texts(_read(golden_path), run.stdout, expect_report,
                                  golden_path, "eyeballs-sim stdout")
        if problems:
            sys.stdout.write("--- eyeballs-sim --json " + scenario + "\n" + run.stdout)
    if problems:
        for p in problems:
            print("MISMATCH " + p)
        return 1
    print("match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
