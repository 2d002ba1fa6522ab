#!/usr/bin/env bash
# Fails when a Swift file of the repository is not formatted as `.swift-format` says, or breaks
# one of its lint rules; `scripts/check-format.sh --fix` formats the files in place first.
# Uses the toolchain's `swift format`; only files git tracks are checked, so build folders and
# package checkouts are never touched. `.swift-format` is swift-format's defaults with the tree's
# 4-space indentation and 120-column lines, less three rules the code deliberately breaks:
# AlwaysUseLowerCamelCase (`http1_1` spells the protocol version), OnlyOneTrailingClosureArgument
# (libuv wrappers take a closure and a trailing completion) and ReplaceForEachWithForLoop
# (`TaskList.forEach` belongs to a type that is not a Sequence, to stay allocation-free).
set -euo pipefail
cd "$(dirname "$0")/.."

files=()
while IFS= read -r file; do files+=("$file"); done < <(git ls-files '*.swift')
if [ "${1:-}" = "--fix" ]; then
  swift format format --configuration .swift-format --parallel --in-place "${files[@]}"
fi
# --strict turns every finding into an error; formatting differences are findings too.
swift format lint --configuration .swift-format --parallel --strict "${files[@]}"
echo "formatting: ${#files[@]} files ok"
