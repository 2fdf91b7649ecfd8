import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig, type BatchDoc } from '../helpers/daemon.js';
import { sleep } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { bufferStats } from '../../agent/cli/buffer.js';

const INFLIGHT = 8;

function config(data: string, url: string, withSource = true): string {
  return `
agent: { id: outage-board, dataDir: ${data}, logLevel: debug }
uplink:
  mqtt: { url: "${url}", qos: 1, reconnectMin: 200ms, reconnectMax: 2s, inflight: ${INFLIGHT} }
  batch: { maxReadings: 40, maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
${withSource ? `  - { id: gen, driver: sim, pollInterval: 10ms, points: [ { name: n, wave: counter } ] }` : '  []'}
`;
}

test('broker stopped for 30 s: every reading arrives, seq strictly increases, duplicates only for batches sent but not acked', { timeout: 90_000 }, async (t) => {
  const broker = await startBroker({ persistent: true });
  t.after(() => broker.stop());
  t.diagnostic(`broker: ${broker.kind}`);
  const dir = tempDir();
  const data = `${dir}/data`;
  // A persistent session: messages the agent publishes while we reconnect are queued for us.
  const sub = await collect(broker.url, 'edge/outage-board/#', { clientId: 'outage-test-sub', clean: false });
  t.after(() => sub.close());
  const d = startDaemon(['run', '--config', writeConfig(dir, config(data, broker.url))]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => sub.batches.length >= 5, 15_000, '5 batches before the outage');

  // SIGTERM: mosquitto saves sessions and queued messages, like a broker restart for maintenance.
  const logsAtStop = d.logs.length;
  await broker.stop('SIGTERM');
  const arrivedBeforeOutage = sub.batches.length;
  const seenBefore = new Set(sub.batches.map((b) => b.seq));
  await sleep(30_000); // the outage itself (not an assertion)
  const outageLogs = d.logs.slice(logsAtStop);
  await broker.start();

  // Backlog drains; then stop the daemon cleanly and account for every reading it produced.
  await d.waitLog((l) => l.msg === 'uplink connected' && d.logs.indexOf(l) >= logsAtStop, 20_000);
  await waitFor(() => bufferStats(data).readings < 100, 20_000, 'backlog drained');
  assert.equal(await d.stop(), 0);
  const stopped = await d.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('edge-agent stopped'));
  const produced = stopped.readingsProduced as number;
  const left = bufferStats(data);
  if (left.readings > 0) {
    // Unsent at SIGTERM: they must go out after a restart (SPEC: nothing is lost on systemctl stop).
    const d2 = startDaemon(['run', '--config', writeConfig(dir, config(data, broker.url, false), 'drain.yaml')]);
    t.after(() => d2.stop('SIGKILL'));
    await waitFor(() => bufferStats(data).readings === 0, 20_000, 'rest of the outbox drained');
    await d2.stop();
  }
  await waitFor(() => new Set(sub.batches.flatMap((b) => b.readings.map((r) => r.value))).size >= produced, 10_000, `${produced} distinct readings`);

  // Every reading arrived: the counter is contiguous from 0 and nothing extra appeared.
  const values = [...new Set(sub.batches.flatMap((b) => b.readings.map((r) => r.value as number)))].sort((a, b) => a - b);
  assert.equal(values.length, produced, 'distinct readings received = readings produced');
  assert.equal(values[0], 0);
  assert.equal(values.at(-1), produced - 1, 'no gap');

  // Seq: strictly increasing over first arrivals; a repeat is the same batch (same readings), only
  // of a batch the broker had before the outage (sent, not acknowledged), at most the in-flight window.
  const first = new Map<number, BatchDoc>();
  let last = 0;
  const dups: number[] = [];
  for (const [i, b] of sub.batches.entries()) {
    const prev = first.get(b.seq);
    if (prev) {
      dups.push(b.seq);
      assert.deepEqual(b.readings, prev.readings, `duplicate seq ${b.seq} carries the same readings`);
      assert.ok(seenBefore.has(b.seq) && i >= arrivedBeforeOutage, `duplicate ${b.seq} was sent before the outage and resent after it`);
      continue;
    }
    assert.ok(b.seq > last, `seq ${b.seq} after ${last}`);
    last = b.seq;
    first.set(b.seq, b);
  }
  assert.ok(dups.length <= INFLIGHT, `${dups.length} duplicates <= inflight window`);
  t.diagnostic(`readings ${produced}, batches ${first.size}, duplicates ${dups.length}`);

  // Per-reading order within the series holds across the outage.
  const firstSeries = [...first.values()].flatMap((b) => b.readings.map((r) => r.ts));
  for (let i = 1; i < firstSeries.length; i++) assert.ok(firstSeries[i] >= firstSeries[i - 1], 'acquisition order kept');

  // One log line per state change, not per retry; retries back off with full jitter, bounded.
  const msgs = outageLogs.map((l) => l.msg);
  assert.equal(msgs.filter((m) => m === 'uplink disconnected; batches stay in the outbox').length, 1);
  assert.ok(msgs.filter((m) => m === 'uplink error').length <= 2, `error lines: ${msgs.filter((m) => m === 'uplink error').length}`);
  const delays = outageLogs.filter((l) => l.msg === 'uplink reconnect scheduled').map((l) => l.delayMs as number);
  assert.ok(delays.length >= 8 && delays.length <= 150, `${delays.length} reconnect attempts in 30 s`);
  assert.ok(delays.every((x) => x >= 100 && x <= 2000), 'every delay within [floor, reconnectMax]');
  // Issue 12: a quick jittered retry, a random phase, then exactly one period (min(reconnectSpread,
  // reconnectMax) = 2 s here) so a fleet's returns stay evenly spread over it (reconnect-spread.ts).
  assert.ok(delays[0] <= 200, `first retry within reconnectMin: ${delays[0]}`);
  assert.deepEqual(delays.slice(2), delays.slice(2).map(() => 2000), 'then one attempt per period, keeping the phase');
  const status = sub.messages.filter((m) => m.topic.endsWith('/status')).map((m) => JSON.parse(m.payload.toString()));
  assert.ok(status.filter((s) => s.state === 'online').length >= 2, 'birth status again after the reconnect');
});
