#!/usr/bin/env bash
# Measures the loopwork-demo release build beside peer servers (C on libuv, Node, Hummingbird 2,
# FastAPI + fastapi-tasks, optionally Vapor) with wrk, in one run, as ratios. Uses the harness in
# Benchmarks/peers (see its README for every column). Run on a quiet machine.
#
# Usage: Benchmarks/run-http-bench.sh [--rounds N] [--peers LIST] [--tests LIST] [--quick]
#   Defaults: peers limit-c,node,hummingbird,fastapi-tasks; the harness's default tests;
#   loopwork with 1 worker and with one worker per CPU. Extra options go to run-peers.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
./scripts/bootstrap.sh
# As the Dockerfile ships it (the Swift peers, too, are built with the runtime linked statically).
# A build folder of its own, so that the development build in .build is not rebuilt each time.
./scripts/build-shipped-demo.sh --build-path .build-static
demo="$root/.build-static/release/loopwork-demo"

peers="limit-c,node,hummingbird,fastapi-tasks"
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --peers) peers="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

skip="vapor"
[[ ",$peers," == *",vapor,"* ]] && skip=""
Benchmarks/peers/build-peers.sh ${skip:+--skip "$skip"}

cores=$(nproc)
exec Benchmarks/peers/run-peers.sh --peers "$peers" \
  --extra "loopwork-1w=exec $demo --port \$PORT --workers 1 --log-level warning" \
  --extra "loopwork-${cores}w=exec $demo --port \$PORT --workers $cores --log-level warning" \
  --baseline limit-c "${args[@]}"
