// Start-to-first-publish: spawn the bundle exactly as the unit's ExecStart does (node flags
// included) against a local mosquitto, and time spawn -> first data batch received by a
// subscriber. Also samples the daemon's RSS once it has run a few seconds (MemoryMax sizing).
//   node --import tsx scripts/measure-start.ts [runs]
import fs from 'node:fs';
import { startBroker } from '../test/helpers/broker.js';
import { collect, spawnDaemon, tempDir, writeConfig } from '../test/helpers/daemon.js';
import { waitFor } from '../test/helpers/source-context.js';
import { execStartArgv } from '../test/systemd/exec-start.js';

const runs = Number(process.argv[2] ?? 5);
const broker = await startBroker();
const sub = await collect(broker.url);
const times: number[] = [];
const startedAt: number[] = [];
const rss: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = tempDir('edge-measure-');
  const cfg = writeConfig(dir, `
agent: { id: measure-${i}, dataDir: ${dir}/data }
uplink: { mqtt: { url: "${broker.url}" }, batch: { maxDelay: 1s } }
sources:
  - { id: gen, driver: sim, pollInterval: 100ms, points: [{ name: n, wave: counter }, { name: s, wave: sine }] }
control: { socket: ${dir}/agent.sock }
`);
  const { cmd, argv: all } = execStartArgv(cfg);
  const argv = process.env.NO_SOURCE_MAPS ? all.filter((a) => a !== '--enable-source-maps') : all;
  const before = sub.batches.length;
  const t0 = performance.now();
  const d = spawnDaemon(cmd, argv);
  await d.waitLog((l) => l.msg === 'edge-agent started', 30_000);
  startedAt.push(performance.now() - t0);
  await waitFor(() => sub.batches.slice(before).some((b) => b.agent === `measure-${i}`), 30_000, 'first batch');
  times.push(performance.now() - t0);
  await new Promise((r) => setTimeout(r, 5000));
  const status = fs.readFileSync(`/proc/${d.proc.pid}/status`, 'utf8');
  rss.push(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
  await d.stop();
}
await sub.close();
await broker.stop();
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`broker: ${broker.kind}; bundle: ${(fs.statSync('dist/edge-agent.mjs').size / 1024).toFixed(0)} KiB`);
console.log(`start-to-first-publish over ${runs} runs: median ${med(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}); batch.maxDelay 1s`);
console.log(`spawn to 'edge-agent started' (config loaded, outbox open, sources started): median ${med(startedAt).toFixed(0)} ms`);
console.log(`RSS after 5 s: median ${med(rss).toFixed(1)} MiB (max ${Math.max(...rss).toFixed(1)})`);
