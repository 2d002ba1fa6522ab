#!/usr/bin/env bash
# The demo's resident memory, idle and under 256 connections: issue 11's memory goal, measured
# the same way each time.
#
#   Benchmarks/memory.sh [--starts N] [--workers N] [--connections N] [--port P] NAME=BINARY...
#
# Per start and binary (alternating, so a drift of the machine spreads over all of them): start
# `BINARY --port PORT --workers N --log-level warning` unpinned, send one request, wait a second
# and read VmRSS and RssAnon (/proc/PID/status): that is idle. Then 6 s of
# `wrk -t1 -cCONNECTIONS /plaintext` while VmRSS is sampled every 0.2 s; the largest sample is
# the loaded figure. Build the binary as it ships (scripts/build-shipped-demo.sh): a debug or
# dynamically linked build maps other libraries and measures something else.
set -euo pipefail

starts=3
workers=2
connections=256
port=18095
binaries=()
while [ $# -gt 0 ]; do
  case "$1" in
    --starts) starts="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *=*) binaries+=("$1"); shift ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#binaries[@]} -gt 0 ] || { echo "error: name at least one NAME=BINARY" >&2; exit 2; }
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

mebibytes() { awk -v kib="$1" 'BEGIN { printf "%.1f", kib / 1024 }'; }
status_kib() { awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"; }

printf 'start\tname\tidle VmRSS\tidle RssAnon\tmost under %s connections\n' "$connections"
for start in $(seq "$starts"); do
  for spec in "${binaries[@]}"; do
    name=${spec%%=*}
    binary=${spec#*=}
    [ -x "$binary" ] || { echo "error: $binary is not an executable" >&2; exit 2; }
    "$binary" --port "$port" --workers "$workers" --log-level warning >/dev/null 2>&1 &
    server=$!
    ready=no
    for _ in $(seq 50); do
      curl -s -o /dev/null "http://127.0.0.1:$port/plaintext" && { ready=yes; break; }
      sleep 0.1
    done
    [ "$ready" = yes ] || { kill "$server" 2>/dev/null; echo "error: $name did not answer on port $port" >&2; exit 1; }
    # An answer from a server that was already on the port would measure the wrong process.
    kill -0 "$server" 2>/dev/null || { echo "error: $name exited; is port $port in use? (--port)" >&2; exit 1; }
    sleep 1
    idle=$(status_kib "$server" VmRSS)
    anonymous=$(status_kib "$server" RssAnon)
    most=$idle
    wrk -t1 -c"$connections" -d6s "http://127.0.0.1:$port/plaintext" >/dev/null &
    load=$!
    while kill -0 "$load" 2>/dev/null; do
      sample=$(status_kib "$server" VmRSS)
      [ "$sample" -gt "$most" ] && most=$sample
      sleep 0.2
    done
    wait "$load"
    kill -TERM "$server"
    wait "$server" 2>/dev/null || true
    printf '%s\t%s\t%s MiB\t%s MiB\t%s MiB\n' "$start" "$name" "$(mebibytes "$idle")" \
      "$(mebibytes "$anonymous")" "$(mebibytes "$most")"
  done
done
