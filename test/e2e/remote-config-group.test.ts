import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig, type Daemon } from '../helpers/daemon.js';
import { publishOnce, signingKeys } from '../helpers/control.js';
import { waitFor } from '../helpers/source-context.js';
import { haveSocat, havePymodbus, startPtyPair, startSlave } from '../drivers/modbus/slave.js';

const GROUP_SET = 'edge/groups/line-a/config/set';

/**
 * Three boards in group line-a. The pushed config names the Modbus adapter `ttyMB` (a relative
 * device path, resolved in each daemon's working directory): boards a and b have it (a socat pty
 * with a pymodbus RTU slave behind), board c lacks the device, as a board without its USB adapter.
 */
test('a group push reaches every board of the group; each reports on its own config/state; the board without the device rolls back', async (t) => {
  if (!havePymodbus() || !haveSocat()) return t.skip('pymodbus or socat not installed');
  const broker = await startBroker();
  t.after(() => broker.stop());
  t.diagnostic(`broker: ${broker.kind}`);
  const root = tempDir();
  const keys = signingKeys(root);
  const sub = await collect(broker.url, 'edge/#');
  t.after(() => sub.close());
  const states = (agent: string) => sub.messages.filter((m) => m.topic === `edge/${agent}/config/state`).map((m) => JSON.parse(m.payload.toString()));
  const readings = (agent: string, source: string) => sub.batches.filter((b) => b.agent === agent).flatMap((b) => b.readings).filter((r) => r.source === source);

  const boards: Record<string, Daemon> = {};
  for (const name of ['a', 'b', 'c']) {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    if (name === 'c') fs.symlinkSync(path.join(dir, 'no-such-adapter'), path.join(dir, 'ttyMB'));
    else {
      const pair = await startPtyPair(path.join(dir, 'pty'));
      t.after(() => pair.stop());
      const slave = await startSlave({ rtu: pair.b, baud: 19200, units: [1] });
      t.after(() => slave.stop());
      fs.symlinkSync(pair.a, path.join(dir, 'ttyMB'));
    }
    const cfg = writeConfig(dir, `
agent: { id: g-${name}, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${broker.url}", reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
  - { id: gen, driver: sim, pollInterval: 100ms, points: [{ name: n, wave: counter }] }
control:
  socket: ${dir}/agent.sock
  remoteConfig: { publicKey: ${keys.pub}, groups: [line-a], confirm: { window: 6s } }
`);
    boards[name] = startDaemon(['run', '--config', cfg], {}, dir);
    t.after(() => boards[name].stop('SIGKILL'));
  }
  for (const name of ['a', 'b', 'c']) await waitFor(() => readings(`g-${name}`, 'gen').length > 0, 15_000, `first readings of g-${name}`);

  const config = {
    uplink: { mqtt: { url: broker.url, reconnectMin: '100ms', reconnectMax: '500ms' }, batch: { maxDelay: '200ms' } },
    buffer: { flushInterval: '200ms' },
    sources: [
      { id: 'gen', driver: 'sim', pollInterval: '100ms', points: [{ name: 'n', wave: 'counter' }] },
      { id: 'meter', driver: 'modbus-rtu', port: 'ttyMB', baudRate: 19200, unitId: 1, pollInterval: '200ms', timeout: '300ms', retries: 0, points: [{ name: 'u16', table: 'holding', address: 1, type: 'uint16' }] },
    ],
  };
  await publishOnce(broker.url, GROUP_SET, JSON.stringify({ version: 10, config, signature: keys.sign(10, config) }));
  for (const name of ['a', 'b', 'c']) await waitFor(() => states(`g-${name}`).length > 0, 20_000, `config/state of g-${name}`);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => states(`g-${n}`)[0]);
  t.diagnostic(`a: ${a.status}, b: ${b.status}, c: ${c.status}: ${c.errors.join(' | ')}`);
  assert.deepEqual([a.status, a.version, a.running], ['applied', 10, 10]);
  assert.deepEqual([b.status, b.version, b.running], ['applied', 10, 10]);
  assert.equal(a.hash, b.hash);
  assert.deepEqual([c.status, c.version, c.running], ['rolled-back', 10, 0]);
  assert.match(c.errors[0], /^sources\.meter: no reading within 6 s \(down: .*ttyMB/);
  await waitFor(() => readings('g-a', 'meter').length > 0 && readings('g-b', 'meter').length > 0, 10_000, 'meter readings from a and b');
  assert.equal(readings('g-a', 'meter')[0].value, 54321);
  assert.equal(readings('g-c', 'meter').length, 0);

  // One version space: a per-board push must be greater than what the group push set.
  const own = { ...config, sources: [config.sources[0]] };
  await publishOnce(broker.url, 'edge/g-a/config/set', JSON.stringify({ version: 10, config: own, signature: keys.sign(10, own) }));
  // Find the state by the push's outcome, not its index: a retained state may come again on a reconnect.
  const stateAfter = (board: string, pred: (x: { status: string; version: number; errors: string[] }) => boolean) => states(board).slice(1).find(pred);
  await waitFor(() => stateAfter('g-a', (x) => x.status === 'rejected') !== undefined, 10_000, 'g-a state after its own push');
  assert.match(stateAfter('g-a', (x) => x.status === 'rejected')!.errors[0], /version: 10 is not greater than the running version 10/);
  // c takes a fix addressed to it alone (same version space, greater version).
  await publishOnce(broker.url, 'edge/g-c/config/set', JSON.stringify({ version: 11, config: own, signature: keys.sign(11, own) }));
  await waitFor(() => stateAfter('g-c', (x) => x.version === 11) !== undefined, 10_000, 'g-c state after its own push');
  const c11 = stateAfter('g-c', (x) => x.version === 11) as { status: string; running: number };
  assert.deepEqual([c11.status, c11.running], ['applied', 11]);
  for (const name of ['a', 'b', 'c']) assert.equal(await boards[name].stop(), 0);
});
