import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDecoder, permutation, type DecodeSpec } from '../../../drivers/modbus/decode.js';
import type { DataType, Order } from '../../../drivers/modbus/types.js';

const regs = (...words: number[]) => {
  const b = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
};
const spec = (type: DataType, byteOrder: Order = 'big', wordOrder: Order = 'big', extra: Partial<DecodeSpec> = {}): DecodeSpec =>
  ({ table: 'holding', type, byteOrder, wordOrder, scale: 1, offset: 0, ...extra });
const ORDERS: [string, Order, Order][] = [['ABCD', 'big', 'big'], ['CDAB', 'big', 'little'], ['BADC', 'little', 'big'], ['DCBA', 'little', 'little']];

// Published vectors: 123456789 = 0x075BCD15 and -1234.5f = 0xC49A5000 in the four orders.
const VECTORS: { type: DataType; value: number; words: Record<string, number[]> }[] = [
  { type: 'uint32', value: 123456789, words: { ABCD: [0x075b, 0xcd15], CDAB: [0xcd15, 0x075b], BADC: [0x5b07, 0x15cd], DCBA: [0x15cd, 0x5b07] } },
  { type: 'int32', value: -123456789, words: { ABCD: [0xf8a4, 0x32eb], CDAB: [0x32eb, 0xf8a4], BADC: [0xa4f8, 0xeb32], DCBA: [0xeb32, 0xa4f8] } },
  { type: 'float32', value: -1234.5, words: { ABCD: [0xc49a, 0x5000], CDAB: [0x5000, 0xc49a], BADC: [0x9ac4, 0x0050], DCBA: [0x0050, 0x9ac4] } },
  // pi = 0x400921FB54442D18
  { type: 'float64', value: Math.PI, words: { ABCD: [0x4009, 0x21fb, 0x5444, 0x2d18], CDAB: [0x2d18, 0x5444, 0x21fb, 0x4009], BADC: [0x0940, 0xfb21, 0x4454, 0x182d], DCBA: [0x182d, 0x4454, 0xfb21, 0x0940] } },
  // -2 = 0xFFFFFFFFFFFFFFFE ; 2^40+5 = 0x0000010000000005
  { type: 'int64', value: -2, words: { ABCD: [0xffff, 0xffff, 0xffff, 0xfffe], CDAB: [0xfffe, 0xffff, 0xffff, 0xffff], BADC: [0xffff, 0xffff, 0xffff, 0xfeff], DCBA: [0xfeff, 0xffff, 0xffff, 0xffff] } },
  { type: 'uint64', value: 2 ** 40 + 5, words: { ABCD: [0x0000, 0x0100, 0x0000, 0x0005], CDAB: [0x0005, 0x0000, 0x0100, 0x0000], BADC: [0x0000, 0x0001, 0x0000, 0x0500], DCBA: [0x0500, 0x0000, 0x0001, 0x0000] } },
];

test('every multi-register type decodes known vectors in all four orders (ABCD, CDAB, BADC, DCBA)', () => {
  for (const v of VECTORS) {
    for (const [label, bo, wo] of ORDERS) {
      const got = compileDecoder(spec(v.type, bo, wo))(regs(...v.words[label]), 0);
      assert.equal(got, v.value, `${v.type} ${label}`);
    }
  }
});

test('16-bit types, byte order, scale and offset', () => {
  assert.equal(compileDecoder(spec('int16'))(regs(0xcfc7), 0), -12345);
  assert.equal(compileDecoder(spec('uint16'))(regs(0xcfc7), 0), 53191);
  assert.equal(compileDecoder(spec('int16', 'little'))(regs(0xc7cf), 0), -12345);
  assert.equal(compileDecoder(spec('int16', 'big', 'big', { scale: 0.1, offset: -1 }))(regs(215), 0), 20.5);
  // a value in the middle of a response: byte offset of register 2
  assert.equal(compileDecoder(spec('uint32', 'big', 'little'))(regs(1, 2, 0xcd15, 0x075b), 4), 123456789);
});

test('bits of a register, coils and discrete inputs', () => {
  const b = (bit: number, byteOrder: Order = 'big') => compileDecoder({ ...spec('bool', byteOrder), bit });
  const data = regs(0b1000_0000_0000_0101);
  assert.deepEqual([0, 1, 2, 15].map((i) => b(i)(data, 0)), [true, false, true, true]);
  assert.equal(b(8, 'little')(data, 0), true); // low byte first: bit 8 is the wire's low-byte bit 0
  assert.equal(compileDecoder(spec('bool'))(regs(0), 0), false);
  assert.equal(compileDecoder(spec('bool'))(regs(4), 0), true);
  const coil = compileDecoder({ ...spec('bool'), table: 'coil' });
  const bits = Buffer.from([0b0000_0101, 0b1000_0000]);
  assert.deepEqual([0, 1, 2, 15].map((i) => coil(bits, i)), [true, false, true, true]);
});

test('strings: high byte first, byte-swapped, NUL and space padding trimmed', () => {
  const s = (count: number, byteOrder: Order = 'big') => compileDecoder({ ...spec('string', byteOrder), count });
  assert.equal(s(3)(Buffer.from('AB-C\0\0'), 0), 'AB-C');
  assert.equal(s(3, 'little')(Buffer.from('BAC \0\0'), 0), 'AB C');
  assert.equal(s(2)(Buffer.from('HI  '), 0), 'HI');
  assert.equal(s(2)(Buffer.from('WXYZ'), 0), 'WXYZ');
});

test('permutation maps wire bytes to big-endian order', () => {
  assert.deepEqual(permutation(2, 'big', 'big'), [0, 1, 2, 3]);
  assert.deepEqual(permutation(2, 'big', 'little'), [2, 3, 0, 1]);
  assert.deepEqual(permutation(2, 'little', 'big'), [1, 0, 3, 2]);
  assert.deepEqual(permutation(2, 'little', 'little'), [3, 2, 1, 0]);
});
