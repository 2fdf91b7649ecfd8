import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drivers } from '../../drivers/index.js';
import { pointDescriptors, type DriverDefinition } from '../../drivers/types.js';

/** Point descriptors (name + type) feed the Sparkplug DBIRTH datatypes. */
const def = (name: string) => drivers.find((d) => d.name === name) as DriverDefinition;
const parse = (name: string, cfg: Record<string, unknown>) => def(name).schema.parse({ id: 's', driver: name, ...cfg });

test('modbus: register types as declared, bits bool, scaled registers float64', () => {
  const cfg = parse('modbus-tcp', { host: '127.0.0.1', points: [
    { name: 'a', table: 'holding', address: 0, type: 'int16' },
    { name: 'b', table: 'holding', address: 1 },
    { name: 'c', table: 'coil', address: 0 },
    { name: 'd', table: 'input', address: 2, type: 'int16', scale: 0.1 },
    { name: 'e', table: 'holding', address: 4, type: 'float32' },
  ] });
  assert.deepEqual(pointDescriptors(def('modbus-tcp'), cfg), [
    { name: 'a', type: 'int16' }, { name: 'b', type: 'uint16' }, { name: 'c', type: 'bool' }, { name: 'd', type: 'float64' }, { name: 'e', type: 'float32' },
  ]);
});

test('sim: waves float64, constants by their value; gpio: inputs bool, counters uint64 + rate', () => {
  const sim = parse('sim', { points: [{ name: 'w', wave: 'sine' }, { name: 'on', wave: 'constant', value: true }, { name: 't', wave: 'constant', value: 'x' }, { name: 'k', wave: 'constant', value: 3 }] });
  assert.deepEqual(pointDescriptors(def('sim'), sim).map((p) => p.type), ['float64', 'bool', 'string', 'float64']);
  const gpio = parse('gpio', { pins: [{ name: 'door', line: 17 }, { name: 'flow', line: 27, mode: 'counter' }] });
  assert.deepEqual(pointDescriptors(def('gpio'), gpio), [{ name: 'door', type: 'bool' }, { name: 'flow', type: 'uint64' }, { name: 'flow.rate', type: 'float64' }]);
});

test('serial: names only (types come from the data)', () => {
  const cfg = parse('serial', { port: '/dev/ttyUSB0', parse: { regex: 'T=(?<temp>[0-9.]+) H=(?<hum>[0-9.]+)' } });
  assert.deepEqual(pointDescriptors(def('serial'), cfg), [{ name: 'temp' }, { name: 'hum' }]);
});
