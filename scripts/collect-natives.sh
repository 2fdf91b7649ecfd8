#!/bin/sh
# Run on a board (or in an arm64/armhf chroot under qemu-user-static) to build the native addons
# the release cannot build on x64, laid out for `scripts/release.sh --natives DIR`:
#   DIR/linux-<arch>/better-sqlite3/build/Release/better_sqlite3.node
#   DIR/linux-<arch>/epoll/build/Release/epoll.node
# Needs Node.js >= 20 with npm, build-essential and python3 (better-sqlite3 first tries its
# prebuilt binary from GitHub; compiling SQLite takes ~10 min on a Pi 3, epoll seconds).
#   sh collect-natives.sh DIR [better-sqlite3-version] [epoll-version]
set -eu
dir=${1:?usage: collect-natives.sh DIR [better-sqlite3-version] [epoll-version]}
bs=${2:-12.11.1}
ep=${3:-4.0.2}
case "$(node -p process.arch)" in
  x64) arch=x64 ;; arm64) arch=arm64 ;; arm) arch=armv7 ;; *) echo "unsupported arch $(node -p process.arch)" >&2; exit 1 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm install --no-save --no-package-lock --no-audit --no-fund --omit=dev "better-sqlite3@$bs" "epoll@$ep")
for f in better-sqlite3/build/Release/better_sqlite3.node epoll/build/Release/epoll.node; do
  mkdir -p "$(dirname "$dir/linux-$arch/$f")"
  cp "$work/node_modules/$f" "$dir/linux-$arch/$f"
done
echo "natives for linux-$arch in $dir/linux-$arch (node ABI $(node -p process.versions.modules)): copy DIR back and run scripts/release.sh --natives DIR --complete"
