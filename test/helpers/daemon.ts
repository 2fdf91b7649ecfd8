import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { onLines, sleep } from './system.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE = path.join(REPO, 'dist', 'edge-agent.mjs');

export function tempDir(prefix = 'edge-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeConfig(dir: string, yaml: string, name = 'config.yaml'): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, yaml);
  return f;
}

export interface Daemon {
  proc: ChildProcess;
  logs: Record<string, unknown>[];
  stderr: string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  waitLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts the BUILT daemon (dist/edge-agent.mjs, as systemd would) as a child process. */
export function startDaemon(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Daemon {
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} missing: run npm run build first (npm test does)`);
  return spawnDaemon(process.execPath, [BUNDLE, ...args], env, cwd);
}

/** Any command line that runs the daemon (e.g. the unit's ExecStart with its node flags). `cwd`: where relative device paths resolve. */
export function spawnDaemon(cmd: string, argv: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Daemon {
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
  const logs: Record<string, unknown>[] = [];
  onLines(proc.stdout!, (line) => {
    try {
      logs.push(JSON.parse(line));
    } catch {
      logs.push({ raw: line });
    }
  });
  const d: Daemon = {
    proc,
    logs,
    stderr: '',
    exited: new Promise((r) => proc.on('exit', (code) => r(code))),
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await d.exited;
      clearTimeout(t);
      return code;
    },
    async waitLog(pred, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = logs.find(pred);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`daemon log line not seen in ${timeoutMs} ms; logs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${d.stderr}`);
        if (proc.exitCode !== null) throw new Error(`daemon exited ${proc.exitCode}; stderr: ${d.stderr}`);
        await sleep(25);
      }
    },
  };
  proc.stderr!.on('data', (x: Buffer) => (d.stderr += x.toString()));
  return d;
}

export interface BatchDoc {
  agent: string;
  /** SPEC "Batch": changes only when seq continuity cannot be proven. */
  stream: string;
  seq: number;
  ts: number;
  readings: { source: string; point: string; ts: number; value: unknown; quality?: string }[];
}

/**
 * Subscribes to data batches (and any other topics given) and keeps them in arrival order.
 * `options` go to mqtt.js (TLS files, clientId + clean: false for a session that survives a
 * broker restart). json+gzip batches are gunzipped into `batches`; `messages` keeps raw payloads.
 */
export async function collect(url: string, topic = 'edge/+/data', options: IClientOptions = {}): Promise<{ client: MqttClient; batches: BatchDoc[]; messages: { topic: string; payload: Buffer; retain: boolean }[]; close(): Promise<void> }> {
  const client = mqtt.connect(url, { reconnectPeriod: 200, ...options });
  const batches: BatchDoc[] = [];
  const messages: { topic: string; payload: Buffer; retain: boolean }[] = [];
  client.on('message', (t, payload, packet) => {
    messages.push({ topic: t, payload, retain: packet.retain });
    if (t.endsWith('/data')) {
      try {
        const gz = payload.length > 2 && payload[0] === 0x1f && payload[1] === 0x8b;
        batches.push(JSON.parse((gz ? zlib.gunzipSync(payload) : payload).toString()));
      } catch {
        /* gzip batches are decoded by the tests that use them */
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(topic, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    client.once('error', reject);
  });
  return { client, batches, messages, close: () => new Promise<void>((r) => client.end(true, {}, () => r())) };
}
