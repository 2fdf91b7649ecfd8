/**
 * CPU cost of the serial source: kv lines (`seq=N T=21.5 H=40`, 3 points each) written at a
 * fixed rate into a socat pty pair, read by the real serial driver (framer + kv parser +
 * SourceRunner stamping readings) in a child process. Baseline in the same run: `cat` reading
 * the same pty at the same rate, which is the floor for getting those bytes out of the kernel.
 * Figures are CPU % of one core per 1,000 lines/s, from /proc/<pid>/stat over the window.
 *
 *   node --import tsx bench/serial.ts [--seconds 20] [--rate 1000]
 */
import fs from 'node:fs';
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 20);
const RATE = arg('rate', 1000);
const WARMUP_MS = 2000;
const line = (n: number) => `seq=${n} T=${(20 + (n % 50) / 10).toFixed(1)} H=${40 + (n % 7)}\r\n`;

/**
 * On-CPU time of a process in ms, summed over its threads (V8 and libuv threads count too).
 * schedstat has nanosecond resolution; /proc/<pid>/stat's 10 ms ticks would read cat as 0.
 */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // thread exited meanwhile
    }
  }
  return ns / 1e6;
}
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Child mode: the serial source as the daemon runs it, counting readings; prints the count on SIGTERM. */
async function child(device: string): Promise<void> {
  const { serialDriver } = await import('../drivers/serial/index.js');
  const { SourceRunner } = await import('../agent/runtime/source-runner.js');
  const { silentLogger } = await import('../core/log.js');
  const { systemClock } = await import('../core/clock.js');
  const cfg = serialDriver.schema.parse({ id: 'bench', driver: 'serial', port: device, baudRate: 115200, parse: 'kv' });
  let readings = 0;
  let lastSeq = NaN;
  let gaps = 0;
  const runner = new SourceRunner(cfg as never, serialDriver as never, (r) => {
    readings++;
    if (r.point === 'seq') {
      if (!Number.isNaN(lastSeq) && r.value !== lastSeq + 1) gaps++;
      lastSeq = r.value as number;
    }
  }, silentLogger, systemClock, os.tmpdir());
  await runner.open();
  const t = setInterval(() => {
    if (runner.currentState === 'ok') {
      process.stdout.write('ready\n');
      clearInterval(t);
    }
  }, 10);
  process.once('SIGTERM', async () => {
    const info = runner.status().driverInfo ?? {};
    await runner.close();
    process.stdout.write(JSON.stringify({ readings, lastSeq, gaps, errors: runner.errorCounts, reads: info.reads, lines: info.lines }) + '\n');
    process.exit(0);
  });
}

/** Writes RATE lines/s, paced on the monotonic clock, until stopped; returns lines written. */
function pacedWriter(write: (s: string) => Promise<void>, start: number) {
  let sent = start;
  let stop = false;
  const t0 = performance.now();
  const done = (async () => {
    while (!stop) {
      const due = start + Math.floor(((performance.now() - t0) / 1000) * RATE);
      if (due > sent) {
        let chunk = '';
        for (; sent < due; sent++) chunk += line(sent);
        await write(chunk);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return sent;
  })();
  return { stop: () => ((stop = true), done) };
}

async function waitOutput(p: ChildProcess, what: string, ms = 20_000): Promise<void> {
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "${what}" from child within ${ms} ms`)), ms);
    p.stdout!.on('data', function on(d) {
      buf += d;
      if (buf.includes(what)) {
        clearTimeout(t);
        p.stdout!.off('data', on);
        resolve();
      }
    });
  });
}

/** CPU of `pid` over the measurement window (after warm-up), as % of one core and per 1,000 lines/s. */
async function measure(pid: number, seconds = SECONDS) {
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = cpuMs(pid) - c0;
  const secs = (performance.now() - t0) / 1000;
  const pct = (100 * cpu) / 1000 / secs;
  return { cpuPercent: round(pct), cpuPercentPer1000LinesPerSec: round(pct / (RATE / 1000)), cpuUsPerLine: round((1000 * cpu) / (secs * RATE), 1), rssMiB: rssMiB(pid) };
}

async function main(): Promise<void> {
  const { PtyPair } = await import('../test/drivers/serial/pty.js');
  const pty = await new PtyPair().start();
  try {
    // Baseline: cat of the same pty at the same rate.
    const cat = spawn('cat', [pty.device], { stdio: ['ignore', 'pipe', 'inherit'] });
    let catLines = 0;
    cat.stdout.on('data', (d: Buffer) => {
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) catLines++;
    });
    await new Promise((r) => setTimeout(r, 300)); // let cat open the device
    process.stderr.write(`serial bench: cat baseline, ${RATE} lines/s, ${SECONDS} s\n`);
    let w = pacedWriter((s) => pty.write(s), 0);
    const baseline = await measure(cat.pid!);
    let sent = await w.stop();
    await new Promise((r) => setTimeout(r, 500));
    const catDone = new Promise((r) => cat.stdout.once('close', r));
    cat.kill('SIGTERM');
    await catDone;

    // The serial source in a child, same pty, same rate.
    const self = fileURLToPath(import.meta.url);
    const src = spawn(process.execPath, ['--import', 'tsx', self, '--child', pty.device], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitOutput(src, 'ready');
    // Fixed cost of an idle daemon-like process (timers, GC) with the port open, for contrast.
    process.stderr.write(`serial bench: serial source idle, 5 s\n`);
    const idle = await measure(src.pid!, 5);
    process.stderr.write(`serial bench: serial source (kv), ${RATE} lines/s, ${SECONDS} s\n`);
    const first = sent;
    w = pacedWriter((s) => pty.write(s), first);
    const figures = await measure(src.pid!);
    sent = await w.stop();
    await new Promise((r) => setTimeout(r, 1000)); // let the tail drain
    let out = '';
    src.stdout!.on('data', (d) => (out += d));
    src.kill('SIGTERM');
    await new Promise((r) => src.once('exit', r));
    const res = JSON.parse(out.trim().split('\n').at(-1)!) as { readings: number; lastSeq: number; gaps: number; errors: Record<string, number>; reads: number; lines: number };
    const lines = sent - first;
    const got = res.readings / 3;
    const doc = {
      name: 'serial',
      what: `CPU of one core per 1,000 kv lines/s (3 points each) through a socat pty: serial source + kv parser + reading stamping vs cat of the same pty`,
      machine: `${os.cpus().length}x ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.arch()}`,
      node: process.version,
      date: new Date().toISOString(),
      figures: { ...figures, idleCpuPercent: idle.cpuPercent, rate: RATE, seconds: SECONDS, linesSent: lines, linesParsed: got, lost: lines - got, sequenceGaps: res.gaps, errors: res.errors, linesPerRead: round(res.lines / res.reads, 1) },
      baseline: { tool: 'cat', ...baseline, linesSent: first, linesSeen: catLines },
      ratio: round(figures.cpuPercent / Math.max(baseline.cpuPercent, 0.01), 1),
    };
    process.stdout.write(JSON.stringify(doc) + '\n');
  } finally {
    await pty.stop();
  }
}

const ci = process.argv.indexOf('--child');
if (ci > 0) await child(process.argv[ci + 1]);
else await main();
