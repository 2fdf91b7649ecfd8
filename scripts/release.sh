#!/bin/sh
# Release tarballs, one per architecture:
#   dist/release/edge-agent-<version>-linux-{x64,arm64,armv7}.tar.gz (+ SHA256SUMS)
# each with the bundle, its source map, the unit, examples, install.sh and node_modules holding
# the native addons for that architecture. NATIVES.txt inside each tarball says, per addon,
# whether its binary is included (prebuilt / built) or missing.
#
# What this x64 machine can include:
#   linux-x64    all three addons (built here by npm install).
#   linux-arm64, linux-armv7
#                @serialport/bindings-cpp: yes, its npm package ships linux-arm64 and
#                  linux-arm (armv6/armv7) prebuilds.
#                better-sqlite3, epoll: NO, unless built elsewhere and passed with --natives.
#                  better-sqlite3's install fetches a prebuilt binary from GitHub releases (not
#                  reachable from this build machine) or compiles SQLite with node-gyp; epoll
#                  always compiles. Either build them on a board of that arch or in CI under
#                  qemu (see docs-install.md); or let install.sh build them on the board at
#                  install time (it does so for every addon NATIVES.txt lists as missing).
#
#   scripts/release.sh [--natives DIR] [--complete] [--arch "x64 arm64 armv7"]
#     --natives DIR   DIR/linux-<arch>/<package>/<binary path>, e.g.
#                     DIR/linux-arm64/better-sqlite3/build/Release/better_sqlite3.node
#     --complete      fail instead of shipping a tarball with a missing addon
#     --no-build      package dist/ as it is
set -eu
cd "$(dirname "$0")/.."
NATIVES=
COMPLETE=0
BUILD=1
ARCHES="x64 arm64 armv7"
while [ $# -gt 0 ]; do
  case "$1" in
    --natives) NATIVES=$(cd "${2:?}" && pwd); shift ;;
    --complete) COMPLETE=1 ;;
    --no-build) BUILD=0 ;;
    --arch) ARCHES=${2:?}; shift ;;
    *) echo "release.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

version=$(node -p 'require("./package.json").version')
out=dist/release
# --no-build: use dist/ as built (the test suite builds once, before any test runs).
if [ "$BUILD" = 1 ] || [ ! -f dist/edge-agent.mjs ]; then npm run --silent build; fi
rm -rf "$out"
mkdir -p "$out"
# Reproducible tarballs: fixed mtime, owner and order.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
status=0
for arch in $ARCHES; do
  name=edge-agent-$version-linux-$arch
  if [ -n "$NATIVES" ] && [ -d "$NATIVES/linux-$arch" ]; then
    node scripts/stage.mjs --out "$out/$name" --arch "$arch" --natives "$NATIVES/linux-$arch" >/dev/null
  else
    node scripts/stage.mjs --out "$out/$name" --arch "$arch" >/dev/null
  fi
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$out" -czf "$out/$name.tar.gz" "$name"
  missing=$(grep ' missing ' "$out/$name/NATIVES.txt" | cut -d' ' -f1 | tr '\n' ' ' || true)
  size=$(du -k "$out/$name.tar.gz" | cut -f1)
  if [ -n "$missing" ]; then
    echo "$name.tar.gz  ${size} KiB  MISSING natives: ${missing}(install.sh builds them on the board)"
    [ "$COMPLETE" = 1 ] && status=1
  else
    echo "$name.tar.gz  ${size} KiB  all natives included"
  fi
  rm -rf "${out:?}/$name"
done
(cd "$out" && sha256sum ./*.tar.gz > SHA256SUMS)
[ "$status" = 0 ] || echo "release.sh: --complete and natives are missing" >&2
exit $status
