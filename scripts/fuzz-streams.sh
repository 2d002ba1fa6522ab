#!/usr/bin/env bash
# Builds the libFuzzer target that streams request bodies through HTTPConnection and InboundBody
# (Fuzz/Streams, a package depending on this one by path) with ASan and runs it.
# Usage: scripts/fuzz-streams.sh [seconds=600] [extra libFuzzer flags...]
# Crashes land in fuzz-artifacts/ as stream-crash-* (gitignored); new interesting inputs go to a
# scratch corpus, while Fuzz/Streams/corpus (the committed seeds) is only read.
# FUZZ_CONFIG=debug builds without optimisation (Swift's debug checks on, slower).
set -euo pipefail

seconds="${1:-600}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/.build-fuzz"
scratch="$work/streams"
config="${FUZZ_CONFIG:-release}"
mkdir -p "$work/stream-corpus" "$root/fuzz-artifacts"

# Every module, Loopwork's and its dependencies', is built with coverage and ASan; -enable-testing
# lets the target reach the connection's internals (HTTPConnection, InboundBody) with @testable.
build=(swift build --package-path "$root/Fuzz/Streams" --scratch-path "$scratch" -c "$config" --product StreamFuzz
       -Xswiftc -enable-testing -Xswiftc -sanitize=fuzzer,address -Xswiftc -gline-tables-only)
echo "fuzz-streams: building ($config)" >&2
"${build[@]}"
bin="$("${build[@]}" --show-bin-path)"

# The target is a static library product: an executable target's entry point, which SwiftPM
# renames for testable executables, clashes with libFuzzer's main. Link every object of the
# product (not just the archive members something references, so no conformance is left out).
objects="$bin/StreamFuzz.product/Objects.LinkFileList"
[ -f "$objects" ] || { echo "fuzz-streams: $objects not found (SwiftPM changed its layout?)" >&2; exit 1; }
# shellcheck disable=SC2046 # pkg-config prints several flags
swiftc -use-ld=lld -sanitize=fuzzer,address "@$objects" $(pkg-config --libs libuv) -o "$work/stream-fuzzer"

echo "fuzz-streams: running for ${seconds}s" >&2
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# The Swift runtime backtracer fights with ASan over the crash; libFuzzer reports it instead.
export SWIFT_BACKTRACE=enable=no
# Same hash seeds in every run, so that a crash replays the way it happened.
export SWIFT_DETERMINISTIC_HASHING=1
"$work/stream-fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=4096 \
  -dict="$root/Fuzz/Streams/http.dict" -artifact_prefix="$root/fuzz-artifacts/stream-" -print_final_stats=1 "$@" \
  "$work/stream-corpus" "$root/Fuzz/Streams/corpus"
