import type { Value } from '../../core/reading.js';
import { WriteFailed, type SourceContext, type WritableSpec } from '../types.js';
import type { Bus } from './bus.js';
import type { ModbusConfig, PointConfig } from './config.js';
import { ModbusRequestError } from './errors.js';
import { encodeValue, setBit, writeRequest } from './encode.js';
import type { DecodeSpec, Decoder } from './decode.js';
import type { Transport } from './transport.js';
import { READ_FC, isBitTable, registerWidth } from './types.js';

/** The write rule of a configured point (DriverDefinition.writable), undefined when read-only. */
export function modbusWritable(cfg: ModbusConfig, point: string): WritableSpec | undefined {
  const p = cfg.points.find((x) => x.name === point);
  if (!p?.write) return undefined;
  const type = p.type ?? (isBitTable(p.table) ? 'bool' : 'uint16');
  if (type === 'bool') return { type: 'bool' };
  if (p.write === true || type === 'string') return undefined;
  // A whole-count register at scale 1 cannot take 21.5: say so rather than round silently.
  const integer = type !== 'float32' && type !== 'float64' && Number.isInteger(p.scale) && Number.isInteger(p.offset) && Math.abs(p.scale) === 1;
  return { type: 'number', min: p.write.min, max: p.write.max, integer };
}

function specOf(p: PointConfig): DecodeSpec {
  const type = p.type ?? (isBitTable(p.table) ? 'bool' : 'uint16');
  return { table: p.table, type, count: p.count, bit: p.bit, byteOrder: p.byteOrder, wordOrder: p.wordOrder, scale: p.scale, offset: p.offset };
}

/**
 * One command's write on the bus: encode (reverse codec), FC 5/6/16 (a bit in a register: read,
 * modify, FC 6), then read the point back and decode it as a poll would. All of it in one
 * exclusive turn on the bus queue, so the sources' polls go before and after, never in between.
 * Timeouts are retried as the source's `retries` says (writes of absolute values are idempotent).
 */
export async function writePoint(
  bus: Bus | undefined, src: ModbusConfig, p: PointConfig | undefined, compiled: { decode: Decoder } | undefined, value: Value, ctx: SourceContext,
): Promise<Value | undefined> {
  if (!p || !compiled || !p.write) throw new WriteFailed(`point "${p?.name ?? '?'}" is not writable`);
  if (!bus) throw new WriteFailed('source is not running');
  const unit = p.unitId ?? src.unitId;
  const spec = specOf(p);
  const width = isBitTable(p.table) ? 1 : registerWidth(spec.type, p.count);
  const what = `unit ${unit} ${p.table} ${p.address}`;
  const attempts = 1 + src.retries;
  const retry = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    for (let a = 1; ; a++) {
      try {
        return await fn();
      } catch (e) {
        const err = e instanceof ModbusRequestError ? e : new ModbusRequestError('frame', (e as Error).message);
        if (err.kind === 'timeout' && a < attempts) continue;
        throw new WriteFailed(`${what} (${label}) on ${bus.transport.label}: ${err.message}`);
      }
    }
  };
  return bus.exclusive(async (t: Transport) => {
    if (!t.write) throw new WriteFailed(`${bus.transport.label}: transport cannot write`);
    let payload;
    if (spec.type === 'bool' && !isBitTable(p.table) && p.bit !== undefined) {
      const n = await retry('read before setting the bit', () => t.read(unit, 3, p.address, 1, src.timeout));
      payload = { kind: 'registers' as const, bytes: setBit(spec, Buffer.from(t.data.subarray(0, n)), value as boolean) };
    } else payload = encodeValue(spec, value as number | boolean);
    const req = writeRequest(p.address, payload);
    await retry(`FC ${req.fc}`, () => t.write!(unit, req.fc, req.body, src.timeout));
    try {
      const n = await retry('read back', () => t.read(unit, READ_FC[p.table], p.address, width, src.timeout));
      return compiled.decode(t.data.subarray(0, n), 0);
    } catch (e) {
      // Written (the device echoed it), only the confirmation is missing: not a failed command.
      ctx.error('write-readback', `${p.name}: ${(e as Error).message}`, p.name);
      return undefined;
    }
  });
}
