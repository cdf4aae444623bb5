#!/bin/sh
# SPDX-License-Identifier: BSL-1.0
# A real Happy Eyeballs race on loopback, with its timeline:
#   [::1]:P      blackholed (SYNs silently dropped: a full accept queue)
#   127.0.0.1:P  open
# eyeballs-connect tries IPv6 first, starts IPv4 one Connection Attempt Delay
# (250 ms) later, IPv4 wins and the IPv6 attempt is closed. A second race
# with IPv6 refused shows fail-fast at the 10 ms floor.
#
# usage: tools/connect/demo_loopback.sh [BUILD_DIR] [-- extra eyeballs-connect options]
#   BUILD_DIR defaults to $EYEBALLS_BUILD_DIR, then build/release, build/debug
#   (whichever holds tools/connect/eyeballs-connect).
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${EYEBALLS_BUILD_DIR:-}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then build=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
if [ -z "$build" ]; then
  for d in "$repo/build/release" "$repo/build/debug" "$repo"/build/*; do
    if [ -x "$d/tools/connect/eyeballs-connect" ]; then build=$d; break; fi
  done
fi
connect=$build/tools/connect/eyeballs-connect
world=$build/tools/connect/eyeballs-loopback-world
if [ ! -x "$connect" ] || [ ! -x "$world" ]; then
  echo "demo_loopback.sh: build eyeballs-connect and eyeballs-loopback-world first" >&2
  echo "  (cmake --build BUILD --target eyeballs-connect eyeballs-loopback-world)" >&2
  exit 2
fi

race() {  # race V6KIND LABEL [OPTIONS...] -- one race against a fresh world
  kind=$1 label=$2
  shift 2
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  # The world lives until its stdin (the fifo, held open below) reaches EOF.
  "$world" --v6 "$kind" --v4 open <"$fifo" >"$fifo.port" &
  wpid=$!
  exec 3>"$fifo"
  i=0
  while [ ! -s "$fifo.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  port=$(cat "$fifo.port")
  echo "== $label: [::1]:$port $kind, 127.0.0.1:$port open"
  echo "\$ eyeballs-connect -v ${*:+$* }--resolve demo.test:$port:[::1],127.0.0.1 demo.test $port"
  status=0
  "$connect" -v "$@" --resolve "demo.test:$port:[::1],127.0.0.1" demo.test "$port" 2>&1 || status=$?
  echo "(exit $status)"
  echo
  exec 3>&-
  wait $wpid || true
  rm -f "$fifo" "$fifo.port"
  return $status
}

race blackhole "IPv6 blackholed" "$@"
race refused "IPv6 refused" "$@"
