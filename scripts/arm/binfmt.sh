#!/bin/sh
# binfmt.sh: make this x64 host run arm64 and armhf ELF binaries through qemu-user: installs
# qemu-user-static and binfmt-support when missing, mounts binfmt_misc, enables qemu-aarch64 and
# qemu-arm (F flag: the interpreter is loaded now, so the roots need no qemu inside). Needs root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/need.sh" qemu-user-static binfmt-support
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
for q in qemu-aarch64 qemu-arm; do
  [ -e "/proc/sys/fs/binfmt_misc/$q" ] || update-binfmts --enable "$q" >/dev/null 2>&1 || update-binfmts --import "$q"
  [ -e "/proc/sys/fs/binfmt_misc/$q" ] || { echo "binfmt.sh: could not register $q" >&2; exit 1; }
done
