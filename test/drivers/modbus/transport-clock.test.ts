import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialPortMock } from 'serialport';
import { TcpTransport } from '../../../drivers/modbus/tcp-transport.js';
import { RtuTransport, LATE_GUARD_MAX_MS } from '../../../drivers/modbus/rtu-transport.js';
import { ModbusRequestError } from '../../../drivers/modbus/errors.js';
import { crc16 } from '../../../drivers/modbus/crc.js';
import { modbusTcpSchema } from '../../../drivers/modbus/config.js';
import { ModbusSource } from '../../../drivers/modbus/source.js';
import { ManualClock, settle } from '../../helpers/manual-clock.js';
import { captureContext, waitFor } from '../../helpers/source-context.js';
import { registersResponse, socketFactory } from './fake-io.js';

// The transports and the bus over injected I/O (a fake socket, serialport's mock binding) and a
// clock the test drives: timeouts, reconnects and poll schedules without real waiting.

test('TCP: a request times out exactly at its timeout on the injected clock', async () => {
  const clock = new ManualClock();
  const io = socketFactory((s) => queueMicrotask(() => s.accept()));
  const t = new TcpTransport('plc', 502, { clock, connect: io.connect });
  await t.connectOnce();
  let settled: string | undefined;
  const p = t.read(1, 3, 0, 2, 1000).then(() => 'ok', (e: ModbusRequestError) => e.kind);
  void p.then((v) => (settled = v));
  await clock.run(999);
  assert.equal(settled, undefined, 'still waiting at 999 ms');
  await clock.run(1);
  assert.equal(await p, 'timeout');
  // The late answer is dropped and counted, not taken for the next request's.
  io.sockets[0].send(registersResponse(io.sockets[0].written[0], [7, 8]));
  assert.equal(t.staleFrames, 1);
  const next = t.read(1, 3, 0, 2, 1000);
  io.sockets[0].send(registersResponse(io.sockets[0].written[1], [42, 43]));
  assert.equal(await next, 4);
  assert.deepEqual([t.data.readUInt16BE(0), t.data.readUInt16BE(2)], [42, 43]);
  await t.close();
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('TCP: connect timeout and reconnect delays run on the clock (jitter pinned)', async () => {
  const clock = new ManualClock();
  const io = socketFactory(); // the peer never accepts
  const states: string[] = [];
  const t = new TcpTransport('plc', 502, { clock, connect: io.connect, connectTimeoutMs: 3000, random: () => 0 });
  t.onState = (up, detail) => states.push(`${up} ${detail}`);
  t.open();
  assert.equal(io.sockets.length, 1);
  await clock.run(2999);
  assert.deepEqual(states, []);
  await clock.run(1);
  assert.deepEqual(states, ['false cannot connect to plc:502: connect timeout after 3000 ms']);
  // reconnectDelay(0) with random 0 = 100 ms, then 200, 400 ...
  await clock.run(99);
  assert.equal(io.sockets.length, 1);
  await clock.run(1);
  assert.equal(io.sockets.length, 2, 'second attempt after 100 ms');
  io.sockets[1].accept();
  assert.equal(states.at(-1), 'true connected to plc:502');
  assert.equal(t.connected, true);
  io.sockets[1].destroy(new Error('ECONNRESET'));
  await settle();
  assert.equal(states.at(-1), 'false connection to plc:502 lost: ECONNRESET');
  await clock.run(100);
  assert.equal(io.sockets.length, 3, 'reconnects after a drop, backoff reset by the good connect');
  await t.close();
  assert.equal(clock.pending, 0);
});

test('RTU over the mock binding: timeout on the clock, then the late-answer guard holds the line', async () => {
  const Mock = SerialPortMock.binding;
  Mock.reset();
  Mock.createPort('/dev/mockrtu', { echo: false, record: true });
  const clock = new ManualClock();
  let port: SerialPortMock | undefined;
  const t = new RtuTransport({ path: '/dev/mockrtu', baudRate: 19200, parity: 'none', dataBits: 8, stopBits: 1 },
    { clock, reconnect: false, makePort: (o) => (port = new SerialPortMock(o)) });
  await t.connectOnce();
  const frame = (unit: number, values: number[]) => {
    const b = Buffer.alloc(5 + values.length * 2);
    b[0] = unit;
    b[1] = 3;
    b[2] = values.length * 2;
    values.forEach((v, i) => b.writeUInt16BE(v, 3 + i * 2));
    b.writeUInt16LE(crc16(b, 0, b.length - 2), b.length - 2);
    return b;
  };
  // An answer resolves the request.
  const first = t.read(1, 3, 0, 1, 500);
  await waitFor(() => (port!.port!.recording?.length ?? 0) >= 8, 2000, 'request on the wire');
  port!.port!.emitData(frame(1, [1234]));
  assert.equal(await first, 2);
  assert.equal(t.data.readUInt16BE(0), 1234);
  // Silence: the timeout fires when the clock says so.
  const second = t.read(1, 3, 0, 1, 500).then(() => 'answered', (e: ModbusRequestError) => e.kind);
  await settle();
  let outcome: string | undefined;
  void second.then((k) => (outcome = k));
  await clock.run(499);
  assert.equal(outcome, undefined, 'still waiting at 499 ms');
  await clock.run(1);
  assert.equal(await second, 'timeout');
  // The next request to the same unit waits out the late-answer guard on the clock.
  const before = port!.port!.recording.length;
  const third = t.read(1, 3, 0, 1, 500);
  await clock.run(Math.min(500, LATE_GUARD_MAX_MS) - 1);
  await new Promise((r) => setTimeout(r, LATE_GUARD_MAX_MS + 100)); // real time passing does not release it
  assert.equal(port!.port!.recording.length, before, 'held while the guard runs on the clock');
  await clock.run(1);
  await waitFor(() => port!.port!.recording.length > before, 2000, 'sent after the guard');
  port!.port!.emitData(frame(1, [99]));
  assert.equal(await third, 2);
  assert.equal(t.data.readUInt16BE(0), 99);
  await t.close();
});

test('bus over a fake socket: 100 ms polls for 1 s are 10 requests; a silent unit is backed off on the clock', async () => {
  const clock = new ManualClock();
  const silent = new Set<number>();
  const io = socketFactory((s) => {
    queueMicrotask(() => s.accept());
    s.onRequest = (req) => {
      if (!silent.has(req[6])) queueMicrotask(() => s.send(registersResponse(req, [req[6] * 100])));
    };
  });
  const cfg = modbusTcpSchema.parse({
    id: 'meter', driver: 'modbus-tcp', host: 'plc', port: 502, pollInterval: '100ms', timeout: '200ms', retries: 0,
    points: [{ name: 'a', table: 'holding', address: 0, unitId: 1 }, { name: 'b', table: 'holding', address: 0, unitId: 2 }],
  });
  const cap = captureContext({ sourceId: 'meter', clock });
  const src = new ModbusSource(cfg, cap.ctx, { connect: io.connect });
  await src.open();
  await clock.run(0);
  await clock.run(950);
  const byUnit = (u: number) => io.sockets[0].written.filter((r) => r[6] === u).length;
  assert.equal(byUnit(1), 10, 'polls at 0, 100, ..., 900 ms');
  assert.equal(byUnit(2), 10);
  assert.equal(cap.readings.filter((r) => r.point === 'a').length, 10);
  assert.ok(cap.readings.every((r) => r.ts === clock.wall || r.ts <= clock.wall), 'stamped with the wall clock');

  // Unit 2 falls silent: after one timeout (200 ms) it is backed off for 1 s; unit 1 keeps polling.
  silent.add(2);
  const u2 = byUnit(2);
  await clock.run(1000);
  assert.equal(byUnit(2) - u2, 1, 'one timed-out request, then no bus time for the silent unit');
  assert.ok(cap.errors.some((e) => e.kind === 'timeout' && /unit 2 backed off, next try in 1\.0 s/.test(e.message)), JSON.stringify(cap.errors));
  assert.equal(cap.states.at(-1)?.state, 'backing-off');
  await clock.run(1000);
  assert.ok(byUnit(2) - u2 >= 2, 'probed again after the breaker interval');
  silent.delete(2);
  await clock.run(2500);
  assert.equal(cap.states.at(-1)?.state, 'ok', 'answers again: the breaker closes');
  await src.close();
  assert.equal(clock.pending, 0, 'no timer left behind');
});
