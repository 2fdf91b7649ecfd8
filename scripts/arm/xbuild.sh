#!/bin/sh
# xbuild.sh arm64|armv7 OUTDIR: cross-compile better-sqlite3 and epoll for Node on ARM on an x64
# Debian host, laid out for `scripts/release.sh --natives OUTDIR`:
#   OUTDIR/linux-<arch>/better-sqlite3/build/Release/better_sqlite3.node
#   OUTDIR/linux-<arch>/epoll/build/Release/epoll.node
# Versions are the ones in package-lock.json (nan too, which epoll compiles against). Debian's
# cross compilers are installed when missing (g++-aarch64-linux-gnu, g++-arm-linux-gnueabihf).
# node-gyp compiles against the host Node's headers (/usr/include/node, same major = same ABI;
# else it fetches them). The binaries are checked (check-natives.sh: ARM ELF, glibc <= 2.36) and
# cached outside the repo, keyed by arch, versions, Node ABI and this script:
#   ${EDGE_AGENT_CACHE:-/var/cache/edge-agent-ci}/natives/<key>/   (about 75 s per arch cold)
set -eu
arch=${1:?usage: xbuild.sh arm64|armv7 OUTDIR}
out=$(realpath -m "${2:?usage: xbuild.sh arm64|armv7 OUTDIR}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
case "$arch" in
  arm64) triple=aarch64-linux-gnu; gyparch=arm64 ;;
  armv7) triple=arm-linux-gnueabihf; gyparch=arm ;;
  *) echo "xbuild.sh: arch $arch: arm64 or armv7" >&2; exit 2 ;;
esac
lock() { node -p "require('$repo/package-lock.json').packages['node_modules/$1'].version"; }
bs=$(lock better-sqlite3); ep=$(lock epoll); nan=$(lock nan)
abi=$(node -p process.versions.modules)
major=$(node -p "process.versions.node.split('.')[0]")
key="linux-$arch-node$major-abi$abi-better-sqlite3-$bs-epoll-$ep-nan-$nan-$(sha256sum "$0" | cut -c1-8)"
cache=${EDGE_AGENT_CACHE:-/var/cache/edge-agent-ci}
if ! mkdir -p "$cache/natives" 2>/dev/null || [ ! -w "$cache/natives" ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/edge-agent; mkdir -p "$cache/natives"
fi
hit=$cache/natives/$key
files="better-sqlite3/build/Release/better_sqlite3.node epoll/build/Release/epoll.node"

if [ ! -f "$hit/OK" ]; then
  t0=$(date +%s)
  sh "$here/need.sh" "g++-$triple"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cd "$work"
  # --ignore-scripts: their install scripts would build for the host.
  npm install --silent --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --omit=dev \
    "better-sqlite3@$bs" "epoll@$ep" "nan@$nan"
  gyp="$(dirname "$(realpath "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"   # npm's own node-gyp
  [ -f "$gyp" ] || { echo "xbuild.sh: node-gyp not found beside npm ($gyp)" >&2; exit 1; }
  # Headers: the host's, when they are the running Node's major version (nodesource's nodejs and
  # Debian's libnode-dev put them in /usr/include/node); else node-gyp downloads them.
  nodedir=
  h=/usr/include/node/node_version.h
  if [ -f "$h" ] && [ "$(sed -n 's/^#define NODE_MAJOR_VERSION \([0-9]*\).*/\1/p' "$h")" = "$major" ] && [ -f /usr/include/node/uv.h ]; then
    nodedir=--nodedir=/usr
  fi
  for p in better-sqlite3 epoll; do
    (cd "node_modules/$p" &&
      CC=$triple-gcc CXX=$triple-g++ LINK=$triple-g++ AR=$triple-ar \
      CC_host=gcc CXX_host=g++ LINK_host=g++ AR_host=ar \
      node "$gyp" rebuild --release --arch="$gyparch" --target="$(node -v)" $nodedir --jobs="$(nproc)" >"$work/$p.log" 2>&1) ||
      { tail -40 "$work/$p.log" >&2; echo "xbuild.sh: $p for linux-$arch failed" >&2; exit 1; }
  done
  sh "$here/check-natives.sh" "$arch" "node_modules/better-sqlite3/build/Release/better_sqlite3.node" "node_modules/epoll/build/Release/epoll.node" >&2
  rm -rf "$hit.tmp"
  for f in $files; do mkdir -p "$(dirname "$hit.tmp/$f")"; cp "node_modules/$f" "$hit.tmp/$f"; done
  echo "$key built in $(( $(date +%s) - t0 )) s with $($triple-gcc --version | head -1)" > "$hit.tmp/OK"
  rm -rf "$hit"; mv "$hit.tmp" "$hit"
  echo "xbuild.sh: linux-$arch built in $(( $(date +%s) - t0 )) s, cached in $hit" >&2
else
  echo "xbuild.sh: linux-$arch from cache $hit" >&2
fi
for f in $files; do
  mkdir -p "$(dirname "$out/linux-$arch/$f")"
  cp "$hit/$f" "$out/linux-$arch/$f"
done
