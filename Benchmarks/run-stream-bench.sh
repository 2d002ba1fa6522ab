#!/usr/bin/env bash
# Measures streaming in the loopwork-demo release build beside peer servers (Node, Hummingbird 2;
# optionally FastAPI + fastapi-tasks, Vapor) in one run: SSE with many clients, 1 GiB uploads
# (Content-Length and chunked), a 1 GiB download and a slow reader, with MiB/s, RSS growth and
# server CPU per GiB. Uses Benchmarks/peers/run-stream.sh (see its README, "Streaming:
# run-stream.sh", for every row). The demo serves the streaming contract: POST /upload,
# GET /download?bytes=N, GET /sse?events=N&interval_ms=M. Run on a quiet machine.
#
# Usage: Benchmarks/run-stream-bench.sh [--peers LIST] [--quick] [--out FILE] [--phases LIST] ...
#   Defaults: peers node,hummingbird; loopwork with 1 worker. Extra options go to run-stream.sh
#   (it runs from the project root, so a relative --out FILE lands there).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
./scripts/bootstrap.sh
# As the Dockerfile ships it (the Swift peers, too, are built with the runtime linked statically).
# A build folder of its own, so that the development build in .build is not rebuilt each time.
./scripts/build-shipped-demo.sh --build-path .build-static
demo="$root/.build-static/release/loopwork-demo"

peers="node,hummingbird"
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --peers) peers="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

# Build only the peers this run uses (limit-c has no streaming endpoints).
skip="limit-c"
for p in fastapi-tasks hummingbird vapor; do
  [[ ",$peers," == *",$p,"* ]] || skip+=",$p"
done
Benchmarks/peers/build-peers.sh --skip "$skip"

exec Benchmarks/peers/run-stream.sh --peers "$peers" \
  --extra "loopwork=exec '$demo' --port \$PORT --workers 1 --log-level warning" \
  "${args[@]}"
