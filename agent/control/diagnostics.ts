import type { Value } from '../../core/reading.js';
import { ControlError, type ControlServer } from './server.js';
import { findBus, type Bus } from '../../drivers/modbus/bus.js';
import { ModbusRequestError } from '../../drivers/modbus/errors.js';
import { decodeRead, planRead, probeAnswer, type ReadSpec, type ScanResult } from '../../drivers/modbus/oneshot.js';
import { READ_FC, TABLES, type Table } from '../../drivers/modbus/types.js';
import { findSerialSource } from '../../drivers/serial/taps.js';

/**
 * Driver diagnostics on ports the daemon holds (SPEC "CLI": while the daemon runs, diagnostics on
 * its ports go through it, so the two never fight over one serial port). A port the daemon does
 * not hold is answered `not-held`: the CLI then opens it itself.
 */
export function registerDiagnostics(s: ControlServer): void {
  s.register('modbus.read', 'one read on the bus of {port} (RTU) or {host, tcpPort}, between the daemon\'s polls', (p) => modbusRead(p));
  s.register('modbus.scan', 'probe {units} on the bus of {port} or {host, tcpPort}, one unit per turn; streams {unit, found}', (p, ctx) => modbusScan(p, ctx.emit, ctx.signal));
  s.register('serial.monitor', 'stream {raw, points, error?} for each line the source on {port} (or {source}) reads', (p, ctx) => serialMonitor(p, ctx.emit, ctx.signal));
}

const bad = (msg: string) => new ControlError(msg, 'bad-params');

/** The daemon's bus named by the params, or `not-held`. */
export function heldBus(p: Record<string, unknown>): { bus: Bus; owner: string; settings: string } {
  let found;
  if (typeof p.host === 'string') {
    const tcpPort = p.tcpPort ?? 502;
    if (!Number.isInteger(tcpPort)) throw bad(`tcpPort: expected an integer, got ${JSON.stringify(tcpPort)}`);
    found = findBus({ host: p.host, port: tcpPort as number });
    if (!found) throw new ControlError(`no running source polls ${p.host}:${tcpPort}`, 'not-held');
  } else if (typeof p.port === 'string') {
    found = findBus({ port: p.port });
    if (!found) throw new ControlError(`no running modbus-rtu source holds ${p.port}`, 'not-held');
  } else throw bad('give port (RTU) or host (TCP)');
  return found;
}

/** One attempt per bus turn, so the daemon's polls go between a diagnostic's retries. */
export async function readOnBus(bus: Bus, unit: number, fc: number, address: number, quantity: number, timeoutMs: number, attempts: number): Promise<Buffer> {
  for (let a = 1; ; a++) {
    try {
      // Copied inside the turn: transport.data is reused by the next request.
      return await bus.exclusive(async (t) => {
        const n = await t.read(unit, fc, address, quantity, timeoutMs);
        return Buffer.from(t.data.subarray(0, n));
      });
    } catch (e) {
      const retry = e instanceof ModbusRequestError && (e.kind === 'timeout' || e.kind === 'frame');
      if (!retry || a >= attempts) throw e;
    }
  }
}

async function modbusRead(p: Record<string, unknown>) {
  const { bus, owner, settings } = heldBus(p);
  const spec = { unit: p.unit, table: p.table, address: p.address, count: p.count ?? 1, type: p.type, byteOrder: p.byteOrder ?? 'big', wordOrder: p.wordOrder ?? 'big' } as ReadSpec;
  let plan;
  try {
    plan = planRead(spec);
  } catch (e) {
    throw bad((e as Error).message);
  }
  // The bus's own timeout and retries: the sources on it were tuned for these devices.
  const s = bus.settings();
  let data;
  try {
    data = await readOnBus(bus, spec.unit, plan.fc, spec.address, plan.quantity, s.timeout, 1 + s.retries);
  } catch (e) {
    const kind = e instanceof ModbusRequestError ? e.kind : 'closed';
    throw new ControlError(`unit ${spec.unit} ${spec.table} ${spec.address}..${spec.address + plan.quantity - 1} on ${bus.transport.label}: ${(e as Error).message}`, `modbus-${kind}`);
  }
  return { ...decodeRead(spec, plan, bus.transport.label, data), via: { source: owner, settings: JSON.parse(settings), timeout: s.timeout, retries: s.retries } };
}

async function modbusScan(p: Record<string, unknown>, emit: (e: unknown) => void, signal: AbortSignal): Promise<ScanResult> {
  const { bus } = heldBus(p);
  const units = p.units;
  if (!Array.isArray(units) || units.length === 0 || !units.every((u) => Number.isInteger(u) && u >= 0 && u <= 255)) throw bad('units: expected a non-empty array of unit ids 0..255');
  const table = (p.table ?? 'holding') as Table;
  if (!TABLES.includes(table)) throw bad(`table: expected one of ${TABLES.join(', ')}`);
  const address = p.address ?? 0;
  if (!Number.isInteger(address) || (address as number) < 0 || (address as number) > 65535) throw bad('address: expected an integer 0..65535');
  const timeout = p.timeoutMs ?? bus.settings().timeout;
  if (!Number.isInteger(timeout) || (timeout as number) < 1 || (timeout as number) > 60_000) throw bad('timeoutMs: expected an integer 1..60000');
  const found: ScanResult['found'] = [];
  for (const unit of units as number[]) {
    if (signal.aborted) break; // the operator pressed Ctrl-C: give the bus back to the polls
    try {
      await readOnBus(bus, unit, READ_FC[table], address as number, 1, timeout as number, 1);
      found.push({ unit, answer: 'data' });
    } catch (e) {
      if (!(e instanceof ModbusRequestError)) throw new ControlError((e as Error).message, 'modbus-closed');
      if (e.kind === 'disconnected') throw new ControlError(`${bus.transport.label}: connection lost during the scan`, 'modbus-disconnected');
      const answer = probeAnswer(e);
      if (answer) found.push({ unit, answer });
    }
    emit({ unit, found: found.length });
  }
  return { bus: bus.transport.label, probe: { table, address: address as number }, scanned: units.length, found };
}

/** A line as a monitor shows it: text, the points parsed from it, or why it was rejected. */
interface LineRecord {
  raw: string;
  points: Record<string, Value>;
  error?: { kind: string; message: string };
}

async function serialMonitor(p: Record<string, unknown>, emit: (e: unknown) => void, signal: AbortSignal) {
  const q = { source: typeof p.source === 'string' ? p.source : undefined, port: typeof p.port === 'string' ? p.port : undefined };
  if (q.source === undefined && q.port === undefined) throw bad('give port or source');
  const src = findSerialSource(q);
  if (!src) throw new ControlError(q.source !== undefined ? `no running serial source "${q.source}"` : `no running serial source holds ${q.port}`, 'not-held');
  // The first event says what is being watched; each line follows as one record, sent once its
  // parse is done (parsing is synchronous: a microtask later it is complete).
  emit({ source: src.sourceId, port: src.portPath });
  let rec: LineRecord | undefined;
  const flush = () => {
    if (rec) emit(rec);
    rec = undefined;
  };
  let ended: () => void = () => {};
  const sourceEnded = new Promise<void>((r) => (ended = r));
  const stop = src.addTap({
    line(raw) {
      flush();
      rec = { raw: raw.toString('utf8'), points: {} };
      queueMicrotask(flush);
    },
    point(name, value) {
      if (rec) rec.points[name] = value;
    },
    error(kind, message) {
      if (rec) rec.error = { kind, message };
      else emit({ error: { kind, message } });
    },
    end: () => ended(),
  });
  try {
    const aborted = new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    if (!signal.aborted) await Promise.race([aborted, sourceEnded]);
  } finally {
    stop();
    flush();
  }
  if (!signal.aborted) throw new ControlError(`source "${src.sourceId}" stopped (daemon stopping or config changed)`, 'source-closed');
  return null;
}
