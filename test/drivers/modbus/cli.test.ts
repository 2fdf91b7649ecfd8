import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../helpers/system.js';
import { havePymodbus, startSlave, type Slave } from './slave.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HAVE = havePymodbus();
const skip = HAVE ? false : 'pymodbus not available (see above)';
let port = 0;
let slave: Slave | undefined;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(root, 'agent/cli/main.ts'), ...args], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

before(async () => {
  if (!HAVE) return;
  port = await freePort();
  slave = await startSlave({ tcp: port, units: [1, 2] });
});
after(async () => {
  await slave?.stop();
});

test('modbus read decodes typed values with orders, as JSON and text', { skip }, async () => {
  const host = `127.0.0.1:${port}`;
  let r = await cli('modbus', 'read', '--host', host, '--address', '20', '--type', 'float32', '--order', 'CDAB', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.values, [-1234.5]);
  assert.deepEqual(j.raw, [0x5000, 0xc49a]);
  r = await cli('modbus', 'read', '--host', '127.0.0.1', '--tcp-port', String(port), '--address', '26', '--type', 'int64', '--count', '4', '--json');
  assert.equal(r.code, 0, r.stderr);
  // only the first is ABCD; read as ABCD the others are the same bytes in other orders
  assert.equal(JSON.parse(r.stdout).values[0], -1234567890123);
  r = await cli('modbus', 'read', '--host', host, '--address', '74', '--type', 'string', '--count', '6');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /holding\[74\] = "EDGE-AGENT"/);
  r = await cli('modbus', 'read', '--host', host, '--unit', '2', '--table', 'discrete', '--address', '0', '--count', '4', '--json');
  assert.deepEqual(JSON.parse(r.stdout).values, [false, false, false, true]);
});

test('modbus read: exception and no answer exit 1 with a named reason; bad usage exits 2', { skip }, async () => {
  const host = `127.0.0.1:${port}`;
  let r = await cli('modbus', 'read', '--host', host, '--address', '200');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /illegal data address \(exception 2\)/);
  r = await cli('modbus', 'read', '--host', host, '--unit', '9', '--address', '0', '--timeout', '300ms');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no answer within 300 ms/);
  r = await cli('modbus', 'read', '--address', '0');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exactly one of --port .* or --host/);
  r = await cli('modbus', 'read', '--host', host, '--address', '0', '--type', 'int128');
  assert.equal(r.code, 2);
  r = await cli('modbus', 'read', '--host', host, '--address', '0', '--type', 'float64', '--count', '40');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /160 registers exceed one request/);
  r = await cli('modbus', 'read', '--port', '/dev/does-not-exist', '--address', '0');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot open \/dev\/does-not-exist/);
});

test('modbus scan lists the unit ids that answer', { skip }, async () => {
  let r = await cli('modbus', 'scan', '--host', `127.0.0.1:${port}`, '--units', '0-4', '--timeout', '250ms', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).found.map((f: { unit: number }) => f.unit), [1, 2]);
  r = await cli('modbus', 'scan', '--host', `127.0.0.1:${port}`, '--units', '5,6', '--timeout', '200ms');
  assert.equal(r.code, 1, 'none answered');
  assert.match(r.stdout, /0 of 2 unit ids answered/);
});

test('modbus plan prints the requests per source and cycle', async () => {
  const r = await cli('modbus', 'plan', '--config', 'examples/modbus.yaml', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const by = Object.fromEntries(j.sources.map((s: { id: string }) => [s.id, s]));
  assert.equal(by.boiler.requestsAllDue, 5);
  assert.deepEqual(by.boiler.requests[1], { unitId: 1, table: 'holding', fc: 3, address: 100, quantity: 6, points: ['temperature', 'setpoint'] });
  assert.deepEqual(by.boiler.cycles.map((c: { requests: number }) => c.requests), [3, 4, 5]);
  assert.equal(by.meter.requestsAllDue, 1);
  const shared = j.buses.find((b: { sources: string[] }) => b.sources.length === 2);
  assert.deepEqual(shared.sources, ['boiler', 'boiler-2'], 'two sources on one serial port: one bus');
  const t = await cli('modbus', 'plan', '--config', 'examples/modbus.yaml');
  assert.match(t.stdout, /unit 1 holding 100\.\.105 \(6 registers\): temperature, setpoint/);
  const bad = await cli('modbus', 'plan', '--config', 'does-not-exist.yaml');
  assert.equal(bad.code, 1);
});
