import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PtyPair, SKIP_REASON } from './pty.js';
import { startSource } from './make.js';
import { waitFor } from '../../helpers/source-context.js';

/** Readings of one point, in order. */
const values = (rs: { point: string; value: unknown }[], point: string) => rs.filter((r) => r.point === point).map((r) => r.value);

async function withPair(fn: (pty: PtyPair) => Promise<void>): Promise<void> {
  const pty = await new PtyPair().start();
  try {
    await fn(pty);
  } finally {
    await pty.stop();
  }
}

test('serial over a socat pty pair', { skip: SKIP_REASON, timeout: 60_000 }, async (t) => {
  await t.test('regex: each named group is a point, numbers as numbers', () => withPair(async (pty) => {
    const s = startSource({ port: pty.device, delimiter: '\r\n', parse: { regex: 'T=(?<temp>-?\\d+(\\.\\d+)?) H=(?<hum>\\d+(\\.\\d+)?)' } });
    await s.driver.open();
    await waitFor(() => s.states.some((x) => x.state === 'ok'), 5000, 'port open');
    await pty.write('T=21.5 H=40\r\nT=-3 H=41.25\r\n');
    await waitFor(() => s.readings.length >= 4, 5000, '4 readings');
    assert.deepEqual(values(s.readings, 'temp'), [21.5, -3]);
    assert.deepEqual(values(s.readings, 'hum'), [40, 41.25]);
    // Points of one line share one timestamp.
    assert.equal(s.readings[0].ts, s.readings[1].ts);
    assert.deepEqual(s.errors, []);
    await s.driver.close();
  }));

  await t.test('kv with default and custom separators', () => withPair(async (pty) => {
    const a = startSource({ port: pty.device, parse: 'kv' });
    await a.driver.open();
    await waitFor(() => a.states.some((x) => x.state === 'ok'), 5000, 'port open');
    await pty.write('T=21.5  H=40 id=abc\r\n');
    await waitFor(() => a.readings.length >= 3, 5000, 'kv readings');
    assert.deepEqual(a.readings.map((r) => [r.point, r.value]), [['T', 21.5], ['H', 40], ['id', 'abc']]);
    await a.driver.close();

    const b = startSource({ port: pty.device, parse: { kv: { pairSeparator: ',', assign: ':' } } });
    await b.driver.open();
    await waitFor(() => b.states.some((x) => x.state === 'ok'), 5000, 'port open');
    await pty.write('temp:7.5,rh:33\n');
    await waitFor(() => b.readings.length >= 2, 5000, 'kv readings');
    assert.deepEqual(b.readings.map((r) => [r.point, r.value]), [['temp', 7.5], ['rh', 33]]);
    assert.deepEqual(b.errors, []);
    await b.driver.close();
  }));

  await t.test('json: one object per line, keys are points', () => withPair(async (pty) => {
    const s = startSource({ port: pty.device, parse: 'json' });
    await s.driver.open();
    await waitFor(() => s.states.some((x) => x.state === 'ok'), 5000, 'port open');
    await pty.write('{"t":20.5,"ok":true,"fw":"1.2","env":{"p":1013}}\n');
    await waitFor(() => s.readings.length >= 4, 5000, 'json readings');
    assert.deepEqual(s.readings.map((r) => [r.point, r.value]), [['t', 20.5], ['ok', true], ['fw', '1.2'], ['env.p', 1013]]);
    await s.driver.close();
  }));

  await t.test('over-long, garbage, invalid UTF-8 and non-JSON lines are counted; the next good line parses', () => withPair(async (pty) => {
    const s = startSource({ port: pty.device, parse: 'json', maxLineLength: 64 });
    await s.driver.open();
    await waitFor(() => s.states.some((x) => x.state === 'ok'), 5000, 'port open');
    await pty.write('{"warmup":1}\n'); // consumes the first-line-after-open allowance
    await waitFor(() => s.readings.length === 1, 5000, 'warm-up line');
    await pty.write(`{"big":"${'x'.repeat(500)}"}\n`);
    await pty.write('{"a":1}\n');
    await pty.write(Buffer.from([0xff, 0xfe, 0x41, 0x0a])); // invalid UTF-8
    await pty.write('\x00\x13garbage%%\n');
    await pty.write('{"b":2}\n');
    await waitFor(() => s.readings.some((r) => r.point === 'b'), 5000, 'line after garbage');
    assert.deepEqual(s.readings.map((r) => [r.point, r.value]), [['warmup', 1], ['a', 1], ['b', 2]]);
    assert.equal(s.count('overlong'), 1);
    assert.equal(s.count('encoding'), 1);
    assert.equal(s.count('parse'), 1);
    assert.equal(s.errors.length, 3);
    await s.driver.close();
  }));

  await t.test('a port that vanishes (pty pair killed) is reopened when it returns', () => withPair(async (pty) => {
    const s = startSource({ port: pty.device, parse: 'kv' });
    await s.driver.open();
    await waitFor(() => s.states.some((x) => x.state === 'ok'), 5000, 'port open');
    await pty.write('n=1\n');
    await waitFor(() => s.readings.length === 1, 5000, 'first reading');
    await pty.stop();
    await waitFor(() => s.count('disconnected') === 1, 5000, 'disconnect noticed');
    assert.equal(s.states.at(-1)?.state, 'backing-off');
    // Away long enough for the backoff to grow to its ceiling.
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(s.count('open') >= 1, 'reopen attempts while absent are counted');
    await pty.start();
    const back = Date.now();
    await waitFor(() => s.states.at(-1)?.state === 'ok', 5000, 'reopened within 5 s');
    assert.ok(Date.now() - back < 5000);
    await pty.write('n=2\n');
    await waitFor(() => s.readings.length === 2, 5000, 'reading after reopen');
    assert.deepEqual(values(s.readings, 'n'), [1, 2]);
    await s.driver.close();
  }));

  await t.test('query mode: sends, reads the reply, counts timeouts', () => withPair(async (pty) => {
    const s = startSource({ port: pty.device, parse: 'kv', query: { send: 'R\\r', every: '300ms', timeout: '200ms' } });
    await s.driver.open();
    await waitFor(() => s.states.some((x) => x.state === 'ok'), 5000, 'port open');
    // The sensor: answer the first two requests, then stay silent.
    let asked = '';
    for (let answered = 0; answered < 2; ) {
      asked += (await pty.read()).toString('latin1');
      while (asked.includes('R\r')) {
        asked = asked.slice(asked.indexOf('R\r') + 2);
        answered++;
        await pty.write(`v=${answered}\r\n`);
      }
    }
    await waitFor(() => s.readings.length >= 2, 5000, 'two replies parsed');
    assert.deepEqual(values(s.readings, 'v').slice(0, 2), [1, 2]);
    await waitFor(() => s.count('timeout') >= 1, 5000, 'timeout counted');
    assert.match(s.errors.find((e) => e.kind === 'timeout')!.message, /no reply to "R\\r" within 200 ms/);
    await s.driver.close();
  }));
});
