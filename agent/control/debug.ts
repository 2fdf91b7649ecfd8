import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { Session } from 'node:inspector/promises';
import { ControlError } from './server.js';

/** Longest CPU profile accepted: the profiler costs CPU on a small board. */
const MAX_PROFILE_S = 300;
let busy = false;

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** A CPU profile of the running daemon (node:inspector), as a .cpuprofile file Chrome DevTools opens. */
export async function cpuProfile(dir: string, seconds: number, signal: AbortSignal): Promise<{ file: string; bytes: number; seconds: number }> {
  if (!(seconds > 0 && seconds <= MAX_PROFILE_S)) throw new ControlError(`seconds: expected 1..${MAX_PROFILE_S}, got ${seconds}`, 'bad-params');
  if (busy) throw new ControlError('a profile or heap snapshot is already being taken', 'busy');
  busy = true;
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await new Promise<void>((r) => {
      const t = setTimeout(r, seconds * 1000);
      signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
    });
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `edge-agent-${stamp()}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    return { file, bytes: fs.statSync(file).size, seconds };
  } finally {
    session.disconnect();
    busy = false;
  }
}

/** A heap snapshot (.heapsnapshot). Blocks the daemon while written and needs about the heap's size again in memory. */
export function heapSnapshot(dir: string): { file: string; bytes: number } {
  if (busy) throw new ControlError('a profile or heap snapshot is already being taken', 'busy');
  busy = true;
  try {
    fs.mkdirSync(dir, { recursive: true });
    const file = v8.writeHeapSnapshot(path.join(dir, `edge-agent-${stamp()}.heapsnapshot`));
    return { file, bytes: fs.statSync(file).size };
  } finally {
    busy = false;
  }
}
