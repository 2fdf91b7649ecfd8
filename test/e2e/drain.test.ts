import { test } from 'node:test';
import fs from 'node:fs';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, requireTool } from '../helpers/system.js';
import assert from 'node:assert/strict';
import { Outbox } from '../../agent/outbox/outbox.js';
import { silentLogger } from '../../core/log.js';
import { startBroker } from '../helpers/broker.js';
import { collect, startDaemon, tempDir, writeConfig } from '../helpers/daemon.js';
import { waitFor } from '../helpers/source-context.js';
import { bufferStats } from '../../agent/cli/buffer.js';

/** Queues `n` numbered readings of source "old" as an offline daemon would have (same schema, same class). */
function prefill(data: string, n: number, maxReadings = 500): { lastSeq: number; firstTs: number } {
  const o = new Outbox({ agentId: 'drain-board', dataDir: data, maxBytes: 1 << 30, overflow: 'drop-oldest', batch: { maxReadings, maxBytes: 256 * 1024 }, log: silentLogger });
  const t0 = Date.now() - n; // one reading per ms, ending now
  for (let i = 0; i < n; i++) {
    o.add({ source: 'old', point: 'n', ts: t0 + i, value: i });
    if (i % 10_000 === 9_999) o.flush();
  }
  o.flush();
  const lastSeq = o.stats().nextSeq - 1;
  o.close();
  return { lastSeq, firstTs: t0 };
}

function config(data: string, url: string, extra: { live?: boolean; encoding?: string; rate?: number; maxBytes?: string } = {}): string {
  return `
agent: { id: drain-board, dataDir: ${data} }
uplink:
  mqtt: { url: "${url}", reconnectMin: 100ms, reconnectMax: 500ms }
  batch: { maxReadings: 500, maxDelay: 200ms, encoding: ${extra.encoding ?? 'json'}${extra.maxBytes ? `, maxBytes: ${extra.maxBytes}` : ''} }
${extra.rate ? `  maxBytesPerSecond: ${extra.rate}` : ''}
buffer: { flushInterval: 200ms }
sources:
${extra.live ? '  - { id: live, driver: sim, pollInterval: 10ms, points: [ { name: n, wave: counter } ] }' : '  []'}
`;
}

test('drain after an outage: oldest first, fast, while live readings keep being acquired and follow', { timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  const data = `${dir}/data`;
  const N = 100_000;
  const { lastSeq } = prefill(data, N);
  const broker = await startBroker();
  t.after(() => broker.stop());
  const sub = await collect(broker.url, 'edge/drain-board/data');
  t.after(() => sub.close());
  const arrivals: number[] = [];
  sub.client.on('message', () => arrivals.push(performance.now()));
  const d = startDaemon(['run', '--config', writeConfig(dir, config(data, broker.url, { live: true }))]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => sub.batches.some((b) => b.seq === lastSeq), 30_000, 'the whole backlog');
  const drainMs = arrivals[sub.batches.findIndex((b) => b.seq === lastSeq)] - arrivals[0];
  const liveCount = () => sub.batches.reduce((n, b) => n + b.readings.filter((r) => r.source === 'live').length, 0);
  await waitFor(() => liveCount() >= 100, 10_000, 'live readings after the backlog');
  assert.equal(await d.stop(), 0);

  const seqs = sub.batches.map((b) => b.seq);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], 'batches leave oldest first');
  const old = sub.batches.flatMap((b) => b.readings.filter((r) => r.source === 'old').map((r) => r.value as number));
  assert.equal(old.length, N);
  old.forEach((v, i) => assert.equal(v, i));
  const rate = N / (drainMs / 1000);
  t.diagnostic(`drained ${N} readings in ${drainMs.toFixed(0)} ms: ${Math.round(rate)} readings/s (bench/drain.ts measures 1,000,000)`);
  assert.ok(rate > 10_000, `drain rate ${Math.round(rate)} readings/s`);

  // Live acquisition never stalled while the backlog drained: the live counter is contiguous and
  // consecutive readings are never far apart in acquisition time (10 ms nominal).
  const live = sub.batches.flatMap((b) => b.readings.filter((r) => r.source === 'live'));
  assert.ok(live.length > 50);
  live.forEach((r, i) => assert.equal(r.value, i));
  const maxGap = Math.max(...live.slice(1).map((r, i) => r.ts - live[i].ts));
  t.diagnostic(`live readings ${live.length}, largest acquisition gap ${maxGap} ms`);
  assert.ok(maxGap < 500, `live acquisition gap ${maxGap} ms during the drain`);
});

/**
 * A mosquitto whose listeners can change between restarts while keeping its persistence file:
 * the agent talks to 127.0.0.1:port, the test's subscriber to 127.0.0.2:port.
 */
function mosquittoWithLoopbacks(port: number) {
  const dir = tempDir('edge-mosq2-');
  fs.chmodSync(dir, 0o777); // mosquitto started as root drops to its own user, then saves here
  let proc: ChildProcess | undefined;
  return {
    async start(listeners: string[]) {
      fs.writeFileSync(`${dir}/m.conf`, listeners.map((a) => `listener ${port} ${a}\n`).join('') + `allow_anonymous true\npersistence true\npersistence_location ${dir}/\nmax_queued_messages 0\n`);
      proc = spawn('mosquitto', ['-c', `${dir}/m.conf`], { stdio: 'ignore' });
      await waitUntilListening(listeners, port);
    },
    async stop(signal: NodeJS.Signals) {
      const p = proc!;
      if (p.exitCode !== null || p.signalCode !== null) return;
      await new Promise<void>((r) => { p.once('exit', () => r()); p.kill(signal); });
    },
    get pid() { return proc?.pid; },
  };
}

async function waitUntilListening(hosts: string[], port: number): Promise<void> {
  for (const h of hosts) {
    const end = Date.now() + 5000;
    for (;;) {
      const ok = await new Promise<boolean>((r) => {
        const s = net.connect(port, h);
        s.once('connect', () => { s.destroy(); r(true); });
        s.once('error', () => r(false));
      });
      if (ok) break;
      if (Date.now() > end) throw new Error(`mosquitto not listening on ${h}:${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

test('broker frozen then killed mid-drain: the unacknowledged window is resent from the outbox and the drain completes', { timeout: 60_000 }, async (t) => {
  if (!requireTool('mosquitto', 'mosquitto')) return t.skip('needs mosquitto (a process to freeze)');
  const dir = tempDir();
  const data = `${dir}/data`;
  const { lastSeq } = prefill(data, 50_000, 100);
  const port = await freePort();
  const m = mosquittoWithLoopbacks(port);
  await m.start(['127.0.0.1', '127.0.0.2']);
  t.after(() => m.stop('SIGKILL'));
  const sub = await collect(`mqtt://127.0.0.2:${port}`, 'edge/drain-board/data', { clientId: 'drain-test-sub', clean: false });
  t.after(() => sub.close());
  const d = startDaemon(['run', '--config', writeConfig(dir, config(data, `mqtt://127.0.0.1:${port}`))]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => sub.batches.length >= 3, 15_000, 'drain under way');
  // Freeze the broker so the in-flight window fills and is never acknowledged, then crash it.
  process.kill(m.pid!, 'SIGSTOP');
  await new Promise((r) => setTimeout(r, 500));
  await m.stop('SIGKILL');
  const disc = await d.waitLog((l) => l.msg === 'uplink disconnected; batches stay in the outbox');
  t.diagnostic(`in flight at the crash: ${disc.inflight}, resend from seq ${disc.resendFromSeq}`);
  assert.ok((disc.inflight as number) > 0, 'the crash caught batches in flight');
  const from = disc.resendFromSeq as number;
  // The subscriber re-registers its session on a broker the agent cannot reach yet, the broker
  // saves it (SIGTERM), and comes back on both addresses: nothing the agent resends can miss it.
  await m.start(['127.0.0.2']);
  await new Promise<void>((r) => sub.client.once('connect', () => r()));
  await new Promise((r) => setTimeout(r, 300)); // resubscribe round trip
  await m.stop('SIGTERM');
  const before = sub.batches.length;
  await m.start(['127.0.0.1', '127.0.0.2']);
  await waitFor(() => sub.batches.some((b) => b.seq === lastSeq), 30_000, 'the last batch after the restart');
  await waitFor(() => bufferStats(data).readings === 0, 10_000, 'outbox empty');
  assert.equal(await d.stop(), 0);
  // After the reconnect the drain resumed at the oldest unacknowledged batch, with its original seq.
  const after = sub.batches.slice(before).map((b) => b.seq);
  assert.equal(after[0], from, 'first batch after the reconnect is the oldest unacknowledged one');
  assert.deepEqual(after, Array.from({ length: lastSeq - from + 1 }, (_, i) => from + i), 'then every later batch once, in order');
});

test('json+gzip: the subscriber gunzips the SPEC document', { timeout: 30_000 }, async (t) => {
  const dir = tempDir();
  const data = `${dir}/data`;
  prefill(data, 2000);
  const broker = await startBroker();
  t.after(() => broker.stop());
  const sub = await collect(broker.url, 'edge/drain-board/data');
  t.after(() => sub.close());
  const d = startDaemon(['run', '--config', writeConfig(dir, config(data, broker.url, { encoding: 'json+gzip' }))]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => sub.batches.length >= 4, 15_000, 'gzip batches');
  assert.equal(await d.stop(), 0);
  for (const m of sub.messages) assert.deepEqual([...m.payload.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
  const json = sub.batches.reduce((n, b) => n + JSON.stringify(b).length, 0);
  const wire = sub.messages.reduce((n, m) => n + m.payload.length, 0);
  t.diagnostic(`gzip: ${wire} bytes on the wire for ${json} bytes of JSON (${((100 * wire) / json).toFixed(1)}%)`);
  assert.ok(wire < json / 3);
  assert.deepEqual(sub.batches.flatMap((b) => b.readings.map((r) => r.value)), [...Array(2000).keys()]);
  assert.equal(sub.batches[0].agent, 'drain-board');
});

test('uplink.maxBytesPerSecond caps the bytes the subscriber sees per second', { timeout: 40_000 }, async (t) => {
  const dir = tempDir();
  const data = `${dir}/data`;
  const RATE = 40_000;
  prefill(data, 4000, 50); // ~280 KB of JSON: about 7 s at 40 KB/s
  const broker = await startBroker();
  t.after(() => broker.stop());
  const sub = await collect(broker.url, 'edge/drain-board/data');
  t.after(() => sub.close());
  const arrivals: { at: number; bytes: number }[] = [];
  sub.client.on('message', (_t, p) => arrivals.push({ at: performance.now(), bytes: p.length }));
  const d = startDaemon(['run', '--config', writeConfig(dir, config(data, broker.url, { rate: RATE, maxBytes: '4KiB' }))]);
  t.after(() => d.stop('SIGKILL'));
  await waitFor(() => arrivals.length >= 40 && arrivals.at(-1)!.at - arrivals[0].at > 5000, 30_000, '5 s of rate-limited traffic');
  assert.equal(await d.stop(), 0);
  // The bucket starts full (burst = max(rate, batch.maxBytes)); after that, bytes <= rate x time.
  const burst = RATE;
  const t0 = arrivals[0].at;
  let total = 0;
  for (const a of arrivals) {
    total += a.bytes;
    const allowed = burst + (RATE * (a.at - t0)) / 1000;
    assert.ok(total <= allowed * 1.05, `${total} bytes by ${(a.at - t0).toFixed(0)} ms > ${allowed.toFixed(0)}`);
  }
  const secs = (arrivals.at(-1)!.at - t0) / 1000;
  const sustained = (total - burst) / secs;
  t.diagnostic(`sustained ${Math.round(sustained)} B/s for a limit of ${RATE} B/s over ${secs.toFixed(1)} s`);
  assert.ok(sustained > RATE * 0.6 && sustained < RATE * 1.1, `sustained ${Math.round(sustained)} B/s`);
});
