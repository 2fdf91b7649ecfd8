import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfigText } from '../../../agent/config/load.js';
import { Agent } from '../../../agent/runtime/agent.js';
import { defaultParts, type AgentParts, type AgentUplink } from '../../../agent/runtime/parts.js';
import { topics } from '../../../agent/uplink/topics.js';
import { Metrics } from '../../../agent/control/metrics.js';
import type { RemoteConfig } from '../../../agent/control/remote-config.js';
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
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'edge-apply-'));

/** An uplink that never touches the network; its counters are set by the test. */
class FakeUplink implements AgentUplink {
  static made: FakeUplink[] = [];
  readonly topics = topics('edge', 'swap-test');
  linkState: AgentUplink['linkState'] = 'connecting';
  readonly stateAgeMs = 0;
  readonly inflightCount = 0;
  readonly counters = { batchesPublished: 0, batchesAcked: 0, bytesPublished: 0, connects: 0, disconnects: 0, lastAckAt: 0, lastLatencyMs: 0, ackTimeouts: 0, undecodableBatches: 0 };
  profileStatus() { return { profile: "json" }; }
  readonly connected = Promise.resolve();
  constructor(readonly url: string) { FakeUplink.made.push(this); }
  start() { if (this.url.includes('explode')) throw new Error('cannot start uplink: explode'); this.linkState = 'connected'; }
  async stop() { this.linkState = 'stopped'; }
  kick() {}
  async settle() {}
  publishStatus() {}
  publishRetained() {}
}
const fakeParts = (routers: unknown[] = []): Partial<AgentParts> => ({
  uplink: (c) => new FakeUplink(c.uplink.mqtt.url),
  router: (c, sink, ctx) => {
    const r = defaultParts.router(c, sink, ctx);
    routers.push(r);
    return r;
  },
});

test('apply: same outbox, new sources and router, counters carried; uplink rebuilt only when its settings change', async (t) => {
  const dir = tmp();
  const port = await freePort(); // no broker: the real uplink keeps retrying, which is fine here
  const c1 = await config(dir, port, A);
  const routers: unknown[] = [];
  const agent = await Agent.start(c1, { log: silentLogger, parts: { router: fakeParts(routers).router } });
  t.after(() => agent.stop());
  const outbox = agent.outbox;
  const uplink1 = agent.uplink;
  await waitFor(() => agent.sources[0].readingCount > 20, 5000, 'readings of a');

  const c2 = await config(dir, port, `${A}\n${B}`);
  const r = await agent.apply(c2, { version: 3, origin: 'remote', hash: 'h3' });
  assert.equal(r.uplinkChanged, false);
  assert.equal(r.previous.config, c1);
  assert.deepEqual(r.previous.info, { version: 0, origin: 'file', hash: '' });
  assert.deepEqual(agent.info, { version: 3, origin: 'remote', hash: 'h3' });
  assert.equal(agent.outbox, outbox, 'the outbox is never rebuilt');
  assert.equal(agent.uplink, uplink1, 'same uplink settings: same connection');
  assert.equal(routers.length, 2, 'a new router');
  assert.deepEqual(agent.sources.map((s) => s.id), ['a', 'b']);
  assert.ok((r.readingsAtApply.get('a') ?? 0) > 20, 'readings at apply: a carries its count');
  assert.equal(r.readingsAtApply.get('b'), 0);
  const aNow = agent.sources[0].readingCount;
  assert.ok(aNow > 20, `counters of a carried over (${aNow})`);
  await waitFor(() => agent.sources[1].readingCount > 5, 5000, 'readings of b');
  assert.equal(agent.config, c2);

  const c3 = await config(dir, port, B, ', maxBytesPerSecond: 1MiB');
  const r3 = await agent.apply(c3, { version: 4, origin: 'remote', hash: 'h4' });
  assert.equal(r3.uplinkChanged, true);
  assert.notEqual(agent.uplink, uplink1);
  assert.equal(uplink1.linkState, 'stopped');
  assert.deepEqual(agent.sources.map((s) => s.id), ['b']);
});

test('apply: a failure while swapping puts the previous config, sources and version back', async (t) => {
  const dir = tmp();
  const c1 = await config(dir, 1, A);
  const agent = await Agent.start(c1, { log: silentLogger, parts: fakeParts(), info: { version: 2, origin: 'remote', hash: 'h2' } });
  t.after(() => agent.stop());
  await waitFor(() => agent.sources[0].readingCount > 5, 5000, 'readings of a');
  const bad = await config(dir, 1, B, '');
  bad.uplink.mqtt.url = 'mqtt://explode:1883';
  await assert.rejects(agent.apply(bad, { version: 3, origin: 'remote', hash: 'h3' }), /explode/);
  assert.equal(agent.config, c1, 'previous config restored');
  assert.deepEqual(agent.info, { version: 2, origin: 'remote', hash: 'h2' });
  assert.deepEqual(agent.sources.map((s) => s.id), ['a']);
  assert.equal(agent.uplink.linkState, 'connected', 'an uplink of the previous settings runs');
  const n = agent.sources[0].readingCount;
  await waitFor(() => agent.sources[0].readingCount > n + 5, 5000, 'restored source runs');
  // Bad input that is caught before anything is touched: nothing changes at all.
  const unknown = await config(dir, 1, A);
  (unknown.sources[0] as { driver: string }).driver = 'nope';
  const before = agent.sources[0];
  await assert.rejects(agent.apply(unknown, { version: 5, origin: 'remote', hash: 'h5' }), /sources\.a: unknown driver nope/);
  assert.equal(agent.sources[0], before, 'the running source was not touched');
});

test('one link-statistics object: after an uplink swap, status and metrics show the same totals, never back at zero', async (t) => {
  FakeUplink.made = [];
  const dir = tmp();
  const c1 = await config(dir, 1, A);
  const agent = await Agent.start(c1, { log: silentLogger, parts: fakeParts() });
  t.after(() => agent.stop());
  const u1 = FakeUplink.made[0];
  Object.assign(u1.counters, { connects: 3, disconnects: 2, batchesPublished: 40, batchesAcked: 38, bytesPublished: 4000, lastAckAt: 1000, lastLatencyMs: 12 });
  const c2 = await config(dir, 2, A); // another broker: a new uplink
  assert.equal((await agent.apply(c2, { version: 1, origin: 'remote', hash: 'h' })).uplinkChanged, true);
  const u2 = FakeUplink.made[1];
  assert.ok(u2 && u2 !== u1);
  Object.assign(u2.counters, { connects: 1, batchesPublished: 5, batchesAcked: 5, bytesPublished: 500 });
  const link = agent.status().link;
  assert.deepEqual({ c: link.connects, d: link.disconnects, p: link.batchesPublished, a: link.batchesAcked, b: link.bytesPublished, at: link.lastAckAt, lat: link.lastLatencyMs },
    { c: 4, d: 2, p: 45, a: 43, b: 4500, at: 1000, lat: 12 });
  const m = new Metrics(agent, { counts: { applied: 0, rejected: 0, 'rolled-back': 0 } } as unknown as RemoteConfig);
  t.after(() => m.close());
  const text = await m.registry.metrics();
  const metric = (name: string) => Number(text.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1]);
  assert.equal(metric('edge_agent_link_connects_total'), link.connects);
  assert.equal(metric('edge_agent_link_disconnects_total'), link.disconnects);
  assert.equal(metric('edge_agent_batches_published_total'), link.batchesPublished);
  assert.equal(metric('edge_agent_batches_acked_total'), link.batchesAcked);
  assert.equal(metric('edge_agent_published_bytes_total'), link.bytesPublished);
  assert.equal(metric('edge_agent_config_version'), 1);
});
