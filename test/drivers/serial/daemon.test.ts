import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/source-context.js';
import { PtyPair, SKIP_REASON } from './pty.js';

/** The built daemon (as systemd runs it) with a serial source: lines in, readings out over MQTT, through an unplug. */
test('daemon: serial source readings reach the broker and survive the port vanishing', { skip: SKIP_REASON, timeout: 60_000 }, async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const pty = await new PtyPair().start();
  t.after(() => pty.stop());
  const dir = tempDir();
  const cfg = writeConfig(dir, `
agent: { id: serial-board, dataDir: ${dir}/data, logLevel: info }
uplink:
  mqtt: { url: "${broker.url}", reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxReadings: 50, maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
  - id: weather
    driver: serial
    port: ${pty.device}
    delimiter: "\\r\\n"
    parse: { regex: 'T=(?<temp>-?\\d+(\\.\\d+)?) H=(?<hum>\\d+(\\.\\d+)?)' }
control: { socket: ${dir}/agent.sock }
`);
  const sub = await collect(broker.url, 'edge/serial-board/data');
  t.after(() => sub.close());
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await d.waitLog((l) => l.source === 'weather' && l.state === 'ok', 20_000);

  const readings = () => sub.batches.flatMap((b) => b.readings);
  await pty.write('T=21.5 H=40\r\ngarbage\r\n');
  await waitFor(() => readings().length >= 2, 10_000, 'first readings');
  await pty.stop();
  await d.waitLog((l) => l.source === 'weather' && l.state === 'backing-off', 10_000);
  await pty.start();
  await d.waitLog((l) => l.source === 'weather' && l.state === 'ok' && d.logs.filter((x) => x.source === 'weather' && x.state === 'ok').length >= 2, 10_000);
  await pty.write('T=-1 H=99\r\n');
  await waitFor(() => readings().length >= 4, 10_000, 'readings after the port came back');
  assert.deepEqual(readings().map((r) => [r.source, r.point, r.value]), [
    ['weather', 'temp', 21.5], ['weather', 'hum', 40], ['weather', 'temp', -1], ['weather', 'hum', 99],
  ]);
  assert.ok(d.logs.some((l) => l.source === 'weather' && l.kind === 'no-match'), 'the garbage line was logged as no-match');
  assert.equal(await d.stop(), 0);
});
