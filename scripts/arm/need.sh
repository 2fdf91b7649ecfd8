#!/bin/sh
# need.sh PKG...: install the Debian packages among PKG that are not installed yet (apt-get, as
# root). Used by the cross build (the cross compilers) and the ARM smoke lane (qemu and friends).
set -eu
missing=
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "need.sh: missing Debian packages:$missing (install them as root: apt-get install$missing)" >&2
  exit 1
fi
echo "need.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# One apt-get at a time among our callers (release.sh builds two arches in parallel); another
# apt user holding dpkg's lock is waited for.
exec 9>/var/lock/edge-agent-need.lock
flock 9
apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >&2
