import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { freePort } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { bufferStats } from '../../agent/cli/buffer.js';

function config(dataDir: string, url: string, withSource = true): string {
  return `
agent: { id: e2e-board, dataDir: ${dataDir}, logLevel: info }
uplink:
  mqtt: { url: "${url}", topicPrefix: edge, qos: 1, reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxReadings: 50, maxDelay: 200ms }
buffer: { flushInterval: 200ms }
sources:
${withSource ? `  - id: gen
    driver: sim
    pollInterval: 20ms
    points:
      - { name: n, wave: counter }
      - { name: s, wave: sine, period: 10s, min: 0, max: 1 }` : '  []'}
control: { socket: ${dataDir}/agent.sock }
`;
}

test('batches reach mosquitto with every field, seq strictly increasing across a restart', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  t.diagnostic(`broker: ${broker.kind}`);
  const dir = tempDir();
  const cfg = writeConfig(dir, config(`${dir}/data`, broker.url));
  const sub = await collect(broker.url, 'edge/e2e-board/#');
  t.after(() => sub.close());

  const d1 = startDaemon(['run', '--config', cfg]);
  t.after(() => d1.stop('SIGKILL'));
  await waitFor(() => sub.batches.length >= 3, 10_000, '3 batches');
  assert.equal(await d1.stop(), 0, 'SIGTERM exits 0');
  const firstRun = sub.batches.length;

  const d2 = startDaemon(['run', '--config', cfg]);
  t.after(() => d2.stop('SIGKILL'));
  await waitFor(() => sub.batches.length >= firstRun + 3, 10_000, '3 more batches after restart');
  assert.equal(await d2.stop(), 0);

  for (const b of sub.batches) {
    assert.equal(b.agent, 'e2e-board');
    assert.ok(Number.isInteger(b.seq) && b.seq > 0);
    assert.ok(Number.isInteger(b.ts) && b.ts > 1.6e12);
    assert.ok(b.readings.length > 0 && b.readings.length <= 50, 'maxReadings holds');
    for (const r of b.readings) {
      assert.equal(r.source, 'gen');
      assert.ok(r.point === 'n' || r.point === 's');
      assert.ok(Number.isInteger(r.ts));
      assert.equal(typeof r.value, 'number');
    }
  }
  const seqs = sub.batches.map((b) => b.seq);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `seq ${seqs[i]} after ${seqs[i - 1]}`);
  assert.ok(seqs[firstRun] > seqs[firstRun - 1], 'seq continues after restart');

  // Status: retained, online on birth, offline after the clean stop.
  const statuses = sub.messages.filter((m) => m.topic === 'edge/e2e-board/status').map((m) => JSON.parse(m.payload.toString()));
  assert.ok(statuses.some((s) => s.state === 'online' && s.version && s.startedAt && s.configVersion === 0));
  assert.equal(statuses.at(-1).state, 'offline');
});

test('SIGTERM while the broker is unreachable: every reading arrives after a restart with the broker up', async (t) => {
  const port = await freePort(); // nothing listens yet
  const url = `mqtt://127.0.0.1:${port}`;
  const dir = tempDir();
  const data = `${dir}/data`;
  const cfg = writeConfig(dir, config(data, url));
  const d1 = startDaemon(['run', '--config', cfg]);
  t.after(() => d1.stop('SIGKILL'));
  await d1.waitLog((l) => l.msg === 'edge-agent started');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await d1.stop('SIGTERM'), 0);
  const stopped = await d1.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('edge-agent stopped'));
  const produced = stopped.readingsProduced as number;
  assert.ok(produced > 50, `produced ${produced} readings`);
  const stats = bufferStats(data);
  assert.equal(stats.readings, produced, 'every acquired reading is in the outbox after SIGTERM');

  const broker = await startBroker({ port });
  t.after(() => broker.stop());
  const sub = await collect(broker.url);
  t.after(() => sub.close());
  // Restart with no sources: only the backlog can arrive.
  const cfg2 = writeConfig(dir, config(data, url, false), 'drain.yaml');
  const d2 = startDaemon(['run', '--config', cfg2]);
  t.after(() => d2.stop('SIGKILL'));
  await waitFor(() => sub.batches.reduce((n, b) => n + b.readings.length, 0) >= produced, 15_000, `${produced} readings`);
  await d2.stop();
  const counters = sub.batches.flatMap((b) => b.readings).filter((r) => r.point === 'n').map((r) => r.value as number);
  const unique = [...new Set(counters)].sort((a, b) => a - b);
  assert.equal(unique[0], 0);
  assert.equal(unique.at(-1), unique.length - 1, 'counter values are contiguous: nothing lost');
  assert.equal(sub.batches.reduce((n, b) => n + b.readings.length, 0), produced);
  assert.equal(bufferStats(data).readings, 0, 'outbox empty after the drain');
});
