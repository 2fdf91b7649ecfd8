import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { freePort, sleep } from '../helpers/system.js';
import { waitFor } from '../helpers/source-context.js';

const FLUSH_MS = 500;
const POLL_MS = 10;
// Timer lateness on a loaded 2-core machine; the bound checked is flushInterval + this.
const SLACK_MS = 500;

function config(data: string, url: string, source?: string): string {
  return `
agent: { id: cut-board, dataDir: ${data} }
uplink:
  mqtt: { url: "${url}", reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: 100, maxDelay: ${FLUSH_MS}ms }
buffer: { flushInterval: ${FLUSH_MS}ms }
sources:
${source ? `  - { id: ${source}, driver: sim, pollInterval: ${POLL_MS}ms, points: [ { name: n, wave: counter } ] }` : '  []'}
`;
}

interface Row { seq: number; payload: Buffer }
type R = { source: string; ts: number; value: number };

function readOutbox(file: string): { integrity: string; readings: R[]; seqs: number[] } {
  const db = new Database(file);
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[])[0].integrity_check;
    const rows = db.prepare('SELECT seq, payload FROM batches ORDER BY seq').all() as Row[];
    return { integrity, seqs: rows.map((r) => r.seq), readings: rows.flatMap((r) => JSON.parse(r.payload.toString()).readings as R[]) };
  } finally {
    db.close();
  }
}

test('SIGKILL mid-run, four times: outbox never corrupt, loss <= flushInterval x rate, seq never reused', { timeout: 60_000 }, async (t) => {
  const port = await freePort(); // broker down during the runs: everything stays in the outbox
  const url = `mqtt://127.0.0.1:${port}`;
  const dir = tempDir();
  const data = `${dir}/data`;
  const rate = 1000 / POLL_MS;
  for (let run = 0; run < 4; run++) {
    const source = `run${run}`;
    const d = startDaemon(['run', '--config', writeConfig(dir, config(data, url, source), `${source}.yaml`)]);
    t.after(() => d.stop('SIGKILL'));
    await d.waitLog((l) => l.msg === 'edge-agent started');
    await sleep(1200 + Math.random() * 1500); // kill at an arbitrary point, not aligned to a flush
    const killedAt = Date.now();
    d.proc.kill('SIGKILL');
    await d.exited;

    const o = readOutbox(`${data}/outbox.db`);
    assert.equal(o.integrity, 'ok', `run ${run}: integrity_check`);
    const mine = o.readings.filter((r) => r.source === source);
    assert.ok(mine.length > 20, `run ${run}: ${mine.length} readings stored`);
    // Nothing lost in the middle: the counter is contiguous from 0.
    mine.forEach((r, i) => assert.equal(r.value, i, `run ${run}: reading ${i}`));
    const gapMs = killedAt - mine.at(-1)!.ts;
    const lost = Math.max(0, Math.round(gapMs / POLL_MS) - 1);
    t.diagnostic(`run ${run}: stored ${mine.length}, last stored ${gapMs} ms before the kill (~${lost} readings lost; bound ${FLUSH_MS} ms = ${(FLUSH_MS / 1000) * rate})`);
    assert.ok(gapMs <= FLUSH_MS + SLACK_MS, `run ${run}: lost ${gapMs} ms of acquisitions > flushInterval ${FLUSH_MS} ms (+${SLACK_MS} ms slack)`);
    for (let i = 1; i < o.seqs.length; i++) assert.ok(o.seqs[i] > o.seqs[i - 1]);
  }
  const stored = readOutbox(`${data}/outbox.db`);

  // After the power cuts, the outbox drains in full, seq strictly increasing.
  const broker = await startBroker({ port });
  t.after(() => broker.stop());
  const sub = await collect(broker.url, 'edge/cut-board/data');
  t.after(() => sub.close());
  const d = startDaemon(['run', '--config', writeConfig(dir, config(data, url), 'drain.yaml')]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => sub.batches.reduce((n, b) => n + b.readings.length, 0) >= stored.readings.length, 20_000, 'drain');
  assert.equal(await d.stop(), 0);
  assert.deepEqual(sub.batches.map((b) => b.seq), stored.seqs, 'every stored batch, once, in seq order');
  assert.deepEqual(sub.batches.flatMap((b) => b.readings), stored.readings);
});
