/**
 * What a Pi operator asks about, with sim sources (no hardware): start-up time, disk bytes written
 * per reading, and memory while a large backlog sits in the outbox. The daemon runs from the bundle
 * with the systemd unit's Node flags. Baselines in the same run: `node -e 0` start time, the
 * encoded payload bytes per reading, and the idle daemon's RSS with an empty outbox.
 *
 *   node --import tsx bench/footprint.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startBroker } from '../test/helpers/broker.js';
import { benchDir, startDaemon, stopDaemon, unitNodeFlags } from './lib/daemon.js';
import { round, sampleRss, writeBytes } from './lib/proc.js';
import { report } from './lib/report.js';
import { countingSubscriber } from './lib/subscriber.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function sources(points: number, everyMs: number, burst = 1): string {
  return `sources:
  - id: gen
    driver: sim
    pollInterval: ${everyMs}ms
    burst: ${burst}
    points:
${Array.from({ length: points }, (_, i) => `      - { name: p${i}, wave: walk, min: 0, max: 100 }`).join('\n')}`;
}

function writeConfig(dir: string, url: string, body: string, extra = ''): string {
  const f = path.join(dir, 'config.yaml');
  fs.writeFileSync(f, `agent: { id: bench-fp, dataDir: ${dir}/data, logLevel: warn }
uplink:
  mqtt: { url: "${url}", qos: 1, reconnectMin: 100ms, reconnectMax: 1s }
${extra}
${body}
control: { socket: ${dir}/agent.sock }
`);
  return f;
}

/** Process start to the first batch at the subscriber (the broker acked it before forwarding). */
async function startTime(url: string) {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const dir = benchDir();
    const cfg = writeConfig(dir, url, sources(10, 100));
    const sub = await countingSubscriber(url, 'edge/bench-fp/data');
    const t0 = performance.now();
    const p = startDaemon(cfg);
    while (!sub.first && performance.now() - t0 < 10_000) await sleep(2);
    runs.push(sub.first - t0);
    await stopDaemon(p);
    await sub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const bare: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await new Promise((r) => spawn(process.execPath, ['-e', '0']).once('exit', r));
    bare.push(performance.now() - t0);
  }
  return { firstBatchMs: round(median(runs)), runsMs: runs.map((x) => round(x)), nodeBareStartMs: round(median(bare)) };
}

/** Bytes written to storage per reading at a typical rate (1,000 readings/s), WAL included. */
async function disk(url: string, seconds = 30) {
  const dir = benchDir(); // on the real disk (ext4 here), not tmpfs, so write_bytes counts
  const cfg = writeConfig(dir, url, sources(100, 100));
  const sub = await countingSubscriber(url, 'edge/bench-fp/data');
  const p = startDaemon(cfg);
  await sleep(3000);
  const w0 = writeBytes(p.pid!);
  const r0 = sub.readings;
  const b0 = sub.bytes;
  await sleep(seconds * 1000);
  const w = writeBytes(p.pid!) - w0;
  const n = sub.readings - r0;
  const payload = sub.bytes - b0;
  await stopDaemon(p);
  await sub.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { readings: n, writtenBytesPerReading: round(w / n), payloadBytesPerReading: round(payload / n), ratio: round(w / payload, 2) };
}

/** RSS while 1,000,000 readings wait in the outbox (broker unreachable), a 1,000/s source still running. */
async function backlog() {
  const dir = benchDir();
  const dead = 'mqtt://127.0.0.1:9'; // discard port: nothing listens
  // Fill: a fast source until 1,000,000 readings are stored, then a clean stop.
  const fill = startDaemon(writeConfig(dir, dead, sources(10, 10, 100), 'buffer: { maxBytes: 1GiB }'));
  const { bufferStats } = await import('../agent/cli/buffer.js');
  const stored = () => { try { return bufferStats(`${dir}/data`).readings as number; } catch { return 0; } };
  while (stored() < 1_000_000) await sleep(200);
  await stopDaemon(fill);
  const queued = stored();
  // Measure: the same data dir, a typical source, broker still down.
  const p = startDaemon(writeConfig(dir, dead, sources(100, 100), 'buffer: { maxBytes: 1GiB }'));
  await sleep(3000);
  const rss = sampleRss(p.pid!, 200);
  await sleep(15_000);
  const withBacklog = rss.stop();
  await stopDaemon(p);
  // Baseline: the same daemon and load with an empty outbox.
  const dir2 = benchDir();
  const p2 = startDaemon(writeConfig(dir2, dead, sources(100, 100)));
  await sleep(3000);
  const rss2 = sampleRss(p2.pid!, 200);
  await sleep(15_000);
  const empty = rss2.stop();
  await stopDaemon(p2);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(dir2, { recursive: true, force: true });
  return { queuedReadings: queued, rssMeanMiB: withBacklog.meanMiB, rssMaxMiB: withBacklog.maxMiB, emptyOutboxRssMeanMiB: empty.meanMiB, emptyOutboxRssMaxMiB: empty.maxMiB };
}

const broker = await startBroker();
try {
  if (process.argv.includes('--start-only')) {
    console.log(JSON.stringify(await startTime(broker.url)));
  } else await all();
} finally {
  await broker.stop();
}

async function all() {
  const start = await startTime(broker.url);
  const d = await disk(broker.url);
  const b = await backlog();
  report('footprint', {
    nodeFlags: unitNodeFlags(),
    figures: {
      startToFirstBatchMs: start.firstBatchMs,
      diskBytesPerReading: d.writtenBytesPerReading,
      diskToPayloadRatio: d.ratio,
      backlogRssMaxMiB: b.rssMaxMiB,
    },
    baseline: {
      nodeBareStartMs: start.nodeBareStartMs,
      payloadBytesPerReading: d.payloadBytesPerReading,
      emptyOutboxRssMaxMiB: b.emptyOutboxRssMaxMiB,
    },
    detail: { start, disk: d, backlog: b },
  });
}
