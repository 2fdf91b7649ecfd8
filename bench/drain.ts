/**
 * bench/drain: 1,000,000 readings queued offline, then the broker comes back.
 * Measures, on the BUILT daemon (dist/edge-agent.mjs) with a live sim source running:
 *  - drain rate (readings/s from the first batch at the subscriber to the last backlog batch),
 *  - RSS of the daemon before (steady, offline) and during the drain,
 *  - bytes written to disk per drained reading (/proc/<pid>/io write_bytes),
 * and, as a baseline, raw mqtt.js publishing the same batches from memory with the same QoS and
 * in-flight window. Prints ONE JSON object as the last stdout line.
 * Usage: node --import tsx bench/drain.ts [readings=1000000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { Outbox } from '../agent/outbox/outbox.js';
import { silentLogger } from '../core/log.js';
import { startBroker } from '../test/helpers/broker.js';
import { freePort, sleep } from '../test/helpers/system.js';

const N = Number(process.argv[2] ?? 1_000_000);
const AGENT = 'bench-drain';
const BATCH = 500;
const INFLIGHT = 16;
const REPO = path.resolve(import.meta.dirname, '..');
const BUNDLE = path.join(REPO, 'dist', 'edge-agent.mjs');
const log = (m: string) => process.stderr.write(`# ${m}\n`);

function procStat(pid: number) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
  return {
    rss: Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024,
    writeBytes: Number(/write_bytes: (\d+)/.exec(io)![1]),
  };
}

async function main() {
  if (!fs.existsSync(BUNDLE)) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO, stdio: 'inherit' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-bench-drain-'));
  const data = path.join(dir, 'data');

  // 1. Queue N readings offline, exactly as the daemon's outbox would (same class, same schema).
  let t = performance.now();
  const o = new Outbox({ agentId: AGENT, dataDir: data, maxBytes: 2 ** 40, overflow: 'drop-oldest', batch: { maxReadings: BATCH, maxBytes: 256 * 1024 }, log: silentLogger });
  const t0 = Date.now() - N;
  for (let i = 0; i < N; i++) {
    o.add({ source: 'plant', point: `p${i % 20}`, ts: t0 + i, value: Math.round(Math.sin(i / 100) * 10_000) / 100 });
    if (i % 50_000 === 49_999) o.flush();
  }
  o.flush();
  const lastSeq = o.stats().nextSeq - 1;
  const backlogBytes = o.stats().payloadBytes;
  if (o.stats().readings !== N) throw new Error(`prefill stored ${o.stats().readings} of ${N} readings`);
  o.close();
  log(`queued ${N} readings in ${lastSeq} batches (${(backlogBytes / 1e6).toFixed(1)} MB payload) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // The baseline publishes these same batches later, from memory.
  const db = new Database(path.join(data, 'outbox.db'), { readonly: true });
  const payloads = (db.prepare('SELECT payload FROM batches ORDER BY seq').all() as { payload: Buffer }[]).map((r) => r.payload);
  db.close();

  // 2. Daemon up with the broker down: a live source runs, RSS settles.
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const cfg = path.join(dir, 'config.yaml');
  fs.writeFileSync(cfg, `
agent: { id: ${AGENT}, dataDir: ${data}, logLevel: warn }
uplink:
  mqtt: { url: "${url}", qos: 1, inflight: ${INFLIGHT}, reconnectMin: 100ms, reconnectMax: 300ms }
  batch: { maxReadings: ${BATCH}, maxDelay: 1s }
${process.env.BENCH_RATE ? `  maxBytesPerSecond: ${process.env.BENCH_RATE}` : ''}
buffer: { maxBytes: 1GiB, flushInterval: 1s }
sources:
  - id: live
    driver: sim
    pollInterval: 100ms
    points: [ ${Array.from({ length: 10 }, (_, i) => `{ name: l${i}, wave: counter }`).join(', ')} ]
`);
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const daemon = spawn(process.execPath, [...nodeFlags, BUNDLE, 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => daemon.once('exit', () => r()));
  await sleep(4000);
  const before = procStat(daemon.pid!);
  log(`daemon offline: RSS ${(before.rss / 2 ** 20).toFixed(1)} MiB`);

  // 3. Broker back; a subscriber counts what arrives.
  const broker = await startBroker({ port });
  const sub = mqtt.connect(url, { clientId: 'bench-sub' });
  await new Promise<void>((r) => sub.once('connect', () => sub.subscribe(`edge/${AGENT}/data`, { qos: 1 }, () => r())));
  let first = 0;
  let lastBacklogAt = 0;
  let msgs = 0;
  let bytes = 0;
  let liveDuringDrain = 0;
  const seqRe = /"seq":(\d+)/;
  sub.on('message', (_t, p) => {
    const now = performance.now();
    if (!first) first = now;
    msgs++;
    bytes += p.length;
    const seq = Number(seqRe.exec(p.subarray(0, 64).toString('latin1'))![1]);
    if (seq === lastSeq) lastBacklogAt = now;
    else if (seq > lastSeq && !lastBacklogAt) liveDuringDrain++;
  });
  // The daemon reconnects on its own backoff; sample RSS and disk writes until the backlog is through.
  let peakRss = before.rss;
  const startIo = procStat(daemon.pid!).writeBytes;
  const giveUp = performance.now() + 300_000;
  while (!lastBacklogAt) {
    peakRss = Math.max(peakRss, procStat(daemon.pid!).rss);
    if (performance.now() > giveUp) {
      daemon.kill('SIGKILL');
      await broker.stop();
      throw new Error(`backlog not drained in 300 s (${msgs} messages so far)`);
    }
    await sleep(50);
  }
  const drainMs = lastBacklogAt - first;
  await sleep(1500); // the acks' deletions are committed by the next flushes
  const after = procStat(daemon.pid!);
  const written = after.writeBytes - startIo;
  const live: number[] = [];
  const liveSeen = new Promise<void>((r) => {
    const h = (_t: string, p: Buffer) => {
      live.push(Number(seqRe.exec(p.subarray(0, 64).toString('latin1'))![1]));
      if (live.length >= 2) { sub.off('message', h); r(); }
    };
    sub.on('message', h);
  });
  await Promise.race([liveSeen, sleep(5000)]);
  daemon.kill('SIGTERM');
  await exited;
  const figures = {
    readings: N,
    batches: lastSeq,
    drainSeconds: +(drainMs / 1000).toFixed(3),
    readingsPerSecond: Math.round(N / (drainMs / 1000)),
    mbPerSecond: +(backlogBytes / 1e6 / (drainMs / 1000)).toFixed(1),
    rssBeforeMiB: +(before.rss / 2 ** 20).toFixed(1),
    rssPeakMiB: +(peakRss / 2 ** 20).toFixed(1),
    rssGrowthMiB: +((peakRss - before.rss) / 2 ** 20).toFixed(1),
    diskBytesWrittenPerReading: +(written / N).toFixed(2),
    liveBatchesDuringDrain: liveDuringDrain,
    liveBatchesAfterDrain: live.length,
    broker: broker.kind,
  };
  log(`daemon: ${JSON.stringify(figures)}`);

  // 4. Baseline: raw mqtt.js, same batches from memory, same QoS 1 and in-flight window.
  const raw = mqtt.connect(url, { clientId: 'bench-raw' });
  await new Promise<void>((r) => raw.once('connect', () => r()));
  let base = { first: 0, last: 0, got: 0 };
  const expect = payloads.length;
  const done = new Promise<void>((resolve) => {
    sub.removeAllListeners('message');
    sub.on('message', () => {
      const now = performance.now();
      if (!base.first) base.first = now;
      if (++base.got === expect) { base.last = now; resolve(); }
    });
  });
  t = performance.now();
  let nextI = 0;
  let acked = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (nextI < payloads.length && nextI - acked < INFLIGHT) {
        raw.publish(`edge/${AGENT}/data`, payloads[nextI++], { qos: 1 }, () => {
          acked++;
          if (acked === payloads.length) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await done;
  const baseMs = base.last - base.first;
  const baseline = { readingsPerSecond: Math.round(N / (baseMs / 1000)), drainSeconds: +(baseMs / 1000).toFixed(3), publisherSeconds: +((performance.now() - t) / 1000).toFixed(3) };
  log(`baseline raw mqtt.js: ${JSON.stringify(baseline)}`);
  await new Promise<void>((r) => raw.end(false, {}, () => r()));
  await new Promise<void>((r) => sub.end(false, {}, () => r()));
  await broker.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ name: 'drain', figures, baseline }));
}

await main();
