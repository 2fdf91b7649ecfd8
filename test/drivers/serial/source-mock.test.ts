import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialPortMock } from 'serialport';
import { SerialSource } from '../../../drivers/serial/source.js';
import { createParser } from '../../../drivers/serial/parsers/index.js';
import { captureContext, waitFor } from '../../helpers/source-context.js';
import { serialConfig } from './make.js';

const MockBinding = SerialPortMock.binding;

/**
 * The driver over serialport's mock binding: runs where socat is missing, and reaches cases a
 * pty cannot (a port that disappears and reappears at will). The pty tests remain the real thing.
 */
function mockSource(extra: Record<string, unknown>) {
  const cfg = serialConfig({ port: '/dev/mock0', ...extra });
  const cap = captureContext();
  let port: SerialPortMock | undefined;
  const src = new SerialSource(cfg, cap.ctx, createParser(cfg.parse), undefined, (o) => (port = new SerialPortMock(o)));
  return {
    ...cap,
    src,
    send: (s: string | Buffer) => port!.port!.emitData(s),
    get port() {
      return port!;
    },
    count: (kind: string) => cap.errors.filter((e) => e.kind === kind).length,
  };
}

test('serial source over the mock binding', async (t) => {
  t.beforeEach(() => {
    MockBinding.reset();
    MockBinding.createPort('/dev/mock0', { echo: false, record: true });
  });

  await t.test('lines split across reads, CRLF, over-long and invalid UTF-8', async () => {
    const s = mockSource({ parse: 'kv', maxLineLength: 32 });
    await s.src.open();
    await waitFor(() => s.states.at(-1)?.state === 'ok', 5000, 'open');
    s.send('a=');
    s.send('1\r');
    s.send('\nb=2\n');
    await waitFor(() => s.readings.length === 2, 5000, 'two readings');
    s.send(`x=${'9'.repeat(100)}\n`);
    s.send(Buffer.from([0xc3, 0x28, 0x0a])); // invalid UTF-8 sequence
    s.send('c=3\n');
    await waitFor(() => s.readings.length === 3, 5000, 'reading after bad lines');
    assert.deepEqual(s.readings.map((r) => [r.point, r.value]), [['a', 1], ['b', 2], ['c', 3]]);
    assert.deepEqual(s.errors.map((e) => e.kind), ['overlong', 'encoding']);
    await s.src.close();
  });

  await t.test('query mode writes the request and parses the reply', async () => {
    const s = mockSource({ parse: 'kv', query: { send: 'R\\r', every: '100ms', timeout: '50ms' } });
    await s.src.open();
    await waitFor(() => s.port.port?.lastWrite !== null && s.port.port?.lastWrite !== undefined, 5000, 'a request');
    assert.equal(s.port.port!.lastWrite!.toString('latin1'), 'R\r');
    s.send('v=7\r\n');
    await waitFor(() => s.readings.length === 1, 5000, 'reply parsed');
    assert.equal(s.readings[0].value, 7);
    await waitFor(() => s.count('timeout') >= 1, 5000, 'an unanswered request times out');
    await s.src.close();
  });

  await t.test('the port disappears, is missing for a while, and comes back', async () => {
    const s = mockSource({ parse: 'kv', reconnectMin: '20ms', reconnectMax: '100ms' });
    await s.src.open();
    await waitFor(() => s.states.at(-1)?.state === 'ok', 5000, 'open');
    MockBinding.reset(); // unplugged: reopening fails until it is back
    s.port._disconnected(new Error('device gone'));
    await waitFor(() => s.count('disconnected') === 1 && s.count('open') >= 2, 5000, 'disconnect and failed reopens');
    assert.equal(s.states.at(-1)?.state, 'backing-off');
    MockBinding.createPort('/dev/mock0', { echo: false });
    await waitFor(() => s.states.at(-1)?.state === 'ok', 5000, 'reopened');
    s.send('z=1\n');
    await waitFor(() => s.readings.length === 1, 5000, 'reading after reopen');
    assert.equal(s.src.diagnostics().opens, 2);
    await s.src.close();
  });
});
