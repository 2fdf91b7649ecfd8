import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { freePort, sleep } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { bufferStats } from '../../agent/cli/buffer.js';

const CAP = 24 * 1024;

function config(data: string, url: string, overflow: string, withSource: boolean): string {
  return `
agent: { id: cap-board, dataDir: ${data} }
uplink:
  mqtt: { url: "${url}", reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: 20, maxDelay: 100ms }
buffer: { maxBytes: ${CAP}, overflow: ${overflow}, flushInterval: 100ms }
sources:
${withSource ? '  - { id: gen, driver: sim, pollInterval: 5ms, points: [ { name: n, wave: counter } ] }' : '  []'}
`;
}

/** Runs the daemon offline past the cap, stops it, then drains what it kept to a real broker. */
async function outageThenDrain(t: import('node:test').TestContext, overflow: string) {
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const dir = tempDir();
  const data = `${dir}/data`;
  const d = startDaemon(['run', '--config', writeConfig(dir, config(data, url, overflow, true))]);
  t.after(() => d.stop('SIGKILL'));
  await d.waitLog((l) => l.msg === 'outbox full: readings dropped', 20_000);
  await sleep(1500); // keep overflowing for a while
  assert.equal(await d.stop(), 0);
  const stopped = await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('edge-agent stopped'));
  const produced = stopped.readingsProduced as number;
  const stats = bufferStats(data);
  assert.ok(stats.accountedBytes <= CAP, `outbox holds ${stats.accountedBytes} accounted bytes <= cap ${CAP}`);
  assert.equal(stats.readings + stats.droppedOverflow + stats.droppedThinned, produced, 'every reading is stored or counted as dropped');
  // Logged, rate-limited: one line for the first drop, then at most one per 30 s.
  assert.equal(d.logs.filter((l) => l.msg === 'outbox full: readings dropped').length, 1);

  const broker = await startBroker({ port });
  t.after(() => broker.stop());
  const sub = await collect(broker.url, 'edge/cap-board/#');
  t.after(() => sub.close());
  const d2 = startDaemon(['run', '--config', writeConfig(dir, config(data, url, overflow, false), 'drain.yaml')]);
  t.after(() => d2.stop('SIGKILL'));
  await waitFor(() => sub.batches.reduce((n, b) => n + b.readings.length, 0) >= stats.readings, 15_000, 'drain');
  await waitFor(() => sub.messages.some((m) => m.topic.endsWith('/status')), 5000, 'status');
  assert.equal(await d2.stop(), 0);
  const status = JSON.parse(sub.messages.find((m) => m.topic.endsWith('/status'))!.payload.toString());
  // The counts are reported in the retained status document (and persisted across the restart).
  assert.equal(status.outbox.droppedOverflow, stats.droppedOverflow);
  assert.equal(status.outbox.droppedThinned, stats.droppedThinned);
  const values = sub.batches.flatMap((b) => b.readings.map((r) => r.value as number));
  assert.equal(values.length, stats.readings);
  for (let i = 1; i < values.length; i++) assert.ok(values[i] > values[i - 1], 'acquisition order, no repeats');
  t.diagnostic(`${overflow}: produced ${produced}, kept ${values.length}, dropped ${stats.droppedOverflow} + thinned ${stats.droppedThinned}`);
  return { produced, values, stats };
}

test('overflow drop-oldest: the newest readings are kept, contiguous; the dropped count is exact', { timeout: 40_000 }, async (t) => {
  const { produced, values, stats } = await outageThenDrain(t, 'drop-oldest');
  assert.ok(stats.droppedOverflow > 0);
  assert.equal(stats.droppedThinned, 0);
  assert.equal(values.at(-1), produced - 1, 'the newest reading is kept');
  assert.equal(values[0], stats.droppedOverflow, 'exactly the oldest droppedOverflow readings are gone');
  assert.equal(values.at(-1)! - values[0] + 1, values.length, 'contiguous');
});

test('overflow drop-newest: the oldest readings are kept, contiguous; the dropped count is exact', { timeout: 40_000 }, async (t) => {
  const { produced, values, stats } = await outageThenDrain(t, 'drop-newest');
  assert.ok(stats.droppedOverflow > 0);
  assert.equal(values[0], 0, 'the oldest reading is kept');
  assert.equal(values.at(-1), values.length - 1, 'contiguous from the start');
  assert.equal(produced - values.length, stats.droppedOverflow);
});

test('overflow thin: history reaches back to the first reading at lower resolution; newest at full resolution', { timeout: 40_000 }, async (t) => {
  const { produced, values, stats } = await outageThenDrain(t, 'thin');
  assert.ok(stats.droppedThinned > 0, 'thinning happened');
  assert.equal(values[0], 0, 'the first reading of the series is kept');
  assert.equal(values.at(-1), produced - 1, 'the newest reading is kept');
  const gaps = values.slice(1).map((v, i) => v - values[i]);
  t.diagnostic(`gaps old -> new: ${gaps.join(',')}`);
  assert.equal(gaps.at(-1), 1, 'newest data at full resolution');
  assert.ok(Math.max(...gaps.slice(0, 10)) >= 2, 'oldest data thinned');
});
