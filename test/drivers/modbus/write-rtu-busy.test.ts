import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modbusRtuSchema } from '../../../drivers/modbus/config.js';
import { ModbusSource } from '../../../drivers/modbus/source.js';
import { crc16 } from '../../../drivers/modbus/crc.js';
import { captureContext, waitFor } from '../../helpers/source-context.js';
import { haveSocat, startPtyPair } from './slave.js';

/*
 * A write during 10 Hz polling on an RTU line, seen from the device: a hand-rolled slave on the
 * pty's far end (FC 3, 6, 16; 5 ms per answer, like a slow field device) counts every byte that
 * arrives while it still owes an answer. On a real RS-485 line such a byte is a collision.
 */
test('RTU: writes during 10 Hz polling never overlap a request on the line; polls lose no cycle', { skip: haveSocat() ? false : 'socat missing' }, async () => {
  const { SerialPort } = await import('serialport');
  const pty = await startPtyPair();
  const dev = new SerialPort({ path: pty.b, baudRate: 19200, autoOpen: false });
  await new Promise<void>((r, j) => dev.open((e) => (e ? j(e) : r())));
  const regs = new Uint16Array(100);
  regs[1] = 4242;
  let rx = Buffer.alloc(0);
  let owing = false;
  let overlaps = 0;
  const served: number[] = [];
  const answer = (res: Buffer) => {
    const out = Buffer.alloc(res.length + 2);
    res.copy(out);
    out.writeUInt16LE(crc16(out, 0, res.length), res.length);
    owing = true;
    // Owed from the complete request until the answer goes out: a byte in between can only be a
    // master that did not wait (the test and the master share one event loop, so the end of the
    // answer's transmission cannot be timed reliably from here; the 5 ms window can).
    setTimeout(() => {
      owing = false;
      dev.write(out);
    }, 5);
  };
  dev.on('data', (d: Buffer) => {
    if (owing) overlaps++;
    rx = Buffer.concat([rx, d]);
    for (;;) {
      if (rx.length < 8) return;
      const fc = rx[1];
      const len = fc === 16 ? 9 + rx[6] : 8;
      if (rx.length < len) return;
      const req = rx.subarray(0, len);
      rx = rx.subarray(len);
      if (req.readUInt16LE(len - 2) !== crc16(req, 0, len - 2)) throw new Error(`bad CRC in ${req.toString('hex')}`);
      served.push(fc);
      const addr = req.readUInt16BE(2);
      if (fc === 3) {
        const n = req.readUInt16BE(4);
        const res = Buffer.alloc(3 + 2 * n);
        res[0] = req[0];
        res[1] = 3;
        res[2] = 2 * n;
        for (let i = 0; i < n; i++) res.writeUInt16BE(regs[addr + i], 3 + 2 * i);
        answer(res);
      } else if (fc === 6) {
        regs[addr] = req.readUInt16BE(4);
        answer(req.subarray(0, 6));
      } else if (fc === 16) {
        const n = req.readUInt16BE(4);
        for (let i = 0; i < n; i++) regs[addr + i] = req.readUInt16BE(7 + 2 * i);
        answer(req.subarray(0, 6));
      }
    }
  });
  const cfg = modbusRtuSchema.parse({ id: 'line', driver: 'modbus-rtu', port: pty.a, baudRate: 19200, pollInterval: '100ms', timeout: '300ms', points: [
    { name: 'poll', table: 'holding', address: 1 },
    { name: 'sp', table: 'holding', address: 10, type: 'float32', wordOrder: 'little', write: { min: 0, max: 100 } },
    { name: 'mode', table: 'holding', address: 20, type: 'uint16', write: { min: 0, max: 9 } },
  ] });
  const cap = captureContext({ sourceId: 'line' });
  const src = new ModbusSource(cfg, cap.ctx);
  await src.open();
  try {
    await waitFor(() => cap.readings.some((r) => r.point === 'poll'), 5000, 'first poll');
    const polls = () => cap.readings.filter((r) => r.point === 'poll').length;
    const n0 = polls();
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      assert.equal(await src.write('sp', 20 + i * 0.5), 20 + i * 0.5);
      assert.equal(await src.write('mode', i % 10), i % 10);
      await new Promise((r) => setTimeout(r, 100));
    }
    const elapsed = Date.now() - t0;
    const got = polls() - n0;
    const d = src.diagnostics();
    assert.equal(overlaps, 0, 'no byte reached the device while it owed an answer');
    assert.deepEqual(cap.errors, []);
    assert.equal(d.overruns, 0);
    assert.equal(d.staleFrames, 0);
    assert.ok(served.filter((f) => f === 16).length === 10 && served.filter((f) => f === 6).length === 10, `served ${served.join(',')}`);
    const expected = Math.floor(elapsed / 100) - 1 - (d.skippedSlots as number);
    assert.ok(got >= expected, `${got} polls in ${elapsed} ms (expected >= ${expected}; skipped ${String(d.skippedSlots)})`);
    assert.equal(Buffer.from(new Uint16Array([regs[11], regs[10]]).buffer).swap16().readFloatBE(0), 24.5, 'CDAB float on the device');
  } finally {
    await src.close();
    await new Promise<void>((r) => dev.close(() => r()));
    await pty.stop();
  }
});
