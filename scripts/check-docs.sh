#!/usr/bin/env bash
# Builds the Loopwork module's DocC catalogue (Sources/Loopwork/Loopwork.docc) with the
# toolchain's docc, treating every warning (a broken symbol link, an undocumented parameter) as
# an error. The symbol graphs come from `swift package dump-symbol-graph`, which reuses the debug
# build. Usage: scripts/check-docs.sh [OUTPUT_DIR] (default .build/docs/Loopwork.doccarchive).
set -euo pipefail
cd "$(dirname "$0")/.."

output="${1:-.build/docs/Loopwork.doccarchive}"
mkdir -p "$(dirname "$output")"
swift package dump-symbol-graph --minimum-access-level public >/dev/null
graphs="$(swift build --show-bin-path)/../symbolgraph"
# Only the module's own graphs (and its extensions of other modules' types): the other modules
# have no catalogue here, and their graphs would be documented as part of this one.
selected=$(mktemp -d)
trap 'rm -rf "$selected"' EXIT
cp "$graphs"/Loopwork.symbols.json "$graphs"/Loopwork@*.symbols.json "$selected"/
docc convert Sources/Loopwork/Loopwork.docc \
  --additional-symbol-graph-dir "$selected" \
  --fallback-display-name Loopwork --fallback-bundle-identifier dev.loopwork.Loopwork \
  --output-path "$output" --warnings-as-errors
echo "documentation built: $output"
