#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian/Ubuntu machine with Swift 6.3: installs libuv,
# libpq, PostgreSQL and curl when missing, starts a throwaway PostgreSQL on loopback for the
# database tests, builds with warnings as errors, runs the unit and integration tests, builds
# the documentation, checks the allocation counts per request, then builds and tests the example package that depends on
# Loopwork by path.
# Set LOOPWORK_SKIP_CONTAINER=1 to leave out the container test (it needs ~12 GB and minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/bootstrap.sh

echo "== formatting (swift format, .swift-format)"
./scripts/check-format.sh

echo "== a throwaway PostgreSQL for the database tests (removed when this script ends)"
eval "$(./scripts/test-postgres.sh start)"
trap './scripts/test-postgres.sh stop "$LOOPWORK_TEST_POSTGRES_DIR"' EXIT
# The database suites skip without a server; here, a missing server fails the run instead.
export LOOPWORK_REQUIRE_POSTGRES=1

# Builds, echoes the output, and fails when the compiler warned about the project's own code
# (dependencies' warnings are theirs). Rebuilds from scratch are not needed: a warning-free
# incremental build only skips files that compiled warning-free before.
build_without_warnings() {
  local log
  log=$(mktemp)
  swift build "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local own
  own=$(grep -E 'warning:' "$log" | grep -vE '/\.build[^/]*/(checkouts|repositories)/' || true)
  rm -f "$log"
  [ "$status" -eq 0 ] || return "$status"
  if [ -n "$own" ]; then
    echo "error: the build has warnings in project code:" >&2
    echo "$own" >&2
    return 1
  fi
}

echo "== build (no warnings allowed)"
build_without_warnings --build-tests

echo "== unit and integration tests"
# An outer bound: a test stuck on a continuation ignores Swift Testing's time limits.
timeout 1200 swift test --skip-build

echo "== compile-failure snippets (schedule's compile-time checks)"
./scripts/check-compile-failures.sh "$(swift build --show-bin-path)"

echo "== documentation code blocks (README and DocC articles type-check against the API)"
./scripts/check-doc-snippets.py "$(swift build --show-bin-path)"

echo "== documentation (the DocC catalogue builds without warnings)"
./scripts/check-docs.sh

echo "== the same tests under ThreadSanitizer (a reported race fails the run)"
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
# The large-transfer tests move 128 MiB here instead of 1 GiB: this run is about races.
LOOPWORK_STREAM_TEST_MIB=128 timeout 1200 swift test --skip-build --sanitize=thread --scratch-path .build-tsan

echo "== release build"
build_without_warnings -c release --product loopwork-demo

echo "== allocation counts (a count above its threshold fails)"
# A package of its own keeps malloc-interposer out of the main builds; Loopwork compiles again
# here, in release mode (about 2 minutes on 2 cores).
(cd Benchmarks/Allocations && build_without_warnings -c release --product AllocationCounts)
Benchmarks/Allocations/check.sh --no-build

echo "== example package (depends on Loopwork by path)"
(cd Examples/hello && build_without_warnings --build-tests && swift test --skip-build)

if [ "${LOOPWORK_SKIP_CONTAINER:-0}" != "1" ]; then
  echo "== container"
  ./scripts/container-test.sh
fi
echo "== all tests passed"
