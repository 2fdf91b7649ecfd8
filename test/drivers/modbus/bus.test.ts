import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { modbusRtuSchema, modbusTcpSchema } from '../../../drivers/modbus/config.js';
import { ModbusSource } from '../../../drivers/modbus/source.js';
import { captureContext, waitFor } from '../../helpers/source-context.js';
import { SharedHost } from '../../../drivers/host.js';

/** A hand-rolled Modbus TCP slave that answers after `delayMs` and records how many requests overlap. */
async function slowSlave(delayMs: number) {
  const stats = { outstanding: 0, maxOutstanding: 0, requests: 0, units: new Set<number>(), quantities: [] as number[] };
  const server = net.createServer((sock) => {
    sock.on('data', (req) => {
      for (let off = 0; off + 12 <= req.length; off += 12) {
        stats.requests++;
        stats.outstanding++;
        stats.maxOutstanding = Math.max(stats.maxOutstanding, stats.outstanding);
        stats.units.add(req[off + 6]);
        const qty = req.readUInt16BE(off + 10);
        stats.quantities.push(qty);
        const res = Buffer.alloc(9 + qty * 2);
        req.copy(res, 0, off, off + 2);
        res.writeUInt16BE(3 + qty * 2, 4);
        res[6] = req[off + 6];
        res[7] = req[off + 7];
        res[8] = qty * 2;
        setTimeout(() => {
          stats.outstanding--;
          sock.write(res);
        }, delayMs);
      }
    });
    sock.on('error', () => {}); // the client hung up while an answer was pending
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('two sources on one host:port share one bus: never two requests in flight, both served', async () => {
  const slave = await slowSlave(15);
  const host = new SharedHost(); // one agent: its sources share buses
  const mk = (id: string, unitId: number) => {
    const cfg = modbusTcpSchema.parse({
      id, driver: 'modbus-tcp', host: '127.0.0.1', port: slave.port, unitId, pollInterval: '50ms', maxGap: 0,
      points: [{ name: 'a', table: 'holding', address: 0 }, { name: 'b', table: 'holding', address: 10 }, { name: 'c', table: 'input', address: 0 }],
    });
    const cap = captureContext({ sourceId: id, host });
    return { src: new ModbusSource(cfg, cap.ctx), ...cap };
  };
  const s1 = mk('one', 1);
  const s2 = mk('two', 2);
  await s1.src.open();
  await s2.src.open();
  try {
    await waitFor(() => s1.readings.length >= 30 && s2.readings.length >= 30, 15_000, 'readings from both sources');
    assert.equal(slave.stats.maxOutstanding, 1, 'one request in flight at a time on the connection');
    assert.deepEqual([...s1.errors, ...s2.errors], [], 'joining a connecting bus is not an outage');
    assert.deepEqual([...slave.stats.units].sort(), [1, 2]);
    const d = s1.src.diagnostics() as { bus: string };
    assert.equal(d.bus, (s2.src.diagnostics() as { bus: string }).bus, 'same bus');
  } finally {
    await s1.src.close();
    await s2.src.close();
    await slave.close();
  }
});

test('sources naming one serial port with different line settings: the second reports a config error', async () => {
  const host = new SharedHost(); // one agent: its sources share buses
  const mk = (id: string, baudRate: number) => {
    const cfg = modbusRtuSchema.parse({ id, driver: 'modbus-rtu', port: '/dev/edge-agent-test-no-such-port', baudRate, points: [{ name: 'a', table: 'holding', address: 0 }] });
    const cap = captureContext({ sourceId: id, host });
    return { src: new ModbusSource(cfg, cap.ctx), ...cap };
  };
  const a = mk('a', 9600);
  const b = mk('b', 19200);
  await a.src.open(); // a missing port is not an exception: the source reports it and retries
  await b.src.open();
  try {
    await waitFor(() => a.states.some((s) => /cannot open \/dev\/edge-agent-test-no-such-port/.test(s.detail ?? '')), 5000, 'a reports the missing port');
    assert.equal(a.states.at(-1)!.state, 'down');
    // it keeps trying (each attempt re-reports the state) but the outage is counted once
    await waitFor(() => a.states.filter((s) => s.state === 'down').length >= 3, 10_000, 'three reopen attempts');
    assert.equal(a.errors.filter((e) => e.kind === 'disconnected').length, 1);
    assert.equal(b.errors[0].kind, 'config');
    assert.match(b.errors[0].message, /already used by source "a" with different settings/);
    assert.equal(b.states.at(-1)!.state, 'down');
  } finally {
    await a.src.close();
    await b.src.close();
  }
});

test('per-point poll intervals: one scheduler, and points falling due together share a request', async () => {
  const slave = await slowSlave(0);
  const cfg = modbusTcpSchema.parse({
    id: 'iv', driver: 'modbus-tcp', host: '127.0.0.1', port: slave.port, pollInterval: '100ms', maxGap: 10,
    points: [{ name: 'fast', table: 'holding', address: 0 }, { name: 'slow', table: 'holding', address: 4, pollInterval: '300ms' }],
  });
  const { ctx, readings } = captureContext();
  const src = new ModbusSource(cfg, ctx);
  await src.open();
  try {
    await waitFor(() => readings.filter((r) => r.point === 'fast').length >= 30, 15_000, '30 fast readings');
    const fast = readings.filter((r) => r.point === 'fast').length;
    const slow = readings.filter((r) => r.point === 'slow').length;
    assert.ok(Math.abs(slow * 3 - fast) <= 3, `slow point read once per 3 fast ones (fast ${fast}, slow ${slow})`);
    // every third cycle reads 0..4 in one request (5 registers), the others 0..0: never a separate request for slow
    assert.equal(slave.stats.requests, slave.stats.quantities.length);
    assert.ok(slave.stats.quantities.every((q) => q === 1 || q === 5), `quantities ${[...new Set(slave.stats.quantities)]}`);
    assert.ok(Math.abs(slave.stats.requests - fast) <= 1, `one request per fast cycle (${slave.stats.requests} requests, ${fast} fast readings)`);
  } finally {
    await src.close();
    await slave.close();
  }
});
