import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SerialPortMock } from 'serialport';
import { ControlServer } from '../../../agent/control/server.js';
import { controlRequest, ControlRequestError } from '../../../agent/control/client.js';
import { registerDiagnostics } from '../../../agent/control/diagnostics.js';
import { silentLogger } from '../../../core/log.js';
import { modbusTcpSchema } from '../../../drivers/modbus/config.js';
import { ModbusSource } from '../../../drivers/modbus/source.js';
import { busRegistry } from '../../../drivers/modbus/bus-registry.js';
import { SharedHost } from '../../../drivers/host.js';
import { SerialSource } from '../../../drivers/serial/source.js';
import { createParser } from '../../../drivers/serial/parsers/index.js';
import { captureContext, waitFor } from '../../helpers/source-context.js';
import { cli } from '../../helpers/control.js';
import { serialConfig } from '../../drivers/serial/make.js';

// The control methods in-process, on parts every machine has (a hand-rolled Modbus TCP slave,
// serialport's mock binding); diagnostics.test.ts runs them through the built daemon on ptys.

/** Modbus TCP slave answering FC3 with register i = address + i after `delayMs`; counts overlap. */
async function slowSlave(delayMs: number) {
  const stats = { outstanding: 0, maxOutstanding: 0, requests: 0, addresses: [] as number[] };
  const server = net.createServer((sock) => {
    sock.on('data', (req) => {
      for (let off = 0; off + 12 <= req.length; off += 12) {
        stats.requests++;
        stats.maxOutstanding = Math.max(stats.maxOutstanding, ++stats.outstanding);
        const addr = req.readUInt16BE(off + 8);
        stats.addresses.push(addr);
        const qty = req.readUInt16BE(off + 10);
        const res = Buffer.alloc(9 + qty * 2);
        req.copy(res, 0, off, off + 2);
        res.writeUInt16BE(3 + qty * 2, 4);
        res[6] = req[off + 6];
        res[7] = req[off + 7];
        res[8] = qty * 2;
        for (let i = 0; i < qty; i++) res.writeUInt16BE((addr + i) & 0xffff, 9 + i * 2);
        // Addresses over 1000 answer slowly: a diagnostic read that stays on the wire.
        setTimeout(() => {
          stats.outstanding--;
          if (!sock.destroyed) sock.write(res);
        }, addr > 1000 ? 2000 : delayMs);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A control server with the driver diagnostics of one agent (its host: buses, serial taps). */
async function controlServer(host = new SharedHost()) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'edge-diag-')), 'agent.sock');
  const srv = new ControlServer(silentLogger);
  registerDiagnostics(srv, host);
  await srv.listen(file);
  return { file, srv, host };
}

const code = (c: string) => (e: unknown) => e instanceof ControlRequestError && e.code === c;

test('modbus.read waits its turn on the daemon bus: never two requests in flight, polls go on', async (t) => {
  const slave = await slowSlave(10);
  t.after(() => slave.close());
  const { file, srv, host } = await controlServer();
  t.after(() => srv.close());
  const cfg = modbusTcpSchema.parse({
    id: 'meter', driver: 'modbus-tcp', host: '127.0.0.1', port: slave.port, pollInterval: '30ms', timeout: '5s', retries: 1,
    points: [{ name: 'a', table: 'holding', address: 0 }, { name: 'b', table: 'input', address: 3 }],
  });
  const cap = captureContext({ sourceId: 'meter', host });
  const src = new ModbusSource(cfg, cap.ctx);
  await src.open();
  let closed = false;
  t.after(() => (closed ? undefined : src.close()));
  await waitFor(() => cap.readings.length >= 4, 10_000, 'first polls');

  const ask = (address: number) => controlRequest(file, 'modbus.read', { host: '127.0.0.1', tcpPort: slave.port, unit: 1, table: 'holding', address, count: 2, type: 'uint16' }, { timeoutMs: 10_000 });
  const results = (await Promise.all([100, 200, 300, 400, 500, 600].map(ask))) as { values: number[]; raw: number[]; bus: string; via: { source: string; timeout: number; retries: number } }[];
  results.forEach((r, i) => assert.deepEqual(r.values, [(i + 1) * 100, (i + 1) * 100 + 1]));
  assert.equal(results[0].bus, `127.0.0.1:${slave.port}`);
  assert.deepEqual([results[0].via.source, results[0].via.timeout, results[0].via.retries], ['meter', 5000, 1]);
  const polled = cap.readings.length;
  await waitFor(() => cap.readings.length >= polled + 4, 10_000, 'polls go on');
  assert.equal(slave.stats.maxOutstanding, 1, 'one request in flight at a time');
  assert.deepEqual(cap.errors, []);

  // Bad params are the caller's problem; another host:port is not the daemon's.
  await assert.rejects(controlRequest(file, 'modbus.read', { host: '127.0.0.1', tcpPort: slave.port, unit: 1, table: 'holding', address: 0, count: 200, type: 'uint16' }), code('bad-params'));
  await assert.rejects(controlRequest(file, 'modbus.read', { host: '127.0.0.1', tcpPort: 1, unit: 1, table: 'holding', address: 0, type: 'uint16' }), code('not-held'));
  await assert.rejects(controlRequest(file, 'modbus.read', { port: '/dev/ttyUSB9', unit: 1, table: 'holding', address: 0, type: 'uint16' }), code('not-held'));
  // The buses are the agent's, not the process's: another agent's control socket does not see this one.
  const other = await controlServer();
  t.after(() => other.srv.close());
  await assert.rejects(controlRequest(other.file, 'modbus.read', { host: '127.0.0.1', tcpPort: slave.port, unit: 1, table: 'holding', address: 0, type: 'uint16' }), code('not-held'));

  // The CLI (built bundle) names a TCP bus as host:port and takes this process for the daemon.
  const r = await cli(['modbus', 'read', '--host', `127.0.0.1:${slave.port}`, '--address', '7', '--count', '2', '--json', '--socket', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`# via the running daemon \\(pid ${process.pid}\\), which holds 127\\.0\\.0\\.1:${slave.port}`));
  assert.deepEqual(JSON.parse(r.stdout).values, [7, 8]);

  // Scan streams progress per unit (the slave answers any unit id).
  const events: unknown[] = [];
  const scan = (await controlRequest(file, 'modbus.scan', { host: '127.0.0.1', tcpPort: slave.port, units: [1, 2, 3], timeoutMs: 300 }, { onEvent: (e) => events.push(e) })) as { found: { unit: number }[] };
  assert.deepEqual(scan.found.map((f) => f.unit), [1, 2, 3]);
  assert.deepEqual(events, [{ unit: 1, found: 1 }, { unit: 2, found: 2 }, { unit: 3, found: 3 }]);

  // The source stops while reads wait their turn: they fail, nothing hangs.
  const pending = [ask(1001), ask(1002), ask(1003)].map((p) => p.then(() => 'ok', (e: ControlRequestError) => e.code));
  const bus = busRegistry(host).find({ host: '127.0.0.1', port: slave.port })!.bus;
  await waitFor(() => slave.stats.addresses.some((a) => a > 1000) && bus.turnsWaiting === 2, 5000, 'one read on the wire, two waiting');
  closed = true;
  await src.close();
  const outcomes = await Promise.all(pending);
  assert.deepEqual(outcomes.sort(), ['modbus-closed', 'modbus-closed', 'modbus-disconnected']);
});

test('serial.monitor taps the running source: each line with its points or error; stops when the client leaves', async (t) => {
  const Mock = SerialPortMock.binding;
  Mock.reset();
  Mock.createPort('/dev/mockdiag', { echo: false, record: true });
  const { file, srv, host } = await controlServer();
  t.after(() => srv.close());
  const cfg = serialConfig({ port: '/dev/mockdiag', parse: 'kv' });
  const cap = captureContext({ sourceId: 'weather', host });
  let port: SerialPortMock | undefined;
  const src = new SerialSource(cfg, cap.ctx, createParser(cfg.parse), undefined, (o) => (port = new SerialPortMock(o)));
  await src.open();
  t.after(() => src.close());
  await waitFor(() => cap.states.at(-1)?.state === 'ok', 5000, 'open');
  port!.port!.emitData('T=1\n'); // the first line after open
  await waitFor(() => cap.readings.length === 1, 5000, 'first line');

  await assert.rejects(controlRequest(file, 'serial.monitor', { port: '/dev/other' }), code('not-held'));
  await assert.rejects(controlRequest(file, 'serial.monitor', { source: 'nope' }), code('not-held'));

  const stop = new AbortController();
  const events: Record<string, unknown>[] = [];
  const done = controlRequest(file, 'serial.monitor', { source: 'weather' }, { signal: stop.signal, onEvent: (e) => events.push(e as Record<string, unknown>) });
  await waitFor(() => events.length === 1, 5000, 'attached');
  assert.deepEqual(events[0], { source: 'weather', port: '/dev/mockdiag' });
  port!.port!.emitData('T=21.5 H=40\nnothing here\nA=1 =2\n');
  await waitFor(() => events.length === 4, 5000, 'three lines');
  assert.deepEqual(events.slice(1), [
    { raw: 'T=21.5 H=40', points: { T: 21.5, H: 40 } },
    { raw: 'nothing here', points: {}, error: { kind: 'no-match', message: 'no key=value pair in "nothing here"' } },
    { raw: 'A=1 =2', points: { A: 1 }, error: { kind: 'parse', message: 'bad pair "=2" in "A=1 =2"' } },
  ]);
  // The source itself still got everything.
  assert.equal(cap.readings.length, 4);
  stop.abort();
  assert.equal(await done, undefined);
  // Hung up: the tap is removed (no more events, nothing thrown on the source's side).
  await new Promise((r) => setTimeout(r, 50));
  port!.port!.emitData('T=2\n');
  await waitFor(() => cap.readings.length === 5, 5000, 'source reads on');
  assert.equal(events.length, 4);

  // A monitor ends with source-closed when the source stops (daemon stopping or reconfigured).
  const ended = controlRequest(file, 'serial.monitor', { port: '/dev/mockdiag' }, { onEvent: () => {} });
  await new Promise((r) => setTimeout(r, 100));
  await src.close();
  await assert.rejects(ended, code('source-closed'));
});
