#!/bin/sh
# smoke.sh ARCH TARBALL PORT WORKDIR: run one release tarball the way a board would, against the
# mosquitto listening on the host's 127.0.0.1:PORT (started by the caller).
#   arm64, armv7: in a Debian trixie root of that arch with its Node 20 (mkruntime.sh, cached),
#                 under qemu-user (binfmt.sh, enter.sh). x64: natively, with the host's node.
# Steps, each printed as `smoke <arch>: ...`; the script fails at the first one that fails:
#   1. unpack into ROOT/opt/edge-agent; `install.sh --root` (fails if an addon does not load)
#   2. run the bundle with the sim sources of examples/demo.yaml; the first batch must arrive at a
#      subscriber (mosquitto forwards what it acknowledged) and the outbox must be written
#   3. SIGTERM: exit 0 and `edge-agent stopped` in the log
#   4. `edge-agent check` and `edge-agent buffer stats` work
#   5. HEAP_SECONDS > 0 (default 0): the bench's typical load (100 Modbus TCP registers at 10 Hz
#      from a pymodbus slave on the host, deadband + dedupe, to mosquitto) for that long with the
#      unit's Node flags; prints process.memoryUsage() heapUsed / external (MiB: mean of samples
#      after a 5 s warm-up, and after a full GC at the end). RSS is not reported: under qemu-user
#      it is the emulator's, not the board's.
set -eu
arch=${1:?usage: smoke.sh ARCH TARBALL PORT WORKDIR}; tarball=$(realpath "${2:?}"); port=${3:?}; work=$(realpath -m "${4:?}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
say() { echo "smoke $arch: $*"; }
die() { echo "smoke $arch: FAIL: $*"; exit 1; }
ms() { date +%s%3N; }

R=$work/root-$arch
mkdir -p "$work"
if [ "$arch" = x64 ]; then
  P=$R                                  # paths as the daemon sees them
  run() { sh -c "$1"; }
  start() { sh -c "$1" & }
  rm -rf "$R"; mkdir -p "$R"
else
  P=
  run() { sh "$here/enter.sh" "$R" sh -c "$1"; }
  start() { sh "$here/enter.sh" "$R" sh -c "$1" & }   # $! is node itself: enter.sh, chroot, env, sh exec
  umount "$R/proc" 2>/dev/null || true
  t0=$(ms); sh "$here/mkruntime.sh" "$arch" "$R"
  say "root ready in $(( $(ms) - t0 )) ms ($(run 'node --version'), $(run 'uname -m') under qemu-user)"
fi
agent=; slave=
cleanup() {
  for p in $agent $slave; do kill -TERM "$p" 2>/dev/null && sleep 1 && kill -KILL "$p" 2>/dev/null || true; done
  [ "$arch" = x64 ] || umount "$R/proc" 2>/dev/null || true
}
trap cleanup EXIT
D=$P/opt/edge-agent
mkdir -p "$R/opt/edge-agent" "$R/var/lib/ea" "$R/tmp"
tar -xzf "$tarball" -C "$R/opt/edge-agent" --strip-components=1
say "natives: $(grep -v '^#' "$R/opt/edge-agent/NATIVES.txt" | awk '{print $1 " " $3}' | tr '\n' ',' | sed 's/,$//; s/,/, /g')"

# 1. install.sh --root: copies the tree and loads every addon with this root's node.
run "cd $D && sh ./install.sh --root $P/tmp/i" > "$work/install-$arch.log" 2>&1 || { cat "$work/install-$arch.log"; die "install.sh --root exited $?"; }
if grep -q 'do not load' "$work/install-$arch.log"; then cat "$work/install-$arch.log"; die "install.sh says an addon does not load"; fi
say "install.sh --root: all addons load"

# 2. The demo's sim sources against the host's mosquitto.
sed -e "s|url: mqtt://127.0.0.1:1883.*|url: mqtt://127.0.0.1:$port|" -e "s|dataDir: .*|dataDir: $P/var/lib/ea|" \
    -e "s|socket: .*|socket: $P/var/lib/ea/agent.sock|" -e "s|id: demo-board|id: smoke-$arch|" \
    "$R/opt/edge-agent/examples/demo.yaml" > "$R/opt/edge-agent/smoke.yaml"
timeout 90 mosquitto_sub -h 127.0.0.1 -p "$port" -t "edge/smoke-$arch/data" -C 1 > "$work/sub-$arch.txt" 2>&1 &
sub=$!
sleep 0.3
t0=$(ms)
start "cd $D && exec node edge-agent.mjs run --config smoke.yaml" > "$work/agent-$arch.log" 2>&1
agent=$!
wait $sub || { kill -TERM $agent 2>/dev/null || true; tail -20 "$work/agent-$arch.log"; die "no batch arrived at the subscriber within 90 s"; }
first=$(( $(ms) - t0 ))
grep -q '"readings"' "$work/sub-$arch.txt" || die "the message has no readings: $(head -c 300 "$work/sub-$arch.txt")"
say "first batch acknowledged and at the subscriber $first ms after launch ($(wc -c < "$work/sub-$arch.txt") bytes)"
sleep 1
[ -s "$R/var/lib/ea/outbox.db" ] || die "no outbox at $P/var/lib/ea/outbox.db"

# 3. SIGTERM: clean stop.
kill -TERM $agent
rc=0; wait $agent || rc=$?
agent=
[ "$rc" = 0 ] || { tail -20 "$work/agent-$arch.log"; die "exit $rc after SIGTERM"; }
grep -q 'edge-agent stopped' "$work/agent-$arch.log" || { tail -20 "$work/agent-$arch.log"; die "no 'edge-agent stopped' in the log"; }
say "SIGTERM: exit 0, $(grep -o '"readingsProduced":[0-9]*' "$work/agent-$arch.log" | head -1 | tr -d '"' | tr : ' ')"

# 4. The CLI on the stopped daemon's config and outbox.
run "cd $D && node edge-agent.mjs check --config smoke.yaml" > "$work/check-$arch.log" 2>&1 || { cat "$work/check-$arch.log"; die "check failed"; }
say "check: $(tail -1 "$work/check-$arch.log" | cut -c1-120)"
run "cd $D && node edge-agent.mjs buffer stats -d $P/var/lib/ea --json" > "$work/stats-$arch.json" 2>&1 || { cat "$work/stats-$arch.json"; die "buffer stats failed"; }
next=$(node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(String(s.nextSeq))' "$work/stats-$arch.json") ||
  die "buffer stats --json: $(cat "$work/stats-$arch.json")"
[ "$next" -gt 1 ] 2>/dev/null || die "buffer stats: the outbox was never written (nextSeq $next)"
say "buffer stats: outbox written, a restart continues at seq $next"

# 5. Heap under the bench's typical load.
heap=${HEAP_SECONDS:-0}
[ "$heap" -gt 0 ] || exit 0
/usr/bin/python3 -c "import pymodbus.server" 2>/dev/null || die "HEAP_SECONDS needs python3-pymodbus for the Modbus slave"
mport=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
node -e 'console.log(JSON.stringify({ size: 128, points: Array.from({ length: 100 }, (_, i) => ({ name: `r${i}`, table: "holding", address: i, type: "uint16", value: 1000 + i })) }))' > "$work/map.json"
/usr/bin/python3 "$repo/test/fixtures/modbus-slave.py" --tcp "$mport" --map "$work/map.json" > "$work/slave.log" 2>&1 &
slave=$!
i=0; until grep -q READY "$work/slave.log"; do i=$((i + 1)); [ $i -lt 100 ] || die "modbus slave did not start"; sleep 0.1; done
rm -rf "$R/var/lib/ea"; mkdir -p "$R/var/lib/ea"
cat > "$R/opt/edge-agent/typical.yaml" <<YAML
agent: { id: heap-$arch, dataDir: $P/var/lib/ea, logLevel: warn }
uplink: { mqtt: { url: "mqtt://127.0.0.1:$port", qos: 1 } }
sources:
  - id: plc
    driver: modbus-tcp
    host: 127.0.0.1
    port: $mport
    unitId: 1
    pollInterval: 100ms
    timeout: 500ms
    points:
$(i=0; while [ $i -lt 100 ]; do echo "      - { name: r$i, table: holding, address: $i, type: uint16 }"; i=$((i + 1)); done)
pipelines:
  - match: "plc/*"
    stages:
      - filter: { deadband: 0.5 }
      - dedupe: { maxSilence: 60s }
control: { socket: $P/var/lib/ea/agent.sock }
YAML
# A preload that samples process.memoryUsage() each second after 5 s, and on exit after a full GC.
cat > "$R/opt/edge-agent/heap-probe.cjs" <<'JS'
const fs = require('node:fs');
const out = process.env.HEAP_OUT, s = [], t0 = Date.now();
setInterval(() => { if (Date.now() - t0 >= 5000) s.push(process.memoryUsage()); }, 1000).unref();
process.on('exit', () => {
  const mean = (k) => s.reduce((a, m) => a + m[k], 0) / (s.length || 1);
  global.gc?.(); global.gc?.();
  const g = process.memoryUsage();
  fs.writeFileSync(out, JSON.stringify({ samples: s.length, heapUsedMean: mean('heapUsed'), heapTotalMean: mean('heapTotal'), externalMean: mean('external'), rssMean: mean('rss'), afterGc: g }));
});
JS
start "cd $D && HEAP_OUT=$P/var/lib/ea/heap.json exec node --max-old-space-size=96 --max-semi-space-size=2 --expose-gc --require ./heap-probe.cjs edge-agent.mjs run --config typical.yaml" > "$work/heap-$arch.log" 2>&1
agent=$!
sleep "$heap"
# The load was real: the Modbus source's readings, from the running daemon's status.
run "cd $D && node edge-agent.mjs status --socket $P/var/lib/ea/agent.sock --json" > "$work/status-$arch.json" 2>&1 || { cat "$work/status-$arch.json"; die "status failed"; }
polled=$(node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).sources[0]; process.stdout.write(`${s.readings} readings, state ${s.state}`)' "$work/status-$arch.json")
kill -TERM $agent; rc=0; wait $agent || rc=$?
agent=
[ "$rc" = 0 ] && [ -s "$R/var/lib/ea/heap.json" ] || { tail -20 "$work/heap-$arch.log"; die "typical-load run: exit $rc, no heap figures"; }
cp "$R/var/lib/ea/heap.json" "$work/heap-$arch.json"
say "heap under typical load, ${heap} s: $(node -e '
  const h = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")), M = (b) => (b / 1048576).toFixed(1);
  console.log(`heapUsed ${M(h.heapUsedMean)} MiB mean, ${M(h.afterGc.heapUsed)} after GC; heapTotal ${M(h.heapTotalMean)}; external ${M(h.externalMean)} MiB (${h.samples} samples)`)' "$work/heap-$arch.json"); Modbus source: $polled"
