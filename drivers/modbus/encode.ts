import { permutation, type DecodeSpec } from './decode.js';
import { isBitTable, registerWidth, type DataType } from './types.js';

/**
 * The reverse of decode.ts for writes (SPEC "Commands"): an engineering value becomes the register
 * bytes the device expects, with scale/offset undone and the byte/word order applied, so a float32
 * CDAB setpoint of 21.5 lands as the device reads it. Writes are rare: clarity over allocation.
 */

/** A value that cannot be represented by the point's type; the message names why. */
export class EncodeError extends Error {}

/** What one write puts on the wire. */
export type WritePayload =
  | { kind: 'coil'; on: boolean }
  /** Register bytes in wire order (2 per register), to write from the point's address. */
  | { kind: 'registers'; bytes: Buffer };

const INT_RANGE: Partial<Record<DataType, [number, number]>> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-(2 ** 63), 2 ** 63 - 1],
  uint64: [0, 2 ** 64 - 1],
};

/**
 * Encodes `value` for the point. bool on a register without `bit` writes 1/0; with `bit`, use
 * setBit on the register read back first (a read-modify-write the caller runs in one bus turn).
 */
export function encodeValue(p: DecodeSpec, value: number | boolean): WritePayload {
  if (isBitTable(p.table)) {
    if (typeof value !== 'boolean') throw new EncodeError(`expected true or false, got ${JSON.stringify(value)}`);
    return { kind: 'coil', on: value };
  }
  if (p.type === 'bool') {
    if (typeof value !== 'boolean') throw new EncodeError(`expected true or false, got ${JSON.stringify(value)}`);
    if (p.bit !== undefined) throw new EncodeError('a bit in a register is written with setBit (read-modify-write)');
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value ? 1 : 0);
    return { kind: 'registers', bytes: b };
  }
  if (p.type === 'string') throw new EncodeError('writing strings is not supported');
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new EncodeError(`expected a finite number, got ${JSON.stringify(value)}`);
  const raw = (value - p.offset) / p.scale;
  const width = registerWidth(p.type);
  const be = Buffer.alloc(2 * width);
  const range = INT_RANGE[p.type];
  if (range) {
    // Integer registers hold whole raw counts: a value between two steps of the scale is rounded.
    const n = Math.round(raw);
    if (n < range[0] || n > range[1]) throw new EncodeError(`${value} is ${n} raw, outside ${p.type} (${range[0]}..${range[1]})`);
    switch (p.type) {
      case 'int16': be.writeInt16BE(n); break;
      case 'uint16': be.writeUInt16BE(n); break;
      case 'int32': be.writeInt32BE(n); break;
      case 'uint32': be.writeUInt32BE(n); break;
      case 'int64': be.writeBigInt64BE(BigInt(n)); break;
      case 'uint64': be.writeBigUInt64BE(BigInt(n)); break;
    }
  } else if (p.type === 'float32') {
    if (Math.abs(raw) > 3.4028234663852886e38) throw new EncodeError(`${value} is outside float32`);
    be.writeFloatBE(raw);
  } else be.writeDoubleBE(raw);
  return { kind: 'registers', bytes: toWire(be, width, p) };
}

/** Big-endian (ABCD...) bytes to the point's wire order: the inverse of the decoder's permutation. */
function toWire(be: Buffer, width: number, p: DecodeSpec): Buffer {
  const perm = permutation(width, p.byteOrder, p.wordOrder);
  const wire = Buffer.alloc(be.length);
  // decode: be[k] = wire[perm[k]], so wire[perm[k]] = be[k].
  for (let k = 0; k < perm.length; k++) wire[perm[k]] = be[k];
  return wire;
}

/** The register with the point's bit set or cleared (register as read, 2 wire bytes). */
export function setBit(p: DecodeSpec, current: Buffer, on: boolean): Buffer {
  if (typeof on !== 'boolean') throw new EncodeError(`expected true or false, got ${JSON.stringify(on)}`);
  const swap = p.byteOrder === 'little';
  let reg = swap ? (current[1] << 8) | current[0] : current.readUInt16BE(0);
  const mask = 1 << (p.bit ?? 0);
  reg = on ? reg | mask : reg & ~mask & 0xffff;
  const out = Buffer.alloc(2);
  if (swap) {
    out[0] = reg & 0xff;
    out[1] = reg >> 8;
  } else out.writeUInt16BE(reg);
  return out;
}

/**
 * The PDU body (after the function code) of the write for a payload: FC 5 (one coil), FC 6 (one
 * register) or FC 16 (several registers); FC 15 when several coils are given (CLI).
 */
export function writeRequest(address: number, payload: WritePayload | { kind: 'coils'; values: boolean[] }, forceMultiple = false): { fc: number; body: Buffer } {
  if (payload.kind === 'coil') {
    const body = Buffer.alloc(4);
    body.writeUInt16BE(address, 0);
    body.writeUInt16BE(payload.on ? 0xff00 : 0x0000, 2);
    return { fc: 5, body };
  }
  if (payload.kind === 'coils') {
    const n = payload.values.length;
    const bytes = Math.ceil(n / 8);
    const body = Buffer.alloc(5 + bytes);
    body.writeUInt16BE(address, 0);
    body.writeUInt16BE(n, 2);
    body[4] = bytes;
    payload.values.forEach((v, i) => { if (v) body[5 + (i >> 3)] |= 1 << (i & 7); });
    return { fc: 15, body };
  }
  const regs = payload.bytes.length >> 1;
  if (regs === 1 && !forceMultiple) {
    const body = Buffer.alloc(4);
    body.writeUInt16BE(address, 0);
    payload.bytes.copy(body, 2);
    return { fc: 6, body };
  }
  const body = Buffer.alloc(5 + payload.bytes.length);
  body.writeUInt16BE(address, 0);
  body.writeUInt16BE(regs, 2);
  body[4] = payload.bytes.length;
  payload.bytes.copy(body, 5);
  return { fc: 16, body };
}
