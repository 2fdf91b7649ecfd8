// `npm start`: the whole loop with no hardware and no broker. Starts an embedded MQTT broker
// (aedes) unless --broker URL is given, runs the daemon on examples/demo.yaml, and prints one
// line per batch that arrives.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import mqtt from 'mqtt';
import { Aedes } from 'aedes';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const brokerArg = args.indexOf('--broker');
const configArg = args.indexOf('--config');
const config = configArg >= 0 ? args[configArg + 1] : `${root}examples/demo.yaml`;
let url = brokerArg >= 0 ? args[brokerArg + 1] : undefined;
let server: net.Server | undefined;

if (!url) {
  const broker = await Aedes.createBroker();
  server = net.createServer(broker.handle);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  console.log(`demo: embedded MQTT broker (aedes) on ${url}`);
}

const sub = mqtt.connect(url);
sub.on('connect', () => sub.subscribe('edge/+/data', { qos: 1 }));
sub.on('message', (topic, payload) => {
  try {
    const b = JSON.parse(payload.toString()) as { agent: string; seq: number; readings: { source: string; point: string; value: unknown }[] };
    const sample = b.readings.slice(0, 3).map((r) => `${r.source}/${r.point}=${typeof r.value === 'number' ? r.value.toFixed(2) : r.value}`).join(' ');
    console.log(`batch ${topic} seq=${b.seq} readings=${b.readings.length}  ${sample}${b.readings.length > 3 ? ' ...' : ''}`);
  } catch {
    console.log(`batch ${topic}: ${payload.length} bytes (not JSON: gzip?)`);
  }
});

const bundle = `${root}dist/edge-agent.mjs`;
const cmd = existsSync(bundle) ? [bundle] : ['--import', 'tsx', `${root}agent/cli/main.ts`];
console.log(`demo: edge-agent run --config ${config}  (Ctrl-C to stop)`);
const child = spawn(process.execPath, [...cmd, 'run', '--config', config, '--mqtt-url', url], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env } });

let exiting = false;
const shutdown = () => {
  if (exiting) return;
  exiting = true;
  child.kill('SIGTERM');
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
child.on('exit', (code) => {
  sub.end(true);
  server?.close();
  process.exit(code ?? 0);
});
