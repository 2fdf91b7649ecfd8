import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { requireTool, sleep } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { protocDecode } from '../helpers/sparkplug.js';

/**
 * Switching the uplink profile by config reload (SIGHUP goes through the same apply path as a
 * signed push) while a backlog waits: the outbox keeps JSON batch documents, so what was held
 * under one profile goes out under the other, nothing lost, nothing twice.
 */
const haveProtoc = requireTool('protoc', 'protobuf-compiler');

test('JSON -> Sparkplug -> JSON with a backlog at each switch: every reading arrives once', { skip: !haveProtoc, timeout: 120_000 }, async (t) => {
  const broker = await startBroker({ persistent: true });
  t.after(() => broker.stop());
  const dir = tempDir();
  const config = (profile: 'json' | 'sparkplug-b') => writeConfig(dir, `
agent: { id: sw-node, dataDir: ${dir}/data }
uplink:
  mqtt: { url: "${broker.url}", qos: 1, reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: 40, maxDelay: 200ms }
  profile: ${profile}
  sparkplug: { groupId: plant-3 }
buffer: { flushInterval: 400ms }
sources:
  - { id: gen, driver: sim, pollInterval: 20ms, points: [{ name: n, wave: counter }] }
`);
  const cfg = config('json');
  // A persistent session: what the agent publishes while we reconnect after the broker restarts is queued for us.
  const sub = await collect(broker.url, '#', { clientId: 'switch-test-sub', clean: false });
  t.after(() => sub.close());
  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  const json = () => sub.batches.length;
  const ddata = () => sub.messages.filter((m) => m.topic.startsWith('spBv1.0/plant-3/DDATA/')).length;
  await waitFor(() => json() >= 3, 15_000, 'JSON batches');

  // Backlog under JSON, switch to Sparkplug while the broker is down, then bring it back.
  await broker.stop('SIGTERM');
  await sleep(2000);
  config('sparkplug-b');
  d.proc.kill('SIGHUP');
  await sleep(500);
  await broker.start();
  await waitFor(() => ddata() >= 5, 20_000, 'DDATA after the switch');
  const jsonBefore = json();

  // Backlog under Sparkplug, back to JSON.
  await broker.stop('SIGTERM');
  await sleep(2000);
  config('json');
  d.proc.kill('SIGHUP');
  await sleep(500);
  await broker.start();
  await waitFor(() => json() > jsonBefore + 3, 20_000, 'JSON batches after switching back');
  await sleep(1000);
  assert.equal(await d.stop(), 0);
  const stopped = d.logs.find((l) => l.msg === 'edge-agent stopped; unsent readings stay in the outbox')!;

  // mosquitto restarted from its persistence file redelivers QoS 1 messages to a persistent
  // subscriber (byte-identical: same payload timestamp and seq), as MQTT's at-least-once allows;
  // a consumer drops them as such. A second publish by the agent would differ (new payload timestamp).
  const received = () => {
    const values: number[] = [];
    let historical = 0;
    const seen = new Set<string>();
    for (const m of sub.messages) {
      const key = m.topic + m.payload.toString('base64');
      if (seen.has(key)) continue;
      seen.add(key);
      // A reload restarts the sim counter: a reading is known by its acquisition time (20 ms apart).
      if (m.topic === 'edge/sw-node/data') values.push(...(JSON.parse(m.payload.toString()) as { readings: { ts: number }[] }).readings.map((r) => r.ts));
      else if (m.topic.startsWith('spBv1.0/plant-3/DDATA/')) {
        for (const x of protocDecode(m.payload).metrics) {
          values.push(x.timestamp!);
          if (x.is_historical) historical++;
        }
      }
    }
    return { values, historical };
  };
  // Everything was acknowledged by the broker before the stop; the subscriber may lag a little.
  await waitFor(() => received().values.length >= (stopped.readingsIn as number), 10_000, 'every reading at the subscriber').catch(() => undefined);
  const { values, historical } = received();
  assert.ok(historical > 0, 'the JSON-era backlog went out as historical DDATA');
  const sorted = [...values].sort((a, b) => a - b);
  t.diagnostic(`readings ${sorted.length}, JSON batches ${json()}, DDATA ${ddata()}, historical ${historical}, readingsIn ${stopped.readingsIn}`);
  assert.equal(new Set(sorted).size, sorted.length, 'nothing twice');
  assert.equal(stopped.backlog, 0);
  assert.equal(sorted.length, stopped.readingsIn, 'every reading that entered the outbox arrived');
});
