import { encodeValue, writeRequest, type WritePayload } from './encode.js';
import { planRead, type ReadSpec } from './oneshot.js';
import { DATA_TYPES, registerWidth } from './types.js';

/**
 * One-off writes for `edge-agent modbus write`, shared by the CLI's direct path and the daemon's
 * `modbus.write` control method: the values encoded as a point of that type and order would be
 * (encode.ts), the write request, and the read that confirms it.
 */
export interface WriteSpec extends Omit<ReadSpec, 'count'> {
  values: (number | boolean)[];
  /** Use FC 16 even for one register (devices that implement only FC 16). */
  multiple?: boolean;
}

export interface WritePlan {
  fc: number;
  body: Buffer;
  /** The read-back request, as a ReadSpec for decodeRead. */
  readBack: ReadSpec;
}

/** Checks the spec (throws Error naming the field) and builds the request. */
export function planWrite(s: WriteSpec): WritePlan {
  if (s.table !== 'holding' && s.table !== 'coil') throw new Error(`table: only holding registers and coils can be written, got ${JSON.stringify(s.table)}`);
  if (!Array.isArray(s.values) || s.values.length === 0) throw new Error('values: give at least one value');
  if (!DATA_TYPES.includes(s.type) || s.type === 'string') throw new Error(`type: expected one of ${DATA_TYPES.filter((t) => t !== 'string').join(', ')}, got ${JSON.stringify(s.type)}`);
  const readBack: ReadSpec = { unit: s.unit, table: s.table, address: s.address, count: s.values.length, type: s.type, byteOrder: s.byteOrder, wordOrder: s.wordOrder };
  planRead(readBack); // unit, address, orders, type/table agreement
  const spec = { table: s.table, type: s.type, byteOrder: s.byteOrder, wordOrder: s.wordOrder, scale: 1, offset: 0 };
  if (s.table === 'coil') {
    for (const v of s.values) if (typeof v !== 'boolean') throw new Error(`values: coils take 0/1 or true/false, got ${JSON.stringify(v)}`);
    if (s.values.length > 1968) throw new Error('values: at most 1968 coils in one FC 15 request');
    const payload: WritePayload | { kind: 'coils'; values: boolean[] } = s.values.length === 1 && !s.multiple
      ? { kind: 'coil', on: s.values[0] as boolean } : { kind: 'coils', values: s.values as boolean[] };
    return { ...writeRequest(s.address, payload), readBack };
  }
  const width = registerWidth(s.type);
  if (width * s.values.length > 123) throw new Error(`values: ${width * s.values.length} registers exceed one FC 16 request (max 123)`);
  if (s.address + width * s.values.length > 65536) throw new Error('address: the values run past register 65535');
  const parts = s.values.map((v, i) => {
    const p = encodeValue(spec, v);
    if (p.kind !== 'registers') throw new Error(`values[${i}]: not a register value`);
    return p.bytes;
  });
  return { ...writeRequest(s.address, { kind: 'registers', bytes: Buffer.concat(parts) }, s.multiple), readBack };
}
