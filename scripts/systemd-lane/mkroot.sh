#!/bin/bash
# Builds the systemd lane's container root once and caches it as a tarball outside the repo:
# Debian bookworm (minbase) with systemd, dbus, sudo and sqlite3, plus cg-rw-init (see boot.sh).
# Nothing of edge-agent is in it: the lane installs the release the way an operator does.
#   usage: mkroot.sh TARBALL        (needs root, debootstrap, zstd and the Debian mirror)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TAR=${1:?usage: mkroot.sh TARBALL}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$(dirname "$TAR")"
ROOT=$(mktemp -d "$(dirname "$TAR")/root.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
chmod 0755 "$ROOT"   # mktemp made it 0700: it becomes the container's /
debootstrap --variant=minbase --include=systemd,dbus,sudo,sqlite3 bookworm "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 ||
  { tail -30 "$ROOT.log" >&2; rm -f "$ROOT.log"; exit 1; }
rm -f "$ROOT.log"
install -m755 "$HERE/cg-rw-init" "$ROOT/usr/local/sbin/cg-rw-init"
# A container has no getty or udev worth waiting for; keep boots short and the journal quiet.
systemctl --root="$ROOT" mask console-getty.service getty@tty1.service systemd-udevd.service \
  systemd-udev-trigger.service systemd-timesyncd.service >/dev/null 2>&1 || true
echo edge-lane > "$ROOT/etc/hostname"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/log/journal/*
tar -C "$ROOT" --numeric-owner --xattrs -cf - . | zstd -T0 -q -o "$TAR.tmp" -f
mv "$TAR.tmp" "$TAR"
