import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;
let gc: Gc | undefined | null = null;

function getGc(): Gc | undefined {
  if (gc !== null) return gc;
  try {
    // The daemon is started as `node edge-agent.mjs` (systemd): no --expose-gc on the command line.
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as Gc;
  } catch {
    gc = undefined;
  }
  return gc;
}

/**
 * A draining backlog streams batch payloads (tens of KiB each) through the process at up to
 * 100+ MB/s. V8 sizes its heap from the allocation rate and collects them late, so RSS would
 * climb by 40-80 MiB during a drain on a 512 MiB board. A full GC every 2 MiB of acknowledged
 * payload (a few ms with the daemon's small heap; only while a backlog flows) keeps the growth
 * near 10 MiB at about a million readings/s (bench/drain.ts). ({type:'minor'} is a no-op in Node 20.)
 */
export class BufferReleaser {
  private since = 0;
  constructor(private readonly everyBytes = 2 * 1024 * 1024) {}

  released(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.since = 0;
    getGc()?.();
  }
}
