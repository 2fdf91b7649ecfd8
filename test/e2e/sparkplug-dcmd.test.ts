import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startBroker } from '../helpers/broker.js';
import { startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { freePort, requireTool } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { cli, publishOnce } from '../helpers/control.js';
import { protocEncode, sparkplugHost } from '../helpers/sparkplug.js';
import { havePymodbus, haveMbpoll, startSlave } from '../drivers/modbus/slave.js';

/**
 * Sparkplug DCMD metric writes go through the one command executor: with uplink.sparkplug.writes
 * a DCMD to a writable point lands on the device (read back by mbpoll, and seen by the host in
 * DDATA); a DCMD to a read-only point or out of range, a retained one or a stale one is refused
 * and the device is unchanged.
 */
const haveProtoc = requireTool('protoc', 'protobuf-compiler');
const HAVE = havePymodbus();

test('DCMD writes: done on a writable point (device and DDATA show it), rejected when read-only, out of range, retained or stale', { skip: !haveProtoc || !HAVE, timeout: 90_000 }, async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const mbPort = await freePort();
  const slave = await startSlave({ tcp: mbPort, units: [1] });
  t.after(() => slave.stop());
  const dir = tempDir();
  const cfg = writeConfig(dir, `
agent: { id: node-9, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${broker.url}", qos: 1, reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxDelay: 100ms }
  profile: sparkplug-b
  sparkplug: { groupId: plant-2, writes: true }
buffer: { flushInterval: 200ms }
sources:
  - id: plc
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${mbPort}
    pollInterval: 200ms
    timeout: 500ms
    points:
      - { name: setpoint, table: holding, address: 60, type: float32, wordOrder: little, write: { min: 5, max: 80 } }
      - { name: level, table: holding, address: 1 }
control: { socket: ${dir}/agent.sock }
`);
  const topic = 'spBv1.0/plant-2/DCMD/node-9/plc';
  const dcmd = (metric: string, opts: { ts?: number; retain?: boolean } = {}) =>
    publishOnce(broker.url, topic, protocEncode(`timestamp: ${opts.ts ?? Date.now()}\nmetrics { ${metric} }`), opts.retain);
  // A retained DCMD waiting on the broker: it reaches the agent (flagged retained) when it subscribes.
  await dcmd('name: "setpoint" datatype: 9 float_value: 30', { retain: true });
  const host = await sparkplugHost(broker.url, 'plant-2');
  t.after(() => host.close());
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => host.messages.some((m) => m.type === 'DBIRTH' && m.device === 'plc'), 20_000, 'DBIRTH plc');
  const setpointOnDevice = () => haveMbpoll()
    ? Number(/^\[\d+\]:\s+(\S+)/m.exec(execFileSync('mbpoll', ['-m', 'tcp', '-p', String(mbPort), '-a', '1', '-0', '-1', '-o', '2', '-r', '60', '-t', '4:float', '127.0.0.1'], { encoding: 'utf8' }))![1])
    : undefined;
  const before = setpointOnDevice();
  const retained = await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('sparkplug DCMD write rejected: retained'));
  assert.deepEqual(retained.metrics, ['setpoint']);
  // Issued a minute ago (waited in a broker): refused, not run late.
  await dcmd('name: "setpoint" datatype: 9 float_value: 31', { ts: Date.now() - 60_000 });
  await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('sparkplug DCMD write rejected: stale: issued 60 s ago'));

  // Read-only point: refused by the executor's rule, logged as a command.
  await dcmd('name: "level" datatype: 6 int_value: 7');
  const ro = await d.waitLog((l) => l.msg === 'command rejected' && l.point === 'level');
  assert.equal(ro.origin, 'sparkplug');
  assert.equal(ro.rule, 'not-writable');
  // Out of range.
  await dcmd('name: "setpoint" datatype: 9 float_value: 99');
  const rg = await d.waitLog((l) => l.msg === 'command rejected' && l.point === 'setpoint');
  assert.equal(rg.rule, 'range');
  if (before !== undefined) assert.equal(setpointOnDevice(), before, 'refused writes leave the device as it was');

  // Writable, in range: done, read back, on the device, and in DDATA.
  await dcmd('name: "setpoint" datatype: 9 float_value: 21.5');
  const ok = await d.waitLog((l) => l.msg === 'command done' && l.point === 'setpoint');
  assert.equal(ok.readBack, 21.5);
  if (before !== undefined) assert.equal(setpointOnDevice(), 21.5);
  await waitFor(() => host.messages.some((m) => m.type === 'DDATA' && m.device === 'plc' && host.decode(m).metrics.some((x) => Math.abs(Number(x.float_value ?? x.double_value) - 21.5) < 1e-6)), 10_000, 'DDATA with the new setpoint');
  const st = JSON.parse((await cli(['status', '--json', '--socket', `${dir}/agent.sock`])).stdout) as { uplink: { dcmdDone: number; dcmdRejected: number } };
  assert.equal(st.uplink.dcmdDone, 1);
  assert.equal(st.uplink.dcmdRejected, 4, 'retained, stale, read-only, out of range');
});
