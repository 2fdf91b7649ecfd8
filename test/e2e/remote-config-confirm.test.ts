import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { cli, publishOnce, signingKeys } from '../helpers/control.js';
import { freePort } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { havePymodbus, startSlave } from '../drivers/modbus/slave.js';

const AGENT = 'proof-board';
const SET = `edge/${AGENT}/config/set`;

test('a push must prove itself: a Modbus source on a dead port or the wrong unit is rolled back naming it; a good one stays', async (t) => {
  if (!havePymodbus()) return t.skip('pymodbus not installed');
  const broker = await startBroker();
  t.after(() => broker.stop());
  t.diagnostic(`broker: ${broker.kind}`);
  const mbPort = await freePort();
  const slave = await startSlave({ tcp: mbPort, units: [1] });
  t.after(() => slave.stop());
  const deadPort = await freePort();
  const dir = tempDir();
  const keys = signingKeys(dir);
  const cfg = writeConfig(dir, `
agent: { id: ${AGENT}, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${broker.url}", reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
  - { id: gen, driver: sim, pollInterval: 50ms, points: [{ name: n, wave: counter }] }
control:
  socket: ${dir}/agent.sock
  remoteConfig: { publicKey: ${keys.pub}, confirm: { window: 5s } }
`);
  const sub = await collect(broker.url, `edge/${AGENT}/#`);
  t.after(() => sub.close());
  const states = () => sub.messages.filter((m) => m.topic.endsWith('/config/state')).map((m) => JSON.parse(m.payload.toString()));
  const readingsOf = (source: string) => sub.batches.flatMap((b) => b.readings).filter((r) => r.source === source);
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => readingsOf('gen').length > 0, 10_000, 'readings of gen');

  const meter = (over: object) => ({ id: 'meter', driver: 'modbus-tcp', host: '127.0.0.1', port: mbPort, unitId: 1, pollInterval: '200ms', timeout: '300ms', retries: 0, points: [{ name: 'u16', table: 'holding', address: 1, type: 'uint16' }], ...over });
  const push = async (version: number, meterOver: object) => {
    const config = {
      uplink: { mqtt: { url: broker.url, reconnectMin: '100ms', reconnectMax: '500ms' }, batch: { maxDelay: '200ms' } },
      buffer: { flushInterval: '200ms' },
      sources: [{ id: 'gen', driver: 'sim', pollInterval: '50ms', points: [{ name: 'n', wave: 'counter' }] }, meter(meterOver)],
    };
    const n = states().length;
    const at = Date.now();
    await publishOnce(broker.url, SET, JSON.stringify({ version, config, signature: keys.sign(version, config) }));
    await waitFor(() => states().length > n, 20_000, `config/state after v${version}`);
    return { state: states().at(-1), ms: Date.now() - at };
  };

  // The device is there: the reading is the proof, applied as soon as it comes (not after the window).
  const good = await push(1, {});
  assert.equal(good.state.status, 'applied', JSON.stringify(good.state));
  t.diagnostic(`good push applied after ${good.ms} ms`);
  assert.ok(good.ms < 5000, `applied before the window ends (${good.ms} ms)`);
  await waitFor(() => readingsOf('meter').length > 0, 10_000, 'meter readings');
  assert.equal(readingsOf('meter')[0].value, 54321);

  // Wrong port: validates, but no reading within the window.
  const deadAt = await push(2, { port: deadPort });
  t.diagnostic(`dead port: ${deadAt.state.status} after ${deadAt.ms} ms: ${deadAt.state.errors.join(' | ')}`);
  assert.equal(deadAt.state.status, 'rolled-back');
  assert.equal(deadAt.state.version, 2);
  assert.equal(deadAt.state.running, 1, 'version 1 runs again');
  assert.match(deadAt.state.errors[0], /^sources\.meter: no reading within 5 s \(/);
  assert.match(deadAt.state.errors.join('\n'), /previous config \(version 1\) restored/);
  assert.ok(!deadAt.state.errors.some((e: string) => e.startsWith('sources.gen') || e.startsWith('uplink')), 'only the source that failed is named');
  assert.ok(deadAt.ms >= 5000 && deadAt.ms < 15_000, `reported after the window (${deadAt.ms} ms)`);

  // Wrong unit id: the gateway answers nothing for it.
  const wrongUnit = await push(3, { unitId: 9 });
  assert.equal(wrongUnit.state.status, 'rolled-back');
  assert.match(wrongUnit.state.errors[0], /^sources\.meter: no reading within 5 s/);
  assert.equal(wrongUnit.state.running, 1);

  // Version 1 (with the good meter) is back and sends; status and the log say so.
  const n = readingsOf('meter').length;
  await waitFor(() => readingsOf('meter').length > n + 3, 10_000, 'meter readings after the rollbacks');
  const st = JSON.parse((await cli(['status', '--socket', `${dir}/agent.sock`, '--json'])).stdout);
  assert.equal(st.config.version, 1);
  assert.equal(st.configState.status, 'rolled-back');
  const logged = await d.waitLog((l) => l.msg === 'config did not prove itself within 5 s; rolling back to the previous config');
  assert.match(JSON.stringify(logged.failures), /sources\.meter/);
  assert.equal(await d.stop(), 0);
});
