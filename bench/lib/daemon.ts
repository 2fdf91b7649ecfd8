import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE = path.join(REPO, 'dist', 'edge-agent.mjs');

/**
 * The Node flags the systemd unit starts the daemon with (heap caps and the like), so the
 * benchmarks measure what a board runs. Read from ExecStart; none when the unit has none.
 */
export function unitNodeFlags(): string[] {
  // EDGE_BENCH_NODE_FLAGS="--flag ..." tries other flags without editing the unit.
  if (process.env.EDGE_BENCH_NODE_FLAGS !== undefined) return process.env.EDGE_BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean);
  try {
    const unit = fs.readFileSync(path.join(REPO, 'systemd', 'edge-agent.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    return exec.split(/\s+/).filter((a) => a.startsWith('--') && !['--config'].includes(a) && /^--(max|v8|single|optimize|expose|stack|jitless|lite|no-|enable-source-maps)/.test(a));
  } catch {
    return [];
  }
}

export function benchDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'edge-bench-'));
}

export function startDaemon(configFile: string): ChildProcess {
  if (!fs.existsSync(BUNDLE)) throw new Error('dist/edge-agent.mjs missing: npm run build');
  return spawn(process.execPath, [...unitNodeFlags(), BUNDLE, 'run', '--config', configFile], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function stopDaemon(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await done;
}
