/**
 * End to end: sim source -> pipeline (none) -> SQLite outbox -> mosquitto (QoS 1) -> subscriber.
 * Figure: readings/s arriving at a subscriber while the daemon is offered more than it can send,
 * and the daemon's RSS. Baseline in the same run: raw mqtt.js publishing batches of the same size
 * and shape from memory with the same in-flight window, to the same broker and subscriber.
 *
 *   node --import tsx bench/e2e.ts [--seconds 20]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { startBroker } from '../test/helpers/broker.js';
import { BUNDLE, unitNodeFlags } from './lib/daemon.js';
import { cpuMs, round, sampleRss } from './lib/proc.js';
import { report } from './lib/report.js';
import { countingSubscriber } from './lib/subscriber.js';

const SECONDS = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 20;
const WARMUP_MS = 3000;
const BATCH = 500;
const INFLIGHT = 16;
const BURST = Number(process.argv[process.argv.indexOf("--burst") + 1]) || 600;

async function measure(sub: { readings: number }, ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const r0 = sub.readings;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return ((sub.readings - r0) * 1000) / (performance.now() - t0);
}

async function daemonRun(url: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-bench-'));
  const points = Array.from({ length: 10 }, (_, i) => `      - { name: p${i}, wave: counter }`).join('\n');
  fs.writeFileSync(path.join(dir, 'config.yaml'), `
agent: { id: bench-e2e, dataDir: ${dir}/data, logLevel: warn }
uplink:
  mqtt: { url: "${url}", qos: 1, inflight: ${INFLIGHT} }
  batch: { maxReadings: ${BATCH}, maxDelay: 1s }
buffer: { maxBytes: 2GiB, flushInterval: 1s }
sources:
  - id: gen
    driver: sim
    pollInterval: 10ms
    burst: ${BURST}
    points:
${points}
control: { socket: ${dir}/agent.sock }
`);
  const sub = await countingSubscriber(url, 'edge/bench-e2e/data');
  const proc = spawn(process.execPath, [...unitNodeFlags(), BUNDLE, 'run', '--config', path.join(dir, 'config.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const rss = sampleRss(proc.pid!);
  const cpu0 = cpuMs(proc.pid!);
  const t0 = performance.now();
  const rate = await measure(sub, SECONDS * 1000);
  const cpu = ((cpuMs(proc.pid!) - cpu0) / (performance.now() - t0)) * 100;
  const mem = rss.stop();
  proc.kill('SIGKILL');
  await sub.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { readingsPerSecond: Math.round(rate), cpuPercentOfOneCore: round(cpu), rssMeanMiB: mem.meanMiB, rssMaxMiB: mem.maxMiB };
}

async function rawRun(url: string) {
  const sub = await countingSubscriber(url, 'edge/bench-raw/data');
  const pub = await mqtt.connectAsync(url, { clean: true });
  // Same document shape and size as the daemon's batches.
  const now = Date.now();
  const readings = Array.from({ length: BATCH }, (_, i) => ({ source: 'gen', point: `p${i % 10}`, ts: now + i, value: i }));
  let seq = 0;
  let inflight = 0;
  let stop = false;
  const pump = () => {
    while (!stop && inflight < INFLIGHT) {
      inflight++;
      const payload = JSON.stringify({ agent: 'bench-raw', seq: ++seq, ts: Date.now(), readings });
      pub.publish('edge/bench-raw/data', payload, { qos: 1 }, () => { inflight--; pump(); });
    }
  };
  pump();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const rate = await measure(sub, SECONDS * 1000);
  const cpu = process.cpuUsage(cpu0);
  stop = true;
  const elapsed = performance.now() - t0;
  await pub.endAsync();
  await sub.close();
  // The bench process also runs the subscriber here, so its CPU is an upper bound for the publisher.
  return { readingsPerSecond: Math.round(rate), cpuPercentOfOneCoreInclSubscriber: round(((cpu.user + cpu.system) / 1000 / elapsed) * 100) };
}

const broker = await startBroker();
try {
  const raw = await rawRun(broker.url);
  const daemon = await daemonRun(broker.url);
  report('e2e', {
    scenario: `sim (10 points x ${BURST} per 10 ms offered) -> outbox -> ${broker.kind} QoS1, batches of ${BATCH}, ${INFLIGHT} in flight, ${SECONDS} s after ${WARMUP_MS / 1000} s warm-up`,
    figures: daemon,
    baseline: { what: 'raw mqtt.js publishing the same batches from memory', ...raw },
    ratio: round(daemon.readingsPerSecond / raw.readingsPerSecond, 2),
  });
} finally {
  await broker.stop();
}
