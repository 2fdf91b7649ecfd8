import type { Value } from '../../core/reading.js';
import { isBitTable, registerWidth, type DataType, type Order, type Table } from './types.js';

/** What a decoder needs to know about a point. */
export interface DecodeSpec {
  table: Table;
  type: DataType;
  count?: number;
  bit?: number;
  byteOrder: Order;
  wordOrder: Order;
  scale: number;
  offset: number;
}

/**
 * Reads one value out of a response's data bytes. `at` is the point's position in the
 * response: a byte offset for register tables, a bit index for coil/discrete tables.
 */
export type Decoder = (data: Buffer, at: number) => Value;

// One scratch buffer for reordering multi-register values: decoding is synchronous and
// single-threaded, so sharing it avoids an allocation per reading.
const scratch = Buffer.alloc(8);

/**
 * Byte permutation from wire order to big-endian (ABCD...) order for `n` registers.
 * wordOrder little = least significant register first; byteOrder little = low byte first
 * within each register. Their four combinations are ABCD, CDAB, BADC and DCBA.
 */
export function permutation(n: number, byteOrder: Order, wordOrder: Order): number[] {
  const perm: number[] = [];
  for (let k = 0; k < 2 * n; k++) {
    const word = k >> 1;
    const reg = wordOrder === 'big' ? word : n - 1 - word;
    const inReg = byteOrder === 'big' ? (k & 1) : 1 - (k & 1);
    perm.push(2 * reg + inReg);
  }
  return perm;
}

export function compileDecoder(p: DecodeSpec): Decoder {
  if (isBitTable(p.table)) return (data, bit) => ((data[bit >> 3] >> (bit & 7)) & 1) === 1;
  if (p.type === 'bool') {
    const mask = 1 << (p.bit ?? 0);
    const swap = p.byteOrder === 'little';
    if (p.bit === undefined) {
      return (data, at) => data.readUInt16BE(at) !== 0;
    }
    return (data, at) => {
      const reg = swap ? (data[at + 1] << 8) | data[at] : data.readUInt16BE(at);
      return (reg & mask) !== 0;
    };
  }
  if (p.type === 'string') {
    const n = 2 * registerWidth('string', p.count);
    const swap = p.byteOrder === 'little';
    const buf = Buffer.alloc(n);
    return (data, at) => {
      for (let i = 0; i < n; i++) buf[i] = data[at + (swap ? i ^ 1 : i)];
      let end = buf.indexOf(0);
      if (end < 0) end = n;
      while (end > 0 && buf[end - 1] === 0x20) end--;
      return buf.toString('latin1', 0, end);
    };
  }
  const width = registerWidth(p.type);
  const perm = permutation(width, p.byteOrder, p.wordOrder);
  const identity = perm.every((v, i) => v === i);
  const read = numericReader(p.type);
  const raw: Decoder = identity
    ? (data, at) => read(data, at)
    : (data, at) => {
      for (let k = 0; k < perm.length; k++) scratch[k] = data[at + perm[k]];
      return read(scratch, 0);
    };
  const { scale, offset } = p;
  if (scale === 1 && offset === 0) return raw;
  return (data, at) => (raw(data, at) as number) * scale + offset;
}

function numericReader(type: DataType): (b: Buffer, at: number) => number {
  switch (type) {
    case 'int16': return (b, at) => b.readInt16BE(at);
    case 'uint16': return (b, at) => b.readUInt16BE(at);
    case 'int32': return (b, at) => b.readInt32BE(at);
    case 'uint32': return (b, at) => b.readUInt32BE(at);
    case 'float32': return (b, at) => b.readFloatBE(at);
    case 'float64': return (b, at) => b.readDoubleBE(at);
    // 64-bit integers as doubles without BigInt: exact up to 2^53, then rounded once.
    case 'int64': return (b, at) => b.readInt32BE(at) * 4294967296 + b.readUInt32BE(at + 4);
    case 'uint64': return (b, at) => b.readUInt32BE(at) * 4294967296 + b.readUInt32BE(at + 4);
    default: throw new Error(`not a numeric type: ${type}`);
  }
}
