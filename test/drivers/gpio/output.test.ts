import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/daemon.js';
import { WriteFailed } from '../../../drivers/types.js';
import { gpioDriver, gpioSchema } from '../../../drivers/gpio/index.js';
import { FakeSysfs, PI4_NEW_KERNEL } from './fake-sysfs.js';
import { gpioContext, makeDriver, pinDiag } from './helpers.js';

/*
 * Outputs on the sysfs backend over a fake tree of real files (FakeSysfs plays the kernel,
 * including "high"/"low" written to direction). BCM 17 and 27 are gpio529 and gpio539 there.
 */

function setup() {
  return new FakeSysfs(path.join(tempDir('gpio-out-'), 'gpio'), PI4_NEW_KERNEL).start({ synchronous: true });
}

test('an output opens at its initial level in one step, writes change the value file, close releases the line', async (t) => {
  const sys = setup();
  t.after(() => sys.stop());
  const c = gpioContext();
  const d = makeDriver({ sysfsRoot: sys.root, pins: [
    { name: 'relay', line: 17, direction: 'out', initial: 1 },
    { name: 'lamp', line: 27, direction: 'out' },
  ] }, c.ctx);
  await d.open();
  t.after(() => d.close());
  assert.equal(sys.attr(529, 'direction'), 'out');
  assert.equal(sys.attr(529, 'value'), '1', 'initial: 1 honoured');
  assert.equal(sys.level(529), 1);
  assert.equal(sys.attr(539, 'value'), '0', 'no initial: 0');
  assert.deepEqual(c.readings.map((r) => [r.point, r.value]).sort(), [['lamp', false], ['relay', true]], 'the level is reported at open');

  assert.equal(await d.write('relay', false), false, 'read back');
  assert.equal(sys.attr(529, 'value'), '0');
  sys.service(); // the fake kernel drives the line from the value file on its next pass
  assert.equal(sys.level(529), 0);
  assert.equal(await d.write('lamp', true), true);
  assert.equal(sys.attr(539, 'value'), '1');
  assert.deepEqual(c.readings.slice(-2).map((r) => [r.point, r.value]), [['relay', false], ['lamp', true]]);
  assert.equal((pinDiag(d, 'relay') as unknown as { direction: string }).direction, 'out');

  await d.close();
  sys.service();
  assert.deepEqual(sys.unexports.sort(), [529, 539], 'both lines released');
  assert.equal(fs.existsSync(sys.dir(529)), false);
});

test('activeLow: initial and writes are logical levels, the line carries the inverse', async (t) => {
  const sys = setup();
  t.after(() => sys.stop());
  const c = gpioContext();
  const d = makeDriver({ sysfsRoot: sys.root, pins: [{ name: 'valve', line: 17, direction: 'out', initial: 0, activeLow: true }] }, c.ctx);
  await d.open();
  t.after(() => d.close());
  assert.equal(sys.level(529), 1, 'logical 0 on an active-low line is physical high');
  assert.equal(await d.write('valve', true), true);
  sys.service();
  assert.equal(sys.level(529), 0);
  assert.equal(sys.attr(529, 'active_low'), '0', 'the kernel flag stays 0; the driver inverts');
});

test('inputs are not writable; config refuses outputs with input-only settings', async (t) => {
  const sys = setup();
  t.after(() => sys.stop());
  const c = gpioContext();
  const d = makeDriver({ sysfsRoot: sys.root, pollInterval: 5, pins: [{ name: 'door', line: 17 }] }, c.ctx);
  await d.open();
  t.after(() => d.close());
  await assert.rejects(d.write('door', true), (e: Error) => e instanceof WriteFailed && /is an input/.test(e.message));
  assert.equal(sys.attr(529, 'direction'), 'in');

  const cfg = gpioSchema.parse({ id: 'io', driver: 'gpio', pins: [{ name: 'a', line: 1 }, { name: 'b', line: 2, direction: 'out' }] });
  assert.equal(gpioDriver.writable!(cfg, 'a'), undefined);
  assert.deepEqual(gpioDriver.writable!(cfg, 'b'), { type: 'bool' });
  const r = gpioSchema.safeParse({ id: 'io', driver: 'gpio', pins: [
    { name: 'a', line: 1, direction: 'out', mode: 'counter' },
    { name: 'b', line: 2, initial: 1 },
    { name: 'c', line: 3, direction: 'out', edge: 'rising' },
  ] });
  assert.equal(r.success, false);
  const msgs = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.deepEqual(msgs, [
    'pins.0.mode: a counter counts input pulses: it cannot be direction out',
    'pins.1.initial: initial is the level of an output: only with direction: out',
    'pins.2.edge: edge applies to inputs, not to direction out',
  ]);
});
