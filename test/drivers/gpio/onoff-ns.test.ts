import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { IN_CI } from '../../helpers/system.js';
import { REPO } from '../../helpers/daemon.js';

/*
 * The REAL onoff backend (onoff 6 + native epoll) on the real path /sys/class/gpio, which is a
 * tmpfs in a private mount namespace (`unshare -m`, needs root/CAP_SYS_ADMIN). The files are
 * regular files, so epoll_ctl refuses them (EPERM) exactly as on a kernel whose line has no
 * interrupt: this checks onoff's export/configure/read and the driver's logged fallback to
 * polling. Real edge interrupts need a real board (see drivers/gpio/README.md).
 */
function canUnshare(): string | undefined {
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /sys/class'], { encoding: 'utf8' });
  if (r.error) return `unshare unavailable: ${r.error.message}`;
  if (r.status !== 0) return `unshare -m + mount failed (needs root): ${r.stderr.trim()}`;
  return undefined;
}

const why = canUnshare();
if (why && IN_CI) throw new Error(`CI must run the onoff namespace test as root: ${why}`);

test('onoff backend on a tmpfs /sys/class/gpio in a private mount namespace: line 17 -> gpio529, logged polling fallback, counter restart', { skip: why ? `${why} (run as root to exercise real onoff)` : false, timeout: 60_000 }, () => {
  const child = path.join(REPO, 'test/drivers/gpio/onoff-ns.child.ts');
  const env = { ...process.env };
  delete env.EDGE_AGENT_GPIO_SYSFS;
  // unshare -m makes mounts private by default: the tmpfs never shows outside the child.
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=4m tmpfs /sys/class && mkdir /sys/class/gpio && exec "$0" --import tsx "$1"', process.execPath, child], { cwd: REPO, env, encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, `child failed:\n${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.ok, true);
  assert.equal(out.backend, 'onoff');
  assert.deepEqual(out.exports, [529, 539, 529, 539], 'exported at each of the two opens');
  assert.deepEqual(out.unexports, [529, 539, 529, 539], 'unexported at each close');
  assert.match(out.fallbackReason, /edge interrupts unavailable/);
});

test('CLI with the real onoff backend, on a line another program exported: reads, leaves edge and export alone', { skip: why ? `${why} (run as root to exercise real onoff)` : false, timeout: 60_000 }, () => {
  const env = { ...process.env };
  delete env.EDGE_AGENT_GPIO_SYSFS;
  const setup = [
    'mount -t tmpfs -o size=4m tmpfs /sys/class',
    'mkdir -p /sys/class/gpio/gpiochip512 /sys/class/gpio/gpio529',
    'cd /sys/class/gpio',
    'echo pinctrl-bcm2711 > gpiochip512/label; echo 512 > gpiochip512/base; echo 58 > gpiochip512/ngpio',
    ': > export; : > unexport',
    'echo 1 > gpio529/value; echo in > gpio529/direction; echo rising > gpio529/edge; echo 0 > gpio529/active_low',
    'cd "$2"',
    '"$0" --import tsx agent/cli/main.ts gpio read 17 --json',
    '"$0" --import tsx agent/cli/main.ts gpio watch 17 --json --for 300ms',
    'echo "edge=$(cat /sys/class/gpio/gpio529/edge) unexport=[$(cat /sys/class/gpio/unexport)] exported=$(ls -d /sys/class/gpio/gpio529)"',
  ].join(' && ');
  const r = spawnSync('unshare', ['-m', 'sh', '-c', setup, process.execPath, 'unused', REPO], { cwd: REPO, env, encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const [read, watch, state] = r.stdout.trim().split('\n');
  assert.deepEqual(JSON.parse(read), { line: 17, gpio: 529, chip: 'pinctrl-bcm2711', base: 512, value: 1, activeLow: false, shared: true, backend: 'onoff' });
  assert.deepEqual(JSON.parse(watch).event, 'initial');
  assert.match(r.stderr, /edge=rising \(shared, left unchanged\)\); falling back to polling/);
  assert.equal(state, 'edge=rising unexport=[] exported=/sys/class/gpio/gpio529');
});
