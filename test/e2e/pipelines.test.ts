import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { waitFor } from '../helpers/source-context.js';

/**
 * The SPEC example's pipelines, verbatim, in the built daemon against a real broker, fed by sim
 * sources shaped so every stage's effect is visible in what reaches the broker:
 * - temperature: counter 0, 0.5, 1, ... (each step passes the 0.2 deadband and dedupe);
 * - pressure: constant 200, above filter max 150: never leaves the pipeline;
 * - pump: constant 5: the deadband and dedupe keep only the first reading, so its window can
 *   only close on time (tick, monotonic clock), not because a later reading arrived.
 */
function config(dataDir: string, url: string): string {
  return `
agent: { id: e2e-pipes, dataDir: ${dataDir}, logLevel: info }
uplink:
  mqtt: { url: "${url}", topicPrefix: edge, qos: 1, reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxReadings: 100, maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
  - id: boiler
    driver: sim
    pollInterval: 200ms
    points:
      - { name: temperature, wave: counter, step: 0.5 }
      - { name: pressure, wave: constant, value: 200 }
      - { name: pump, wave: constant, value: 5 }
pipelines:
  - match: "boiler/*"
    stages:
      - filter: { min: -40, max: 150, deadband: 0.2 }
      - dedupe: { maxSilence: 60s }
      - aggregate: { window: 10s, functions: [min, max, mean, last, count] }
  - match: "*"
    stages: []
control: { socket: ${dataDir}/agent.sock }
`;
}

test('SPEC example pipelines in the daemon: broker output follows filter -> dedupe -> aggregate semantics', { timeout: 60_000 }, async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  t.diagnostic(`broker: ${broker.kind}`);
  const dir = tempDir();
  const cfg = writeConfig(dir, config(`${dir}/data`, broker.url));
  const sub = await collect(broker.url, 'edge/e2e-pipes/data');
  t.after(() => sub.close());
  const readings = () => sub.batches.flatMap((b) => b.readings);

  const d = startDaemon(['run', '--config', cfg]);
  t.after(() => d.stop('SIGKILL'));
  // pump's window has one reading and no successor: only the monotonic tick can close it.
  await waitFor(() => readings().some((r) => r.point === 'pump.count'), 25_000, 'pump window closed on time');
  // And one full temperature window (closed by time or by the next window's first reading).
  await waitFor(() => readings().some((r) => r.point === 'temperature.count'), 15_000, 'a temperature window');
  assert.equal(await d.stop(), 0);
  const stopped = await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('edge-agent stopped'));
  const perPoint = (stopped.readingsProduced as number) / 3;
  // The partial window flushed at shutdown must reach the broker too.
  const count = () => readings().filter((r) => r.point === 'temperature.count').reduce((n, r) => n + (r.value as number), 0);
  await waitFor(() => count() >= perPoint, 10_000, `temperature counts summing to ${perPoint}`);

  const all = readings();
  const names = new Set(all.map((r) => r.point));
  assert.deepEqual([...names].sort(), ['pump.count', 'pump.last', 'pump.max', 'pump.mean', 'pump.min', 'temperature.count', 'temperature.last', 'temperature.max', 'temperature.mean', 'temperature.min'],
    'only aggregates; pressure (above max) never leaves the pipeline');
  for (const r of all) {
    assert.equal(r.source, 'boiler');
    assert.equal(r.ts % 10_000, 0, `${r.point} stamped ${r.ts}: not a window start`);
  }

  // pump: one window, one reading (deadband + dedupe drop the repeats within 60 s).
  const pump = all.filter((r) => r.point.startsWith('pump.'));
  assert.deepEqual(pump.map((r) => [r.point, r.value]), [['pump.min', 5], ['pump.max', 5], ['pump.mean', 5], ['pump.last', 5], ['pump.count', 1]]);

  // temperature: per window, values are the contiguous counter run min..max.
  const windows = new Map<number, Record<string, number>>();
  for (const r of all.filter((x) => x.point.startsWith('temperature.'))) {
    const w = windows.get(r.ts) ?? {};
    assert.equal(w[r.point], undefined, `window ${r.ts} emitted twice`);
    w[r.point] = r.value as number;
    windows.set(r.ts, w);
  }
  const ordered = [...windows.entries()].sort((a, b) => a[0] - b[0]).map(([, w]) => w);
  assert.ok(ordered.length >= 2, 'a closed window and the partial one');
  let expectMin = 0;
  for (const w of ordered) {
    assert.equal(w['temperature.min'], expectMin, 'no reading lost between windows');
    assert.equal(w['temperature.count'], (w['temperature.max'] - w['temperature.min']) / 0.5 + 1);
    assert.equal(w['temperature.last'], w['temperature.max']);
    assert.ok(Math.abs(w['temperature.mean'] - (w['temperature.min'] + w['temperature.max']) / 2) < 1e-9);
    expectMin = w['temperature.max'] + 0.5;
  }
  assert.equal(count(), perPoint, 'every temperature reading counted exactly once, partial window included');
});
