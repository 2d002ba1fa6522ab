#!/usr/bin/env bash
# Builds and runs the demo server on a fresh Debian/Ubuntu machine with Swift 6.3, installing
# libuv and curl when missing. Arguments go to loopwork-demo (default: --host 127.0.0.1 --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
swift build -c release --product loopwork-demo
exec .build/release/loopwork-demo "$@"
