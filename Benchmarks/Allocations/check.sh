#!/usr/bin/env bash
# Builds the allocation benchmark in release mode and compares today's counts per request with
# thresholds.json beside it; exits 1 when a count is above its threshold. Arguments go to the
# benchmark: --verbose, --sites plaintext, --write-thresholds (see README.md in Benchmarks/).
# --no-build skips the build (scripts/test.sh builds first, to fail on warnings).
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--no-build" ]; then
  shift
else
  swift build -c release --product AllocationCounts
fi
bin=$(swift build -c release --show-bin-path)
# The interposer is a shared library the executable links before libc, so its malloc is the
# process's; the benchmark checks that it counts before it measures anything.
exec "$bin/AllocationCounts" --thresholds thresholds.json "$@"
