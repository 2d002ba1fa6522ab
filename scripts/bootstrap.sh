#!/usr/bin/env bash
# Installs the system packages Loopwork needs (libuv and libpq headers, pkg-config, curl, python3)
# when they are missing.
# Idempotent: does nothing when everything is present.
set -euo pipefail

missing=()
pkg-config --exists libuv 2>/dev/null || missing+=(libuv1-dev)
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The documentation's code blocks are type-checked by scripts/check-doc-snippets.py.
command -v python3 >/dev/null 2>&1 || missing+=(python3)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "bootstrap: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
for library in libuv libpq; do
  pkg-config --exists "$library" || { echo "bootstrap: $library still not found by pkg-config after install" >&2; exit 1; }
done
