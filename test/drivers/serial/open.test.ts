import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PtyPair, SKIP_REASON } from './pty.js';
import { startSource } from './make.js';
import { waitFor } from '../../helpers/source-context.js';

test('serial: partial line at open and a missing port', { skip: SKIP_REASON, timeout: 60_000 }, async (t) => {
  await t.test('the tail of a line sent before the source listened is counted as partial, not fatal', async () => {
    const pty = await new PtyPair().start();
    const s = startSource({ port: pty.device, parse: { regex: '^T=(?<temp>-?[\\d.]+) H=(?<hum>[\\d.]+)$' } });
    try {
      await s.driver.open();
      await waitFor(() => s.states.some((x) => x.state === 'ok'), 5000, 'port open');
      // What the source sees when it opens mid-line: the rest of a line, then whole ones.
      await pty.write('.5 H=40\nT=22.5 H=41\n');
      await waitFor(() => s.readings.length >= 2, 5000, 'the whole line');
      assert.deepEqual(s.readings.map((r) => [r.point, r.value]), [['temp', 22.5], ['hum', 41]]);
      assert.deepEqual(s.errors.map((e) => e.kind), ['partial']);
      // After the first line a non-matching line is a plain no-match.
      await pty.write('hello\nT=1 H=2\n');
      await waitFor(() => s.readings.length >= 4, 5000, 'line after no-match');
      assert.deepEqual(s.errors.map((e) => e.kind), ['partial', 'no-match']);
    } finally {
      await s.driver.close();
      await pty.stop();
    }
  });

  await t.test('a port that is not there yet: open() does not throw, the source backs off and comes up when it appears', async () => {
    const pty = new PtyPair();
    const s = startSource({ port: pty.device, parse: 'kv', reconnectMax: '1s' });
    try {
      await s.driver.open();
      await waitFor(() => s.count('open') >= 2, 5000, 'retries');
      assert.match(s.errors[0].message, /cannot open .*dev/);
      assert.equal(s.states.at(-1)?.state, 'backing-off');
      await pty.start();
      await waitFor(() => s.states.at(-1)?.state === 'ok', 5000, 'opened once present');
      await pty.write('a=1\n');
      await waitFor(() => s.readings.length === 1, 5000, 'reading');
    } finally {
      await s.driver.close();
      await pty.stop();
    }
  });
});
