import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { freePort } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';
import { bufferStats } from '../../agent/cli/buffer.js';

test('the outbox survives a config change: other batch size, encoding, overflow policy and source set', { timeout: 40_000 }, async (t) => {
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const dir = tempDir();
  const data = `${dir}/data`;
  const a = startDaemon(['run', '--config', writeConfig(dir, `
agent: { id: cfg-board, dataDir: ${data} }
uplink: { mqtt: { url: "${url}", reconnectMin: 100ms, reconnectMax: 300ms }, batch: { maxReadings: 20, maxDelay: 100ms, encoding: json } }
buffer: { overflow: drop-oldest, flushInterval: 200ms }
sources: [ { id: old, driver: sim, pollInterval: 10ms, points: [ { name: n, wave: counter } ] } ]
`, 'a.yaml')]);
  t.after(() => a.stop('SIGKILL'));
  await a.waitLog((l) => l.msg === 'edge-agent started');
  await waitFor(() => bufferStats(data).readings >= 200, 15_000, '200 readings queued offline');
  assert.equal(await a.stop(), 0);
  const before = bufferStats(data);

  const broker = await startBroker({ port });
  t.after(() => broker.stop());
  const sub = await collect(broker.url, 'edge/cfg-board/data');
  t.after(() => sub.close());
  const b = startDaemon(['run', '--config', writeConfig(dir, `
agent: { id: cfg-board, dataDir: ${data} }
uplink: { mqtt: { url: "${url}", reconnectMin: 100ms, reconnectMax: 300ms }, batch: { maxReadings: 500, maxDelay: 1s, encoding: json+gzip } }
buffer: { overflow: thin, maxBytes: 32MiB, flushInterval: 1s }
sources: [ { id: new, driver: sim, pollInterval: 50ms, points: [ { name: m, wave: counter } ] } ]
`, 'b.yaml')]);
  t.after(() => b.stop('SIGKILL'));
  await waitFor(() => sub.batches.some((x) => x.readings.some((r) => r.source === 'new')), 15_000, 'backlog, then new data');
  assert.equal(await b.stop(), 0);
  const old = sub.batches.flatMap((x) => x.readings.filter((r) => r.source === 'old').map((r) => r.value));
  assert.deepEqual(old, [...Array(before.readings).keys()], 'every reading queued under the old config, in order');
  assert.ok(sub.messages.every((m) => m.payload[0] === 0x1f), 'sent with the new encoding');
  const seqs = sub.batches.map((x) => x.seq);
  assert.equal(seqs[0], before.firstSeq);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1]);
});
