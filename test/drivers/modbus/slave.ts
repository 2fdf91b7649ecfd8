import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IN_CI, requireTool } from '../../helpers/system.js';
import { waitFor } from '../../helpers/source-context.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SLAVE_SCRIPT = path.join(here, '../../fixtures/modbus-slave.py');
export const MAP = JSON.parse(fs.readFileSync(path.join(here, '../../fixtures/modbus-map.json'), 'utf8')) as {
  points: MapPoint[];
  size: number;
};
export interface MapPoint {
  name: string;
  table: 'coil' | 'discrete' | 'holding' | 'input';
  address: number;
  type: string;
  byteOrder?: 'big' | 'little';
  wordOrder?: 'big' | 'little';
  count?: number;
  bit?: number;
  scale?: number;
  value: number | boolean | string;
  expect?: number;
}

/** pymodbus is only importable by Debian's /usr/bin/python3 (not a pyenv python3 on PATH). */
const PY = '/usr/bin/python3';

/**
 * Is the pymodbus slave usable? In CI it must be (missing = failure); elsewhere the caller
 * skips, printing why.
 */
export function havePymodbus(): boolean {
  try {
    execFileSync(PY, ['-c', 'import pymodbus.server, serial_asyncio'], { stdio: 'ignore' });
    return true;
  } catch {
    const why = `${PY} cannot import pymodbus.server (Debian packages python3-pymodbus python3-serial python3-serial-asyncio)`;
    if (IN_CI) throw new Error(`${why}: CI must install them (.ci/run does)`);
    console.log(`# ${why}: skipping`);
    return false;
  }
}

export const haveSocat = () => requireTool('socat', 'socat');
export const haveMbpoll = () => requireTool('mbpoll', 'mbpoll');

export interface Slave {
  proc: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts the pymodbus slave and waits for its READY line. */
export async function startSlave(opts: { tcp?: number; rtu?: string; baud?: number; units?: number[]; gatewayDead?: number[] }): Promise<Slave> {
  const args = [SLAVE_SCRIPT, '--units', (opts.units ?? [1]).join(',')];
  if (opts.gatewayDead) args.push('--gateway-dead', opts.gatewayDead.join(','));
  if (opts.tcp) args.push('--tcp', String(opts.tcp));
  if (opts.rtu) args.push('--rtu', opts.rtu, '--baud', String(opts.baud ?? 19200));
  const proc = spawn(PY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  let exited = false;
  proc.once('exit', () => (exited = true));
  await waitFor(() => out.includes('READY') || exited, 15_000, 'pymodbus slave READY');
  if (exited) throw new Error(`pymodbus slave exited: ${err}`);
  return {
    proc,
    stderr: () => err,
    stop: () => stopProc(proc),
  };
}

export async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGKILL');
  await done;
}

export interface PtyPair {
  a: string;
  b: string;
  stop(): Promise<void>;
}

/** A socat pty pair: the driver opens `a`, the slave `b`. Links vanish when socat exits. */
export async function startPtyPair(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-pty-'))): Promise<PtyPair> {
  fs.mkdirSync(dir, { recursive: true });
  const a = path.join(dir, 'ttyA');
  const b = path.join(dir, 'ttyB');
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  await waitFor(() => err.includes('starting data transfer loop') || proc.exitCode !== null, 10_000, 'socat pty pair');
  if (proc.exitCode !== null) throw new Error(`socat failed: ${err}`);
  return {
    a,
    b,
    stop: async () => {
      // SIGTERM lets socat remove its links, like an unplugged adapter's device node vanishing.
      if (proc.exitCode !== null) return;
      const done = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      await done;
    },
  };
}

/** Source config points built from the fixture map. */
export function mapPoints(filter: (p: MapPoint) => boolean = () => true) {
  return MAP.points.filter(filter).map((p) => ({
    name: p.name,
    table: p.table,
    address: p.address,
    type: p.type,
    ...(p.byteOrder ? { byteOrder: p.byteOrder } : {}),
    ...(p.wordOrder ? { wordOrder: p.wordOrder } : {}),
    ...(p.count !== undefined ? { count: p.count } : {}),
    ...(p.bit !== undefined ? { bit: p.bit } : {}),
    ...(p.scale !== undefined ? { scale: p.scale } : {}),
  }));
}

export const expected = (p: MapPoint) => p.expect ?? p.value;
