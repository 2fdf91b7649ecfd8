#!/bin/sh
# Release tarballs, one per architecture:
#   dist/release/edge-agent-<version>-linux-{x64,arm64,armv7}.tar.gz (+ SHA256SUMS)
# each with the bundle, its source map, the unit, examples, install.sh and node_modules holding
# the native addons for that architecture. NATIVES.txt inside each tarball says, per addon,
# whether its binary is included (prebuilt / built) or missing.
#
# Where the native binaries come from, on an x64 Debian build machine:
#   linux-x64    all three addons, built here by npm install (npm ci).
#   linux-arm64, linux-armv7
#                @serialport/bindings-cpp: its npm package ships linux-arm64 and linux-arm
#                  (armv6/armv7) prebuilds.
#                better-sqlite3, epoll: cross-compiled here by scripts/arm/xbuild.sh (Debian's
#                  g++-aarch64-linux-gnu / g++-arm-linux-gnueabihf, installed when missing;
#                  versions from package-lock.json; checked to be ARM ELF needing glibc <= 2.36;
#                  cached outside the repo, so only the first release after a version bump
#                  compiles, about 75 s per arch, both in parallel).
#   Only the arches asked for are built: `--arch x64` never cross-compiles.
#
#   scripts/release.sh [--arch "x64 arm64 armv7"] [--complete] [--no-build] [--natives DIR] [--no-cross] [--out DIR]
#     --out DIR       write the tarballs there instead of dist/release (emptied first)
#     --complete      fail instead of shipping a tarball with a missing addon
#     --no-build      package dist/ as it is
#     --natives DIR   binaries built elsewhere, used instead of cross-compiling for the arches DIR has:
#                     DIR/linux-<arch>/<package>/<binary path>, e.g.
#                     DIR/linux-arm64/better-sqlite3/build/Release/better_sqlite3.node
#     --no-cross      do not cross-compile: ARM tarballs without --natives say `missing`, and
#                     install.sh then builds those addons on the board (the fallback for a board
#                     whose Node major differs from the build machine's)
set -eu
cd "$(dirname "$0")/.."
NATIVES=
COMPLETE=0
BUILD=1
CROSS=1
ARCHES="x64 arm64 armv7"
out=dist/release
while [ $# -gt 0 ]; do
  case "$1" in
    --natives) NATIVES=$(cd "${2:?}" && pwd); shift ;;
    --complete) COMPLETE=1 ;;
    --no-build) BUILD=0 ;;
    --no-cross) CROSS=0 ;;
    --arch) ARCHES=${2:?}; shift ;;
    --out) out=${2:?}; shift ;;
    *) echo "release.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

version=$(node -p 'require("./package.json").version')
# --no-build: use dist/ as built (the test suite builds once, before any test runs).
if [ "$BUILD" = 1 ] || [ ! -f dist/edge-agent.mjs ]; then npm run --silent build; fi
rm -rf "$out"
mkdir -p "$out"

# Cross-compile the ARM natives that --natives does not bring (in parallel, logs on failure).
host=$(node -p "({ x64: 'x64', arm64: 'arm64', arm: 'armv7' })[process.arch] || process.arch")
xnat=
if [ "$CROSS" = 1 ]; then
  pids=
  for arch in $ARCHES; do
    case "$arch" in arm64|armv7) ;; *) continue ;; esac
    [ "$arch" != "$host" ] || continue
    [ -z "$NATIVES" ] || [ ! -d "$NATIVES/linux-$arch" ] || continue
    if [ "$host" != x64 ]; then echo "release.sh: cross builds need an x64 host; linux-$arch natives stay missing" >&2; continue; fi
    [ -n "$xnat" ] || xnat=$(mktemp -d)
    sh scripts/arm/xbuild.sh "$arch" "$xnat" > "$xnat/xbuild-$arch.log" 2>&1 &
    pids="$pids $!:$arch"
  done
  trap '[ -z "$xnat" ] || rm -rf "$xnat"' EXIT
  for p in $pids; do
    wait "${p%%:*}" || { cat "$xnat/xbuild-${p#*:}.log" >&2; echo "release.sh: cross build for linux-${p#*:} failed" >&2; exit 1; }
    grep -h '^xbuild.sh:' "$xnat/xbuild-${p#*:}.log" || true
  done
fi

# Reproducible tarballs: fixed mtime, owner and order.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
status=0
for arch in $ARCHES; do
  name=edge-agent-$version-linux-$arch
  if [ -n "$NATIVES" ] && [ -d "$NATIVES/linux-$arch" ]; then
    node scripts/stage.mjs --out "$out/$name" --arch "$arch" --natives "$NATIVES/linux-$arch" >/dev/null
  elif [ -n "$xnat" ] && [ -d "$xnat/linux-$arch" ]; then
    node scripts/stage.mjs --out "$out/$name" --arch "$arch" --natives "$xnat/linux-$arch" >/dev/null
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
