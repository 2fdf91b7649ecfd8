import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { cli, publishOnce } from '../helpers/control.js';
import { freePort } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';

const AGENT = 'rb-board';

// Uses the SPEC's default 60 s confirmation window on purpose: this is the acceptance test.
test('a push pointing the uplink at a dead broker is rolled back to the old broker within 70 s', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  t.diagnostic(`broker: ${broker.kind}`);
  const dir = tempDir();
  const dead = `mqtt://127.0.0.1:${await freePort()}`;
  const cfg = writeConfig(dir, `
agent: { id: ${AGENT}, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${broker.url}", reconnectMin: 100ms, reconnectMax: 1s }
  batch: { maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
  - { id: gen, driver: sim, pollInterval: 100ms, points: [{ name: n, wave: counter }] }
control: { socket: ${dir}/agent.sock, remoteConfig: { allowUnsigned: true } }
`);
  const sub = await collect(broker.url, `edge/${AGENT}/#`);
  t.after(() => sub.close());
  const states = () => sub.messages.filter((m) => m.topic.endsWith('/config/state')).map((m) => JSON.parse(m.payload.toString()));
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => sub.batches.length > 0, 10_000, 'first batch');

  const push = { version: 3, config: {
    uplink: { mqtt: { url: dead, reconnectMin: '100ms', reconnectMax: '1s' }, batch: { maxDelay: '200ms' } },
    buffer: { flushInterval: '200ms' },
    sources: [{ id: 'gen', driver: 'sim', pollInterval: '100ms', points: [{ name: 'n', wave: 'counter' }] }],
  } };
  const pushedAt = Date.now();
  await publishOnce(broker.url, `edge/${AGENT}/config/set`, JSON.stringify(push));
  await d.waitLog((l) => l.msg === 'config applied; waiting for it to prove itself before confirming' && JSON.stringify(l.require) === '["link","sources"]', 10_000);
  await waitFor(() => states().some((s) => s.status === 'rolled-back'), 70_000, 'rolled-back on the old broker');
  const elapsed = Date.now() - pushedAt;
  t.diagnostic(`rolled back and reported after ${elapsed} ms`);
  assert.ok(elapsed < 70_000);
  const s = states().find((x) => x.status === 'rolled-back');
  assert.equal(s.version, 3);
  assert.equal(s.running, 0, 'the previous config (the file, version 0) runs again');
  assert.match(s.errors.join('\n'), /not reached within 60 s/);
  assert.equal(states().filter((x) => x.status === 'applied').length, 0, 'never reported applied');

  // Readings taken while the link pointed nowhere were kept in the outbox and arrive now.
  await waitFor(() => sub.batches.some((b) => b.readings.some((r) => r.ts > pushedAt + 30_000 && r.ts < pushedAt + 55_000)), 15_000, 'readings from the failed window');
  const st = await cli(['status', '--socket', `${dir}/agent.sock`, '--json']);
  assert.equal(st.code, 0, st.stderr);
  const status = JSON.parse(st.stdout);
  assert.equal(status.config.version, 0);
  assert.equal(status.link.state, 'connected');

  // The same push again is refused rather than cutting the board off for another minute.
  const before = states().length;
  await publishOnce(broker.url, `edge/${AGENT}/config/set`, JSON.stringify(push));
  await waitFor(() => states().length > before, 10_000, 'state after the replay');
  assert.equal(states().at(-1).status, 'rejected');
  assert.match(states().at(-1).errors.join('\n'), /already tried and rolled back/);
  assert.equal(await d.stop(), 0);
});
