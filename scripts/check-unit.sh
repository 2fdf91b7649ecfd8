#!/bin/sh
# Checks systemd/edge-agent.service: `systemd-analyze verify` must be clean and the offline
# security exposure at most MAX_EXPOSURE (default 2.5). Prints the score. Exit 0 = pass.
#
# verify checks that ExecStart's program exists and is executable. The unit names the board's
# /usr/bin/node; where node lives elsewhere (nvm, /usr/local) we verify a copy with that one path
# substituted, nothing else changed. The bundle /opt/edge-agent/edge-agent.mjs is an argument of
# node, which verify does not check, so it needs no stand-in.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
unit="${1:-$here/systemd/edge-agent.service}"
max="${MAX_EXPOSURE:-2.5}"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found (Debian package systemd)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy="$tmp/edge-agent.service"
node_path=/usr/bin/node
if [ ! -x "$node_path" ]; then
  node_path=$(command -v node) || { echo "node not found" >&2; exit 1; }
  echo "note: /usr/bin/node missing here; verifying with ExecStart's node at $node_path"
fi
sed "s#^ExecStart=/usr/bin/node #ExecStart=$node_path #" "$unit" > "$copy"

# verify prints problems on stderr and may still exit 0 for some warnings: both must be empty/0.
if ! out=$(systemd-analyze verify "$copy" 2>&1) || [ -n "$out" ]; then
  echo "systemd-analyze verify: FAIL" >&2
  printf '%s\n' "$out" >&2
  exit 1
fi
echo "systemd-analyze verify: clean"

report=$(systemd-analyze security --offline=yes "$copy" 2>&1) || true
score=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
  printf '%s\n' "$report" >&2
  echo "systemd-analyze security: no score found" >&2
  exit 1
fi
if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }'; then
  echo "systemd-analyze security --offline=yes: exposure $score (max $max) OK"
else
  printf '%s\n' "$report" | grep '✗' >&2 || true
  echo "systemd-analyze security --offline=yes: exposure $score exceeds $max" >&2
  exit 1
fi
