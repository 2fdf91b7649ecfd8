import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PtyPair, SKIP_REASON } from './pty.js';
import { startSource } from './make.js';
import { waitFor } from '../../helpers/source-context.js';

/** Sequence numbers of the `seq` point, checked to be exactly 0..n-1 in order. */
function assertAll(readings: { point: string; value: unknown }[], n: number): void {
  const seq = readings.filter((r) => r.point === 'seq').map((r) => r.value as number);
  assert.equal(seq.length, n, `${n - seq.length} lines lost`);
  for (let i = 0; i < n; i++) if (seq[i] !== i) assert.fail(`line ${i} out of order or lost: got seq ${seq[i]}`);
}

test('serial load over a pty', { skip: SKIP_REASON, timeout: 60_000 }, async (t) => {
  await t.test('1,000 kv lines/s for 10 s arrive with none lost', async () => {
    const pty = await new PtyPair().start();
    const s = startSource({ port: pty.device, baudRate: 115200, parse: 'kv' });
    try {
      await s.driver.open();
      await waitFor(() => s.states.some((x) => x.state === 'ok'), 5000, 'port open');
      const RATE = 1000;
      const SECONDS = 10;
      const total = RATE * SECONDS;
      const t0 = performance.now();
      let sent = 0;
      // Paced on the monotonic clock: each 10 ms, write however many lines are due by now.
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1);
        if (due > sent) {
          let chunk = '';
          for (; sent < due; sent++) chunk += `seq=${sent} T=${(20 + (sent % 50) / 10).toFixed(1)} H=${40 + (sent % 7)}\r\n`;
          await pty.write(chunk);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      const elapsed = (performance.now() - t0) / 1000;
      assert.ok(elapsed < SECONDS * 1.5, `writer kept pace (${elapsed.toFixed(1)} s)`);
      await waitFor(() => s.readings.length >= total * 3, 20_000, `${total * 3} readings`);
      assertAll(s.readings, total);
      assert.equal(s.readings.length, total * 3);
      assert.deepEqual(s.errors, []);
    } finally {
      await s.driver.close();
      await pty.stop();
    }
  });

  await t.test('a burst of 5,000 lines in one write is framed without loss', async () => {
    const pty = await new PtyPair().start();
    const s = startSource({ port: pty.device, parse: 'kv' });
    try {
      await s.driver.open();
      await waitFor(() => s.states.some((x) => x.state === 'ok'), 5000, 'port open');
      let burst = '';
      for (let i = 0; i < 5000; i++) burst += `seq=${i}\n`;
      await pty.write(burst);
      await waitFor(() => s.readings.length >= 5000, 20_000, '5000 readings');
      assertAll(s.readings, 5000);
      assert.deepEqual(s.errors, []);
    } finally {
      await s.driver.close();
      await pty.stop();
    }
  });
});
