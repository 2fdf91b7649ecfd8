import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Debouncer, edgeMatches } from '../../../drivers/gpio/debounce.js';
import { PulseCounter, tidy } from '../../../drivers/gpio/counter.js';
import { CounterStore, CounterStateError } from '../../../drivers/gpio/store.js';
import { SysfsTree, GpioResolveError } from '../../../drivers/gpio/sysfs-tree.js';
import { gpioSchema } from '../../../drivers/gpio/config.js';
import { tempDir } from '../../helpers/daemon.js';
import { FakeSysfs, PI4_NEW_KERNEL } from './fake-sysfs.js';

// Pure logic on an injected (hand-advanced) clock: times are explicit numbers.

test('debounce: a glitch shorter than the debounce time is never accepted', () => {
  const d = new Debouncer(20);
  d.reset(0);
  assert.equal(d.input(1, 1000), false);
  assert.equal(d.deadline(), 1020);
  assert.equal(d.settle(1010), false, 'not yet held 20 ms');
  assert.equal(d.input(0, 1015), false, 'bounced back');
  assert.equal(d.pending, false);
  assert.equal(d.settle(1100), false, 'nothing to accept after the glitch');
  assert.equal(d.level, 0);
});

test('debounce: contact bounce settles to one change, timed from the last bounce', () => {
  const d = new Debouncer(20);
  d.reset(0);
  // 1 0 1 0 1 every 3 ms, then held high
  let t = 0;
  for (const l of [1, 0, 1, 0, 1] as const) d.input(l, (t += 3));
  assert.equal(d.pendingSince, 15, 'the last transition to 1 starts the hold time');
  assert.equal(d.settle(34), false);
  assert.equal(d.settle(35), true);
  assert.equal(d.level, 1);
  assert.equal(d.pending, false);
  // a repeated reading of the stable level changes nothing
  assert.equal(d.input(1, 40), false);
  assert.equal(d.settle(100), false);
});

test('debounce 0: every change is accepted at once', () => {
  const d = new Debouncer(0);
  d.reset(1);
  assert.equal(d.input(0, 5), true);
  assert.equal(d.level, 0);
  assert.equal(d.input(0, 6), false, 'same level: no change');
  assert.equal(d.input(1, 7), true);
});

test('edge filter on logical levels', () => {
  assert.equal(edgeMatches('rising', 1), true);
  assert.equal(edgeMatches('rising', 0), false);
  assert.equal(edgeMatches('falling', 0), true);
  assert.equal(edgeMatches('falling', 1), false);
  assert.equal(edgeMatches('both', 0), true);
  assert.equal(edgeMatches('both', 1), true);
});

test('counter: scaled total and per-second rate over the actual elapsed time', () => {
  const c = new PulseCounter(100, 0.5);
  c.start(0);
  for (let i = 0; i < 30; i++) c.pulse();
  assert.equal(c.pulses, 130);
  assert.equal(c.total(), 65);
  assert.equal(c.tick(10_000), 1.5, '30 pulses * 0.5 L in 10 s = 1.5 L/s');
  // a late tick (15 s window) does not inflate the rate
  for (let i = 0; i < 30; i++) c.pulse();
  assert.equal(c.tick(25_000), 1);
  assert.equal(c.tick(25_000), undefined, 'empty window');
  assert.equal(tidy(0.1 * 3), 0.3);
  const d = new PulseCounter(0, 0.1);
  for (let i = 0; i < 3; i++) d.pulse();
  assert.equal(d.total(), 0.3);
});

test('counter store: atomic save and load; a corrupt file is an error and can be set aside', async () => {
  const dir = tempDir('gpio-store-');
  const s = new CounterStore(dir, 'meter');
  assert.deepEqual(s.load(), {});
  await s.save({ flow: { pulses: 42, line: 27 } }, 1);
  assert.deepEqual(s.load(), { flow: 42 });
  // concurrent saves serialise; the later one wins, no temp file left behind
  await Promise.all([s.save({ flow: { pulses: 43, line: 27 } }, 2), s.save({ flow: { pulses: 44, line: 27 } }, 3)]);
  assert.deepEqual(s.load(), { flow: 44 });
  assert.deepEqual(fs.readdirSync(path.dirname(s.file)), ['meter.json']);
  fs.writeFileSync(s.file, '{"version":1,"pins":{"flow":{"pulses":4');
  assert.throws(() => s.load(), (e: Error) => e instanceof CounterStateError && /not valid JSON/.test(e.message) && e.message.includes(s.file));
  fs.writeFileSync(s.file, '{"version":1,"pins":{"flow":{"pulses":-3}}}');
  assert.throws(() => s.load(), /pins\.flow\.pulses is not a non-negative integer/);
  const kept = s.quarantine();
  assert.ok(kept && fs.existsSync(kept));
  assert.deepEqual(s.load(), {});
});

test('resolve: BCM 17 is gpio529 on a base-512 bcm2711 chip, gpio17 on an old kernel, gpio588 on a Pi 5', () => {
  const a = new FakeSysfs(tempDir('gpio-res-'), PI4_NEW_KERNEL);
  assert.deepEqual(new SysfsTree(a.root).resolve(17), { line: 17, chipLabel: 'pinctrl-bcm2711', chipBase: 512, ngpio: 58, number: 529 });
  const old = new FakeSysfs(tempDir('gpio-res-'), [{ label: 'pinctrl-bcm2835', base: 0, ngpio: 54 }, { label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8 }]);
  assert.equal(new SysfsTree(old.root).resolve(17).number, 17);
  const pi5 = new FakeSysfs(tempDir('gpio-res-'), [
    { label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
    { label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4 },
    { label: 'pinctrl-rp1', base: 571, ngpio: 54 },
  ]);
  assert.equal(new SysfsTree(pi5.root).resolve(17).number, 588);
  // explicit chip by label prefix (other boards)
  assert.equal(new SysfsTree(pi5.root).resolve(3, 'gpio-brcmstb@107d508520').number, 547);
});

test('resolve: errors say what was looked for and what was found', () => {
  const a = new FakeSysfs(tempDir('gpio-res-'), PI4_NEW_KERNEL);
  assert.throws(() => new SysfsTree(a.root).resolve(58), (e: Error) => e instanceof GpioResolveError && /line 58 is beyond gpiochip512 "pinctrl-bcm2711" \(58 lines, 0-57\)/.test(e.message));
  const other = new FakeSysfs(tempDir('gpio-res-'), [{ label: 'tegra-gpio', base: 300, ngpio: 100 }]);
  assert.throws(() => new SysfsTree(other.root).resolve(1), /no Raspberry Pi header gpiochip .* \(found: gpiochip300 "tegra-gpio" base 300 ngpio 100\); set the source's chip/);
  assert.throws(() => new SysfsTree(other.root).resolve(1, 'nope'), /no gpiochip labelled "nope"/);
  assert.throws(() => new SysfsTree('/nonexistent/gpio').resolve(1), /no sysfs GPIO tree at \/nonexistent\/gpio \(ENOENT\)/);
});

test('config: defaults, and clear errors for duplicate lines/points and onoff on a custom root', () => {
  const ok = gpioSchema.parse({ id: 'door', driver: 'gpio', pins: [{ name: 'open', line: 17, debounce: '20ms' }, { name: 'flow', line: 27, mode: 'counter', scale: 0.5, unit: 'L' }] });
  assert.equal(ok.pins[0].debounce, 20);
  assert.equal(ok.pins[0].maxSilence, 60_000);
  assert.equal(ok.persistInterval, 1000);
  assert.equal(ok.interval, 10_000);
  assert.equal(ok.pollInterval, 10);
  const bad = gpioSchema.safeParse({ id: 'x', driver: 'gpio', backend: 'onoff', sysfsRoot: '/tmp/gpio', pins: [
    { name: 'a', line: 17 }, { name: 'b', line: 17 }, { name: 'flow', line: 5, mode: 'counter' }, { name: 'flow.rate', line: 6 }, { name: 'c', line: 7, bogus: 1 },
  ] });
  assert.ok(!bad.success);
  const issues = bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.ok(issues.some((m) => m.startsWith('pins.4: ') && /bogus/.test(m)), issues.join('\n'));
  const ref = gpioSchema.safeParse({ id: 'x', driver: 'gpio', backend: 'onoff', sysfsRoot: '/tmp/gpio', pins: [
    { name: 'a', line: 17 }, { name: 'b', line: 17 }, { name: 'flow', line: 5, mode: 'counter' }, { name: 'flow.rate', line: 6 },
  ] });
  assert.ok(!ref.success);
  const msgs = ref.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.ok(msgs.includes('pins.1.line: line 17 is already used by pins[0]'), msgs.join('\n'));
  assert.ok(msgs.includes('pins.3.name: point "flow.rate" is already produced by pins[2]'), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.startsWith('sysfsRoot: backend onoff only works on /sys/class/gpio')), msgs.join('\n'));
});

test('config file: the SPEC example source loads; a pin error names path and line:col', async () => {
  const { parseConfigText } = await import('../../../agent/config/load.js');
  const { formatError } = await import('../../../agent/config/errors.js');
  const head = 'uplink:\n  mqtt:\n    url: mqtt://127.0.0.1:1883\nsources:\n  - id: door\n    driver: gpio\n    pins:\n';
  const ok = parseConfigText(head + '      - { name: open, line: 17, edge: both, debounce: 20ms, activeLow: true }\n      - { name: flow, line: 27, mode: counter, edge: rising, scale: 0.5, unit: L }\n');
  assert.ok(ok.ok, ok.ok ? '' : ok.errors.map((e) => formatError(e)).join('\n'));
  const bad = parseConfigText(head + '      - { name: open, line: 17 }\n      - { name: flow, line: 27, edge: up }\n');
  assert.ok(!bad.ok);
  const lines = bad.errors.map((e) => formatError(e, 'config.yaml'));
  assert.ok(lines.some((l) => /^sources\[0\]\.pins\[1\]\.edge: .*rising.*\(config\.yaml:9:\d+\)$/.test(l)), lines.join('\n'));
});
