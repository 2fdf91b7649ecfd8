import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDecoder, type DecodeSpec } from '../../../drivers/modbus/decode.js';
import { encodeValue, setBit, writeRequest, EncodeError } from '../../../drivers/modbus/encode.js';
import { planWrite } from '../../../drivers/modbus/oneshot-write.js';
import { modbusTcpSchema } from '../../../drivers/modbus/config.js';
import type { DataType, Order } from '../../../drivers/modbus/types.js';

const ORDERS: [Order, Order][] = [['big', 'big'], ['big', 'little'], ['little', 'big'], ['little', 'little']];
const VALUES: [DataType, number][] = [
  ['int16', -1234], ['uint16', 54321], ['int32', -123456789], ['uint32', 3_000_000_000],
  ['int64', -1234567890123], ['uint64', 9_007_199_254_740_000], ['float32', 21.5], ['float64', -1234.5678],
];

const spec = (type: DataType, byteOrder: Order, wordOrder: Order, scale = 1, offset = 0): DecodeSpec => ({ table: 'holding', type, byteOrder, wordOrder, scale, offset });

test('encode is the decoder\'s inverse for every numeric type and order', () => {
  for (const [type, v] of VALUES) {
    for (const [bo, wo] of ORDERS) {
      const s = spec(type, bo, wo);
      const p = encodeValue(s, v);
      assert.equal(p.kind, 'registers');
      if (p.kind !== 'registers') continue;
      assert.equal(compileDecoder(s)(p.bytes, 0), v, `${type} ${bo}/${wo}`);
    }
  }
});

test('a float32 CDAB setpoint of 21.5 lands as the device expects: 0x0000 0x41AC on the wire', () => {
  const p = encodeValue(spec('float32', 'big', 'little'), 21.5);
  assert.equal(p.kind === 'registers' && p.bytes.toString('hex'), '000041ac');
  const abcd = encodeValue(spec('float32', 'big', 'big'), 21.5);
  assert.equal(abcd.kind === 'registers' && abcd.bytes.toString('hex'), '41ac0000');
  const badc = encodeValue(spec('float32', 'little', 'big'), 21.5);
  assert.equal(badc.kind === 'registers' && badc.bytes.toString('hex'), 'ac410000');
  const dcba = encodeValue(spec('float32', 'little', 'little'), 21.5);
  assert.equal(dcba.kind === 'registers' && dcba.bytes.toString('hex'), '0000ac41');
});

test('scale and offset are undone: 21.5 degC at scale 0.1 offset -10 is raw 315', () => {
  const s = spec('int16', 'big', 'big', 0.1, -10);
  const p = encodeValue(s, 21.5);
  assert.equal(p.kind === 'registers' && p.bytes.readInt16BE(0), 315);
  assert.ok(Math.abs((compileDecoder(s)(p.kind === 'registers' ? p.bytes : Buffer.alloc(2), 0) as number) - 21.5) < 1e-9);
});

test('values the type cannot hold are refused with the reason', () => {
  assert.throws(() => encodeValue(spec('int16', 'big', 'big'), 40000), (e: Error) => e instanceof EncodeError && /40000 raw, outside int16 \(-32768\.\.32767\)/.test(e.message));
  assert.throws(() => encodeValue(spec('uint16', 'big', 'big'), -1), /outside uint16/);
  assert.throws(() => encodeValue(spec('uint16', 'big', 'big'), true), /expected a finite number/);
  assert.throws(() => encodeValue({ table: 'coil', type: 'bool', byteOrder: 'big', wordOrder: 'big', scale: 1, offset: 0 }, 1), /expected true or false/);
});

test('request bodies: FC 5 coil, FC 6 one register, FC 16 several, FC 15 several coils', () => {
  assert.deepEqual(writeRequest(7, { kind: 'coil', on: true }), { fc: 5, body: Buffer.from('0007ff00', 'hex') });
  assert.deepEqual(writeRequest(7, { kind: 'coil', on: false }), { fc: 5, body: Buffer.from('00070000', 'hex') });
  assert.deepEqual(writeRequest(300, { kind: 'registers', bytes: Buffer.from('1234', 'hex') }), { fc: 6, body: Buffer.from('012c1234', 'hex') });
  assert.deepEqual(writeRequest(300, { kind: 'registers', bytes: Buffer.from('1234', 'hex') }, true), { fc: 16, body: Buffer.from('012c0001021234', 'hex') });
  assert.deepEqual(writeRequest(1, { kind: 'registers', bytes: Buffer.from('000041ac', 'hex') }), { fc: 16, body: Buffer.from('000100020400' + '0041ac', 'hex') });
  assert.deepEqual(writeRequest(2, { kind: 'coils', values: [true, false, true, true, false, false, false, false, true] }), { fc: 15, body: Buffer.from('00020009020d01', 'hex') });
});

test('a bit in a register: set and cleared without touching the others, in either byte order', () => {
  const be = { ...spec('bool', 'big', 'big'), bit: 9 };
  assert.equal(setBit(be, Buffer.from('00f0', 'hex'), true).toString('hex'), '02f0');
  assert.equal(setBit(be, Buffer.from('ffff', 'hex'), false).toString('hex'), 'fdff');
  const le = { ...spec('bool', 'little', 'big'), bit: 9 };
  assert.equal(setBit(le, Buffer.from('f000', 'hex'), true).toString('hex'), 'f002');
});

test('planWrite (CLI): values encoded back to back, table and type checked', () => {
  const p = planWrite({ unit: 1, table: 'holding', address: 10, type: 'float32', byteOrder: 'big', wordOrder: 'little', values: [21.5, 1] });
  assert.equal(p.fc, 16);
  assert.equal(p.body.toString('hex'), '000a000408' + '000041ac' + '00003f80');
  assert.throws(() => planWrite({ unit: 1, table: 'input', address: 0, type: 'uint16', byteOrder: 'big', wordOrder: 'big', values: [1] }), /only holding registers and coils/);
  assert.throws(() => planWrite({ unit: 1, table: 'coil', address: 0, type: 'bool', byteOrder: 'big', wordOrder: 'big', values: [2] }), /coils take/);
});

test('config: write on input registers and discrete inputs is refused by name; numeric registers need a range', () => {
  const parse = (points: unknown[]) => modbusTcpSchema.safeParse({ id: 'm', driver: 'modbus-tcp', host: 'h', points });
  const msgs = (points: unknown[]) => { const r = parse(points); return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`); };
  assert.deepEqual(msgs([{ name: 'a', table: 'input', address: 0, write: { min: 0, max: 1 } }]), ['points.0.write: input registers are read-only in Modbus; only holding registers and coils can be written']);
  assert.deepEqual(msgs([{ name: 'a', table: 'discrete', address: 0, write: true }]), ['points.0.write: discrete inputs are read-only in Modbus; only holding registers and coils can be written']);
  assert.deepEqual(msgs([{ name: 'a', table: 'holding', address: 0, type: 'float32', write: true }]), ['points.0.write: a numeric register needs the range a command may set: write: { min, max }']);
  assert.deepEqual(msgs([{ name: 'a', table: 'coil', address: 0, write: { min: 0, max: 1 } }]), ['points.0.write: a coil takes write: true (no range)']);
  assert.deepEqual(msgs([{ name: 'a', table: 'holding', address: 0, write: { min: 5, max: 1 } }]), ['points.0.write.min: min 5 is above max 1']);
  assert.deepEqual(msgs([{ name: 'a', table: 'holding', address: 0, type: 'float32', write: { min: 5, max: 80 } }, { name: 'b', table: 'coil', address: 0, write: true }]), []);
});
