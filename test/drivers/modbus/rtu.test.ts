import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modbusRtuSchema } from '../../../drivers/modbus/config.js';
import { ModbusSource } from '../../../drivers/modbus/source.js';
import { captureContext, waitFor } from '../../helpers/source-context.js';
import { SharedHost } from '../../../drivers/host.js';
import type { DriverHost } from '../../../drivers/types.js';
import { MAP, expected, havePymodbus, haveSocat, mapPoints, startPtyPair, startSlave } from './slave.js';

const skip = havePymodbus() && haveSocat() ? false : 'pymodbus or socat not available (see above)';

function rtuSource(id: string, port: string, extra: Record<string, unknown>, points: unknown[], host?: DriverHost) {
  const cfg = modbusRtuSchema.parse({ id, driver: 'modbus-rtu', port, baudRate: 19200, pollInterval: '200ms', timeout: '300ms', ...extra, points });
  const cap = captureContext({ sourceId: id, host });
  return { src: new ModbusSource(cfg, cap.ctx), ...cap };
}

test('RTU over a socat pty pair: every type decodes the fixture values', { skip }, async () => {
  const pty = await startPtyPair();
  const slave = await startSlave({ rtu: pty.b, units: [1] });
  const { src, readings, errors } = rtuSource('rtu', pty.a, {}, mapPoints());
  await src.open();
  try {
    const seen = new Map<string, unknown>();
    await waitFor(() => {
      for (const r of readings) if (!seen.has(r.point)) seen.set(r.point, r.value);
      return seen.size === MAP.points.length;
    }, 15_000, 'one reading of every point');
    for (const p of MAP.points) assert.deepEqual(seen.get(p.name), expected(p), p.name);
    assert.deepEqual(errors, []);
  } finally {
    await src.close();
    await slave.stop();
    await pty.stop();
  }
});

test('pty pair removed and recreated: the driver reopens the port and recovers within 5 s', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-replug-'));
  let pty = await startPtyPair(dir);
  let slave = await startSlave({ rtu: pty.b, units: [1] });
  const { src, readings, states, errors } = rtuSource('replug', pty.a, {}, [{ name: 'u16', table: 'holding', address: 1 }]);
  await src.open();
  try {
    await waitFor(() => readings.length >= 3, 10_000, 'first readings');
    // Unplug: socat exits and its device links vanish, like a USB adapter's node.
    await pty.stop();
    await slave.stop();
    assert.equal(fs.existsSync(pty.a), false, 'device link gone');
    await waitFor(() => states.at(-1)?.state === 'down', 10_000, 'state down');
    assert.ok(errors.some((e) => e.kind === 'disconnected'));
    await new Promise((r) => setTimeout(r, 2000)); // absent for a while: reopen attempts back off
    pty = await startPtyPair(dir);
    slave = await startSlave({ rtu: pty.b, units: [1] });
    const back = Date.now();
    const n = readings.length;
    await waitFor(() => readings.length > n, 10_000, 'readings after re-plug');
    const ms = Date.now() - back;
    console.log(`# pty pair re-created: first reading ${ms} ms after the slave was back`);
    assert.ok(ms < 5000, `recovered after ${ms} ms`);
    assert.equal(readings.at(-1)!.value, 54321);
    assert.equal(states.at(-1)!.state, 'ok');
  } finally {
    await src.close();
    await slave.stop();
    await pty.stop();
  }
});

test('two units on one bus, one dead: the live unit keeps >= 90% of its poll rate', { skip }, async () => {
  const pty = await startPtyPair();
  const slave = await startSlave({ rtu: pty.b, units: [1] }); // unit 2 never answers
  // Two sources of one agent naming one port share one bus (one queue, one request in flight).
  const host = new SharedHost();
  const live = rtuSource('live', pty.a, { unitId: 1, retries: 1 }, [{ name: 'x', table: 'holding', address: 1 }, { name: 'f', table: 'holding', address: 18, type: 'float32' }], host);
  const dead = rtuSource('dead', pty.a, { unitId: 2, retries: 1 }, [{ name: 'y', table: 'holding', address: 1 }, { name: 'z', table: 'input', address: 0 }], host);
  await live.src.open();
  await dead.src.open();
  try {
    await waitFor(() => live.readings.length > 0, 10_000, 'live unit answering');
    const windowMs = 15_000; // includes the dead unit's detection (2 attempts + late-answer window)
    const t0 = Date.now();
    const n0 = live.readings.filter((r) => r.point === 'x').length;
    await new Promise((r) => setTimeout(r, windowMs));
    const elapsed = Date.now() - t0;
    const got = live.readings.filter((r) => r.point === 'x').length - n0;
    const want = elapsed / 200;
    console.log(`# live unit: ${got} polls in ${elapsed} ms = ${(100 * got / want).toFixed(1)}% of the configured rate; dead unit timeouts: ${dead.errors.filter((e) => e.kind === 'timeout').length}`);
    assert.ok(got >= 0.9 * want, `live unit got ${got} of ${want.toFixed(1)} polls`);
    assert.equal(dead.readings.length, 0);
    assert.ok(dead.errors.some((e) => e.kind === 'timeout'), 'the dead unit is reported');
    assert.equal(dead.states.at(-1)?.state, 'down');
    assert.match(dead.states.at(-1)?.detail ?? '', /unit 2/);
    assert.equal(live.states.at(-1)?.state, 'ok');
    assert.deepEqual(live.errors, [], 'no error on the live source (no overlap, no stray frames)');
    const d = dead.src.diagnostics() as { units: Record<string, { state: string; failures: number }> };
    assert.equal(d.units['2'].state, 'backing-off');
    assert.ok(d.units['2'].failures >= 3);
    const waits = dead.errors.filter((e) => e.kind === 'timeout').map((e) => Number(/next try in ([\d.]+) s/.exec(e.message)?.[1]));
    assert.deepEqual(waits.slice(0, 3), [1, 2, 4], 'the retry interval grows');
  } finally {
    await live.src.close();
    await dead.src.close();
    await slave.stop();
    await pty.stop();
  }
});

test('RTU: a slow slave\'s late answer after a timeout is discarded, never taken for the next answer', { skip: haveSocat() ? false : 'socat missing' }, async () => {
  // A hand-rolled RTU slave on the pty's far end: register n holds 1000 + n; it serves requests
  // one after the other (like a real device) and takes 250 ms over the first one (timeout 150 ms).
  // With a retry, a master that sends again at once gets the first answer for the retry and the
  // retry's answer for the next request: one out of step from then on.
  const { SerialPort } = await import('serialport');
  const { crc16 } = await import('../../../drivers/modbus/crc.js');
  const pty = await startPtyPair();
  const dev = new SerialPort({ path: pty.b, baudRate: 19200, autoOpen: false });
  await new Promise<void>((r, j) => dev.open((e) => (e ? j(e) : r())));
  let rx = Buffer.alloc(0);
  let busyUntil = 0;
  let first = true;
  dev.on('data', (d: Buffer) => {
    rx = Buffer.concat([rx, d]);
    while (rx.length >= 8) {
      const req = rx.subarray(0, 8);
      rx = rx.subarray(8);
      const addr = req.readUInt16BE(2);
      const res = Buffer.alloc(7);
      res[0] = req[0];
      res[1] = 3;
      res[2] = 2;
      res.writeUInt16BE(1000 + addr, 3);
      res.writeUInt16LE(crc16(res, 0, 5), 5);
      const start = Math.max(Date.now(), busyUntil);
      busyUntil = start + (first ? 250 : 2);
      first = false;
      setTimeout(() => dev.write(res), busyUntil - Date.now());
    }
  });
  const { src, readings, errors } = rtuSource('late', pty.a, { timeout: '150ms', retries: 1, maxGap: 0, pollInterval: '100ms' },
    [{ name: 'a', table: 'holding', address: 0 }, { name: 'b', table: 'holding', address: 50 }]);
  await src.open();
  try {
    await waitFor(() => readings.filter((r) => r.point === 'b').length >= 5, 10_000, 'readings of b');
    assert.ok((src.diagnostics() as { staleFrames: number }).staleFrames >= 1, 'the late frame was seen and dropped');
    for (const r of readings) assert.equal(r.value, r.point === 'a' ? 1000 : 1050, `${r.point} got ${r.value}`);
  } finally {
    await src.close();
    await new Promise<void>((r) => dev.close(() => r()));
    await pty.stop();
  }
});
