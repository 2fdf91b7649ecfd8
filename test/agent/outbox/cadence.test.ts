import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlushCadence } from '../../../agent/outbox/cadence.js';
import { systemClock } from '../../../core/clock.js';

const turn = (ms = 0) => new Promise((r) => setTimeout(r, ms));

test('cadence: every min(flushInterval / 2, batch.maxDelay), at least 5 ms', () => {
  assert.equal(FlushCadence.periodMs({ flushInterval: 1000, maxDelay: 1000 }), 500);
  assert.equal(FlushCadence.periodMs({ flushInterval: 1000, maxDelay: 100 }), 100);
  assert.equal(FlushCadence.periodMs({ flushInterval: 10, maxDelay: 1 }), 5);
});

test('first-batch rule: the first reading flushes as soon as the link is up, once; then only the timer', async () => {
  let link = false;
  let flushes = 0;
  let kicks = 0;
  const c = new FlushCadence(() => flushes++, { clock: systemClock, linkUp: () => link, flushed: () => kicks++ }, { flushInterval: 60_000, maxDelay: 60_000 });
  c.start();
  c.reading();
  await turn(50);
  assert.equal(flushes, 0, 'no link yet: nothing to send the batch to');
  link = true;
  for (let i = 0; i < 250 && flushes === 0; i++) await turn(20); // polled every 20 ms; generous for a loaded machine
  assert.equal(flushes, 1, 'flushed once the link came');
  assert.equal(kicks, 1, 'and the uplink was told');
  c.reading();
  await turn(50);
  assert.equal(flushes, 1, 'later readings wait for the timer (30 s here)');
  c.stop();
});

test('reschedule: a config change gives a new period; a stopped cadence stays stopped', () => {
  const c = new FlushCadence(() => {}, { clock: systemClock, linkUp: () => false, flushed: () => {} }, { flushInterval: 1000, maxDelay: 1000 });
  c.start();
  c.reschedule({ flushInterval: 200, maxDelay: 1000 });
  assert.equal(c.timer.periodMs, 100);
  assert.equal(c.timer.running, true);
  c.stop();
  c.reschedule({ flushInterval: 1000, maxDelay: 50 });
  assert.equal(c.timer.periodMs, 50);
  assert.equal(c.timer.running, false);
});
