#!/usr/bin/env bash
# Builds the libFuzzer target for LoopworkHTTP's request parser (swiftc -sanitize=fuzzer,address) and runs it.
# Usage: scripts/fuzz-parser.sh [seconds=600] [extra libFuzzer flags...]
# Crashes land in fuzz-artifacts/ (gitignored); new interesting inputs go to a scratch corpus, while
# Fuzz/corpus (the committed seeds) is only read. Set FUZZ_OPT=-Onone to keep Swift's debug bounds checks.
set -euo pipefail

seconds="${1:-600}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/.build-fuzz"
opt="${FUZZ_OPT:--O}"
mkdir -p "$work/obj" "$work/corpus" "$root/fuzz-artifacts"

# swift-http-types sources: from HTTP_TYPES_SRC, or a checkout resolved into .build-fuzz.
src="${HTTP_TYPES_SRC:-}"
if [ -z "$src" ]; then
  src="$work/checkouts/swift-http-types/Sources/HTTPTypes"
  if [ ! -d "$src" ]; then
    swift package --package-path "$root" --scratch-path "$work" resolve >/dev/null
  fi
fi
[ -d "$src" ] || { echo "fuzz-parser: swift-http-types sources not found at $src" >&2; exit 1; }

# The project's modules are one package, as SwiftPM builds them: LoopworkHTTP has `package` members.
features=(-enable-upcoming-feature InternalImportsByDefault -enable-upcoming-feature ExistentialAny
          -enable-upcoming-feature MemberImportVisibility -package-name loopwork)
common=(-swift-version 6 "$opt" -gline-tables-only -parse-as-library -sanitize=fuzzer,address -I "$work/obj")

echo "fuzz-parser: building ($opt)" >&2
swiftc "${common[@]}" -suppress-warnings -wmo -module-name HTTPTypes -emit-module -emit-module-path "$work/obj/HTTPTypes.swiftmodule" \
  -c "$src"/*.swift -o "$work/obj/HTTPTypes.o"
swiftc "${common[@]}" "${features[@]}" -wmo -module-name LoopworkHTTP -emit-module \
  -emit-module-path "$work/obj/LoopworkHTTP.swiftmodule" -c "$root"/Sources/LoopworkHTTP/*.swift \
  -o "$work/obj/LoopworkHTTP.o"
swiftc "${common[@]}" "${features[@]}" -use-ld=lld -module-name ParserFuzz "$root/Fuzz/ParserFuzzEntry.swift" \
  "$work/obj/HTTPTypes.o" "$work/obj/LoopworkHTTP.o" -o "$work/parser-fuzzer"

echo "fuzz-parser: running for ${seconds}s" >&2
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# The Swift runtime backtracer fights with ASan over the crash; libFuzzer reports it instead.
export SWIFT_BACKTRACE=enable=no
"$work/parser-fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
  -artifact_prefix="$root/fuzz-artifacts/" -print_final_stats=1 "$@" "$work/corpus" "$root/Fuzz/corpus"
