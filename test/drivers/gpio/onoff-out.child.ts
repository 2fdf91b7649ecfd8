/**
 * Runs INSIDE a private mount namespace (see onoff-out.test.ts) with a fake tree at the real
 * /sys/class/gpio: output pins through the real onoff 6 backend. Prints one JSON line of findings.
 */
import assert from 'node:assert/strict';
import { FakeSysfs, PI4_NEW_KERNEL } from './fake-sysfs.js';
import { gpioContext, makeDriver } from './helpers.js';

const sys = new FakeSysfs('/sys/class/gpio', PI4_NEW_KERNEL).start({ synchronous: true });
const c = gpioContext();
const d = makeDriver({ pins: [
  { name: 'relay', line: 17, direction: 'out', initial: 1 },
  { name: 'valve', line: 27, direction: 'out', activeLow: true },
] }, c.ctx);
await d.open();
assert.equal((d.diagnostics() as { backend: string }).backend, 'onoff');
sys.service();
assert.equal(sys.attr(529, 'direction'), 'out');
assert.equal(sys.level(529), 1, 'initial 1');
assert.equal(sys.level(539), 1, 'valve: logical 0, active low: physical high');
assert.equal(await d.write('relay', false), false);
assert.equal(sys.attr(529, 'value'), '0');
assert.equal(await d.write('valve', true), true);
sys.service();
assert.equal(sys.level(539), 0);
await d.close();
sys.service();
process.stdout.write(JSON.stringify({ ok: true, unexports: sys.unexports, readings: c.readings.map((r) => [r.point, r.value]) }) + '\n');
sys.stop();
