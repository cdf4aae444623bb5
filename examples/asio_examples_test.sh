#!/usr/bin/env bash
# SPDX-License-Identifier: BSL-1.0
# The Asio examples connect through a blackholed IPv6 to IPv4: a world with
# [::1]:P dropping SYNs and 127.0.0.1:P accepting, then each example, given
# `::1,127.0.0.1 P`, must name 127.0.0.1:P as the winner, attempt 2 of 2,
# at least 250 ms (the attempt delay) after the start.
#   usage: asio_examples_test.sh LOOPBACK_WORLD EXAMPLE...
set -euo pipefail
world=$1
shift

coproc WORLD { exec "$world" --v6 blackhole --v4 open; }
trap 'exec {WORLD[1]}>&- 2>/dev/null || true; kill "$WORLD_PID" 2>/dev/null || true' EXIT
read -r -t 10 port <&"${WORLD[0]}" || { echo "loopback world did not start" >&2; exit 1; }

for example in "$@"; do
  name=$(basename "$example")
  out=$("$example" "::1,127.0.0.1" "$port")
  echo "$name: $out"
  grep -q "^connected to 127.0.0.1:$port (IPv4) after .* ms, attempt 2 of 2$" <<<"$out" \
    || { echo "FAIL: $name: IPv4 did not win as attempt 2 of 2" >&2; exit 1; }
  after=$(sed -n "s/^connected to .* after \([0-9.]*\) ms, .*$/\1/p" <<<"$out")
  awk -v t="$after" 'BEGIN { exit !(t >= 250) }' \
    || { echo "FAIL: $name: won after $after ms, before the 250 ms attempt delay" >&2; exit 1; }
done
echo "PASS"
