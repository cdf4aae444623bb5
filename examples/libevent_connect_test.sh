#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# The libevent example connects through a blackholed IPv6 to IPv4: a world
# with [::1]:P dropping SYNs and 127.0.0.1:P accepting, then
# `libevent_connect demo P ::1 127.0.0.1` must name 127.0.0.1:P as the winner,
# after attempt 2 started, at least 250 ms (the attempt delay) in.
#   usage: libevent_connect_test.sh EXAMPLE LOOPBACK_WORLD
set -euo pipefail
example=$1
world=$2

coproc WORLD { exec "$world" --v6 blackhole --v4 open; }
trap 'exec {WORLD[1]}>&- 2>/dev/null || true; kill "$WORLD_PID" 2>/dev/null || true' EXIT
read -r -t 10 port <&"${WORLD[0]}" || { echo "loopback world did not start" >&2; exit 1; }

out=$("$example" demo "$port" ::1 127.0.0.1)
echo "$out"
grep -q "^connected to 127.0.0.1:$port after " <<<"$out" || { echo "FAIL: IPv4 did not win" >&2; exit 1; }
grep -q "connect #2 127.0.0.1:$port" <<<"$out" || { echo "FAIL: no second attempt" >&2; exit 1; }
grep -q "close #1" <<<"$out" || { echo "FAIL: the blackholed attempt was not closed" >&2; exit 1; }
after=$(sed -n "s/^connected to .* after \([0-9.]*\) ms$/\1/p" <<<"$out")
awk -v t="$after" 'BEGIN { exit !(t >= 250) }' || { echo "FAIL: won after $after ms, before the 250 ms attempt delay" >&2; exit 1; }
echo "PASS"
