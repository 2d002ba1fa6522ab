#!/usr/bin/env bash
# Proves that what must not compile does not: each snippet in Tests/CompileFailures is
# type-checked against the built Loopwork module. A snippet whose first line is
#   // expect-error: <substring>
# must fail with a diagnostic containing <substring>; one whose first line is
#   // expect-success
# must compile without warnings (the harness's own control).
#
# Usage: scripts/check-compile-failures.sh [BUILD_DIR]
#   BUILD_DIR is SwiftPM's build products directory after `swift build` (default .build/debug),
#   e.g. .build/debug or <scratch-path>/debug. Exits non-zero when any snippet misbehaves.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-$root/.build/debug}"
modules="$build_dir/Modules"
snippets="$root/Tests/CompileFailures"
swiftc="${SWIFTC:-swiftc}"

if [[ ! -f "$modules/Loopwork.swiftmodule" ]]; then
    echo "error: $modules/Loopwork.swiftmodule not found; run 'swift build' first or pass the build dir" >&2
    exit 2
fi

# Loopwork's module imports LoopworkUV, which imports the CLibUV system module: the compiler
# needs its module map (and libuv's headers, found through pkg-config) to load Loopwork.
flags=(-typecheck -swift-version 6 -I "$modules" -I "$root/Modules/CLibUV")
if command -v pkg-config >/dev/null && pkg-config --exists libuv; then
    for flag in $(pkg-config --cflags-only-I libuv); do flags+=(-Xcc "$flag"); done
fi

failures=0
checked=0
shopt -s nullglob
for snippet in "$snippets"/*.swift; do
    name="${snippet#"$root"/}"
    first_line="$(head -n 1 "$snippet")"
    checked=$((checked + 1))
    set +e
    output="$("$swiftc" "${flags[@]}" "$snippet" 2>&1)"
    status=$?
    set -e
    case "$first_line" in
        "// expect-success")
            if [[ $status -ne 0 ]] || grep -q "warning:" <<<"$output"; then
                echo "FAIL $name: expected to compile cleanly" >&2
                echo "$output" >&2
                failures=$((failures + 1))
            else
                echo "ok   $name compiles"
            fi
            ;;
        "// expect-error: "*)
            expected="${first_line#"// expect-error: "}"
            if [[ $status -eq 0 ]]; then
                echo "FAIL $name: compiled, but must fail with: $expected" >&2
                failures=$((failures + 1))
            elif ! grep -F "error:" <<<"$output" | grep -qF -- "$expected"; then
                echo "FAIL $name: failed, but without an error containing: $expected" >&2
                echo "$output" >&2
                failures=$((failures + 1))
            else
                echo "ok   $name fails: $expected"
            fi
            ;;
        *)
            echo "FAIL $name: first line must be '// expect-error: <substring>' or '// expect-success'" >&2
            failures=$((failures + 1))
            ;;
    esac
done

if [[ $checked -eq 0 ]]; then
    echo "error: no snippets in $snippets" >&2
    exit 2
fi
echo "$checked snippets checked, $failures failed"
[[ $failures -eq 0 ]]
