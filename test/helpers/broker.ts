import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, requireTool, sleep } from './system.js';

export interface TestBroker {
  kind: 'mosquitto' | 'aedes';
  port: number;
  url: string;
  /** SIGKILL by default (a crash); SIGTERM lets mosquitto save its persistence file. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port (after stop). */
  start(): Promise<void>;
}

async function waitListening(port: number, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`broker did not listen on ${port}`);
    await sleep(50);
  }
}

/**
 * A real mosquitto on a free loopback port (Debian package). In CI it is mandatory; elsewhere,
 * without mosquitto, the embedded aedes broker stands in and the test says so.
 */
export async function startBroker(opts: { extraConfig?: string; port?: number; persistent?: boolean } = {}): Promise<TestBroker> {
  const port = opts.port ?? (await freePort());
  if (requireTool('mosquitto', 'mosquitto')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-mosq-'));
    const conf = path.join(dir, 'mosquitto.conf');
    // mosquitto started as root drops to its own user: it must be able to save persistence here.
    if (opts.persistent) fs.chmodSync(dir, 0o777);
    // persistent: sessions and queued QoS 1 messages survive a SIGTERM restart, so a subscriber
    // with clean: false misses nothing while the broker is down (no queue limit).
    const persist = opts.persistent ? `persistence true\npersistence_location ${dir}/\nmax_queued_messages 0\nmax_inflight_messages 0\n` : 'persistence false\n';
    fs.writeFileSync(conf, opts.extraConfig ?? `listener ${port} 127.0.0.1\nallow_anonymous true\n${persist}`);
    let proc: ChildProcess | undefined;
    const broker: TestBroker = {
      kind: 'mosquitto',
      port,
      url: `mqtt://127.0.0.1:${port}`,
      async start() {
        proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        proc.stderr!.on('data', (d) => (err += d));
        proc.on('exit', (code) => { if (code && code !== 0 && !stopping) console.log(`# mosquitto exited ${code}: ${err}`); });
        await waitListening(port);
      },
      async stop(signal: NodeJS.Signals = 'SIGKILL') {
        if (!proc || proc.exitCode !== null) return;
        stopping = true;
        const p = proc;
        await new Promise<void>((r) => { p.once('exit', () => r()); p.kill(signal); });
        stopping = false;
      },
    };
    let stopping = false;
    await broker.start();
    return broker;
  }
  console.log('# using the embedded aedes broker instead of mosquitto');
  const { Aedes } = await import('aedes');
  let server: net.Server | undefined;
  let aedes: Awaited<ReturnType<typeof Aedes.createBroker>> | undefined;
  const sockets = new Set<net.Socket>();
  const broker: TestBroker = {
    kind: 'aedes',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      aedes = await Aedes.createBroker();
      server = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); aedes!.handle(s); });
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      await new Promise<void>((r) => (aedes ? aedes.close(() => r()) : r()));
    },
  };
  await broker.start();
  return broker;
}
