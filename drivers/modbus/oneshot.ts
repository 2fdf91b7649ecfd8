import { compileDecoder } from './decode.js';
import { ModbusRequestError } from './errors.js';
import {
  DATA_TYPES, MAX_BITS, MAX_REGISTERS, READ_FC, TABLES, isBitTable, orderLabel, registerWidth,
  type DataType, type Order, type Table,
} from './types.js';

/**
 * One-off reads for diagnostics (`edge-agent modbus read`), shared by the CLI's direct path and
 * the daemon's `modbus.read` control method so both print the same thing.
 */
export interface ReadSpec {
  unit: number;
  table: Table;
  address: number;
  /** Number of values; for strings the string's length in registers. */
  count: number;
  type: DataType;
  byteOrder: Order;
  wordOrder: Order;
}

/** What goes on the wire for a ReadSpec. */
export interface ReadPlan {
  fc: number;
  quantity: number;
  /** Registers per value (1 for bits). */
  width: number;
  values: number;
  bits: boolean;
}

/** The result printed by `modbus read --json` (and returned by the control method). */
export interface ReadResult {
  bus: string;
  unit: number;
  table: Table;
  address: number;
  type: DataType;
  byteOrder: Order;
  wordOrder: Order;
  order: string;
  values: unknown[];
  raw?: number[];
}

/** Checks a spec (throws Error with a message naming the field) and plans its request. */
export function planRead(s: ReadSpec): ReadPlan {
  const intIn = (v: unknown, what: string, min: number, max: number) => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new Error(`${what}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  };
  intIn(s.unit, 'unit', 0, 255);
  intIn(s.address, 'address', 0, 65535);
  intIn(s.count, 'count', 1, MAX_BITS);
  if (!TABLES.includes(s.table)) throw new Error(`table: expected one of ${TABLES.join(', ')}, got ${JSON.stringify(s.table)}`);
  if (!DATA_TYPES.includes(s.type)) throw new Error(`type: expected one of ${DATA_TYPES.join(', ')}, got ${JSON.stringify(s.type)}`);
  for (const k of ['byteOrder', 'wordOrder'] as const) {
    if (s[k] !== 'big' && s[k] !== 'little') throw new Error(`${k}: expected big or little, got ${JSON.stringify(s[k])}`);
  }
  const bits = isBitTable(s.table);
  if (bits && s.type !== 'bool') throw new Error(`type: ${s.table} holds single bits, only bool applies`);
  const width = bits ? 1 : registerWidth(s.type, s.type === 'string' ? s.count : undefined);
  const values = s.type === 'string' ? 1 : s.count;
  const quantity = width * values;
  if (quantity > (bits ? MAX_BITS : MAX_REGISTERS)) throw new Error(`count: ${quantity} ${bits ? 'bits' : 'registers'} exceed one request (max ${bits ? MAX_BITS : MAX_REGISTERS})`);
  return { fc: READ_FC[s.table], quantity, width, values, bits };
}

/** Decodes the answer's data bytes into the printed result. */
export function decodeRead(s: ReadSpec, p: ReadPlan, bus: string, data: Buffer): ReadResult {
  const decode = compileDecoder({ table: s.table, type: s.type, count: s.type === 'string' ? s.count : undefined, byteOrder: s.byteOrder, wordOrder: s.wordOrder, scale: 1, offset: 0 });
  const values: unknown[] = [];
  for (let i = 0; i < p.values; i++) values.push(decode(data, p.bits ? i : i * p.width * 2));
  const raw = p.bits ? undefined : Array.from({ length: data.length >> 1 }, (_, i) => data.readUInt16BE(i * 2));
  return {
    bus, unit: s.unit, table: s.table, address: s.address, type: s.type, byteOrder: s.byteOrder, wordOrder: s.wordOrder,
    order: orderLabel(s.byteOrder, s.wordOrder), values, ...(raw ? { raw } : {}),
  };
}

/** What a scan makes of one probe's failure: an exception is an answer (the device is there). */
export function probeAnswer(err: ModbusRequestError): string | undefined {
  return err.kind === 'exception' ? `exception: ${err.message}` : undefined;
}

export interface ScanResult {
  bus: string;
  probe: { table: Table; address: number };
  scanned: number;
  found: { unit: number; answer: string }[];
}

/**
 * The unit-id scan, one probe read per unit in order (`modbus scan` directly, and the daemon's
 * `modbus.scan` between its polls). `read` throws ModbusRequestError; an exception answer counts
 * as found, a timeout or frame error as absent, a lost connection ends the scan (thrown as
 * `disconnected`). Stops early when `signal` aborts.
 */
export async function scanUnits(
  bus: string,
  units: readonly number[],
  probe: { table: Table; address: number },
  read: (unit: number) => Promise<unknown>,
  progress: (unit: number, found: number) => void = () => {},
  signal?: AbortSignal,
): Promise<ScanResult> {
  const found: ScanResult['found'] = [];
  for (const unit of units) {
    if (signal?.aborted) break; // the operator pressed Ctrl-C: give the bus back to the polls
    try {
      await read(unit);
      found.push({ unit, answer: 'data' });
    } catch (e) {
      if (!(e instanceof ModbusRequestError)) throw e;
      if (e.kind === 'disconnected') throw new ModbusRequestError('disconnected', `${bus}: connection lost during the scan`);
      const answer = probeAnswer(e);
      if (answer) found.push({ unit, answer });
    }
    progress(unit, found.length);
  }
  return { bus, probe, scanned: units.length, found };
}
