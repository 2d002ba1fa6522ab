#!/usr/bin/env bash
# Counts the Swift concurrency runtime's work per request, a count that does not depend on the
# machine: executor hops (swift_task_switch), tasks created (swift_task_create) and continuations
# resumed (swift_continuation_resume), with uprobes on the runtime library.
#
#   Benchmarks/executor-hops.sh [--path /plaintext] [--lua FILE] [--symbols] [BINARY]
#
# BINARY (default: the dynamic release build of loopwork-demo) must link the Swift runtime
# dynamically: a static binary has no libswift_Concurrency.so to probe. It is started with one
# worker and the access log off; wrk sends requests on 4 connections for 2 s, and every count is
# divided by the requests served. --symbols also names the async function each hop resumes in
# (a function listed twice hops twice: at its entry and after an await).
# Needs root and `perf` (Debian: linux-perf).
#
# Every hop asks the task for its executor preference, under the task's status-record lock:
# handler tasks prefer their loop's task executor, so a hop that stays on the loop still
# costs a lock and an unlock.
set -euo pipefail

path=/plaintext
lua=()
symbols=0
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --path) path="$2"; shift 2 ;;
    --lua) lua=(-s "$2"); shift 2 ;;
    --symbols) symbols=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) binary="$1"; shift ;;
  esac
done
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "$binary" ]; then
  (cd "$root" && swift build -c release --product loopwork-demo >&2)
  binary="$(cd "$root" && swift build -c release --show-bin-path)/loopwork-demo"
fi
command -v perf >/dev/null || { echo "error: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
runtime=$(ldd "$binary" | awk '/libswift_Concurrency.so/ { print $3 }')
[ -n "$runtime" ] || { echo "error: $binary links the Swift runtime statically; probe a dynamic build" >&2; exit 2; }

events=(swift_task_switch swift_task_create swift_continuation_resume)
for event in "${events[@]}"; do
  perf probe -d "probe_libswift_Concurrency:$event" >/dev/null 2>&1 || true
done
# The hop's first argument is the function it resumes, which --symbols names.
perf probe -q -x "$runtime" 'swift_task_switch resume=%di:u64'
perf probe -q -x "$runtime" swift_task_create
perf probe -q -x "$runtime" swift_continuation_resume

port=18190
work=$(mktemp -d)
taskset -c 0 "$binary" --port "$port" --workers 1 --log-level warning >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; perf probe -q -d "probe_libswift_Concurrency:*" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port$path" && break
  sleep 0.1
done
probes=$(printf 'probe_libswift_Concurrency:%s,' "${events[@]}")
perf record -q -e "${probes%,}" -p "$server" -o "$work/perf.data" -- sleep 3 >/dev/null 2>&1 &
recorder=$!
sleep 0.5
requests=$(taskset -c 1 wrk -t1 -c4 -d2s "${lua[@]}" "http://127.0.0.1:$port$path" | awk '/requests in/ { print $1 }')
wait "$recorder"
base=$(awk -v b="$(readlink -f "$binary")" '$6 == b { split($1, r, "-"); print r[1]; exit }' "/proc/$server/maps")
perf script -i "$work/perf.data" -F event,trace 2>/dev/null >"$work/events.txt"

echo "$path: $requests requests"
for event in "${events[@]}"; do
  count=$(grep -c "$event:" "$work/events.txt" || true)
  awk -v e="$event" -v c="$count" -v n="$requests" 'BEGIN { printf "  %-26s %6.2f per request\n", e, c / n }'
done
[ "$symbols" = 1 ] || exit 0

# Resume addresses to the binary's symbols (the hops that resume in a runtime library stay
# unnamed), demangled, most frequent first.
grep -o 'resume=[0-9]*' "$work/events.txt" | cut -d= -f2 | sort | uniq -c | sort -rn >"$work/resumes.txt"
nm -n --defined-only "$binary" >"$work/symbols.txt"
python3 - "$base" "$requests" "$work/resumes.txt" "$work/symbols.txt" <<'PY' | swift demangle --simplified
import bisect, sys
base, requests = int(sys.argv[1], 16), int(sys.argv[2])
symbols = sorted((int(a, 16), name) for a, kind, name in
                 (line.split() for line in open(sys.argv[4]) if len(line.split()) == 3) if kind in "tTwW")
starts = [a for a, _ in symbols]
for line in open(sys.argv[3]):
    count, address = map(int, line.split())
    i = bisect.bisect_right(starts, address - base) - 1
    name = symbols[i][1] if i >= 0 else "?"
    print(f"  {count / requests:5.2f}  {name}")
PY
