#!/usr/bin/env bash
# Builds the differential fuzz target (LoopworkHTTP against llhttp in strict mode, Fuzz/Differential)
# with swiftc and clang (-fsanitize=fuzzer,address) and runs it.
# Usage: scripts/fuzz-differential.sh [seconds=600] [extra libFuzzer flags...]
# llhttp is swift-nio's vendored CNIOLLHTTP, compiled from the checkout that resolving
# Fuzz/Differential/Package.swift leaves in .build-fuzz-diff: it is linked into this fuzzer only.
# Unexplained disagreements crash into fuzz-artifacts/diff-*; new interesting inputs go to a scratch
# corpus, while Fuzz/corpus and Fuzz/Differential/corpus (the committed seeds) are only read.
# FUZZ_OPT=-Onone keeps Swift's debug checks; DIFF_FUZZ_KEEP_GOING=1 logs each kind of disagreement
# once and carries on; LOOPWORK_HTTP_SRC=<dir> compares another tree's Sources/LoopworkHTTP (a branch
# in another worktree) without touching this one.
set -euo pipefail

seconds="${1:-600}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/.build-fuzz-diff"
here="$root/Fuzz/Differential"
opt="${FUZZ_OPT:--O}"
mkdir -p "$work/obj" "$work/corpus" "$root/fuzz-artifacts"

if [ ! -d "$work/checkouts/swift-nio/Sources/CNIOLLHTTP" ] || [ ! -d "$work/checkouts/swift-http-types" ]; then
  swift package --package-path "$here" --scratch-path "$work" resolve >/dev/null
fi
llhttp="$work/checkouts/swift-nio/Sources/CNIOLLHTTP"
types="$work/checkouts/swift-http-types/Sources/HTTPTypes"
codec="${LOOPWORK_HTTP_SRC:-$root/Sources/LoopworkHTTP}"
[ -d "$llhttp" ] && [ -d "$types" ] || { echo "fuzz-differential: checkouts not found in $work" >&2; exit 1; }

# As swift-nio builds CNIOLLHTTP; LLHTTP_STRICT_MODE is what NIO passes, though llhttp 9 reads
# strictness from its lenient flags at run time, which all start off.
cflags=(-O2 -g -fsanitize=fuzzer-no-link,address -D_GNU_SOURCE -DLLHTTP_STRICT_MODE -I "$llhttp/include")
features=(-enable-upcoming-feature InternalImportsByDefault -enable-upcoming-feature ExistentialAny
          -enable-upcoming-feature MemberImportVisibility -package-name loopwork)
common=(-swift-version 6 "$opt" -gline-tables-only -parse-as-library -sanitize=fuzzer,address -I "$work/obj")

echo "fuzz-differential: building ($opt, $codec)" >&2
for file in c_nio_llhttp c_nio_api c_nio_http; do
  clang "${cflags[@]}" -w -c "$llhttp/$file.c" -o "$work/obj/$file.o"
done
clang "${cflags[@]}" -Wall -Wextra -Werror -c "$here/LLHTTPTrace/llhttp_trace.c" -o "$work/obj/llhttp_trace.o"
swiftc "${common[@]}" -suppress-warnings -wmo -module-name HTTPTypes -emit-module \
  -emit-module-path "$work/obj/HTTPTypes.swiftmodule" -c "$types"/*.swift -o "$work/obj/HTTPTypes.o"
swiftc "${common[@]}" "${features[@]}" -wmo -module-name LoopworkHTTP -emit-module \
  -emit-module-path "$work/obj/LoopworkHTTP.swiftmodule" -c "$codec"/*.swift \
  -o "$work/obj/LoopworkHTTP.o"
swiftc "${common[@]}" "${features[@]}" -warnings-as-errors -use-ld=lld -module-name DifferentialFuzz \
  -I "$here/LLHTTPTrace" "$here"/Sources/*.swift "$work/obj/HTTPTypes.o" "$work/obj/LoopworkHTTP.o" \
  "$work"/obj/c_nio_*.o "$work/obj/llhttp_trace.o" -o "$work/differential-fuzzer"

echo "fuzz-differential: running for ${seconds}s" >&2
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# The Swift runtime backtracer fights with ASan over the crash; libFuzzer reports it instead.
export SWIFT_BACKTRACE=enable=no
export DIFF_FUZZ_ARTIFACTS="${DIFF_FUZZ_ARTIFACTS:-$root/fuzz-artifacts/diff-}"
"$work/differential-fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -dict="$here/http.dict" -artifact_prefix="$root/fuzz-artifacts/diff-" -print_final_stats=1 "$@" \
  "$work/corpus" "$here/corpus" "$root/Fuzz/corpus"
