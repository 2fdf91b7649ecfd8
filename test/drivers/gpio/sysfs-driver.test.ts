import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../../helpers/source-context.js';
import { tempDir } from '../../helpers/daemon.js';
import { FakeSysfs, PI4_NEW_KERNEL } from './fake-sysfs.js';
import { gpioContext, makeDriver, pinDiag } from './helpers.js';

/*
 * The driver as configured, with the plain sysfs backend on a fake tree of REAL files (a temp dir
 * as sysfs root, serviced by FakeSysfs as the kernel would). Edge interrupts do not exist on
 * regular files, so these runs exercise the polling path: the driver reads the value files.
 * (test/drivers/gpio/onoff-ns.test.ts runs the onoff backend on /sys/class/gpio in a private
 * mount namespace.)
 */

function setup() {
  const sys = new FakeSysfs(path.join(tempDir('gpio-sys-'), 'gpio'), PI4_NEW_KERNEL).start();
  return sys;
}

test('line 17 on a base-512 pinctrl-bcm2711 chip is gpio529: exported, configured, read, unexported', async (t) => {
  const sys = setup();
  t.after(() => sys.stop());
  const c = gpioContext();
  sys.set(529, 0); // physical low; activeLow makes that logical 1
  const d = makeDriver({ sysfsRoot: sys.root, pollInterval: 5, pins: [{ name: 'open', line: 17, edge: 'both', activeLow: true }] }, c.ctx);
  await d.open();
  t.after(() => d.close());
  assert.deepEqual(sys.exports, [529]);
  assert.equal(sys.attr(529, 'direction'), 'in');
  assert.equal(sys.attr(529, 'edge'), 'both');
  // activeLow is applied by the driver, the kernel's flag kept at 0 (same on every backend)
  assert.equal(sys.attr(529, 'active_low'), '0');
  assert.deepEqual(c.states.at(-1), { state: 'ok', detail: undefined });
  assert.deepEqual(c.readings.map((r) => r.value), [true], 'initial level, logical (active low)');
  const poll = c.logs.find((l) => l.pin === 'open' && l.level === 40);
  assert.ok(poll, 'the fallback to polling is logged as a warning');
  assert.match(String(poll.msg), /sysfs backend has no edge interrupts; falling back to polling the value every 5 ms/);
  assert.equal(poll.gpio, 529);

  sys.set(529, 1);
  await waitFor(() => c.readings.length === 2, 5000, 'reading after going high');
  assert.equal(c.readings[1].value, false);
  sys.set(529, 0);
  await waitFor(() => c.readings.length === 3, 5000, 'reading after going low');
  assert.equal(c.readings[2].value, true);
  assert.equal(pinDiag(d, 'open').gpio, 529);

  await d.close();
  assert.deepEqual(sys.unexports, []);
  sys.service();
  assert.deepEqual(sys.unexports, [529]);
  assert.equal(fs.existsSync(sys.dir(529)), false);
});

test('edge: rising reports only rising changes, falling only falling; maxSilence repeats a flat line', async (t) => {
  const sys = setup();
  t.after(() => sys.stop());
  const c = gpioContext();
  const d = makeDriver({ sysfsRoot: sys.root, pollInterval: 5, pins: [
    { name: 'up', line: 17, edge: 'rising', maxSilence: '60s' },
    { name: 'down', line: 22, edge: 'falling', maxSilence: '60s' },
    { name: 'flat', line: 5, maxSilence: '300ms' },
  ] }, c.ctx);
  await d.open();
  t.after(() => d.close());
  const of = (p: string) => c.readings.filter((r) => r.point === p).map((r) => r.value);
  assert.deepEqual(of('up'), [false]);
  assert.deepEqual(of('down'), [false]);
  for (let i = 0; i < 3; i++) {
    for (const lvl of [1, 0] as const) {
      sys.set(529, lvl);
      sys.set(534, lvl);
      const want = 2 * i + (lvl === 1 ? 1 : 2);
      await waitFor(() => pinDiag(d, 'up').changes === want && pinDiag(d, 'down').changes === want, 5000, `change ${want}`);
    }
  }
  assert.deepEqual(of('up'), [false, true, true, true], 'initial + 3 rising');
  assert.deepEqual(of('down'), [false, false, false, false], 'initial + 3 falling');
  // flat line: the level keeps coming at least every maxSilence
  await waitFor(() => of('flat').length >= 4, 10_000, 'maxSilence repeats');
  const ts = c.readings.filter((r) => r.point === 'flat').map((r) => r.ts);
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i] - ts[i - 1] >= 290, `repeat spacing ${ts[i] - ts[i - 1]} ms >= maxSilence`);
});

test('debounce: a bouncing contact gives one reading once it holds; short glitches none', async (t) => {
  const sys = setup();
  t.after(() => sys.stop());
  const c = gpioContext();
  // A generous debounce so a loaded machine's scheduling jitter (the test writes the bounces
  // ~10 ms apart) cannot stretch one bounce past it.
  const d = makeDriver({ sysfsRoot: sys.root, pollInterval: 2, pins: [{ name: 'sw', line: 17, debounce: '600ms' }] }, c.ctx);
  await d.open();
  t.after(() => d.close());
  assert.deepEqual(c.readings.map((r) => r.value), [false]);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // glitches: high for ~10 ms, back low
  for (let i = 0; i < 5; i++) {
    sys.set(529, 1);
    await sleep(10);
    sys.set(529, 0);
    await sleep(10);
  }
  // bounce then hold high
  const t0 = Date.now();
  for (const l of [1, 0, 1, 0, 1] as const) {
    sys.set(529, l);
    await sleep(10);
  }
  await waitFor(() => c.readings.length === 2, 10_000, 'debounced change');
  assert.equal(c.readings[1].value, true);
  assert.equal(pinDiag(d, 'sw').changes, 1, 'one accepted change for all that bouncing');
  assert.ok(c.readings[1].ts >= t0 - 5, 'stamped when the final level was first seen');
  assert.ok(c.readings[1].ts <= Date.now() - 500, 'stamped at first sight, not at acceptance 600 ms later');
});

test('counter: pulses counted on the configured edge, scaled total and rate, total survives a restart', async (t) => {
  const sys = setup();
  t.after(() => sys.stop());
  const dataDir = tempDir('gpio-data-');
  const cfg = { sysfsRoot: sys.root, pollInterval: 2, persistInterval: '100ms', pins: [
    { name: 'flow', line: 27, mode: 'counter', edge: 'rising', scale: 0.5, unit: 'L', interval: '400ms' },
    { name: 'energy', line: 22, mode: 'counter', edge: 'falling', scale: 0.001, unit: 'kWh', interval: '400ms' },
  ] };
  const pulse = async (d: ReturnType<typeof makeDriver>, n: number) => {
    for (let i = 0; i < n; i++) {
      const base = pinDiag(d, 'flow').changes;
      sys.set(539, 1);
      sys.set(534, 1);
      await waitFor(() => pinDiag(d, 'flow').changes === base + 1 && pinDiag(d, 'energy').changes === base + 1, 5000, 'high seen');
      sys.set(539, 0);
      sys.set(534, 0);
      await waitFor(() => pinDiag(d, 'flow').changes === base + 2 && pinDiag(d, 'energy').changes === base + 2, 5000, 'low seen');
    }
  };

  const c1 = gpioContext(dataDir);
  const d1 = makeDriver(cfg, c1.ctx);
  await d1.open();
  assert.deepEqual(c1.readings.map((r) => [r.point, r.value]), [['flow', 0], ['energy', 0]], 'totals at open');
  await pulse(d1, 10);
  assert.equal(pinDiag(d1, 'flow').pulses, 10);
  assert.equal(pinDiag(d1, 'energy').pulses, 10);
  await waitFor(() => c1.readings.some((r) => r.point === 'flow' && r.value === 5), 5000, 'total 10 * 0.5 L');
  await waitFor(() => c1.readings.some((r) => r.point === 'energy' && r.value === 0.01), 5000, 'total 10 * 0.001 kWh');
  const rates = c1.readings.filter((r) => r.point === 'flow.rate').map((r) => r.value as number);
  assert.ok(rates.length >= 1 && rates.every((r) => r >= 0), `rates ${rates}`);
  assert.ok(rates.some((r) => r > 0), 'some interval saw pulses');
  // persisted within persistInterval, while running
  const file = path.join(dataDir, 'gpio', 'door.json');
  await waitFor(() => fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).pins.flow.pulses === 10, 5000, 'totals on disk');
  await d1.close();
  sys.service();

  const c2 = gpioContext(dataDir);
  const d2 = makeDriver(cfg, c2.ctx);
  await d2.open();
  t.after(() => d2.close());
  assert.deepEqual(c2.readings.slice(0, 2).map((r) => [r.point, r.value]), [['flow', 5], ['energy', 0.01]], 'totals restored after restart');
  await pulse(d2, 4);
  await waitFor(() => c2.readings.some((r) => r.point === 'flow' && r.value === 7), 5000, 'total continues from 14 pulses');
  await waitFor(() => JSON.parse(fs.readFileSync(file, 'utf8')).pins.energy.pulses === 14, 5000, 'persisted 14');
});

test('a missing chip or tree is a reported, retried failure, never a throw', async () => {
  const c = gpioContext();
  const root = path.join(tempDir('gpio-none-'), 'gpio');
  const d = makeDriver({ sysfsRoot: root, pins: [{ name: 'open', line: 17 }] }, c.ctx);
  await d.open();
  try {
    assert.equal(c.states.at(-1)?.state, 'down');
    assert.match(c.states.at(-1)?.detail ?? '', /open: cannot open line 17: no sysfs GPIO tree at .*gpio \(ENOENT\)/);
    assert.equal(c.errors[0].kind, 'open');
    assert.equal(c.errors[0].point, 'open');
    // the tree appears (e.g. module loaded late): the pin opens by itself
    const sys = new FakeSysfs(root, PI4_NEW_KERNEL).start();
    try {
      await waitFor(() => c.states.at(-1)?.state === 'ok', 10_000, 'recovery');
      assert.deepEqual(sys.exports, [529]);
    } finally {
      await d.close();
      sys.stop();
    }
  } finally {
    await d.close();
  }
});
