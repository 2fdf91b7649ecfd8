import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../../helpers/daemon.js';
import { freePort } from '../../helpers/system.js';
import { waitFor } from '../../helpers/source-context.js';
import { havePymodbus, startSlave } from './slave.js';

const skip = havePymodbus() ? false : 'pymodbus not available (see above)';

test('the built daemon polls a modbus-tcp slave and its readings reach the broker; an exception is logged by name', { skip }, async (t) => {
  const port = await freePort();
  const slave = await startSlave({ tcp: port, units: [1] });
  t.after(() => slave.stop());
  const broker = await startBroker();
  t.after(() => broker.stop());
  const dir = tempDir();
  const cfg = writeConfig(dir, `
agent: { id: mb-board, dataDir: ${dir}/data, logLevel: info }
uplink:
  mqtt: { url: "${broker.url}", topicPrefix: edge, qos: 1 }
  batch: { maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
  - id: meter
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    pollInterval: 200ms
    timeout: 500ms
    points:
      - { name: power, table: holding, address: 20, type: float32, wordOrder: little, unit: W }
      - { name: tenths, table: holding, address: 86, type: int16, scale: 0.1 }
      - { name: pump, table: coil, address: 9 }
      - { name: nowhere, table: input, address: 500 }
control: { socket: ${dir}/agent.sock }
`);
  const sub = await collect(broker.url, 'edge/mb-board/data');
  t.after(() => sub.close());
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  const values = new Map<string, unknown>();
  await waitFor(() => {
    for (const b of sub.batches) for (const r of b.readings) values.set(r.point, r.value);
    return values.has('power') && values.has('tenths') && values.has('pump');
  }, 15_000, 'modbus readings over MQTT');
  assert.equal(values.get('power'), -1234.5);
  assert.equal(values.get('tenths'), -21.5);
  assert.equal(values.get('pump'), true);
  assert.equal(values.has('nowhere'), false);
  const log = await d.waitLog((l) => l.kind === 'modbus-exception');
  assert.equal(log.point, 'nowhere');
  assert.match(String(log.msg), /illegal data address/);
  assert.equal(await d.stop(), 0);
});
