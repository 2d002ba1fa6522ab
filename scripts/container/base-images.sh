#!/usr/bin/env bash
# Makes the two base images the Dockerfile names, locally, for an engine that reaches no image
# registry: `debian:bookworm-slim` (debootstrap minbase, slimmed like the official image) and
# `swift:6.3-bookworm` (that root file system plus the packages the official Swift image carries,
# this machine's Swift toolchain hard-linked in, and the local Swift package mirror with git's
# system-wide insteadOf settings, so `swift package resolve` in the build stage resolves as it does
# on the host while the Dockerfile stays the one users build with network).
#
# Usage: base-images.sh WORK_DIR   (needs root, DOCKER_HOST pointing at a running engine, and
#                                   $DOCKER naming the client; reuses an image that already exists)
set -euo pipefail

work=${1:?usage: base-images.sh WORK_DIR}
docker=${DOCKER:-docker}
debian_image=debian:bookworm-slim
swift_image=swift:6.3-bookworm
suite=bookworm

log() { echo "base-images: $*" >&2; }
die() { echo "base-images: FAILED: $*" >&2; exit 1; }

image_exists() { "$docker" image inspect "$1" >/dev/null 2>&1; }

# Mounts made here are undone on any exit, so the caller can delete WORK_DIR safely.
mounts=()
cleanup_mounts() {
  local m
  for m in "${mounts[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "base-images: could not unmount $m" >&2
  done
}
trap cleanup_mounts EXIT

# The Debian mirror and security mirror come from apt's own configuration: deb822 stanzas in
# sources.list.d/*.sources first, then one-line sources.list entries.
read_mirror() { # $1 = suite to look for; prints the first URI serving it
  local want=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$want" '
      function flush() { if (uri != "" && ok) { print uri; found = 1; exit } uri = ""; ok = 0 }
      /^[[:space:]]*$/ { flush(); next }
      /^URIs:/   { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) ok = 1 }
      /^Enabled:[[:space:]]*no/ { uri = "" }
      END { if (!found) flush() }' "$f" | head -n1
  done | head -n1 | grep . && return 0
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$want" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == want) { print $i; exit } }' "$f"
  done | head -n1 | grep .
}

write_apt_config() { # $1 = rootfs
  local root=$1 mirror=$2 security=$3
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" "$suite" "$suite"
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$security" "$suite"
    fi
  } > "$root/etc/apt/sources.list.d/debian.sources"
  # Carry the host's acquire settings that make its mirror usable (a snapshot mirror needs
  # Check-Valid-Until false; a proxy, if any, must apply inside builds too).
  apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) ' \
    > "$root/etc/apt/apt.conf.d/99local-mirror" || true
}

make_debian() {
  local root=$work/rootfs-debian mirror security
  mirror=$(read_mirror "$suite") || die "no apt source for '$suite' found in /etc/apt (needed as the debootstrap mirror)"
  security=$(read_mirror "$suite-security" || true)
  log "debootstrap --variant=minbase $suite from $mirror"
  rm -rf "$root"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  write_apt_config "$root" "$mirror" "$security"
  # Slim like the official -slim image: no docs, man pages or translations, no package caches.
  cat > "$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
  # The official image's apt settings too: no caches or translations in a build layer.
  cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'Acquire::GzipIndexes "true";' > "$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  echo 'force-unsafe-io' > "$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian/* \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
    "$root"/var/log/*.log "$root"/var/log/apt/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  : > "$root/etc/resolv.conf"
  log "importing $debian_image"
  tar -C "$root" --numeric-owner -cf - . | "$docker" import --change 'CMD ["bash"]' - "$debian_image" >/dev/null \
    || die "docker import of $debian_image failed"
}

make_swift() {
  local root=$work/rootfs-swift swift_bin toolchain mirror_dirs line key value
  swift_bin=$(command -v swift) || die "no swift on PATH: the swift image is made from this machine's toolchain"
  swift_bin=$(readlink -f "$swift_bin")
  toolchain=$(dirname "$(dirname "$(dirname "$swift_bin")")")   # <root>/usr/bin/swift -> <root>
  [ -x "$toolchain/usr/bin/swift" ] || die "cannot find the toolchain root of $swift_bin"
  [ "$toolchain" != "/" ] && [ "$toolchain" != "/usr" ] \
    || die "toolchain installed in $toolchain: hard-linking needs it in its own prefix (e.g. /opt/swift)"
  [ -d "$work/rootfs-debian" ] || die "the $debian_image root file system is missing ($work/rootfs-debian)"

  log "preparing $swift_image root file system"
  rm -rf "$root"
  cp -a "$work/rootfs-debian" "$root"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"; mounts+=("$root/proc")
  # The packages the official swift:bookworm image carries.
  chroot "$root" /bin/sh -c '
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends \
      binutils git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev libncurses-dev libpython3-dev \
      libsqlite3-0 libstdc++-12-dev libxml2-dev libz3-dev pkg-config tzdata zlib1g-dev &&
    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb' > "$work/chroot-apt.log" 2>&1 \
    || { tail -n 30 "$work/chroot-apt.log" >&2; die "installing the Swift image packages in the chroot failed (log above)"; }
  umount "$root/proc"; mounts=()
  : > "$root/etc/resolv.conf"

  # Hard links, not a 3 GB copy: nothing writes to these files before the import below, and the
  # rootfs is deleted afterwards, which only drops the extra links.
  log "hard-linking the toolchain $toolchain into the image"
  mkdir -p "$root$(dirname "$toolchain")"
  cp -al "$toolchain" "$root$toolchain" \
    || die "cp -al $toolchain failed (the work dir must be on the same file system as the toolchain)"

  # The local Swift package mirror, wired in exactly as on the host.
  while read -r key value; do
    case $key in
      url.*.insteadof)
        local mirror=${key#url.}; mirror=${mirror%.insteadof}
        if [ -d "$mirror" ] && [ ! -e "$root$mirror" ]; then
          mkdir -p "$root$(dirname "${mirror%/}")"
          cp -al "${mirror%/}" "$root${mirror%/}" || die "copying the package mirror $mirror failed"
        fi
        git config --file "$root/etc/gitconfig" --add "url.$mirror.insteadOf" "$value"
        ;;
    esac
  done < <(git config --system --get-regexp '^url\.' || true)

  log "importing $swift_image"
  tar -C "$root" --numeric-owner -cf - . | "$docker" import \
    --change "ENV PATH=$toolchain/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change 'CMD ["bash"]' - "$swift_image" >/dev/null \
    || die "docker import of $swift_image failed"
  rm -rf "$root"
  "$docker" run --rm "$swift_image" swift --version >&2 \
    || die "the Swift toolchain does not run in $swift_image (a shared library missing from its package list?)"
}

if image_exists "$debian_image" && image_exists "$swift_image"; then
  log "reusing existing $debian_image and $swift_image"
  exit 0
fi
mkdir -p "$work"
if image_exists "$debian_image" && [ -d "$work/rootfs-debian" ]; then
  log "reusing existing $debian_image"
else
  make_debian
fi
if image_exists "$swift_image"; then
  log "reusing existing $swift_image"
else
  make_swift
fi
rm -rf "$work/rootfs-debian"
