#!/usr/bin/env bash
# Builds loopwork-demo as the Dockerfile ships it, and as the benchmarks measure it:
# - release, with the Swift runtime linked statically: the runtime stage then needs no toolchain,
#   and runtime calls and thread-local reads are direct instead of through the dynamic linker's
#   tables (5-17 % less CPU per request on the benchmark machine);
# - linked by the toolchain's lld with packed relative relocations (`-z pack-relative-relocs`,
#   read by glibc 2.36 and later): at start the dynamic linker reads 9 KB of them instead of
#   1.1 MB, which keeps 1.4 MiB less resident, and the executable stays position-independent, so
#   address-space randomisation still applies;
# - exporting no symbols (`--no-export-dynamic`, last, so it overrides the `-export-dynamic` of
#   the static runtime's link arguments): the 7,000 Swift symbols the executable exported only
#   made the dynamic linker's lookups touch more of its tables (650 KB); 0.5 MiB less resident.
#   Nothing loads code that looks them up (libpq, opened on demand, needs none), and profilers
#   and backtraces read names from the file's own symbol table;
# - with the C++ runtime the Swift runtime uses linked statically: `scripts/static-libstdc++`,
#   searched first, holds a linker script named `libstdc++.so` that turns the runtime's
#   `-lstdc++` into libstdc++'s archive (swift build has no flag to change that argument).
#   Relocating the shared libstdc++ at every start kept 1 MiB of its tables resident; the demo
#   uses a few hundred KB of its code.
# Arguments go to `swift build` (e.g. --build-path DIR, -Xlinker -s).
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift build -c release --static-swift-stdlib --product loopwork-demo \
  -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs \
  -Xlinker -L"$PWD/scripts/static-libstdc++" -Xlinker --no-export-dynamic "$@"
