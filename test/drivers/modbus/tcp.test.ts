import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { modbusTcpSchema } from '../../../drivers/modbus/config.js';
import { ModbusSource } from '../../../drivers/modbus/source.js';
import { captureContext, waitFor } from '../../helpers/source-context.js';
import { freePort } from '../../helpers/system.js';
import { MAP, expected, havePymodbus, haveMbpoll, mapPoints, startSlave, type MapPoint, type Slave } from './slave.js';

const HAVE = havePymodbus();
const skip = HAVE ? false : 'pymodbus not available (see above)';
let port = 0;
let slave: Slave | undefined;

before(async () => {
  if (!HAVE) return;
  port = await freePort();
  slave = await startSlave({ tcp: port, units: [1] });
});
after(async () => {
  await slave?.stop();
});

function tcpSource(extra: Record<string, unknown>, points: unknown[]) {
  const cfg = modbusTcpSchema.parse({ id: 'meter', driver: 'modbus-tcp', host: '127.0.0.1', port, pollInterval: '100ms', timeout: '500ms', ...extra, points });
  const cap = captureContext({ sourceId: 'meter' });
  return { src: new ModbusSource(cfg, cap.ctx), ...cap };
}

/** First value the driver emitted per point. */
function firstValues(readings: { point: string; value: unknown }[]): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const r of readings) if (!m.has(r.point)) m.set(r.point, r.value);
  return m;
}

test('every type and order decodes the fixture values from pymodbus over TCP', { skip }, async () => {
  const { src, readings, errors } = tcpSource({}, mapPoints());
  await src.open();
  try {
    await waitFor(() => firstValues(readings).size === MAP.points.length, 10_000, 'one reading of every point');
    const got = firstValues(readings);
    for (const p of MAP.points) assert.deepEqual(got.get(p.name), expected(p), `${p.name} (${p.type} ${p.byteOrder ?? 'big'}/${p.wordOrder ?? 'big'})`);
    assert.deepEqual(errors, []);
  } finally {
    await src.close();
  }
});

// mbpoll (Debian) reads the same slave: its own decoding where it has one (16-bit, 32-bit int and
// float with either word order, coils, inputs), raw registers otherwise, reassembled here by
// the textbook rule (word order reverses registers, byte order swaps each register's bytes).
function mbpoll(p: MapPoint): unknown {
  const t = { coil: '0', discrete: '1', input: '3', holding: '4' }[p.table];
  const base = ['-m', 'tcp', '-p', String(port), '-a', '1', '-0', '-1', '-o', '2', '-r', String(p.address)];
  const run = (type: string, count: number, extra: string[] = []) => {
    const out = execFileSync('mbpoll', [...base, '-c', String(count), '-t', type, ...extra, '127.0.0.1'], { encoding: 'utf8' });
    return [...out.matchAll(/^\[\d+\]:\s+(.+)$/gm)].map((m) => m[1].trim());
  };
  const bo = p.byteOrder ?? 'big';
  const wo = p.wordOrder ?? 'big';
  if (p.table === 'coil' || p.table === 'discrete') return run(t, 1)[0] === '1';
  if (p.type === 'int16') return Number(/\((-?\d+)\)/.exec(run(t, 1)[0])?.[1] ?? run(t, 1)[0]);
  if (p.type === 'uint16') return Number(run(t, 1)[0].split(' ')[0]);
  if (bo === 'big' && (p.type === 'int32' || p.type === 'uint32' || p.type === 'float32')) {
    const v = Number(run(`${t}:${p.type === 'float32' ? 'float' : 'int'}`, 1, wo === 'big' ? ['-B'] : [])[0]);
    return p.type === 'uint32' ? v >>> 0 : p.type === 'float32' ? Math.fround(v) : v;
  }
  const width = p.type === 'string' ? p.count! : p.type === 'bool' ? 1 : /64/.test(p.type) ? 4 : 2;
  let words = run(`${t}:hex`, width).map((h) => Number.parseInt(h, 16));
  if (wo === 'little' && p.type !== 'string') words = words.reverse();
  const buf = Buffer.alloc(width * 2);
  words.forEach((w, i) => buf.writeUInt16BE(bo === 'little' ? ((w & 0xff) << 8) | (w >> 8) : w, i * 2));
  switch (p.type) {
    case 'bool': return ((buf.readUInt16BE(0) >> p.bit!) & 1) === 1;
    case 'string': return buf.toString('latin1').replace(/\0.*$/s, '');
    case 'int32': return buf.readInt32BE(0);
    case 'uint32': return buf.readUInt32BE(0);
    case 'float32': return buf.readFloatBE(0);
    case 'int64': return Number(buf.readBigInt64BE(0));
    case 'uint64': return Number(buf.readBigUInt64BE(0));
    case 'float64': return buf.readDoubleBE(0);
    default: throw new Error(p.type);
  }
}

test('every type and order decodes what mbpoll reads from the same slave', { skip: skip || (!haveMbpoll() && 'mbpoll missing') }, async () => {
  const { src, readings } = tcpSource({}, mapPoints());
  await src.open();
  try {
    await waitFor(() => firstValues(readings).size === MAP.points.length, 10_000, 'one reading of every point');
    const got = firstValues(readings);
    for (const p of MAP.points) {
      const raw = mbpoll(p);
      const want = typeof raw === 'number' && p.scale !== undefined ? raw * p.scale : raw;
      const v = got.get(p.name);
      if (typeof want === 'number' && p.type === 'float32') assert.ok(Math.abs((v as number) - want) <= Math.abs(want) * 1e-6, `${p.name}: driver ${v}, mbpoll ${want}`);
      else assert.deepEqual(v, want, `${p.name}: driver ${String(v)}, mbpoll ${String(want)}`);
    }
  } finally {
    await src.close();
  }
});

test('unmapped address: named exception counted on that point, the other points keep flowing', { skip }, async () => {
  // 96 and 105 are merged by maxGap 10; 105 is past the slave's map (100 registers).
  const { src, readings, errors } = tcpSource({ maxGap: 10 }, [
    { name: 'low', table: 'holding', address: 1, type: 'uint16' },
    { name: 'near', table: 'holding', address: 96, type: 'uint16' },
    { name: 'missing', table: 'holding', address: 105, type: 'uint16' },
  ]);
  await src.open();
  try {
    await waitFor(() => errors.filter((e) => e.point === 'missing').length >= 3, 10_000, 'three exceptions on the missing point');
    const n = readings.filter((r) => r.point === 'near').length;
    await waitFor(() => readings.filter((r) => r.point === 'near').length >= n + 3, 10_000, 'near keeps flowing');
    assert.ok(readings.filter((r) => r.point === 'low').length >= 3);
    assert.equal(readings.filter((r) => r.point === 'missing').length, 0, 'no reading for the refused point');
    const e = errors.find((x) => x.point === 'missing')!;
    assert.equal(e.kind, 'modbus-exception');
    assert.match(e.message, /illegal data address \(exception 2\)/);
    const d = src.diagnostics() as { exceptions: Record<string, number>; isolatedPoints: string[] };
    assert.ok(d.exceptions.missing >= 3, 'counted per point');
    assert.deepEqual(d.isolatedPoints.sort(), ['missing', 'near']);
  } finally {
    await src.close();
  }
});

test('slave killed and restarted: the driver recovers within 5 s', { skip }, async () => {
  const { src, readings, states, errors } = tcpSource({ timeout: '300ms' }, [{ name: 'u16', table: 'holding', address: 1, type: 'uint16' }]);
  await src.open();
  try {
    await waitFor(() => readings.length >= 3, 10_000, 'first readings');
    await slave!.stop();
    await waitFor(() => states.at(-1)?.state === 'down', 10_000, 'state down');
    assert.ok(errors.some((e) => e.kind === 'disconnected'), 'the drop is counted');
    await new Promise((r) => setTimeout(r, 1500)); // stay dead for a while: reconnect attempts must not pile up
    slave = await startSlave({ tcp: port, units: [1] });
    const back = Date.now();
    const n = readings.length;
    await waitFor(() => readings.length > n, 10_000, 'readings after restart');
    const ms = Date.now() - back;
    console.log(`# TCP slave restart: first reading ${ms} ms after the slave was back`);
    assert.ok(ms < 5000, `recovered after ${ms} ms`);
    assert.equal(readings.at(-1)!.value, 54321);
    assert.equal(states.at(-1)!.state, 'ok');
  } finally {
    await src.close();
  }
});

test('a late answer after a timeout is dropped, never attached to the next request', async () => {
  // A hand-rolled slave: register n holds 1000 + n; the first request is answered 400 ms late
  // (timeout 150 ms). A client that reads "the next frame" would hand it to the following request.
  let first = true;
  const server = net.createServer((sock) => {
    sock.on('data', (req) => {
      for (let off = 0; off + 12 <= req.length; off += 12) {
        const tid = req.readUInt16BE(off);
        const addr = req.readUInt16BE(off + 8);
        const qty = req.readUInt16BE(off + 10);
        const res = Buffer.alloc(9 + qty * 2);
        res.writeUInt16BE(tid, 0);
        res.writeUInt16BE(3 + qty * 2, 4);
        res[6] = req[off + 6];
        res[7] = 3;
        res[8] = qty * 2;
        for (let i = 0; i < qty; i++) res.writeUInt16BE(1000 + addr + i, 9 + 2 * i);
        const delay = first ? 400 : 0;
        first = false;
        setTimeout(() => sock.write(res), delay);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cfg = modbusTcpSchema.parse({
    id: 'late', driver: 'modbus-tcp', host: '127.0.0.1', port: (server.address() as net.AddressInfo).port,
    pollInterval: '100ms', timeout: '150ms', retries: 0, maxGap: 0,
    points: [{ name: 'a', table: 'holding', address: 0 }, { name: 'b', table: 'holding', address: 50 }],
  });
  const { ctx, readings, errors } = captureContext();
  const src = new ModbusSource(cfg, ctx);
  await src.open();
  try {
    await waitFor(() => readings.filter((r) => r.point === 'b').length >= 5, 10_000, 'readings of b');
    await waitFor(() => ((src.diagnostics() as { staleFrames: number }).staleFrames) >= 1, 5000, 'late frame seen');
    assert.ok(errors.some((e) => e.kind === 'timeout'), 'the slow request timed out');
    for (const r of readings) assert.equal(r.value, r.point === 'a' ? 1000 : 1050, `${r.point} got ${r.value}`);
  } finally {
    await src.close();
    server.close();
  }
});

test('a gateway reporting a silent unit (exception 11) backs that unit off; the others keep flowing', { skip }, async () => {
  const gwPort = await freePort();
  const gw = await startSlave({ tcp: gwPort, units: [1], gatewayDead: [5] });
  const cfg = modbusTcpSchema.parse({
    id: 'gw', driver: 'modbus-tcp', host: '127.0.0.1', port: gwPort, pollInterval: '100ms', timeout: '500ms',
    points: [{ name: 'ok', table: 'holding', address: 1 }, { name: 'behind', table: 'holding', address: 1, unitId: 5 }],
  });
  const { ctx, readings, errors, states } = captureContext();
  const src = new ModbusSource(cfg, ctx);
  await src.open();
  try {
    await waitFor(() => readings.length >= 30, 10_000, '30 readings of the live unit');
    const refused = errors.filter((e) => e.point === 'behind');
    assert.ok(refused.length >= 1);
    assert.match(refused[0].message, /gateway target device failed to respond \(exception 11\).*backed off/);
    // 30 polls of 100 ms: without the breaker unit 5 would have been asked ~30 times.
    assert.ok(refused.length <= 4, `unit 5 asked ${refused.length} times`);
    assert.equal(states.at(-1)?.state, 'backing-off');
    assert.match(states.at(-1)?.detail ?? '', /unit 5/);
    assert.ok(readings.every((r) => r.point === 'ok' && r.value === 54321));
  } finally {
    await src.close();
    await gw.stop();
  }
});
