/**
 * Runs INSIDE a private mount namespace (see onoff-ns.test.ts) where /sys/class is a fresh tmpfs:
 * builds a fake gpio tree at the real path /sys/class/gpio and drives the gpio driver with its
 * default backend choice, which is the real onoff 6 (+ its native epoll addon). Prints one JSON
 * line of findings and exits 1 on a failed assertion.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { FakeSysfs, PI4_NEW_KERNEL } from './fake-sysfs.js';
import { gpioContext, makeDriver, pinDiag } from './helpers.js';
import { waitFor } from '../../helpers/source-context.js';
import { tempDir } from '../../helpers/daemon.js';

const ROOT = '/sys/class/gpio';
assert.equal(process.env.EDGE_AGENT_GPIO_SYSFS, undefined);
assert.ok(fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.startsWith('tmpfs /sys/class ')), 'must run with a tmpfs over /sys/class (in a private mount namespace)');

const sys = new FakeSysfs(ROOT, PI4_NEW_KERNEL).start({ synchronous: true });
const dataDir = tempDir('gpio-ns-data-');
const cfg = { persistInterval: '100ms', pollInterval: 2, pins: [
  { name: 'door', line: 17, edge: 'both', activeLow: true },
  { name: 'flow', line: 27, mode: 'counter', edge: 'rising', scale: 0.5, interval: '300ms' },
] };

const c = gpioContext(dataDir);
const d = makeDriver(cfg, c.ctx);
await d.open();
const diag = d.diagnostics() as { backend: string };
assert.equal(diag.backend, 'onoff', 'default backend on /sys/class/gpio is onoff');
assert.deepEqual(sys.exports, [529, 539], 'BCM 17 and 27 exported as 529 and 539');
for (const n of [529, 539]) {
  assert.equal(sys.attr(n, 'direction'), 'in', `onoff set gpio${n} direction`);
  assert.equal(sys.attr(n, 'edge'), 'both', `onoff set gpio${n} edge`);
  assert.equal(sys.attr(n, 'active_low'), '0', `onoff set gpio${n} active_low`);
}
const fallback = c.logs.filter((l) => typeof l.msg === 'string' && /falling back to polling/.test(l.msg));
assert.equal(fallback.length, 2, 'both pins log the polling fallback');
const reason = String(fallback[0].reason);
assert.match(reason, /edge interrupts unavailable on gpio5(29|39) \(EPERM\)|edge interrupts unavailable on gpio5(29|39) \(.*not permitted.*\)/);
assert.equal(pinDiag(d, 'door').watch, 'poll');

// input: physical low + activeLow = logical true at open, then each change
assert.deepEqual(c.readings.filter((r) => r.point === 'door').map((r) => r.value), [true]);
sys.set(529, 1);
await waitFor(() => c.readings.filter((r) => r.point === 'door').length === 2, 5000, 'door change');
sys.set(529, 0);
await waitFor(() => c.readings.filter((r) => r.point === 'door').length === 3, 5000, 'door change back');
assert.deepEqual(c.readings.filter((r) => r.point === 'door').map((r) => r.value), [true, false, true]);

// counter
for (let i = 0; i < 6; i++) {
  sys.set(539, 1);
  await waitFor(() => pinDiag(d, 'flow').changes === 2 * i + 1, 5000, 'high');
  sys.set(539, 0);
  await waitFor(() => pinDiag(d, 'flow').changes === 2 * i + 2, 5000, 'low');
}
assert.equal(pinDiag(d, 'flow').pulses, 6);
await waitFor(() => c.readings.some((r) => r.point === 'flow' && r.value === 3), 5000, 'flow total 3');
await d.close();
sys.service();
assert.deepEqual([...sys.unexports].sort(), [529, 539], 'onoff unexported both lines on close');

const c2 = gpioContext(dataDir);
const d2 = makeDriver(cfg, c2.ctx);
await d2.open();
assert.deepEqual(c2.readings.find((r) => r.point === 'flow')?.value, 3, 'total restored after restart');
await d2.close();
sys.stop();
process.stdout.write(JSON.stringify({ ok: true, backend: diag.backend, exports: sys.exports, unexports: sys.unexports, fallbackReason: reason }) + '\n');
