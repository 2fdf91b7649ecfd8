/**
 * Issue 9's load scenarios, against third-party peers on loopback (pymodbus slave, mosquitto),
 * with the daemon run from the bundle with the systemd unit's Node flags:
 *  - typical: 100 Modbus TCP holding registers polled at 10 Hz through filter(deadband) and dedupe
 *    to mosquitto for 60 s: CPU % of one core, RSS mean and max. Baseline in the same run: a raw
 *    modbus-serial loop making the same 10 requests/s in its own Node process (the least any
 *    Node poller costs).
 *  - peak: sim -> filter -> dedupe -> aggregate -> outbox -> mosquitto QoS 1 for 30 s: readings/s
 *    sustained (read from the daemon's own counters over the control socket) and RSS. Baseline:
 *    the same daemon with no stages (sim -> outbox -> mosquitto).
 *
 *   node --import tsx bench/budget.ts [--typical-seconds 60] [--peak-seconds 30]
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { startBroker } from '../test/helpers/broker.js';
import { freePort } from '../test/helpers/system.js';
import { havePymodbus, SLAVE_SCRIPT } from '../test/drivers/modbus/slave.js';
import { ask } from '../agent/cli/control-target.js';
import { benchDir, startDaemon, stopDaemon, unitNodeFlags, REPO } from './lib/daemon.js';
import { cpuMs, round, sampleRss } from './lib/proc.js';
import { report } from './lib/report.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const TYPICAL_S = arg('typical-seconds', 60);
const PEAK_S = arg('peak-seconds', 30);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU (% of one core) and RSS of a process over `ms`, after `warmMs`. */
async function watch(pid: number, warmMs: number, ms: number) {
  await sleep(warmMs);
  const rss = sampleRss(pid, 250);
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  await sleep(ms);
  const cpu = ((cpuMs(pid) - c0) / (performance.now() - t0)) * 100;
  return { cpuPercent: round(cpu, 2), ...rss.stop() };
}

async function startSlave(port: number, dir: string): Promise<ChildProcess> {
  // 100 holding registers with distinct values: the typical register map of a small PLC.
  const map = { size: 128, points: Array.from({ length: 100 }, (_, i) => ({ name: `r${i}`, table: 'holding', address: i, type: 'uint16', value: 1000 + i })) };
  const mapFile = path.join(dir, 'map.json');
  fs.writeFileSync(mapFile, JSON.stringify(map));
  const p = spawn('/usr/bin/python3', [SLAVE_SCRIPT, '--tcp', String(port), '--map', mapFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d) => { out += d; if (out.includes('READY')) resolve(); });
    p.once('exit', (c) => reject(new Error(`pymodbus slave exited ${c}`)));
  });
  return p;
}

async function typical(url: string) {
  if (!havePymodbus()) return { skipped: 'pymodbus (Debian python3-pymodbus) not installed', daemon: undefined, rawModbusSerialLoop: undefined };
  const dir = benchDir();
  const port = await freePort();
  const slave = await startSlave(port, dir);
  try {
    const cfg = path.join(dir, 'config.yaml');
    fs.writeFileSync(cfg, `agent: { id: bench-typical, dataDir: ${dir}/data, logLevel: warn }
uplink: { mqtt: { url: "${url}", qos: 1 } }
sources:
  - id: plc
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    unitId: 1
    pollInterval: 100ms
    timeout: 500ms
    points:
${Array.from({ length: 100 }, (_, i) => `      - { name: r${i}, table: holding, address: ${i}, type: uint16 }`).join('\n')}
pipelines:
  - match: "plc/*"
    stages:
      - filter: { deadband: 0.5 }
      - dedupe: { maxSilence: 60s }
control: { socket: ${dir}/agent.sock }
`);
    const d = startDaemon(cfg);
    const daemon = await watch(d.pid!, 5000, TYPICAL_S * 1000);
    const st = (await ask({ socket: `${dir}/agent.sock` }, 'status')) as { sources: { readings: number; errors: Record<string, number> }[] };
    await stopDaemon(d);
    // Baseline: the same 10 requests/s from a bare modbus-serial loop in its own process.
    const raw = spawn(process.execPath, ['-e', `
      const M = require('modbus-serial'); const c = new M();
      c.connectTCP('127.0.0.1', { port: ${port} }).then(() => { c.setID(1); c.setTimeout(500);
        setInterval(() => c.readHoldingRegisters(0, 100).catch(() => {}), 100); });`], { cwd: REPO, stdio: 'ignore' });
    const base = await watch(raw.pid!, 5000, TYPICAL_S * 1000);
    raw.kill();
    return { daemon, readings: st.sources[0]?.readings, errors: st.sources[0]?.errors, rawModbusSerialLoop: base };
  } finally {
    slave.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function peak(url: string, withStages: boolean) {
  const dir = benchDir();
  const cfg = path.join(dir, 'config.yaml');
  fs.writeFileSync(cfg, `agent: { id: bench-peak, dataDir: ${dir}/data, logLevel: warn }
uplink:
  mqtt: { url: "${url}", qos: 1 }
  batch: { maxReadings: 500 }
buffer: { maxBytes: 2GiB }
sources:
  - id: gen
    driver: sim
    pollInterval: 10ms
    burst: 400
    points:
${Array.from({ length: 10 }, (_, i) => `      - { name: p${i}, wave: counter }`).join('\n')}
pipelines:
  - match: "gen/*"
    stages:
${withStages ? `      - filter: { min: 0, deadband: 0.5 }
      - dedupe: { maxSilence: 60s }
      - aggregate: { window: 1s, functions: [min, max, mean, count] }` : '      []'}
control: { socket: ${dir}/agent.sock }
`);
  const d = startDaemon(cfg);
  const sock = { socket: `${dir}/agent.sock` };
  await sleep(4000);
  const produced = async () => ((await ask(sock, 'status')) as { sources: { readings: number }[] }).sources[0].readings;
  const rss = sampleRss(d.pid!, 250);
  const c0 = cpuMs(d.pid!);
  const r0 = await produced();
  const t0 = performance.now();
  await sleep(PEAK_S * 1000);
  const r1 = await produced();
  const el = performance.now() - t0;
  const cpu = ((cpuMs(d.pid!) - c0) / el) * 100;
  const mem = rss.stop();
  const st = (await ask(sock, 'status')) as { outbox: { readings: number; readingsIn: number; readingsSent: number } };
  await stopDaemon(d, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
  return { readingsPerSecond: Math.round(((r1 - r0) * 1000) / el), cpuPercent: round(cpu), rssMeanMiB: mem.meanMiB, rssMaxMiB: mem.maxMiB, outboxBacklogAtEnd: st.outbox.readings, outboxIn: st.outbox.readingsIn, sent: st.outbox.readingsSent };
}

const broker = await startBroker();
try {
  // --only typical|peak runs one scenario (for profiling); the report then has nulls for the other.
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : '';
  const none = { readingsPerSecond: null, rssMaxMiB: null };
  const t = only && only !== 'typical' ? { daemon: undefined, rawModbusSerialLoop: undefined } : await typical(broker.url);
  const p = only && only !== 'peak' ? none : await peak(broker.url, true);
  const p0 = only && only !== 'peak' ? none : await peak(broker.url, false);
  report('budget', {
    nodeFlags: unitNodeFlags(),
    figures: {
      typicalCpuPercent: t.daemon?.cpuPercent ?? null,
      typicalRssMaxMiB: t.daemon?.maxMiB ?? null,
      peakReadingsPerSecond: p.readingsPerSecond,
      peakRssMaxMiB: p.rssMaxMiB,
    },
    baseline: {
      rawModbusSerialLoopCpuPercent: t.rawModbusSerialLoop?.cpuPercent ?? null,
      rawModbusSerialLoopRssMaxMiB: t.rawModbusSerialLoop?.maxMiB ?? null,
      noStagesReadingsPerSecond: p0.readingsPerSecond,
    },
    detail: { typical: t, peak: p, peakWithoutStages: p0 },
  });
} finally {
  await broker.stop();
}
