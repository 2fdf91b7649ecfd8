#!/bin/sh
# mkruntime.sh arm64|armv7 [DIR]: DIR becomes a Debian trixie root for that arch with its Node 20
# (Debian's nodejs package), to run a release under qemu-user (see enter.sh). Built without
# emulation: debootstrap's first stage fetches the debs, `dpkg -x` unpacks them (no maintainer
# scripts run; node does not need them). The root is cached as a tarball outside the repo and
# made again when the tarball is missing:
#   ${EDGE_AGENT_CACHE:-/var/cache/edge-agent-ci}/roots/trixie-<debian arch>-nodejs.tar.zst
# Without DIR: only make sure the cached tarball exists.
# Needs root, debootstrap and zstd (about 20-50 s cold per arch, 1-2 s from the cache).
set -eu
arch=${1:?usage: mkruntime.sh arm64|armv7 [DIR]}
dir=${2:+$(realpath -m "$2")}
case "$arch" in
  arm64) darch=arm64 ;;
  armv7) darch=armhf ;;
  *) echo "mkruntime.sh: arch $arch: arm64 or armv7" >&2; exit 2 ;;
esac
cache=${EDGE_AGENT_CACHE:-/var/cache/edge-agent-ci}
mkdir -p "$cache/roots"
tarball=$cache/roots/trixie-$darch-nodejs.tar.zst
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ ! -f "$tarball" ]; then
  t0=$(date +%s)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  debootstrap --arch="$darch" --variant=minbase --foreign --include=nodejs trixie "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -20 "$tmp/debootstrap.log" >&2; echo "mkruntime.sh: debootstrap failed" >&2; exit 1; }
  for d in "$tmp"/root/var/cache/apt/archives/*.deb; do dpkg -x "$d" "$tmp/root"; done
  rm -f "$tmp"/root/var/cache/apt/archives/*.deb
  [ -x "$tmp/root/usr/bin/node" ] || { echo "mkruntime.sh: no /usr/bin/node in the $darch root" >&2; exit 1; }
  tar -C "$tmp/root" --numeric-owner -cf - . | zstd -q -T0 -10 -o "$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
  echo "mkruntime.sh: $darch root made in $(( $(date +%s) - t0 )) s, cached as $tarball" >&2
fi
[ -n "$dir" ] || exit 0
rm -rf "$dir"
mkdir -p "$dir"
zstd -q -dc "$tarball" | tar -C "$dir" --numeric-owner -xf -
