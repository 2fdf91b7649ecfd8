import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { modbusTcpSchema } from '../../../drivers/modbus/config.js';
import { ModbusSource } from '../../../drivers/modbus/source.js';
import { TcpTransport } from '../../../drivers/modbus/tcp-transport.js';
import { ModbusRequestError } from '../../../drivers/modbus/errors.js';
import { captureContext, waitFor } from '../../helpers/source-context.js';
import { cli } from '../../helpers/control.js';
import { registersResponse } from './fake-io.js';

/**
 * A Modbus TCP peer over a real socket that answers every request with the right transaction id
 * and data, but for unit 3 with unit id 4 in the header (a gateway routing to the wrong device).
 * Register value = 100 * unit asked.
 */
async function misroutingGateway() {
  const conns = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('data', (req) => {
      for (let off = 0; off + 12 <= req.length; off += 12) {
        const r = req.subarray(off, off + 12);
        const unit = r[6];
        const qty = r.readUInt16BE(10);
        sock.write(registersResponse(r, Array.from({ length: qty }, () => unit * 100), unit === 3 ? 4 : unit));
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => {
      for (const c of conns) c.destroy();
      server.close(() => r());
    }),
  };
}

test('Modbus TCP: an answer carrying another unit id is rejected, never taken as data', async (t) => {
  const gw = await misroutingGateway();
  t.after(() => gw.close());

  const tr = new TcpTransport('127.0.0.1', gw.port, { reconnect: false });
  await tr.connectOnce();
  assert.equal(await tr.read(1, 3, 0, 1, 1000), 2);
  assert.equal(tr.data.readUInt16BE(0), 100, 'unit 1 answers as unit 1');
  const err = await tr.read(3, 3, 0, 1, 1000).then(() => undefined, (e: ModbusRequestError) => e);
  assert.ok(err instanceof ModbusRequestError, 'rejected');
  assert.equal(err.kind, 'frame');
  assert.match(err.message, /answer carries unit id 4, expected 3/);
  assert.equal(tr.staleFrames, 1);
  // The connection stays usable: the next request is answered normally.
  assert.equal(await tr.read(1, 3, 0, 1, 1000), 2);
  await tr.close();

  // In a source: unit 3's points get nothing (no reading of 300 under unit 3's names), the error is
  // counted and named, the unit is backed off, unit 1 keeps flowing.
  const cfg = modbusTcpSchema.parse({
    id: 'gw', driver: 'modbus-tcp', host: '127.0.0.1', port: gw.port, pollInterval: '50ms', timeout: '500ms', retries: 1,
    points: [{ name: 'good', table: 'holding', address: 0, unitId: 1 }, { name: 'wrong', table: 'holding', address: 0, unitId: 3 }],
  });
  const cap = captureContext({ sourceId: 'gw' });
  const src = new ModbusSource(cfg, cap.ctx);
  await src.open();
  try {
    await waitFor(() => cap.readings.length >= 10 && cap.errors.length >= 1, 10_000, 'readings of unit 1 and an error for unit 3');
    assert.deepEqual([...new Set(cap.readings.map((r) => `${r.point}=${r.value}`))], ['good=100']);
    assert.equal(cap.errors[0].kind, 'frame');
    assert.match(cap.errors[0].message, /^unit 3 holding 0\.\.0 .*: answer carries unit id 4, expected 3 .*\(2 attempts\); unit 3 backed off/);
    assert.equal(cap.states.at(-1)?.state, 'backing-off');
    assert.ok((src.diagnostics() as { staleFrames: number }).staleFrames >= 2);
  } finally {
    await src.close();
  }

  // The CLI (built bundle, direct path) says so and exits 1 instead of printing unit 4's value.
  const r = await cli(['modbus', 'read', '--host', `127.0.0.1:${gw.port}`, '--unit', '3', '--address', '0', '--direct']);
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /unit 3 holding 0\.\.0 on 127\.0\.0\.1:\d+: answer carries unit id 4, expected 3/);
});
