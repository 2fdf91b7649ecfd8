import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../agent/config/load.js';

const base = (source: string) => `
uplink: { mqtt: { url: mqtt://127.0.0.1:1883 } }
sources:
${source}
`;

function errorsOf(text: string): string[] {
  const r = parseConfigText(text);
  assert.equal(r.ok, false, 'expected errors');
  return (r as { errors: { path: string; message: string; line?: number }[] }).errors.map((e) => `${e.path}: ${e.message} @${e.line}`);
}

test('a valid RTU and TCP source parse with defaults', () => {
  const r = parseConfigText(base(`
  - { id: b, driver: modbus-rtu, port: /dev/ttyUSB0, points: [ { name: t, table: holding, address: 100, type: float32 } ] }
  - { id: m, driver: modbus-tcp, host: 10.0.0.5, timeout: 250ms, points: [ { name: c, table: coil, address: 3 } ] }`));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const [b, m] = (r as { config: { sources: Record<string, unknown>[] } }).config.sources;
  assert.equal(b.baudRate, 9600);
  assert.equal(b.parity, 'none');
  assert.equal(b.unitId, 1);
  assert.equal(b.pollInterval, 1000);
  assert.equal(m.port, 502);
  assert.equal(m.timeout, 250);
});

test('shape errors name the key path and line', () => {
  const errs = errorsOf(base(`
  - id: b
    driver: modbus-rtu
    port: /dev/ttyUSB0
    parity: mark
    points:
      - { name: g, table: holding, address: 1, type: int32, wordOrder: middle }
      - { name: i, table: holding, address: 1, tpye: int16 }`));
  assert.deepEqual(errs, [
    'sources[0].parity: expected one of none, even, odd @8',
    'sources[0].points[0].wordOrder: expected one of big, little @10',
    'sources[0].points[1].tpye: unknown key "tpye" @11',
  ]);
});

test('point consistency errors name the point', () => {
  const errs = errorsOf(base(`
  - id: b
    driver: modbus-tcp
    host: 10.0.0.5
    points:
      - { name: a, table: coil, address: 0, type: int16 }
      - { name: s, table: holding, address: 10, type: string }
      - { name: f, table: holding, address: 65535, type: float32 }
      - { name: a, table: holding, address: 1, type: int16, bit: 3 }
      - { name: h, table: holding, address: 1, type: bool, bit: 2, scale: 2 }
      - { name: k, table: holding, address: 1, type: int16, count: 2 }`));
  const has = (re: RegExp) => assert.ok(errs.some((e) => re.test(e)), `no error matching ${re} in:\n${errs.join('\n')}`);
  has(/^sources\[0\]\.points\[0\]\.type: coil holds single bits: type must be bool .*@9/);
  has(/^sources\[0\]\.points\[1\]\.count: required for type string/);
  has(/^sources\[0\]\.points\[2\]\.address: float32 at 65535 needs 2 registers/);
  has(/^sources\[0\]\.points\[3\]\.name: duplicate point name "a"/);
  has(/^sources\[0\]\.points\[3\]\.bit: only for type bool/);
  has(/^sources\[0\]\.points\[4\]\.scale: not applicable to type bool/);
  has(/^sources\[0\]\.points\[5\]\.count: only for type string/);
});

test('RTU refuses the broadcast unit id 0; TCP accepts it', () => {
  const errs = errorsOf(base(`
  - { id: b, driver: modbus-rtu, port: /dev/ttyUSB0, unitId: 0, points: [ { name: t, table: holding, address: 1 }, { name: u, table: holding, address: 2, unitId: 0 } ] }`));
  assert.ok(errs.some((e) => /^sources\[0\]\.unitId: 0 is the broadcast address/.test(e)), errs.join('\n'));
  assert.ok(errs.some((e) => /^sources\[0\]\.points\[1\]\.unitId: 0 is the broadcast/.test(e)), errs.join('\n'));
  assert.ok(parseConfigText(base(`
  - { id: m, driver: modbus-tcp, host: h, unitId: 0, points: [ { name: t, table: holding, address: 1 } ] }`)).ok);
});
