#!/bin/sh
# Installs edge-agent on a Debian / Raspberry Pi OS board. Idempotent: run it again to upgrade
# or repair; the config and the outbox are never touched except by --purge.
#
#   sudo ./install.sh                 install (or upgrade), enable and (re)start the service
#   sudo ./install.sh --uninstall     stop, disable, remove program and unit; keep config + data
#   sudo ./install.sh --uninstall --purge   ... and remove config, data and the system user
#   ./install.sh --root DIR           install into DIR as if it were / (images, tests): no
#                                     service start; the user is created only if DIR/etc/passwd
#                                     exists (useradd --root); the unit is enabled with
#                                     `systemctl --root`, which works offline.
#   --no-start                        install and enable, but do not (re)start
#
# Run from an unpacked release tarball (install.sh beside edge-agent.mjs), or from a checkout
# after `npm run build` (it stages the files with scripts/stage.mjs first).
set -eu

ROOT=
MODE=install
PURGE=0
START=1
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a directory}; shift ;;
    --root=*) ROOT=${1#--root=} ;;
    --uninstall) MODE=uninstall ;;
    --purge) PURGE=1 ;;
    --no-start) START=0 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$PURGE" = 1 ] && [ "$MODE" != uninstall ]; then echo "install.sh: --purge goes with --uninstall" >&2; exit 2; fi
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" = / ] && ROOT=
fi

USER_NAME=edge-agent
PREFIX=/opt/edge-agent
UNIT=/etc/systemd/system/edge-agent.service
WRAPPER=/usr/local/bin/edge-agent
CONF_DIR=/etc/edge-agent
DATA_DIR=/var/lib/edge-agent
NODE_MIN=20

say() { printf 'edge-agent install: %s\n' "$*"; }
die() { printf 'edge-agent install: %s\n' "$*" >&2; exit 1; }

if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then die "run as root (sudo), or use --root DIR"; fi

# The real system gets users and a running service; a --root tree only what works offline.
live() { [ -z "$ROOT" ]; }
has_passwd() { [ -f "$ROOT/etc/passwd" ]; }
have() { command -v "$1" >/dev/null 2>&1; }

uninstall() {
  if live && have systemctl; then
    systemctl disable --now edge-agent.service 2>/dev/null || true
  elif have systemctl && [ -f "$ROOT$UNIT" ]; then
    systemctl --root="$ROOT" disable edge-agent.service >/dev/null 2>&1 || true
  fi
  rm -f "$ROOT$UNIT" "$ROOT$WRAPPER"
  rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/edge-agent.service"
  rm -rf "$ROOT$PREFIX" "$ROOT$PREFIX.new"
  if live && have systemctl; then systemctl daemon-reload || true; fi
  if [ "$PURGE" = 1 ]; then
    rm -rf "$ROOT$CONF_DIR" "$ROOT$DATA_DIR" "$ROOT/run/edge-agent"
    if has_passwd && grep -q "^$USER_NAME:" "$ROOT/etc/passwd"; then
      if live; then userdel "$USER_NAME"; else userdel --root "$ROOT" "$USER_NAME"; fi
    fi
    say "removed program, unit, config, data and user"
  else
    say "removed program and unit; kept $CONF_DIR (config) and $DATA_DIR (outbox): --uninstall --purge removes them"
  fi
}

if [ "$MODE" = uninstall ]; then uninstall; exit 0; fi

# --- What to install ---
HERE=$(cd "$(dirname "$0")" && pwd)
STAGED=
cleanup() { [ -n "$STAGED" ] && rm -rf "$STAGED"; return 0; }
trap cleanup EXIT
if [ -f "$HERE/edge-agent.mjs" ]; then
  SRC=$HERE                                      # unpacked release tarball
elif [ -f "$HERE/../dist/edge-agent.mjs" ] && [ -f "$HERE/stage.mjs" ]; then
  STAGED=$(mktemp -d)                            # checkout: stage the same layout first
  node "$HERE/stage.mjs" --out "$STAGED/payload" >/dev/null
  SRC=$STAGED/payload
else
  die "no edge-agent.mjs beside install.sh and no built checkout (npm run build) around it"
fi

# --- Node.js >= 20 (NodeSource or Debian trixie; Raspberry Pi OS bookworm's apt node is 18) ---
if live; then
  have node || die "node not found: install Node.js >= $NODE_MIN first (see the README)"
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge "$NODE_MIN" ] || die "node $(node --version) is too old: edge-agent needs >= $NODE_MIN"
  [ "$(command -v node)" = /usr/bin/node ] || say "warning: node is $(command -v node); the unit runs /usr/bin/node (systemctl edit edge-agent to change ExecStart)"
fi

# --- User and groups: dialout (serial) exists on Debian; gpio only on Raspberry Pi OS ---
ensure_group() {
  if live; then getent group "$1" >/dev/null || groupadd --system "$1"
  elif has_passwd; then grep -q "^$1:" "$ROOT/etc/group" || groupadd --root "$ROOT" --system "$1"
  fi
}
if live || has_passwd; then
  ensure_group dialout
  ensure_group gpio
  R=; live || R="--root $ROOT"
  if ! grep -q "^$USER_NAME:" "$ROOT/etc/passwd"; then
    # shellcheck disable=SC2086
    useradd $R --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin \
      --groups dialout,gpio --comment "edge-agent daemon" "$USER_NAME"
  else
    for g in dialout gpio; do
      # Only when missing: a re-run must not rewrite /etc/group (nor its backup).
      grep "^$g:" "$ROOT/etc/group" | cut -d: -f4 | tr ',' '\n' | grep -qx "$USER_NAME" ||
        # shellcheck disable=SC2086
        usermod $R --append --groups "$g" "$USER_NAME"
    done
  fi
  OWN=1
else
  say "no $ROOT/etc/passwd: skipping user and group creation"
  OWN=0
fi

# --- Program: replaced as a whole, so a second run gives the same tree ---
rm -rf "$ROOT$PREFIX.new"
mkdir -p "$ROOT$PREFIX.new" "$(dirname "$ROOT$PREFIX")"
cp -R "$SRC/." "$ROOT$PREFIX.new/"
chmod -R u=rwX,go=rX "$ROOT$PREFIX.new"
rm -rf "$ROOT$PREFIX"
mv "$ROOT$PREFIX.new" "$ROOT$PREFIX"

# --- Native addons: each must load with this board's node. One that is missing from the tarball
# (NATIVES.txt: `missing`, i.e. ARM without --natives) or built for another Node ABI (the x64/ARM
# binaries are for the Node major the release was made with) is built here with npm: better-sqlite3
# first tries its prebuilt binary, else compiles (needs build-essential and python3).
probe() {
  case "$1" in
    better-sqlite3) js="new (r('better-sqlite3'))(':memory:').close()" ;;
    *) js="r('$1')" ;;
  esac
  node --input-type=module -e "import { createRequire } from 'node:module'; const r = createRequire('$ROOT$PREFIX/edge-agent.mjs'); $js" >/dev/null 2>&1
}
if live; then
  grep -v '^#' "$ROOT$PREFIX/NATIVES.txt" | while read -r pkg ver _; do
    probe "$pkg" && continue
    have npm || die "$pkg does not load and npm is missing: install npm (and build-essential, python3) to build it"
    say "building $pkg@$ver for $(uname -m), node $(node --version) (minutes on a Pi)"
    build=$(mktemp -d)
    (cd "$build" && npm install --no-save --no-package-lock --no-audit --no-fund --omit=dev "$pkg@$ver" >/dev/null) ||
      { rm -rf "$build"; die "building $pkg@$ver failed: apt-get install build-essential python3, then run install.sh again"; }
    # Whatever the package's own install produced: build/ (compiled) and/or prebuilds/.
    for d in build prebuilds; do
      [ -d "$build/node_modules/$pkg/$d" ] || continue
      rm -rf "${PREFIX:?}/node_modules/$pkg/$d"
      cp -R "$build/node_modules/$pkg/$d" "$PREFIX/node_modules/$pkg/$d"
    done
    rm -rf "$build"
    probe "$pkg" || die "$pkg still does not load after building it"
    sed -i "s#^$pkg $ver [a-z-]* #$pkg $ver built-on-board #" "$PREFIX/NATIVES.txt"
  done
elif have node; then
  # A --root tree: report what would not load here (same arch and node as this machine only).
  bad=$(grep -v '^#' "$ROOT$PREFIX/NATIVES.txt" | while read -r pkg _; do probe "$pkg" || printf '%s ' "$pkg"; done)
  [ -z "$bad" ] || say "note: ${bad}do not load with this machine's node ($(uname -m)); install.sh builds them when run on the board"
fi

# --- CLI on PATH: `edge-agent status`, `edge-agent check`, ... ---
mkdir -p "$(dirname "$ROOT$WRAPPER")"
cat > "$ROOT$WRAPPER" <<EOF
#!/bin/sh
exec /usr/bin/node --enable-source-maps $PREFIX/edge-agent.mjs "\$@"
EOF
chmod 0755 "$ROOT$WRAPPER"

# --- Config: an example the first time only; never overwritten ---
mkdir -p "$ROOT$CONF_DIR"
if [ ! -f "$ROOT$CONF_DIR/config.yaml" ]; then
  cp "$SRC/examples/board.yaml" "$ROOT$CONF_DIR/config.yaml"
  say "wrote $CONF_DIR/config.yaml from examples/board.yaml: set uplink.mqtt.url and your sources"
fi
chmod 0750 "$ROOT$CONF_DIR"
chmod 0640 "$ROOT$CONF_DIR/config.yaml"
if [ "$OWN" = 1 ]; then
  gid=$(grep "^$USER_NAME:" "$ROOT/etc/group" | cut -d: -f3)
  chown "0:$gid" "$ROOT$CONF_DIR" "$ROOT$CONF_DIR/config.yaml"
fi

# --- Unit ---
mkdir -p "$(dirname "$ROOT$UNIT")"
cp "$SRC/systemd/edge-agent.service" "$ROOT$UNIT"
chmod 0644 "$ROOT$UNIT"
if live; then
  systemctl daemon-reload
  systemctl enable edge-agent.service
  if [ "$START" = 1 ]; then
    # restart, not start: a re-run after an upgrade must load the new bundle.
    systemctl restart edge-agent.service
    say "started; follow it with: journalctl -u edge-agent -f"
  fi
elif have systemctl; then
  systemctl --root="$ROOT" enable edge-agent.service >/dev/null 2>&1 || die "systemctl --root=$ROOT enable failed"
else
  mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
  ln -sf "$UNIT" "$ROOT/etc/systemd/system/multi-user.target.wants/edge-agent.service"
fi
say "installed $(cat "$SRC/VERSION") in ${ROOT:-}$PREFIX"
