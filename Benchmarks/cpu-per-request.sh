#!/usr/bin/env bash
# A/B of servers by the CPU time they spend per request, which leaves out the time this VM's
# host steals and so moves less between runs than req/s does.
#
#   Benchmarks/cpu-per-request.sh [--rounds N] [--path /plaintext] [--lua FILE] [--pipeline N]
#                                 NAME=COMMAND...
#
# Each COMMAND starts a server on the port given as its last argument (`--port PORT` is
# appended), e.g. "log-on=.build/release/loopwork-demo --workers 1 --log-level info". Per round
# and server: start it pinned to CPU 0, 1 s of wrk (-t1 -c64, CPU 1) to warm up, 4 s measured;
# the server's utime + stime over those 4 s (/proc/PID/stat) divided by the requests served is
# its CPU per request. --pipeline N sends N requests per write (peers/lua/pipeline.lua). Prints
# every round, then the medians.
set -euo pipefail

rounds=5
path=/plaintext
lua=()
port=18090
servers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --path) path="$2"; shift 2 ;;
    --lua) lua=(-s "$2"); shift 2 ;;
    --pipeline) lua=(-s "$(dirname "$0")/peers/lua/pipeline.lua"); export PIPELINE_DEPTH="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *=*) servers+=("$1"); shift ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#servers[@]} -gt 0 ] || { echo "error: name at least one NAME=COMMAND" >&2; exit 2; }
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

ticks_per_second=$(getconf CLK_TCK)
results=$(mktemp)
trap 'rm -f "$results"' EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

for round in $(seq "$rounds"); do
  for spec in "${servers[@]}"; do
    name=${spec%%=*}
    command=${spec#*=}
    setsid taskset -c 0 bash -c "exec $command --port $port" >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 50); do
      curl -s -o /dev/null "http://127.0.0.1:$port$path" && break
      sleep 0.1
    done
    taskset -c 1 wrk -t1 -c64 -d1s "${lua[@]}" "http://127.0.0.1:$port$path" >/dev/null
    before=$(cpu_ticks "$server")
    output=$(taskset -c 1 wrk -t1 -c64 -d4s "${lua[@]}" "http://127.0.0.1:$port$path")
    after=$(cpu_ticks "$server")
    kill "$server"
    wait "$server" 2>/dev/null || true
    requests=$(awk '/requests in/ { print $1 }' <<<"$output")
    per_second=$(awk '/Requests\/sec/ { print $2 }' <<<"$output")
    micros=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" \
      'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    printf '%s\t%s\t%s\t%s\n' "$round" "$name" "$per_second" "$micros" | tee -a "$results"
  done
done

echo
echo "medians over $rounds rounds (req/s, server CPU µs per request):"
for spec in "${servers[@]}"; do
  name=${spec%%=*}
  awk -F'\t' -v name="$name" '$2 == name { rps[++n] = $3; cpu[n] = $4 }
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END { printf "  %-16s %10.0f req/s %8.2f µs\n", name, median(rps, n), median(cpu, n) }' "$results"
done
