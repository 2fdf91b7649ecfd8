import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfigText } from '../../../agent/config/load.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { swapConfig } from '../../../agent/runtime/reconfigure.js';
import { silentLogger } from '../../../core/log.js';
import { freePort } from '../../helpers/system.js';
import { waitFor } from '../../helpers/source-context.js';

async function config(dataDir: string, port: number, sources: string, extra = '') {
  const res = parseConfigText(`
agent: { id: swap-test, dataDir: ${dataDir}, logLevel: silent }
uplink: { mqtt: { url: "mqtt://127.0.0.1:${port}", reconnectMin: 100ms, reconnectMax: 200ms }${extra} }
buffer: { flushInterval: 100ms }
sources:
${sources}
`);
  assert.ok(res.ok, JSON.stringify(!res.ok && res.errors));
  return res.config;
}
const A = '  - { id: a, driver: sim, pollInterval: 10ms, points: [{ name: x, wave: counter }] }';
const B = '  - { id: b, driver: sim, pollInterval: 10ms, points: [{ name: y, wave: counter }] }';

test('swapConfig: same outbox, new sources and router, counters carried; uplink rebuilt only when its settings change', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-swap-'));
  const port = await freePort(); // no broker: the uplink keeps retrying, which is fine here
  const c1 = await config(dir, port, A);
  const agent = await Agent.start(c1, { log: silentLogger });
  t.after(() => agent.stop());
  const outbox = agent.outbox;
  const uplink1 = agent.uplink;
  const router1 = agent.router;
  await waitFor(() => agent.sources[0].readingCount > 20, 5000, 'readings of a');

  const c2 = await config(dir, port, `${A}\n${B}`);
  const r = await swapConfig(agent, c2);
  assert.equal(r.uplinkChanged, false);
  assert.equal(r.previous, c1);
  assert.equal(agent.outbox, outbox, 'the outbox is never rebuilt');
  assert.equal(agent.uplink, uplink1, 'same uplink settings: same connection');
  assert.notEqual(agent.router, router1);
  assert.deepEqual(agent.sources.map((s) => s.id), ['a', 'b']);
  const aNow = agent.sources[0].readingCount;
  assert.ok(aNow > 20, `counters of a carried over (${aNow})`);
  await waitFor(() => agent.sources[1].readingCount > 5, 5000, 'readings of b');
  assert.equal(agent.config, c2);

  // Uplink settings change: a new uplink, counters of the old one kept for metrics.
  const c3 = await config(dir, port, B, ', maxBytesPerSecond: 1MiB');
  const r3 = await swapConfig(agent, c3);
  assert.equal(r3.uplinkChanged, true);
  assert.notEqual(agent.uplink, uplink1);
  assert.equal(uplink1.linkState, 'stopped');
  assert.deepEqual(agent.sources.map((s) => s.id), ['b']);

  // A failure during the swap puts the previous config back.
  const open = agent.openSources.bind(agent);
  let calls = 0;
  agent.openSources = async (runners) => {
    if (calls++ === 0) throw new Error('port vanished');
    return open(runners);
  };
  await assert.rejects(swapConfig(agent, c2), /port vanished/);
  assert.equal(agent.config, c3, 'previous config restored');
  assert.deepEqual(agent.sources.map((s) => s.id), ['b']);
  const bCount = agent.sources[0].readingCount;
  await waitFor(() => agent.sources[0].readingCount > bCount + 5, 5000, 'restored source runs');
  assert.equal(agent.outbox, outbox);
});
