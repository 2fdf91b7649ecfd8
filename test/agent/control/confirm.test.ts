import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awaitProof, formatWindow } from '../../../agent/control/confirm.js';
import { remotePolicy, pushTopics } from '../../../agent/control/remote-policy.js';
import { parseConfigText } from '../../../agent/config/load.js';
import type { Agent } from '../../../agent/runtime/agent.js';
import type { Clock } from '../../../core/clock.js';

interface FakeSource { id: string; readingCount: number; pollIntervalMs: number | undefined; currentState: string; status(): { state: string; detail?: string; lastError?: { kind: string; message: string } } }
const src = (id: string, over: Partial<FakeSource> = {}): FakeSource => ({ id, readingCount: 0, pollIntervalMs: 100, currentState: 'starting', status() { return { state: this.currentState, detail: 'connect ECONNREFUSED' }; }, ...over });
function fakeAgent(sources: FakeSource[], link = 'connected') {
  return {
    uplink: { linkState: link, connected: new Promise(() => {}) },
    sources,
    config: { uplink: { mqtt: { url: 'mqtt://user:secret@broker:1883' } } },
  } as unknown as Agent & { uplink: { linkState: string } };
}
/** Time that moves only when the test says: the window ends when the test decides, not when the machine is slow. */
function manualClock() {
  let t = 0;
  return { clock: { now: () => 1e12 + t, mono: () => t } as Clock, advance: (ms: number) => (t += ms) };
}
const tick = () => new Promise((r) => setTimeout(r, 120));

test('proof: resolves as soon as every source delivered a new reading and the link is up', async () => {
  const { clock } = manualClock();
  const a = src('a', { readingCount: 10 });
  const b = src('b');
  const agent = fakeAgent([a, b]);
  let done: string[] | undefined;
  void awaitProof(agent, { require: ['link', 'sources'], windowMs: 60_000, uplinkChanged: false, readingsAtApply: new Map([['a', 10], ['b', 0]]), clock }).then((f) => (done = f));
  await tick();
  assert.equal(done, undefined, 'counts carried over from the previous runner are no proof');
  a.readingCount = 11;
  await tick();
  assert.equal(done, undefined, 'b still owes a reading');
  b.readingCount = 1;
  await tick();
  assert.deepEqual(done, []);
});

test('proof: at the end of the window, names each source without a reading and an unreached broker (password redacted)', async () => {
  const { clock, advance } = manualClock();
  const gpio = src('door', { pollIntervalMs: undefined, currentState: 'ok' });
  const quiet = src('meter', { currentState: 'down' });
  const ok = src('gen', { readingCount: 5 });
  const agent = fakeAgent([gpio, quiet, ok], 'connecting');
  let done: string[] | undefined;
  void awaitProof(agent, { require: ['link', 'sources'], windowMs: 1500, uplinkChanged: true, readingsAtApply: new Map([['gen', 0]]), clock }).then((f) => (done = f));
  await tick();
  assert.equal(done, undefined);
  advance(1500);
  await tick();
  const f = done as string[] | undefined;
  assert.ok(f);
  assert.equal(f.length, 2, JSON.stringify(f));
  assert.match(f[0], /^uplink\.mqtt: mqtt:\/\/\[redacted\]@broker:1883 not reached within 1500 ms$/);
  assert.equal(f[1], 'sources.meter: no reading within 1500 ms (down: connect ECONNREFUSED)');
});

test('proof: only what confirm.require asks', async () => {
  const { clock, advance } = manualClock();
  const agent = fakeAgent([src('meter', { currentState: 'down' })], 'disconnected');
  const p = awaitProof(agent, { require: ['link'], windowMs: 1000, uplinkChanged: false, readingsAtApply: new Map(), clock });
  advance(1000);
  assert.deepEqual((await p).map((f) => f.split(':')[0]), ['uplink.mqtt']);
  assert.deepEqual(await awaitProof(agent, { require: [], windowMs: 1000, uplinkChanged: false, readingsAtApply: new Map(), clock }), []);
  assert.equal(formatWindow(60_000), '60 s');
  assert.equal(formatWindow(250), '250 ms');
});

test('remote config policy: default-deny; key -> signed; allowUnsigned -> unsigned; group topics under the prefix', () => {
  const cfg = (rc: string, prefix = 'edge') => {
    const r = parseConfigText(`uplink: { mqtt: { url: "mqtt://x", topicPrefix: "${prefix}" } }\ncontrol: { remoteConfig: { ${rc} } }\n`);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    return r.config;
  };
  assert.equal(remotePolicy(cfg('')).mode, 'off');
  assert.match(remotePolicy(cfg('')).note!, /publicKey is not set/);
  assert.equal(remotePolicy(cfg('publicKey: /k.pub')).mode, 'signed');
  assert.equal(remotePolicy(cfg('publicKey: /k.pub, allowUnsigned: true')).mode, 'signed', 'with a key every push must verify');
  assert.equal(remotePolicy(cfg('allowUnsigned: true')).mode, 'unsigned');
  assert.equal(remotePolicy(cfg('publicKey: /k.pub, enabled: false')).mode, 'off');
  const c = cfg('publicKey: /k.pub, groups: [line-a, site-3]');
  assert.deepEqual(pushTopics(c, 'edge/b1/config/set'), ['edge/b1/config/set', 'edge/groups/line-a/config/set', 'edge/groups/site-3/config/set']);
  assert.deepEqual(pushTopics(cfg('groups: [g]', ''), 'b1/config/set'), ['b1/config/set', 'groups/g/config/set']);
  assert.deepEqual(c.control.remoteConfig.confirm, { window: 60_000, require: ['link', 'sources'] });
  const bad = parseConfigText('uplink: { mqtt: { url: "mqtt://x" } }\ncontrol: { remoteConfig: { groups: ["a/b"], confirm: { require: [reading] } } }\n');
  assert.ok(!bad.ok);
  const msgs = bad.errors.map((e) => `${e.path}: ${e.message}`).join('\n');
  assert.match(msgs, /control\.remoteConfig\.groups\[0\]: expected letters/);
  assert.match(msgs, /control\.remoteConfig\.confirm\.require\[0\]: expected one of/);
});

test('config show never prints an inline MQTT password', async () => {
  const { redactConfig } = await import('../../../agent/control/redact.js');
  const r = parseConfigText('uplink: { mqtt: { url: "mqtt://x", username: u, password: hunter2 } }\n');
  assert.ok(r.ok);
  const shown = redactConfig(r.config);
  assert.equal(shown.uplink.mqtt.password, '[redacted]');
  assert.equal(shown.uplink.mqtt.username, 'u');
  assert.equal(r.config.uplink.mqtt.password, 'hunter2', 'the running config is not touched');
  assert.doesNotMatch(JSON.stringify(shown), /hunter2/);
});
