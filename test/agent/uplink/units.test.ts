// Issue 12 item 11 (uplink): the pieces on their own, with injected clock and randomness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReconnectSchedule } from '../../../agent/uplink/reconnect-spread.js';
import { PubackWatchdog } from '../../../agent/uplink/puback-watchdog.js';
import { LostInflight } from '../../../agent/uplink/lost-inflight.js';
import { mqttClientOptions } from '../../../agent/uplink/mqtt-options.js';
import { mergeRemote } from '../../../agent/control/merge.js';
import { parseConfigText } from '../../../agent/config/load.js';

test('reconnect schedule: one quick retry, then a random phase, then exactly one period (min(spread, max))', () => {
  const s = new ReconnectSchedule(1000, 60_000, 15_000, () => 0.5);
  assert.deepEqual([s.next(), s.next(), s.next(), s.next()], [500, 7500, 15_000, 15_000]);
  s.reset();
  assert.equal(s.next(), 500);
  assert.equal(new ReconnectSchedule(1000, 5000, 15_000, () => 0.999).periodMs, 5000, 'reconnectMax below the spread caps it');
  assert.equal(new ReconnectSchedule(1000, 60_000, 15_000, () => 0).next(), 100, 'never below the floor');
});

test('reconnect schedule: after any outage length, a fleet\'s next attempts fall evenly within one period', () => {
  // 500 agents with independent random phases, broker back at an arbitrary time T.
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const T of [3_000, 10_000, 61_000]) {
    const firsts: number[] = [];
    for (let a = 0; a < 500; a++) {
      const s = new ReconnectSchedule(1000, 60_000, 15_000, rnd);
      let t = 0;
      while (t < T) t += s.next();
      firsts.push(t - T);
    }
    assert.ok(Math.max(...firsts) <= 15_000, `T=${T}: all within the window (max ${Math.max(...firsts)})`);
    // Evenness: each third of the window gets about a third of the fleet (T=3s: some are in the quick-retry phase).
    const thirds = [0, 1, 2].map((k) => firsts.filter((f) => f >= k * 5000 && f < (k + 1) * 5000).length);
    for (const n of thirds) assert.ok(n > 120 && n < 220, `T=${T}: thirds ${thirds}`);
  }
});

test('PUBACK watchdog: overdue only while something waits, measured from the last progress', () => {
  let now = 0;
  let outstanding = 0;
  const overdue: number[] = [];
  const w = new PubackWatchdog(10_000, () => outstanding, (ms) => overdue.push(ms), () => now);
  w.sent(0);
  outstanding = 1;
  now = 9_000;
  assert.equal(w.check(), false);
  w.acked(); // progress at 9 s, still one outstanding
  now = 18_000;
  assert.equal(w.check(), false);
  now = 19_500;
  assert.equal(w.check(), true);
  assert.deepEqual(overdue, [10_500]);
  // Idle link (nothing outstanding): never overdue, however long.
  outstanding = 0;
  now = 1e9;
  assert.equal(w.check(), false);
  // A publish into an empty window starts the clock afresh.
  w.sent(0);
  outstanding = 3;
  now += 5000;
  assert.equal(w.check(), false);
});

test('lost in-flight: publishes mqtt.js failed before close are counted in the disconnect figure', () => {
  const l = new LostInflight();
  for (const seq of [12, 10, 11]) l.failed(seq);
  assert.deepEqual(l.add({ count: 0, from: undefined }), { count: 3, from: 10 });
  assert.deepEqual(l.add({ count: 2, from: 20 }), { count: 2, from: 20 }, 'reset for the next connection');
});

const local = (clientId = '') => {
  const r = parseConfigText(`agent: { id: board-7 }\nuplink: { mqtt: { url: "mqtt://h:1883"${clientId} } }\n`);
  assert.ok(r.ok);
  return r.config;
};

test('client id: derived from agent.id unless the local file sets one; a push cannot set it', () => {
  assert.equal(mqttClientOptions(local().uplink.mqtt, 'board-7', { topic: 't', payload: Buffer.from('p'), qos: 1, retain: true }).clientId, 'edge-agent-board-7');
  const pushed = { uplink: { mqtt: { url: 'mqtt://h:1883', clientId: 'fleet' } } };
  const strict = mergeRemote(pushed, local(), '/', true);
  assert.equal(strict.ok, false);
  assert.match(!strict.ok ? strict.errors.map((e) => `${e.path}: ${e.message}`).join() : '', /uplink\.mqtt\.clientId: local-only key/);
  // A persisted config from before (start-up, not strict): the board's own value wins.
  const lax = mergeRemote(pushed, local(), '/', false);
  assert.ok(lax.ok);
  assert.equal(lax.ok && lax.config.uplink.mqtt.clientId, undefined);
  const own = mergeRemote(pushed, local(', clientId: mine'), '/', false);
  assert.equal(own.ok && own.config.uplink.mqtt.clientId, 'mine');
  // Repeating the board's own value is fine.
  assert.ok(mergeRemote({ uplink: { mqtt: { url: 'mqtt://h:1883', clientId: 'mine' } } }, local(', clientId: mine'), '/', true).ok);
});

test('PUBACK watchdog on a metered link allows one batch\'s transmission time on top; QoS 0 or ackTimeout 0: off', async () => {
  const { MqttUplink } = await import('../../../agent/uplink/mqtt-uplink.js');
  const { uplinkSchema } = await import('../../../agent/uplink/schema.js');
  const { silentLogger } = await import('../../../core/log.js');
  const src = { next: () => [], ack: () => {} };
  const wd = (cfg: unknown) => (new MqttUplink(uplinkSchema.parse(cfg), 'a', src, silentLogger) as unknown as { puback?: PubackWatchdog }).puback;
  assert.equal(wd({ mqtt: { url: 'mqtt://h' } })?.timeoutMs, 10_000);
  // 256 KiB at 2 KiB/s: 128 s per batch.
  assert.equal(wd({ mqtt: { url: 'mqtt://h' }, maxBytesPerSecond: '2KiB' })?.timeoutMs, 138_000);
  assert.equal(wd({ mqtt: { url: 'mqtt://h', ackTimeout: 0 } }), undefined);
  assert.equal(wd({ mqtt: { url: 'mqtt://h', qos: 0 } }), undefined);
});
