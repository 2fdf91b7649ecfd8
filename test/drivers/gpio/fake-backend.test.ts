import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { waitFor } from '../../helpers/source-context.js';
import { tempDir, REPO } from '../../helpers/daemon.js';
import { FakeBackend } from './fake-backend.js';
import { gpioContext, makeDriver, pinDiag } from './helpers.js';

/*
 * The driver with an INJECTED fake backend (no files, levels delivered synchronously like edge
 * interrupts): exact pulse counts at any rate, the interrupt path, read failures and recovery,
 * and persistence under SIGKILL.
 */

test('interrupt path: no polling warning; every pulse counted on its edge, exactly', async (t) => {
  const fake = new FakeBackend();
  const c = gpioContext();
  const d = makeDriver({ pins: [
    { name: 'up', line: 27, mode: 'counter' },
    { name: 'both', line: 22, mode: 'counter', edge: 'both' },
    { name: 'inv', line: 23, mode: 'counter', edge: 'rising', activeLow: true },
  ] }, c.ctx, { backend: fake });
  fake.levels.set(23, 1); // active low: physical 1 is logical 0
  await d.open();
  t.after(() => d.close());
  assert.ok(c.logs.some((l) => l.pin === 'up' && /edge interrupts/.test(String(l.msg)) && l.level === 30));
  assert.ok(!c.logs.some((l) => /polling/.test(String(l.msg))));
  fake.pulse(27, 10_000);
  fake.pulse(22, 10_000);
  // activeLow: a physical 1 -> 0 -> 1 pulse is a logical rising edge then falling
  for (let i = 0; i < 7; i++) {
    fake.set(23, 0);
    fake.set(23, 1);
  }
  assert.equal(pinDiag(d, 'up').pulses, 10_000);
  assert.equal(pinDiag(d, 'both').pulses, 20_000);
  assert.equal(pinDiag(d, 'inv').pulses, 7);
});

test('a fallback mode reported by the backend is logged as a warning with the reason', async (t) => {
  const fake = new FakeBackend({ mode: 'poll', reason: 'edge interrupts unavailable on gpio529 (EPERM)' });
  const c = gpioContext();
  const d = makeDriver({ pollInterval: '7ms', pins: [{ name: 'door', line: 17 }] }, c.ctx, { backend: fake });
  await d.open();
  t.after(() => d.close());
  const w = c.logs.find((l) => l.level === 40 && l.pin === 'door');
  assert.equal(w?.msg, 'gpio door: edge interrupts unavailable on gpio529 (EPERM); falling back to polling the value every 7 ms');
});

test('a read failure is counted, marks the input bad, and the line reopens by itself', async (t) => {
  const fake = new FakeBackend();
  const c = gpioContext();
  const d = makeDriver({ pins: [{ name: 'door', line: 17 }, { name: 'other', line: 18 }] }, c.ctx, { backend: fake });
  await d.open();
  t.after(() => d.close());
  assert.equal(c.states.at(-1)?.state, 'ok');
  fake.fail(17, 'EIO: i/o error, read');
  assert.deepEqual(c.errors, [{ kind: 'read', message: 'door: read failed on line 17: EIO: i/o error, read', point: 'door' }]);
  assert.deepEqual(c.readings.at(-1), { point: 'door', value: false, quality: 'bad', ts: c.readings.at(-1)!.ts });
  assert.equal(c.states.at(-1)?.state, 'backing-off');
  assert.match(c.states.at(-1)?.detail ?? '', /^door: read failed/);
  fake.set(18, 1);
  assert.equal(c.readings.at(-1)?.point, 'other', 'the other pin keeps working');
  await waitFor(() => c.states.at(-1)?.state === 'ok', 10_000, 'reopen after backoff');
  assert.equal(fake.opens, 3);
  fake.set(17, 1);
  assert.deepEqual([c.readings.at(-1)?.point, c.readings.at(-1)?.value], ['door', true]);
});

test('persistence: nothing written while unchanged; a clean stop saves pulses newer than the last write', async () => {
  const dataDir = tempDir('gpio-persist-');
  const file = path.join(dataDir, 'gpio', 'door.json');
  const fake = new FakeBackend();
  const c = gpioContext(dataDir);
  const d = makeDriver({ persistInterval: '150ms', pins: [{ name: 'flow', line: 27, mode: 'counter' }] }, c.ctx, { backend: fake });
  await d.open();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(fs.existsSync(file), false, 'no pulses, no write');
  fake.pulse(27, 5);
  await waitFor(() => fs.existsSync(file), 5000, 'first write');
  const first = fs.statSync(file).mtimeMs;
  const savedAt = JSON.parse(fs.readFileSync(file, 'utf8')).savedAt;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).savedAt, savedAt, 'unchanged total: no rewrite');
  assert.equal(fs.statSync(file).mtimeMs, first);
  fake.pulse(27, 3);
  await d.close(); // before the next periodic write is due
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).pins.flow.pulses, 8);
});

test('a corrupt totals file is reported and set aside, counting restarts at 0', async (t) => {
  const dataDir = tempDir('gpio-corrupt-');
  fs.mkdirSync(path.join(dataDir, 'gpio'));
  fs.writeFileSync(path.join(dataDir, 'gpio', 'door.json'), 'garbage');
  const c = gpioContext(dataDir);
  const d = makeDriver({ pins: [{ name: 'flow', line: 27, mode: 'counter' }] }, c.ctx, { backend: new FakeBackend() });
  await d.open();
  t.after(() => d.close());
  assert.equal(c.errors[0].kind, 'state');
  assert.match(c.errors[0].message, /door\.json is not valid JSON.*counting restarts at 0 \(old file kept as .*door\.json\.corrupt-\d+\)/);
  assert.equal(c.readings[0].value, 0);
  assert.equal(fs.readdirSync(path.join(dataDir, 'gpio')).filter((f) => f.includes('corrupt')).length, 1);
});

test('SIGKILL while counting fast: the totals file is never torn and the restart resumes from it', { timeout: 60_000 }, async () => {
  const dataDir = tempDir('gpio-kill-');
  const file = path.join(dataDir, 'gpio', 'door.json');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'test/drivers/gpio/counter-kill.child.ts'), dataDir], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.on('exit', r));
  let seen = 0;
  try {
    await waitFor(() => {
      try {
        seen = JSON.parse(fs.readFileSync(file, 'utf8')).pins.flow.pulses;
      } catch {
        /* not written yet */
      }
      return seen >= 20_000;
    }, 30_000, 'child counting and persisting');
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')); // throws if torn
  assert.ok(doc.pins.flow.pulses >= seen, `on disk ${doc.pins.flow.pulses} >= last seen ${seen}`);
  assert.ok(!fs.readdirSync(path.dirname(file)).some((f) => f.includes('corrupt')));
  const c = gpioContext(dataDir);
  const fake = new FakeBackend();
  const d = makeDriver({ pins: [{ name: 'flow', line: 27, mode: 'counter' }] }, c.ctx, { backend: fake });
  await d.open();
  try {
    assert.equal(c.readings[0].value, doc.pins.flow.pulses, 'restart resumes from the persisted total');
    assert.equal(c.errors.length, 0);
    fake.pulse(27, 2);
    assert.equal(pinDiag(d, 'flow').pulses, doc.pins.flow.pulses + 2);
  } finally {
    await d.close();
  }
});
