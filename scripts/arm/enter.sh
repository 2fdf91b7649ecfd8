#!/bin/sh
# enter.sh ROOT CMD...: run CMD in the foreign-arch root ROOT (made by mkruntime.sh) under
# qemu-user through binfmt_misc (see binfmt.sh), with a clean environment. Mounts ROOT/proc
# (unmount it before removing ROOT: `umount ROOT/proc`). ROOT shares the host's network, so
# 127.0.0.1 is the host's loopback. arm64: QEMU_CPU=max,pauth-impdef=on (qemu 7.2 emulates
# pointer authentication slowly by default; trixie's binaries use it); never for armhf, where
# qemu-arm rejects the property.
set -eu
R=${1:?usage: enter.sh ROOT CMD...}; shift
mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
qemu_cpu=
[ -e "$R/lib/ld-linux-aarch64.so.1" ] && qemu_cpu=QEMU_CPU=max,pauth-impdef=on
exec chroot "$R" /usr/bin/env -i $qemu_cpu HOME=/root LANG=C.UTF-8 TERM=dumb \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
