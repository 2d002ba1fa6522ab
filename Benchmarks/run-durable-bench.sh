#!/usr/bin/env bash
# Durable jobs beside PgQueuer and procrastinate on one throwaway PostgreSQL, in one run:
#
#   1. Throughput: COUNT no-op jobs, each scheduled in its own transaction by 16 concurrent
#      producers (a separate process), run by 1 or 2 worker instances with 16 jobs at once each.
#      jobs/s = COUNT / (first schedule → last job finished), the finish seen by polling the
#      system's own table every 100 ms. Every system gets a fresh database per run.
#   2. Latency that an immediate durable schedule adds to a request: wrk, 1 connection, against
#      POST /scheduled (commits a job, then answers) and POST /unscheduled (the same answer).
#
#   Benchmarks/run-durable-bench.sh [--rounds 3] [--count 10000] [--systems loopwork,pgqueuer,procrastinate]
#
# Prints markdown tables; medians over the rounds, the order of systems reversed every round.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/Benchmarks/Durable
rounds=3 count=10000 concurrency=16 producers=16 systems=loopwork,pgqueuer,procrastinate
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--count N] [--systems A,B]" >&2; exit 2 ;;
  esac
done

say() { echo "durable-bench: $*" >&2; }

command -v wrk >/dev/null || { say "installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
venv=$here/.build/venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import pgqueuer, procrastinate" 2>/dev/null; then
  say "making the Python peers' venv (PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pgqueuer procrastinate asyncpg "psycopg[binary,pool]" >&2
fi
say "building durable-bench (release)"
(cd "$here" && swift build -c release >&2)
bench=$(cd "$here" && swift build -c release --show-bin-path)/DurableBench

eval "$("$root/scripts/test-postgres.sh" start)"
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  "$root/scripts/test-postgres.sh" stop "$LOOPWORK_TEST_POSTGRES_DIR"
}
trap cleanup EXIT
server=${LOOPWORK_TEST_POSTGRES_URL%/*}
versions=$("$venv/bin/python" -c "import importlib.metadata as m; print('pgqueuer', m.version('pgqueuer'), '· procrastinate', m.version('procrastinate'))")
say "$versions; PostgreSQL $(psql -Atc 'SHOW server_version' "$LOOPWORK_TEST_POSTGRES_URL")"

now() { date +%s.%N; }

remaining() {  # system url
  case $1 in
    loopwork) psql -Atc "SELECT count(*) FROM loopwork.jobs WHERE state <> 'succeeded'" "$2" 2>/dev/null || echo 1 ;;
    *) "$venv/bin/python" "$here/peers.py" remaining "$1" "$2" ;;
  esac
}

worker() {  # system url
  case $1 in
    loopwork) exec "$bench" work --postgres "$2" --concurrency "$concurrency" ;;
    *) exec "$venv/bin/python" "$here/peers.py" work "$1" "$2" --concurrency "$concurrency" ;;
  esac
}

producer() {  # system url
  case $1 in
    loopwork) exec "$bench" produce --postgres "$2" --count "$count" --producers "$producers" --connections 8 ;;
    *) exec "$venv/bin/python" "$here/peers.py" produce "$1" "$2" --count "$count" --producers "$producers" ;;
  esac
}

# Prints "jobs/s schedule-jobs/s" for one system with N worker instances.
throughput() {  # system instances round
  local system=$1 instances=$2 db="bench_$1_$2_$3"
  psql -q "$LOOPWORK_TEST_POSTGRES_URL" -c "CREATE DATABASE $db" >/dev/null
  local url=$server/$db
  [ "$system" = loopwork ] || "$venv/bin/python" "$here/peers.py" install "$system" "$url" >/dev/null 2>&1
  local pids=() i
  for i in $(seq "$instances"); do
    (worker "$system" "$url") >"$here/.build/$db-worker-$i.log" 2>&1 &
    pids+=($!)
  done
  sleep 3  # the workers connect and (Loopwork) migrate the schema
  local start finish out
  start=$(now)
  (producer "$system" "$url") >"$here/.build/$db-producer.log" 2>&1 &
  local producing=$!
  local deadline=$(( $(date +%s) + 300 ))
  while kill -0 "$producing" 2>/dev/null || [ "$(remaining "$system" "$url")" != 0 ]; do
    for i in "${pids[@]}"; do
      kill -0 "$i" 2>/dev/null || { say "$system worker exited:"; tail -5 "$here/.build/$db-worker-"*.log >&2; exit 1; }
    done
    [ "$(date +%s)" -lt "$deadline" ] || { say "$system: jobs still unfinished after 300 s"; exit 1; }
    sleep 0.1
  done
  finish=$(now)
  wait "$producing" || { say "$system producer failed:"; cat "$here/.build/$db-producer.log" >&2; }
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  local rate
  rate=$(grep -o '[0-9]* jobs/s' "$here/.build/$db-producer.log" | grep -o '^[0-9]*' || echo 0)
  if [ "$system" = loopwork ]; then
    local repeated
    repeated=$(psql -Atc "SELECT count(*) FROM loopwork.jobs WHERE attempts <> 1" "$url")
    [ "$repeated" = 0 ] || say "loopwork: $repeated jobs took more than one attempt"
  fi
  psql -q "$LOOPWORK_TEST_POSTGRES_URL" -c "DROP DATABASE $db" >/dev/null
  awk -v n="$count" -v s="$start" -v f="$finish" -v r="$rate" 'BEGIN { printf "%d %d\n", n / (f - s), r }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

declare -A runs scheduled
IFS=, read -r -a systems <<<"$systems"
for round in $(seq "$rounds"); do
  order=("${systems[@]}")
  [ $((round % 2)) = 0 ] && order=($(printf '%s\n' "${systems[@]}" | tac))
  for system in "${order[@]}"; do
    for instances in 1 2; do
      read -r jobs sched < <(throughput "$system" "$instances" "$round")
      say "round $round: $system ×$instances: $jobs jobs/s (scheduled at $sched/s)"
      runs[$system,$instances]+="$jobs "
      scheduled[$system,$instances]+="$sched "
    done
  done
done

echo
echo "Durable throughput, $count no-op jobs, medians of $rounds rounds ($versions)"
echo
echo "| system | 1 instance jobs/s | 2 instances jobs/s | schedule rate (1 instance) | rounds (1 · 2 instances) |"
echo "|---|---:|---:|---:|---|"
for system in "${systems[@]}"; do
  one=$(tr ' ' '\n' <<<"${runs[$system,1]}" | grep . | median)
  two=$(tr ' ' '\n' <<<"${runs[$system,2]}" | grep . | median)
  sched=$(tr ' ' '\n' <<<"${scheduled[$system,1]}" | grep . | median)
  echo "| $system | $one | $two | $sched | ${runs[$system,1]}· ${runs[$system,2]}|"
done

# ---- latency of an immediate schedule ------------------------------------------------------
psql -q "$LOOPWORK_TEST_POSTGRES_URL" -c "CREATE DATABASE bench_latency" >/dev/null
port=$((20000 + RANDOM % 20000))
"$bench" serve --postgres "$server/bench_latency" --port "$port" >"$here/.build/latency-server.log" 2>&1 &
serving=$!
for _ in $(seq 100); do curl -s -o /dev/null -X POST "http://127.0.0.1:$port/unscheduled" && break; sleep 0.1; done
lua=$root/Benchmarks/peers/lua/post-tasks.lua
percentile() {  # wrk output, percentile label → microseconds
  awk -v p="$2" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us/, "", v); print int(v) } else if (v ~ /ms$/) { sub(/ms/, "", v); print int(v * 1000) } else { sub(/s/, "", v); print int(v * 1000000) } }' <<<"$1"
}
echo
echo "Latency an immediate durable schedule adds (wrk -c1 -t1 -d5s, medians of $rounds rounds, µs)"
echo
echo "| route | p50 | p99 |"
echo "|---|---:|---:|"
declare -A p50 p99
for round in $(seq "$rounds"); do
  for route in unscheduled scheduled; do
    out=$(wrk -t1 -c1 -d5s --latency -s "$lua" "http://127.0.0.1:$port/$route")
    p50[$route]+="$(percentile "$out" 50%) "
    p99[$route]+="$(percentile "$out" 99%) "
  done
done
kill -TERM "$serving"; wait "$serving" || true
for route in unscheduled scheduled; do
  a=$(tr ' ' '\n' <<<"${p50[$route]}" | grep . | median)
  b=$(tr ' ' '\n' <<<"${p99[$route]}" | grep . | median)
  echo "| POST /$route | $a | $b |"
  eval "median_p50_$route=$a median_p99_$route=$b"
done
echo "| added by the schedule | $((median_p50_scheduled - median_p50_unscheduled)) | $((median_p99_scheduled - median_p99_unscheduled)) |"
