import { ControlError } from '../../core/tool-errors.js';
import type { DriverHost } from '../types.js';
import type { ControlRegistry } from '../tooling.js';
import type { Bus } from './bus.js';
import { busRegistry, type HeldBus } from './bus-registry.js';
import { ModbusRequestError } from './errors.js';
import { decodeRead, planRead, scanUnits, type ReadSpec, type ScanResult } from './oneshot.js';
import { READ_FC, TABLES, type Table } from './types.js';

/**
 * The daemon's Modbus diagnostics (SPEC "CLI": while the daemon runs, diagnostics on its buses go
 * through it, between its polls). A bus no source holds is answered `not-held`: the CLI then opens
 * it itself.
 */
export function registerModbusControl(s: ControlRegistry, host: DriverHost): void {
  s.register('modbus.read', 'one read on the bus of {port} (RTU) or {host, tcpPort}, between the daemon\'s polls', (p) => modbusRead(host, p));
  s.register('modbus.scan', 'probe {units} on the bus of {port} or {host, tcpPort}, one unit per turn; streams {unit, found}', (p, req) => modbusScan(host, p, req.emit, req.signal));
}

const bad = (msg: string) => new ControlError(msg, 'bad-params');

/** The daemon's bus named by the params, or `not-held` (also the daemon side of `modbus write`). */
export function heldBus(host: DriverHost, p: Record<string, unknown>): HeldBus {
  const buses = busRegistry(host);
  let found;
  if (typeof p.host === 'string') {
    const tcpPort = p.tcpPort ?? 502;
    if (!Number.isInteger(tcpPort)) throw bad(`tcpPort: expected an integer, got ${JSON.stringify(tcpPort)}`);
    found = buses.find({ host: p.host, port: tcpPort as number });
    if (!found) throw new ControlError(`no running source polls ${p.host}:${tcpPort}`, 'not-held');
  } else if (typeof p.port === 'string') {
    found = buses.find({ port: p.port });
    if (!found) throw new ControlError(`no running modbus-rtu source holds ${p.port}`, 'not-held');
  } else throw bad('give port (RTU) or host (TCP)');
  return found;
}

/** One attempt per bus turn, so the daemon's polls go between a diagnostic's retries. */
async function readOnBus(bus: Bus, unit: number, fc: number, address: number, quantity: number, timeoutMs: number, attempts: number): Promise<Buffer> {
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

async function modbusRead(host: DriverHost, p: Record<string, unknown>) {
  const { bus, owner, settings } = heldBus(host, p);
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

async function modbusScan(host: DriverHost, p: Record<string, unknown>, emit: (e: unknown) => void, signal: AbortSignal): Promise<ScanResult> {
  const { bus } = heldBus(host, p);
  const units = p.units;
  if (!Array.isArray(units) || units.length === 0 || !units.every((u) => Number.isInteger(u) && u >= 0 && u <= 255)) throw bad('units: expected a non-empty array of unit ids 0..255');
  const table = (p.table ?? 'holding') as Table;
  if (!TABLES.includes(table)) throw bad(`table: expected one of ${TABLES.join(', ')}`);
  const address = p.address ?? 0;
  if (!Number.isInteger(address) || (address as number) < 0 || (address as number) > 65535) throw bad('address: expected an integer 0..65535');
  const timeout = p.timeoutMs ?? bus.settings().timeout;
  if (!Number.isInteger(timeout) || (timeout as number) < 1 || (timeout as number) > 60_000) throw bad('timeoutMs: expected an integer 1..60000');
  try {
    return await scanUnits(bus.transport.label, units as number[], { table, address: address as number },
      (unit) => readOnBus(bus, unit, READ_FC[table], address as number, 1, timeout as number, 1),
      (unit, found) => emit({ unit, found }), signal);
  } catch (e) {
    if (e instanceof ModbusRequestError) throw new ControlError(e.message, 'modbus-disconnected');
    throw new ControlError((e as Error).message, 'modbus-closed');
  }
}
